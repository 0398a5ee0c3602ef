/**
 * Training-step benchmark: median wall time of one five-pass step (DESIGN.md §3) on random inputs and
 * masks: warm-up steps, then repeats; median, min and max; the backend; peak TensorFlow.js memory.
 * The PyTorch baseline is tools/bench_torch_train.py (same step, same sizes), run on the same machine.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../data/random.js';
import { disposeParams, initParams } from '../model/isfuse.js';
import { installConvGradient } from '../train/conv-gradient.js';
import { DEFAULT_TRAIN_CONFIG, maskTensors } from '../train/interventions.js';
import { drawInterventionMasks } from '../train/masks.js';
import { Adam, trainStep, type GradientMode } from '../train/step.js';
import { machineInfo, summarise, type Timing } from './stats.js';

export interface BenchTrainResult extends Timing {
  readonly backend: string;
  readonly batch: number;
  readonly crop: number;
  readonly memory: GradientMode;
  readonly warmup: number;
  readonly repeats: number;
  /** largest tf.memory().numBytes seen after a step (live tensors) */
  readonly tensorBytes: number;
  /** wasm backend: size of the wasm heap at the end (bytes) */
  readonly wasmHeapBytes?: number;
  readonly machine: Record<string, unknown>;
}

/** Runs the benchmark on the active backend. */
export async function benchTrain(o: { batch: number; crop: number; warmup: number; repeats: number; memory: GradientMode; backend: string; onStep?: (k: number, ms: number) => void }): Promise<BenchTrainResult> {
  installConvGradient();
  const p = initParams(0);
  const opt = new Adam(1e-4);
  const rng = new Rng(0);
  const n = o.batch, s = o.crop;
  const vi = tf.randomUniform([n, s, s, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const ir = tf.randomUniform([n, s, s, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const times: number[] = [];
  let bytes = 0;
  try {
    for (let k = 0; k < o.warmup + o.repeats; k++) {
      const masks = maskTensors(drawInterventionMasks(rng, n, s, s));
      const t0 = performance.now();
      trainStep(p, opt, { vi, ir, masks }, DEFAULT_TRAIN_CONFIG, o.memory);
      const ms = performance.now() - t0;
      tf.dispose([masks.compVi, masks.compIr, masks.rand]);
      bytes = Math.max(bytes, tf.memory().numBytes);
      if (k >= o.warmup) times.push(ms);
      o.onStep?.(k, ms);
    }
  } finally {
    tf.dispose([vi, ir]);
    opt.dispose();
    disposeParams(p);
  }
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return {
    backend: o.backend, batch: n, crop: s, memory: o.memory, warmup: o.warmup, repeats: o.repeats,
    ...summarise(times), tensorBytes: bytes,
    ...(be.wasm?.HEAPU8 ? { wasmHeapBytes: be.wasm.HEAPU8.length } : {}),
    machine: machineInfo(),
  };
}
