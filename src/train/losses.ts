/**
 * The training losses of ISFuse (DESIGN.md §3), as differentiable TensorFlow.js functions.
 * Images are [N,H,W,1] in [0,1]; every L1 is a mean over all elements (PyTorch's `F.l1_loss`).
 *
 *   Lap(x)  = |conv(x, [[1,1,1],[1,-8,1],[1,1,1]])| with zero padding (same size)
 *   L_f     = L1(y, ir) + L1(y, vi) + L1(Lap(y), max(Lap(ir), Lap(vi)))
 *   L_inv   = mean over the enabled interventions do in {comp, rand} of
 *               mean(|y_do - y| * g_do) + mean_n |mean_hw(g_do) - eta| + s_H * mean(H(g_do))
 *             g_do = mean of the three gate maps of that pass, each bilinearly resized to H x W
 *             (half-pixel centres), H(g) = -g log g - (1-g) log(1-g) with g clamped to [1e-6, 1-1e-6],
 *             eta = 0.3, s_H = -1 for gateEntropy 'maximise' (the authors' code: the entropy is subtracted,
 *             pushing gates toward 0.5; the default) and +1 for 'minimise'
 *   L_nec   = L1(y, y_novi) + L1(y, y_noir)
 *   L       = L_f + 0.1 L_inv + s_N 0.05 L_nec, s_N = +1 for necessity 'minimise' (the code; default), -1 for
 *             'maximise'.
 *
 * Checked against PyTorch (tools/make_train_fixtures.py -> test/fixtures/train/, test/train/losses.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { resizeBilinear } from '../model/layers.js';

/** Weights and constants of the loss (DESIGN.md §3). */
export const LOSS_WEIGHTS = { inv: 0.1, nec: 0.05 } as const;
export const GATE_TARGET = 0.3;
export const ENTROPY_CLAMP = 1e-6;

export type GateEntropySign = 'maximise' | 'minimise';
export type NecessitySign = 'minimise' | 'maximise';

/** The 3x3 Laplacian kernel of L_f as an HWIO filter [3,3,1,1]. */
export const LAPLACIAN_KERNEL = [1, 1, 1, 1, -8, 1, 1, 1, 1] as const;

/** L1 loss: mean |a - b| over all elements. */
export function l1(a: tf.Tensor, b: tf.Tensor): tf.Scalar {
  return tf.tidy(() => tf.mean(tf.abs(tf.sub(a, b))) as tf.Scalar);
}

/** |Laplacian| of x [N,H,W,1] with zero padding, same size. */
export function laplacianAbs(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => tf.abs(tf.conv2d(x, tf.tensor4d(LAPLACIAN_KERNEL as unknown as number[], [3, 3, 1, 1]), 1, 'same')) as tf.Tensor4D);
}

/** The fusion loss L_f and its three parts. */
export function fusionLoss(y: tf.Tensor4D, vi: tf.Tensor4D, ir: tf.Tensor4D): { total: tf.Scalar; ir: tf.Scalar; vi: tf.Scalar; grad: tf.Scalar } {
  const lir = l1(y, ir);
  const lvi = l1(y, vi);
  const lgrad = tf.tidy(() => l1(laplacianAbs(y), tf.maximum(laplacianAbs(ir), laplacianAbs(vi))));
  return { total: tf.addN([lir, lvi, lgrad]) as tf.Scalar, ir: lir, vi: lvi, grad: lgrad };
}

/** Mean of the three gate maps, each resized (bilinear, half-pixel) to height x width: [N,H,W,1]. */
export function meanGate(gates: readonly tf.Tensor4D[], height: number, width: number): tf.Tensor4D {
  return tf.tidy(() => tf.div(tf.addN(gates.map((g) => resizeBilinear(g, height, width))), gates.length) as tf.Tensor4D);
}

/** Binary entropy of g clamped to [1e-6, 1 - 1e-6] (natural log), elementwise. */
export function binaryEntropy(g: tf.Tensor): tf.Tensor {
  return tf.tidy(() => {
    const p = tf.clipByValue(g, ENTROPY_CLAMP, 1 - ENTROPY_CLAMP);
    return tf.neg(tf.add(tf.mul(p, tf.log(p)), tf.mul(tf.sub(1, p), tf.log(tf.sub(1, p)))));
  });
}

/** The three parts of one intervention's invariance term. */
export interface InvarianceTerms {
  /** mean(|y_do - y| * g_do) */
  readonly stability: tf.Scalar;
  /** mean over the batch of |spatial mean(g_do) - eta| */
  readonly sparsity: tf.Scalar;
  /** mean(H(g_do)) (entered with the sign of `gateEntropy`) */
  readonly entropy: tf.Scalar;
  /** stability + sparsity + s_H entropy */
  readonly total: tf.Scalar;
}

/**
 * One intervention's term of L_inv. yDo, yBase: [N,H,W,1]; gates: the intervened pass's three gate maps.
 * Note: clipByValue passes no gradient outside the clamp range (as torch.clamp).
 */
export function invarianceTerm(
  yDo: tf.Tensor4D, yBase: tf.Tensor4D, gates: readonly tf.Tensor4D[], gateEntropy: GateEntropySign = 'maximise', eta = GATE_TARGET,
): InvarianceTerms {
  return tf.tidy(() => {
    const [, h, w] = yDo.shape;
    const g = meanGate(gates, h, w);
    const stability = tf.mean(tf.mul(tf.abs(tf.sub(yDo, yBase)), g)) as tf.Scalar;
    const sparsity = tf.mean(tf.abs(tf.sub(tf.mean(g, [1, 2, 3]), eta))) as tf.Scalar;
    const entropy = tf.mean(binaryEntropy(g)) as tf.Scalar;
    const total = (gateEntropy === 'maximise' ? tf.sub(tf.add(stability, sparsity), entropy) : tf.addN([stability, sparsity, entropy])) as tf.Scalar;
    return { stability, sparsity, entropy, total };
  });
}

/** L_nec's two parts (either may be absent when that dropout pass is switched off). */
export function necessityLoss(yBase: tf.Tensor4D, yNoVi?: tf.Tensor4D, yNoIr?: tf.Tensor4D): tf.Scalar {
  return tf.tidy(() => {
    const parts: tf.Scalar[] = [];
    if (yNoVi) parts.push(l1(yBase, yNoVi));
    if (yNoIr) parts.push(l1(yBase, yNoIr));
    return (parts.length ? tf.addN(parts) : tf.scalar(0)) as tf.Scalar;
  });
}
