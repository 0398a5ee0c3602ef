/**
 * The five passes of one training step (docs/TRAINING.md#training-step) and the inputs each one sees.
 *
 *   base : (vi, ir)
 *   comp : (vi * m_v, ir * m_i)        complementary masking (no pixel hidden in both)
 *   rand : (vi * m, ir * m)            identical-region masking (one mask for both)
 *   novi : (0, ir)                     modality dropout of the visible input
 *   noir : (vi, 0)                     modality dropout of the infrared input
 *
 * Which passes run follows the ablation switches ({@link activePasses}).
 */
import * as tf from '@tensorflow/tfjs';
import type { FidelityLossName } from './fidelity.js';
import type { InterventionMasks } from './masks.js';

export type PassName = 'base' | 'comp' | 'rand' | 'novi' | 'noir';

/**
 * Ablation switches (docs/TRAINING.md#ablations), the two disputed signs (docs/TRAINING.md#disputed-signs)
 * and the fidelity loss (docs/TRAINING.md#fidelity-losses).
 */
export interface TrainConfig {
  /** complementary masking (the comp pass and its L_inv term) */
  readonly comp: boolean;
  /** identical-region masking (the rand pass and its L_inv term) */
  readonly rand: boolean;
  /** modality dropout (the novi/noir passes, which L_nec needs) */
  readonly drop: boolean;
  /** L_inv */
  readonly inv: boolean;
  /** L_nec */
  readonly nec: boolean;
  /** the CFI; false = every CFI reduced to refine(fv + fi) (the `local` path) */
  readonly cfi: boolean;
  /** 'maximise' (default, the authors' code: entropy subtracted) or 'minimise' */
  readonly gateEntropy: 'maximise' | 'minimise';
  /** 'minimise' (default, the authors' code) or 'maximise' */
  readonly necessity: 'minimise' | 'maximise';
  /** the fidelity loss L_f, by name in ./fidelity.ts's registry; default 'paper' */
  readonly loss: FidelityLossName;
}

export const DEFAULT_TRAIN_CONFIG: TrainConfig = Object.freeze({
  comp: true, rand: true, drop: true, inv: true, nec: true, cfi: true, gateEntropy: 'maximise', necessity: 'minimise', loss: 'paper',
});

/**
 * The passes that contribute to the loss, in the order they run (the order in which BatchNorm's running
 * statistics are updated, as the reference's five forward calls). A pass whose loss term is off is not run
 * (so its BatchNorm update does not happen either): comp needs `comp && inv`, rand `rand && inv`, the two
 * dropout passes `drop && nec`.
 */
export function activePasses(cfg: TrainConfig): PassName[] {
  const out: PassName[] = ['base'];
  if (cfg.inv && cfg.comp) out.push('comp');
  if (cfg.inv && cfg.rand) out.push('rand');
  if (cfg.nec && cfg.drop) out.push('novi', 'noir');
  return out;
}

/** The masks of a batch as [N,H,W,1] tensors (dispose with tf.dispose(Object.values(...))). */
export interface MaskTensors {
  readonly compVi: tf.Tensor4D;
  readonly compIr: tf.Tensor4D;
  readonly rand: tf.Tensor4D;
}

export function maskTensors(m: InterventionMasks): MaskTensors {
  const shape: [number, number, number, number] = [m.n, m.h, m.w, 1];
  return { compVi: tf.tensor4d(m.compVi, shape), compIr: tf.tensor4d(m.compIr, shape), rand: tf.tensor4d(m.rand, shape) };
}

/** The (vi, ir) inputs of one pass. The caller owns the results (they may be the inputs themselves for 'base'). */
export function passInputs(pass: PassName, vi: tf.Tensor4D, ir: tf.Tensor4D, masks: MaskTensors): [tf.Tensor4D, tf.Tensor4D] {
  switch (pass) {
    case 'base':
      return [vi, ir];
    case 'comp':
      return [tf.mul(vi, masks.compVi), tf.mul(ir, masks.compIr)];
    case 'rand':
      return [tf.mul(vi, masks.rand), tf.mul(ir, masks.rand)];
    case 'novi':
      return [tf.zerosLike(vi), ir];
    case 'noir':
      return [vi, tf.zerosLike(ir)];
  }
}
