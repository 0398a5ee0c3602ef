/**
 * What runs a training step: a {@link StepEngine}, made by {@link createStepEngine} for 'tfjs' (the active
 * TensorFlow.js backend, autodiff: ./step.ts) or 'onnx' (the step and its backward pass as onnxruntime graphs:
 * ./onnx/trainer.ts). Either way the parameters, the Adam state and the BatchNorm running statistics are
 * TensorFlow.js variables, so a run may resume on another engine. The memory plan ({@link MemoryPlan}) is the
 * `--memory` option of `isfuse train` and `isfuse bench train`.
 */
import * as tf from '@tensorflow/tfjs';
import type { IsfuseParams } from '../model/isfuse.js';
import { maskTensors, type TrainConfig } from './interventions.js';
import type { InterventionMasks } from './masks.js';
import type { LossTerms } from './objective.js';
import { autoOnnxPlan, OnnxTrainer } from './onnx/trainer.js';
import { trainStep, type Adam } from './step.js';

/**
 * How much of a step is alive at once: 'joint' (every pass under one gradient tape or graph) or 'sequential'
 * (one pass at a time; several times less memory, one extra forward pass of the base; ./step.ts explains it).
 * Both give the same gradient up to float32 summation order.
 */
export type MemoryPlan = 'joint' | 'sequential';

export type EngineName = 'tfjs' | 'onnx';

/** A batch on the host: vi, ir [N*H*W] in [0,1] (row-major, one channel) and its masks. */
export interface HostStepBatch {
  readonly vi: Float32Array;
  readonly ir: Float32Array;
  readonly masks: InterventionMasks;
}

/** Runs training steps: gradient, Adam update, BatchNorm running statistics. */
export interface StepEngine {
  /** the memory plan it runs */
  readonly memory: MemoryPlan;
  /** One full step on live parameters; returns the loss values (computed before the update). */
  step(params: IsfuseParams, opt: Adam, batch: HostStepBatch): Promise<LossTerms>;
  dispose(): Promise<void>;
}

/**
 * The plan for a `--memory` choice: 'auto' (or none) is 'sequential' on TensorFlow.js, and on onnx 'joint'
 * when it fits in half the memory (autoOnnxPlan), else 'sequential'.
 */
export function resolveMemoryPlan(engine: EngineName, memory: MemoryPlan | 'auto' | undefined, batch: number, crop: number): MemoryPlan {
  if (memory === 'joint' || memory === 'sequential') return memory;
  return engine === 'onnx' ? autoOnnxPlan(batch, crop, crop) : 'sequential';
}

/** The TensorFlow.js engine: the host batch as tensors, then ./step.ts's trainStep. */
class TfjsStepEngine implements StepEngine {
  constructor(readonly config: TrainConfig, readonly memory: MemoryPlan) {}

  async step(params: IsfuseParams, opt: Adam, batch: HostStepBatch): Promise<LossTerms> {
    const { n, h, w } = batch.masks;
    const shape: [number, number, number, number] = [n, h, w, 1];
    const vi = tf.tensor4d(batch.vi, shape), ir = tf.tensor4d(batch.ir, shape);
    const masks = maskTensors(batch.masks);
    try {
      return await trainStep(params, opt, { vi, ir, masks }, this.config, this.memory);
    } finally {
      tf.dispose([vi, ir, masks.compVi, masks.compIr, masks.rand]);
    }
  }

  async dispose(): Promise<void> {}
}

/**
 * The engine for `engine` under `config`. `memory`: the plan ('auto' resolved by {@link resolveMemoryPlan}
 * from `batch` and `crop`); `threads` and `profilePrefix`: onnx only (./onnx/trainer.ts).
 */
export function createStepEngine(
  engine: EngineName, config: TrainConfig,
  o: { memory?: MemoryPlan | 'auto'; batch: number; crop: number; threads?: number; profilePrefix?: string },
): StepEngine {
  const memory = resolveMemoryPlan(engine, o.memory, o.batch, o.crop);
  if (engine === 'onnx') return new OnnxTrainer(config, { memory, ...(o.threads !== undefined ? { threads: o.threads } : {}), ...(o.profilePrefix ? { profilePrefix: o.profilePrefix } : {}) });
  return new TfjsStepEngine(config, memory);
}
