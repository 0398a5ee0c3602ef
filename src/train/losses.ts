/**
 * The training losses on TensorFlow.js: {@link tfLossOps}, the {@link LossOps} of ./objective.ts over tensors
 * (autodiff gives the gradient), and the single terms as plain functions (test/train/losses.test.ts checks them
 * against PyTorch: tools/make_train_fixtures.py -> test/fixtures/train/). The formulas are in ./objective.ts
 * and ./fidelity.ts (docs/TRAINING.md#losses); images are [N,H,W,1] in [0,1].
 */
import * as tf from '@tensorflow/tfjs';
import { resizeBilinear } from '../model/layers.js';
import { FIDELITY_LOSSES, l1, laplacianAbs as laplacianAbsOf } from './fidelity.js';
import { GATE_TARGET, invarianceParts, type LossOps } from './objective.js';

export { LOSS_WEIGHTS } from './objective.js';

/** The loss ops on TensorFlow.js tensors ([N,H,W,1] images; per-sample means are [N]). */
export const tfLossOps: LossOps<tf.Tensor> = {
  add: (a, b) => tf.add(a, b),
  sub: (a, b) => tf.sub(a, b),
  mul: (a, b) => tf.mul(a, b),
  scale: (x, s) => tf.mul(x, s),
  shift: (x, c) => tf.add(x, c),
  abs: (x) => tf.abs(x),
  max: (a, b) => tf.maximum(a, b),
  clip: (x, lo, hi) => tf.clipByValue(x, lo, hi),
  log: (x) => tf.log(x),
  mean: (x) => tf.mean(x),
  meanPerSample: (x) => tf.mean(x, [1, 2, 3]),
  filter3x3: (x, k) => tf.conv2d(x as tf.Tensor4D, tf.tensor4d(k as number[], [3, 3, 1, 1]), 1, 'same'),
  resize: (x, height, width) => resizeBilinear(x as tf.Tensor4D, height, width),
  size: (x) => ({ n: x.shape[0]!, height: x.shape[1]!, width: x.shape[2]! }),
};

/** |Laplacian| of x [N,H,W,1] with zero padding, same size. */
export function laplacianAbs(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => laplacianAbsOf(tfLossOps, x) as tf.Tensor4D);
}

/** The paper's fusion loss L_f and its three parts. */
export function fusionLoss(y: tf.Tensor4D, vi: tf.Tensor4D, ir: tf.Tensor4D): { total: tf.Scalar; ir: tf.Scalar; vi: tf.Scalar; grad: tf.Scalar } {
  return tf.tidy(() => {
    const p = FIDELITY_LOSSES.paper.parts(tfLossOps, y, vi, ir) as { ir: tf.Scalar; vi: tf.Scalar; grad: tf.Scalar };
    return { total: tf.add(tf.add(p.ir, p.vi), p.grad) as tf.Scalar, ...p };
  });
}

/** The three parts of one intervention's invariance term, and its total stability + sparsity + s_H entropy. */
export interface InvarianceTerms {
  readonly stability: tf.Scalar;
  readonly sparsity: tf.Scalar;
  readonly entropy: tf.Scalar;
  readonly total: tf.Scalar;
}

/**
 * One intervention's term of L_inv. yDo, yBase: [N,H,W,1]; gates: the intervened pass's three gate maps.
 * Note: clipByValue passes no gradient outside the clamp range (as torch.clamp).
 */
export function invarianceTerm(
  yDo: tf.Tensor4D, yBase: tf.Tensor4D, gates: readonly tf.Tensor4D[], gateEntropy: 'maximise' | 'minimise' = 'maximise', eta = GATE_TARGET,
): InvarianceTerms {
  return tf.tidy(() => {
    const p = invarianceParts<tf.Tensor>(tfLossOps, yDo, yBase, gates, eta) as { stability: tf.Scalar; sparsity: tf.Scalar; entropy: tf.Scalar };
    const sum = tf.add(p.stability, p.sparsity);
    return { ...p, total: (gateEntropy === 'maximise' ? tf.sub(sum, p.entropy) : tf.add(sum, p.entropy)) as tf.Scalar };
  });
}

/** L_nec's two parts (either may be absent when that dropout pass is switched off). */
export function necessityLoss(yBase: tf.Tensor4D, yNoVi?: tf.Tensor4D, yNoIr?: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const parts = [yNoVi, yNoIr].filter((t) => t !== undefined).map((t) => l1<tf.Tensor>(tfLossOps, yBase, t));
    return (parts.length ? tf.addN(parts) : tf.scalar(0)) as tf.Scalar;
  });
}
