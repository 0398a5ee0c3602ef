/**
 * One intervention-stable training step on TensorFlow.js (docs/TRAINING.md#training-step): the five passes,
 * the loss (./objective.ts over ./losses.ts's tfLossOps), its gradient with respect to every trainable
 * parameter (through every pass, no stop-gradient, by autodiff), and an Adam update.
 *
 * Two ways to get the same gradient ({@link MemoryPlan}):
 * - `joint`: all passes in one gradient tape (simple; holds the activations of every pass at once).
 * - `sequential`: the loss is L_f(y) plus terms that each tie one intervened pass to the base output y. So:
 *   (1) the base pass runs forward only, giving y; (2) each intervened pass runs forward and backward on its
 *   own with y held as a constant leaf, its parameter gradient summed and its gradient with respect to y
 *   accumulated into G; (3) the base pass runs again under a tape with the objective L_f(y) + sum(y * G), whose
 *   parameter gradient completes the total. Only one pass's activations are alive at a time (plus one extra
 *   forward of the base pass). BatchNorm running statistics are updated once per pass in the same order as
 *   `joint` (the repeated base pass leaves them alone), so both plans end in the same state; gradients agree to
 *   float32 summation order (test/train/step.test.ts).
 *
 * The optimizer is {@link Adam}, PyTorch's Adam (lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay), kept
 * here so that its whole state can be checkpointed and restored bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { forwardWith, type IsfuseOutput, type IsfuseParams } from '../model/isfuse.js';
import { variableSource } from '../model/source.js';
import type { MemoryPlan } from './engine.js';
import { passInputs, type MaskTensors, type PassName, type TrainConfig } from './interventions.js';
import { tfLossOps } from './losses.js';
import { passLoss, reportTerms, trainingObjective, type LossTerms, type Objective, type TermInputs } from './objective.js';

export type { LossTerms } from './objective.js';

/** A batch on the device: vi, ir [N,S,S,1] in [0,1], and its intervention masks. */
export interface StepBatch {
  readonly vi: tf.Tensor4D;
  readonly ir: tf.Tensor4D;
  readonly masks: MaskTensors;
}

/** Trainable variables keyed by state-dict name (the used conv/BN weights and biases). */
export function namedTrainables(p: IsfuseParams): Map<string, tf.Variable> {
  return new Map([...p.variables].filter(([, v]) => v.trainable));
}

function runPass(p: IsfuseParams, cfg: TrainConfig, pass: PassName, batch: StepBatch, updateStats: boolean): IsfuseOutput {
  const [vi, ir] = passInputs(pass, batch.vi, batch.ir, batch.masks);
  const out = forwardWith(variableSource(p.variables, p.numBatchesTracked, { training: true, updateStats }), vi, ir, { cfi: cfg.cfi });
  if (vi !== batch.vi) vi.dispose();
  if (ir !== batch.ir) ir.dispose();
  return out;
}

/** Loss parts recorded during a loss evaluation, by key (kept outside the tape's tidy). */
type Recorded = Map<string, tf.Tensor>;

/** The weighted loss `pass` adds (objective.ts passLoss), its parts kept in `rec`. */
function passTerm(obj: Objective, pass: PassName, batch: StepBatch, y: tf.Tensor4D, out: IsfuseOutput | undefined, rec: Recorded): tf.Scalar {
  const x: TermInputs<tf.Tensor> = { y, vi: batch.vi, ir: batch.ir, ...(out ? { out: { fused: out.fused, gates: out.gates } } : {}) };
  return passLoss(obj, tfLossOps, pass, x, (key, v) => rec.set(key, tf.keep(v))) as tf.Scalar;
}

/**
 * Reads tensors to the host asynchronously, so that later dataSync() calls return the cached values: the
 * webgpu backend cannot read synchronously in Node (its synchronous read needs OffscreenCanvas) and stalls
 * the GPU when it does in a browser. Costs nothing extra on the CPU backends.
 */
export async function cacheOnHost(tensors: Iterable<tf.Tensor>): Promise<void> {
  await Promise.all([...tensors].map((t) => t.data()));
}

async function termsFrom(rec: Recorded, obj: Objective): Promise<LossTerms> {
  await cacheOnHost(rec.values());
  const terms = reportTerms(obj, new Map([...rec].map(([k, t]) => [k, t.dataSync()[0]!])));
  tf.dispose([...rec.values()]);
  rec.clear();
  return terms;
}

/** Gradients (by state-dict name) and loss values of one step. The caller disposes the gradients. */
export interface StepGradients {
  readonly grads: Map<string, tf.Tensor>;
  readonly terms: LossTerms;
}

function addInto(acc: Map<string, tf.Tensor>, name: string, g: tf.Tensor): void {
  const prev = acc.get(name);
  if (!prev) {
    acc.set(name, g);
    return;
  }
  acc.set(name, tf.add(prev, g));
  tf.dispose([prev, g]);
}

/**
 * The loss of one step and its gradient with respect to every trainable parameter, BatchNorm running
 * statistics updated once per pass. `memory` picks the plan (same gradient, see the file comment).
 */
export async function stepGradients(p: IsfuseParams, batch: StepBatch, cfg: TrainConfig, memory: MemoryPlan = 'sequential'): Promise<StepGradients> {
  const obj = trainingObjective(cfg);
  const named = namedTrainables(p);
  const byTfName = new Map([...named].map(([k, v]) => [v.name, k]));
  const rec: Recorded = new Map();
  const grads = new Map<string, tf.Tensor>();
  const collect = (g: tf.NamedTensorMap): void => {
    for (const [tfName, t] of Object.entries(g)) {
      const name = byTfName.get(tfName);
      if (name) addInto(grads, name, t);
      else t.dispose();
    }
  };
  const vars = [...named.values()];
  const intervened = obj.passes.slice(1);

  if (memory === 'joint') {
    const { value, grads: g } = tf.variableGrads(() => {
      const base = runPass(p, cfg, 'base', batch, true);
      const parts: tf.Scalar[] = [passTerm(obj, 'base', batch, base.fused, undefined, rec)];
      for (const pass of intervened) parts.push(passTerm(obj, pass, batch, base.fused, runPass(p, cfg, pass, batch, true), rec));
      return tf.addN(parts) as tf.Scalar;
    }, vars);
    value.dispose();
    collect(g);
  } else {
    // (1) base forward only: y, BatchNorm statistics of the base pass
    const yBase = tf.tidy(() => {
      const out = runPass(p, cfg, 'base', batch, true);
      tf.dispose(out.gates as unknown as tf.Tensor[]);
      return out.fused;
    });
    // (2) each intervened pass on its own, y held as a leaf whose gradient is accumulated
    const yLeaf = tf.variable(yBase, true);
    let gY: tf.Tensor | null = null;
    for (const pass of intervened) {
      const { value, grads: g } = tf.variableGrads(() => passTerm(obj, pass, batch, yLeaf as tf.Tensor4D, runPass(p, cfg, pass, batch, true), rec), [...vars, yLeaf]);
      value.dispose();
      const gy = g[yLeaf.name];
      if (gy) {
        delete g[yLeaf.name];
        const next: tf.Tensor = gY ? tf.add(gY, gy) : gy;
        if (gY) tf.dispose([gY, gy]);
        gY = next;
      }
      collect(g);
    }
    yLeaf.dispose();
    yBase.dispose();
    // (3) the base pass again, under a tape: L_f(y) + sum(y * G)
    const G = gY;
    const { value, grads: g } = tf.variableGrads(() => {
      const base = runPass(p, cfg, 'base', batch, false);
      const f = passTerm(obj, 'base', batch, base.fused, undefined, rec);
      return (G ? tf.add(f, tf.sum(tf.mul(base.fused, G))) : f) as tf.Scalar;
    }, vars);
    value.dispose();
    if (G) G.dispose();
    collect(g);
  }
  const terms = await termsFrom(rec, obj);
  return { grads, terms };
}

/** Serializable optimizer state: step count and the two moments per parameter (by state-dict name). */
export interface AdamState {
  readonly t: number;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
}

/**
 * PyTorch's Adam (torch.optim.Adam, amsgrad off, no weight decay):
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Bias corrections are computed in float64 on the host. Parameters without a gradient are skipped (as
 * PyTorch skips parameters whose .grad is None).
 */
export class Adam {
  t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(readonly lr = 1e-4, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly eps = 1e-8) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`Adam: learning rate must be a positive number, got ${lr}`);
  }

  /** Applies one update to `params` (by name) from `grads` (by name). Does not dispose the gradients. */
  apply(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>): void {
    this.t += 1;
    const stepSize = this.lr / (1 - this.beta1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.t);
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) continue;
      if (!this.m.has(name)) {
        this.m.set(name, tf.variable(tf.zerosLike(p), false));
        this.v.set(name, tf.variable(tf.zerosLike(p), false));
      }
      const m = this.m.get(name)!, v = this.v.get(name)!;
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, denom), stepSize)));
        m.assign(m1);
        v.assign(v1);
      });
    }
  }

  /** The moments by state-dict name (m: running mean of the gradient, v: of its square). */
  moments(): { m: ReadonlyMap<string, tf.Variable>; v: ReadonlyMap<string, tf.Variable> } {
    return { m: this.m, v: this.v };
  }

  /** The moment tensors (for {@link cacheOnHost} before {@link state}). */
  tensors(): tf.Variable[] {
    return [...this.m.values(), ...this.v.values()];
  }

  state(): AdamState {
    const read = (src: Map<string, tf.Variable>) => new Map([...src].map(([k, t]) => [k, t.dataSync() as Float32Array]));
    return { t: this.t, m: read(this.m), v: read(this.v) };
  }

  /** Restores a state; shapes are taken from `params`. */
  load(state: AdamState, params: ReadonlyMap<string, tf.Variable>): void {
    this.dispose();
    this.t = state.t;
    for (const [name, mv] of state.m) {
      const p = params.get(name);
      const vv = state.v.get(name);
      if (!p || !vv || mv.length !== p.size || vv.length !== p.size) throw new Error(`optimizer state does not match the parameter '${name}'`);
      this.m.set(name, tf.variable(tf.tensor(mv, p.shape), false));
      this.v.set(name, tf.variable(tf.tensor(vv, p.shape), false));
    }
  }

  dispose(): void {
    for (const t of this.tensors()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** One full step: gradients, then the Adam update. Returns the loss values (computed before the update). */
export async function trainStep(p: IsfuseParams, opt: Adam, batch: StepBatch, cfg: TrainConfig, memory: MemoryPlan = 'sequential'): Promise<LossTerms> {
  const { grads, terms } = await stepGradients(p, batch, cfg, memory);
  opt.apply(namedTrainables(p), grads);
  tf.dispose([...grads.values()]);
  return terms;
}
