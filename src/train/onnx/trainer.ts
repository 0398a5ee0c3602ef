/**
 * The training step on onnxruntime (./graph.ts), with the Adam update and BatchNorm running statistics applied
 * to the TensorFlow.js variables, so that checkpoints and resumes are the same on every engine.
 */
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadOnnxRuntime } from '../../model/backend.js';
import { BN_MOMENTUM } from '../../model/layers.js';
import { stateDictSpec, type IsfuseParams } from '../../model/isfuse.js';
import type { HostStepBatch, MemoryPlan, StepEngine } from '../engine.js';
import type { PassName, TrainConfig } from '../interventions.js';
import { reportTerms, trainingObjective, type LossTerms, type Objective } from '../objective.js';
import { namedTrainables, type Adam } from '../step.js';
import { buildTrainGraph, type TrainGraph, type TrainGraphPart } from './graph.js';

type Session = Awaited<ReturnType<Awaited<ReturnType<typeof loadOnnxRuntime>>['InferenceSession']['create']>>;

/** Raw results of one graph run. */
export interface OnnxStepResult {
  readonly losses: ReadonlyMap<string, number>;
  readonly grads: ReadonlyMap<string, Float32Array>;
  /** per pass in running order: BatchNorm name -> batch mean (with the conv bias), biased variance, count */
  readonly stats: readonly { pass: PassName; values: ReadonlyMap<string, { mean: Float32Array; variance: Float32Array; count: number }> }[];
}

const PARAM_SHAPES = new Map(stateDictSpec().map((s) => [s.name, s.shape]));

/**
 * The plan for a batch shape when the user leaves it to us: 'joint' (fastest) when its activations fit in
 * half of this machine's memory, else 'sequential'. The estimate is measured, not derived: 6.0 GiB peak
 * resident at batch 8, 128x128 (docs/PERFORMANCE.md), scaled by pixels per batch.
 */
export function autoOnnxPlan(n: number, h: number, w: number, totalBytes = totalmem()): MemoryPlan {
  const jointBytes = 6.0 * 2 ** 30 * ((n * h * w) / (8 * 128 * 128));
  return jointBytes <= totalBytes / 2 ? 'joint' : 'sequential';
}

/**
 * The training step on onnxruntime: one graph (and session) per part and batch shape, built on first use.
 * The onnx {@link StepEngine}.
 */
export class OnnxTrainer implements StepEngine {
  private readonly sessions = new Map<string, Promise<{ session: Session; graph: TrainGraph }>>();
  private readonly objective: Objective;

  /**
   * `threads`: onnxruntime intra-op threads (default 1). `memory`: 'joint' (default; fastest) holds the
   * activations of all five passes at once; 'sequential' one pass at a time, for several times less memory
   * and one extra forward pass of the base (each part's session then frees its buffers after every run).
   * `profilePrefix`: turn on onnxruntime's profiler, writing `<prefix>_<date>.json` per session
   * ({@link endProfiling} completes them).
   */
  constructor(readonly config: TrainConfig, readonly options: { threads?: number; memory?: MemoryPlan; profilePrefix?: string } = {}) {
    this.objective = trainingObjective(config);
  }

  get memory(): MemoryPlan {
    return this.options.memory ?? 'joint';
  }

  private session(part: TrainGraphPart, n: number, h: number, w: number): Promise<{ session: Session; graph: TrainGraph }> {
    const key = `${part}:${n}x${h}x${w}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        const ort = await loadOnnxRuntime();
        const graph = buildTrainGraph(n, h, w, this.config, part);
        const session = await ort.InferenceSession.create(graph.bytes, {
          intraOpNumThreads: this.options.threads ?? 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
          // the arena keeps each session's peak allocation for good: with several sessions that would add up
          ...(this.memory === 'sequential' ? { enableCpuMemArena: false } : {}),
          ...(this.options.profilePrefix ? { enableProfiling: true, profileFilePrefix: this.options.profilePrefix } : {}),
        });
        return { session, graph };
      })();
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The graph description of the part holding the base pass, for a batch shape (builds it on first use). */
  async graph(n: number, h: number, w: number): Promise<TrainGraph> {
    return (await this.session(this.memory === 'joint' ? 'joint' : 'base', n, h, w)).graph;
  }

  /** Runs one part: its outputs by name. `extra`: the inputs y_base or g_base. */
  private async runPart(part: TrainGraphPart, values: (name: string) => Float32Array, batch: HostStepBatch, extra: Readonly<Record<string, Float32Array>> = {}) {
    const { n, h, w } = batch.masks;
    const ort = await loadOnnxRuntime();
    const { session, graph } = await this.session(part, n, h, w);
    const images: Record<string, Float32Array | undefined> = {
      vi: batch.vi, ir: batch.ir, m_comp_vi: batch.masks.compVi, m_comp_ir: batch.masks.compIr, m_rand: batch.masks.rand, ...extra,
    };
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of graph.inputs) {
      const data = images[name];
      if (!data) throw new Error(`internal: no value for the graph input '${name}'`);
      feeds[name] = new ort.Tensor('float32', data, [n, 1, h, w]);
    }
    for (const name of graph.params) feeds[`p:${name}`] = new ort.Tensor('float32', values(name), [...PARAM_SHAPES.get(name)!]);
    const out = await session.run(feeds);
    const data = (k: string): Float32Array => out[k]!.data as Float32Array;
    const result: OnnxStepResult = {
      losses: new Map(graph.losses.map((k) => [k, data(`loss:${k}`)[0]!])),
      grads: new Map(graph.grads.map((k) => [k, data(`grad:${k}`)])),
      stats: graph.stats.map(({ pass, bns }) => ({
        pass, values: new Map(bns.map(({ name, count }) => [name, { mean: data(`stat:${pass}:${name}:mean`), variance: data(`stat:${pass}:${name}:var`), count }])),
      })),
    };
    return { result, data };
  }

  /** Runs the step: losses, gradients and BatchNorm statistics for `values` (parameters by state-dict name). */
  async run(values: (name: string) => Float32Array, batch: HostStepBatch): Promise<OnnxStepResult> {
    if (this.memory === 'joint') return (await this.runPart('joint', values, batch)).result;
    // sequential: y from a forward-only base pass; each intervened pass alone, its gradient into y summed in
    // gBase; then the base pass with L_f and gBase. Statistics in the joint graph's order (base first).
    // The parameter values are read once for the six runs.
    const host = new Map<string, Float32Array>();
    const read = (name: string): Float32Array => host.get(name) ?? host.set(name, values(name)).get(name)!;
    const y = (await this.runPart('base-forward', read, batch)).data('y');
    const gBase = new Float32Array(y.length);
    const parts: OnnxStepResult[] = [];
    for (const pass of this.objective.passes.filter((p) => p !== 'base')) {
      const { result, data } = await this.runPart(pass as Exclude<PassName, 'base'>, read, batch, { y_base: y });
      addInto(gBase, data('grad:y_base'));
      parts.push(result);
    }
    const base = (await this.runPart('base', read, batch, { g_base: gBase })).result;
    const grads = new Map<string, Float32Array>();
    for (const part of [base, ...parts]) {
      for (const [name, g] of part.grads) {
        const sum = grads.get(name);
        if (sum) addInto(sum, g);
        else grads.set(name, Float32Array.from(g));
      }
    }
    return {
      losses: new Map([base, ...parts].flatMap((r) => [...r.losses])),
      grads,
      stats: [base, ...parts].flatMap((r) => r.stats),
    };
  }

  /**
   * One full step on live parameters, as train/step.ts's trainStep: gradients, the Adam update, and the
   * BatchNorm running statistics (PyTorch's momentum rule, once per pass in running order). The
   * TensorFlow.js tensors around it live on whatever TensorFlow.js backend is active.
   */
  async step(p: IsfuseParams, opt: Adam, batch: HostStepBatch): Promise<LossTerms> {
    const vars = p.variables;
    const res = await this.run((name) => vars.get(name)!.dataSync() as Float32Array, batch);
    const graph = await this.graph(batch.masks.n, batch.masks.h, batch.masks.w);
    const grads = new Map<string, tf.Tensor>();
    for (const [name, g] of res.grads) grads.set(name, tf.tensor(g, vars.get(name)!.shape));
    for (const name of graph.zeroGrads) grads.set(name, tf.zerosLike(vars.get(name)!));
    try {
      opt.apply(namedTrainables(p), grads);
    } finally {
      tf.dispose([...grads.values()]);
    }
    for (const { values } of res.stats) {
      for (const [bn, s] of values) {
        // the same float32 operations as model/source.ts
        tf.tidy(() => {
          const rm = vars.get(`${bn}.running_mean`)!, rv = vars.get(`${bn}.running_var`)!;
          rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(tf.tensor1d(s.mean), BN_MOMENTUM)));
          rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(tf.tensor1d(s.variance), (BN_MOMENTUM * s.count) / Math.max(1, s.count - 1))));
        });
        const key = `${bn}.num_batches_tracked`;
        p.numBatchesTracked.set(key, (p.numBatchesTracked.get(key) ?? 0) + 1);
      }
    }
    return reportTerms(this.objective, res.losses);
  }

  /** Stops the profiler of every session (when on): the files `<profilePrefix>_<date>.json` are then complete. */
  async endProfiling(): Promise<void> {
    if (!this.options.profilePrefix) return;
    for (const s of this.sessions.values()) (await s).session.endProfiling();
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
  }
}

function addInto(sum: Float32Array, x: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i]! += x[i]!;
}

/** LossTerms from the graph's loss outputs (../objective.ts reportTerms). */
export function stepTerms(losses: ReadonlyMap<string, number>, cfg: TrainConfig): LossTerms {
  return reportTerms(trainingObjective(cfg), losses);
}
