/**
 * Training-step benchmark: median wall time of one five-pass step (docs/TRAINING.md#training-step) on random inputs and
 * masks: warm-up steps, then timed runs; median, min and max; the backend; peak TensorFlow.js memory and the
 * process's peak resident memory (onnxruntime's buffers live outside TensorFlow.js).
 * The PyTorch baseline is tools/bench_torch_train.py (same step, same sizes), run on the same machine.
 */
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../core/random.js';
import { disposeParams, initParams } from '../model/isfuse.js';
import { installConvGradient } from '../model/conv-gradient.js';
import { DEFAULT_TRAIN_CONFIG, maskTensors } from '../train/interventions.js';
import { drawInterventionMasks } from '../train/masks.js';
import { resolveMemoryPlan, type MemoryPlan } from '../train/engine.js';
import { OnnxTrainer } from '../train/onnx/trainer.js';
import { Adam, trainStep } from '../train/step.js';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { ortProfileFiles, profileTfjs, summariseOrtProfile, type KernelProfile } from './profile.js';
import { machineInfo, summarise, type Timing } from './stats.js';

export interface BenchTrainResult extends Timing {
  readonly backend: string;
  readonly batch: number;
  readonly crop: number;
  /** the plan that ran ('auto' resolved) */
  readonly memory: MemoryPlan;
  readonly warmup: number;
  /** timed steps after the warm-up */
  readonly runs: number;
  /** largest tf.memory().numBytes seen after a step (live tensors) */
  readonly tensorBytes: number;
  /** largest resident set size of the process seen after a step (bytes) */
  readonly rssBytes: number;
  /** onnx engine: the onnxruntime threads used */
  readonly threads?: number;
  /** with `profile`: per-kernel time, calls and bytes of the last timed step */
  readonly profile?: KernelProfile[];
  /** wasm backend: size of the wasm heap at the end (bytes) */
  readonly wasmHeapBytes?: number;
  /**
   * webgpu backend: bytes of GPU buffers the backend holds after the steps (its buffer pool keeps what it
   * allocated for reuse, so this is the step's peak GPU memory, give or take the pool's rounding)
   */
  readonly gpuBytes?: number;
  readonly machine: Record<string, unknown>;
}

/** Runs the benchmark on the active backend. */
export async function benchTrain(o: {
  batch: number; crop: number; warmup: number; runs: number; memory: MemoryPlan | 'auto'; backend: string; engine?: 'tfjs' | 'onnx';
  /** profile the last step per kernel (onnxruntime's profiler, or tf.profile for one extra step) */
  profile?: boolean;
  /** onnx engine: onnxruntime intra-op threads (default: os.availableParallelism()) */
  threads?: number;
  onStep?: (k: number, ms: number) => void;
}): Promise<BenchTrainResult> {
  installConvGradient();
  const memory = resolveMemoryPlan(o.engine ?? 'tfjs', o.memory, o.batch, o.crop);
  const p = initParams(0);
  const opt = new Adam(1e-4);
  const rng = new Rng(0);
  const n = o.batch, s = o.crop;
  const vi = tf.randomUniform([n, s, s, 1], 0, 1, 'float32', 1) as tf.Tensor4D;
  const ir = tf.randomUniform([n, s, s, 1], 0, 1, 'float32', 2) as tf.Tensor4D;
  const profilePrefix = join(tmpdir(), `isfuse-train-profile-${process.pid}`);
  const onnx = o.engine === 'onnx' ? new OnnxTrainer(DEFAULT_TRAIN_CONFIG, { threads: o.threads ?? availableParallelism(), memory, ...(o.profile ? { profilePrefix } : {}) }) : undefined;
  let profile: KernelProfile[] | undefined;
  let gpuBytes: number | undefined;
  const hostVi = onnx ? (vi.dataSync() as Float32Array) : undefined;
  const hostIr = onnx ? (ir.dataSync() as Float32Array) : undefined;
  const times: number[] = [];
  let bytes = 0;
  let rss = 0;
  try {
    for (let k = 0; k < o.warmup + o.runs; k++) {
      const hostMasks = drawInterventionMasks(rng, n, s, s);
      const masks = maskTensors(hostMasks);
      const t0 = performance.now();
      if (onnx) await onnx.step(p, opt, { vi: hostVi!, ir: hostIr!, masks: hostMasks });
      else await trainStep(p, opt, { vi, ir, masks }, DEFAULT_TRAIN_CONFIG, memory);
      const ms = performance.now() - t0;
      tf.dispose([masks.compVi, masks.compIr, masks.rand]);
      bytes = Math.max(bytes, tf.memory().numBytes);
      rss = Math.max(rss, process.memoryUsage().rss);
      if (k >= o.warmup) times.push(ms);
      o.onStep?.(k, ms);
    }
    gpuBytes = (tf.memory() as { numBytesAllocatedInGPU?: number }).numBytesAllocatedInGPU;
    if (o.profile && onnx) {
      profile = [];
      await onnx.endProfiling();
      for (const f of await ortProfileFiles(profilePrefix)) profile.push(...(await summariseOrtProfile(f)));
    } else if (o.profile) {
      // one extra step under tf.profile (profiling slows the step, so it is not one of the timed ones)
      const masks = maskTensors(drawInterventionMasks(rng, n, s, s));
      profile = await profileTfjs(async () => void (await trainStep(p, opt, { vi, ir, masks }, DEFAULT_TRAIN_CONFIG, memory)));
      tf.dispose([masks.compVi, masks.compIr, masks.rand]);
    }
  } finally {
    await onnx?.dispose();
    tf.dispose([vi, ir]);
    opt.dispose();
    disposeParams(p);
  }
  const be = tf.backend() as unknown as { wasm?: { HEAPU8?: Uint8Array } };
  return {
    backend: o.backend, batch: n, crop: s, memory, warmup: o.warmup, runs: o.runs,
    ...summarise(times), tensorBytes: bytes, rssBytes: rss, ...(profile ? { profile } : {}),
    ...(onnx ? { threads: onnx.options.threads } : {}),
    ...(be.wasm?.HEAPU8 ? { wasmHeapBytes: be.wasm.HEAPU8.length } : {}),
    ...(gpuBytes !== undefined ? { gpuBytes } : {}),
    machine: machineInfo(),
  };
}
