/**
 * One inference engine interface over the backends of backend.ts: TensorFlow.js (folded network, any tfjs
 * backend) or onnxruntime (one ONNX graph per image size, built on first use and cached).
 *
 * Example:
 *   const values = await readIsfuseWeights('models/isfuse-ivf.safetensors');
 *   const runner = await createRunner(values, 'auto');
 *   const { fused } = await runner.run({ ir, vi, height: 480, width: 640 });   // Float32Array(480*640) in [0,1]
 *   runner.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, loadOnnxRuntime, type ActiveBackend } from './backend.js';
import { infer, prepareInference, type StateValues } from './isfuse.js';
import { checkInferenceMemory } from './memory.js';
import { buildIsfuseOnnx } from './onnx.js';
import { levelSizes } from './network.js';

/** A gate map at its level's size, values in [0,1]. */
export interface GateMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface RunResult {
  /** Fused image, H*W row-major, in [0,1]. */
  readonly fused: Float32Array;
  /** Gates g3 (H/4), g4 (H/2), g5 (H) at their own sizes (floor), when requested. */
  readonly gates?: readonly [GateMap, GateMap, GateMap];
}

export interface RunOptions {
  /** Also return the three gate maps. Default false. */
  readonly gates?: boolean;
  /** Memory limit in bytes for the pre-run check (default: memory.ts's per-backend limit). */
  readonly maxMemoryBytes?: number;
}

/** A pair of planes: ir (infrared / functional) and vi (visible luminance / MRI), each H*W row-major in [0,1]. */
export interface PlanePair {
  readonly ir: Float32Array;
  readonly vi: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface IsfuseRunner {
  readonly backend: ActiveBackend;
  /**
   * Fuses one pair (named, so the two same-typed planes cannot be swapped). Throws an input error before
   * running when the pair needs more memory than the limit.
   */
  run(pair: PlanePair, opts?: RunOptions): Promise<RunResult>;
  /** onnxruntime with `profilePrefix`: stops the profilers (the files `<prefix>_<date>.json` are then complete). */
  endProfiling?(): Promise<void>;
  dispose(): void;
}

function gateMaps(height: number, width: number, g3: Float32Array, g4: Float32Array, g5: Float32Array): [GateMap, GateMap, GateMap] {
  const [[h1, w1], [h2, w2], [h3, w3]] = levelSizes(height, width);
  return [{ width: w3, height: h3, data: g3 }, { width: w2, height: h2, data: g4 }, { width: w1, height: h1, data: g5 }];
}

function checkPair({ vi, ir, height, width }: PlanePair): void {
  if (vi.length !== height * width || ir.length !== height * width) {
    throw new Error(`internal: ISFuse inputs of ${vi.length} and ${ir.length} samples for ${width}x${height}`);
  }
}

/** TensorFlow.js engine: BatchNorm folded once; every call runs inside tf.tidy and leaves no tensors behind. */
export async function createTfjsRunner(values: StateValues, backend: ActiveBackend): Promise<IsfuseRunner> {
  const net = prepareInference(values);
  return {
    backend,
    async run(pair, opts = {}) {
      checkPair(pair);
      const { vi, ir, height, width } = pair;
      checkInferenceMemory(height, width, backend, opts.maxMemoryBytes);
      if (tf.getBackend() !== backend.tfBackend) await tf.setBackend(backend.tfBackend);
      const out = tf.tidy(() => {
        const o = infer(net, tf.tensor4d(vi, [1, height, width, 1]), tf.tensor4d(ir, [1, height, width, 1]));
        return opts.gates ? [o.fused, ...o.gates] : [o.fused];
      });
      try {
        // data(), not dataSync(): webgpu in Node cannot read synchronously
        const arrays = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
        return { fused: arrays[0], gates: opts.gates ? gateMaps(height, width, arrays[1], arrays[2], arrays[3]) : undefined };
      } finally {
        tf.dispose(out);
      }
    },
    dispose: () => net.dispose(),
  };
}

/** Sessions kept per runner (one per image size): a few sizes at once; the oldest is released first. */
const MAX_SESSIONS = 4;

export interface OnnxRunnerOptions {
  /** onnxruntime intra-op threads (default 1: on this project's 2-vCPU machines a second adds nothing). */
  readonly threads?: number;
  /** turn on onnxruntime's profiler, writing `<prefix>_<date>.json` per session (bench infer --profile) */
  readonly profilePrefix?: string;
}

/** onnxruntime engine: a graph per image size, built and cached on first use. */
export async function createOnnxRunner(values: StateValues, backend: ActiveBackend, o: OnnxRunnerOptions = {}): Promise<IsfuseRunner> {
  const ort = await loadOnnxRuntime();
  type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  const sessions = new Map<string, Promise<Session>>();
  const session = (height: number, width: number): Promise<Session> => {
    const key = `${height}x${width}`;
    let s = sessions.get(key);
    if (s) {
      sessions.delete(key); // re-insert: most recently used last
    } else {
      s = ort.InferenceSession.create(buildIsfuseOnnx(values, height, width), {
        intraOpNumThreads: o.threads ?? 1,
        interOpNumThreads: 1,
        executionMode: 'sequential',
        graphOptimizationLevel: 'all',
        ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
      });
      s.catch(() => sessions.delete(key));
    }
    sessions.set(key, s);
    while (sessions.size > MAX_SESSIONS) {
      const [oldKey, old] = sessions.entries().next().value as [string, Promise<Session>];
      sessions.delete(oldKey);
      void old.then((x) => x.release()).catch(() => undefined);
    }
    return s;
  };
  return {
    backend,
    async run(pair, opts = {}) {
      checkPair(pair);
      const { vi, ir, height, width } = pair;
      checkInferenceMemory(height, width, backend, opts.maxMemoryBytes);
      const s = await session(height, width);
      const r = await s.run({
        vi: new ort.Tensor('float32', vi, [1, 1, height, width]),
        ir: new ort.Tensor('float32', ir, [1, 1, height, width]),
      });
      const f = (k: string) => r[k].data as Float32Array;
      return { fused: f('fused'), gates: opts.gates ? gateMaps(height, width, f('g3'), f('g4'), f('g5')) : undefined };
    },
    async endProfiling() {
      for (const s of sessions.values()) (await s).endProfiling();
    },
    dispose() {
      for (const s of sessions.values()) void s.then((x) => x.release()).catch(() => undefined);
      sessions.clear();
    },
  };
}

/** Selects the backend (backend.ts names; default 'auto') and builds the matching runner. */
export async function createRunner(values: StateValues, backendName = 'auto', o: OnnxRunnerOptions = {}): Promise<IsfuseRunner> {
  const backend = await useBackend(backendName);
  return backend.engine === 'onnx' ? createOnnxRunner(values, backend, o) : createTfjsRunner(values, backend);
}
