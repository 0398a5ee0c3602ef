/**
 * The building blocks of the ISFuse network (docs/NETWORK.md) as plain functions over TensorFlow.js tensors.
 *
 * Layout: activations are NHWC float32 (TensorFlow.js's native layout); convolution filters are HWIO here
 * and OIHW in the PyTorch state dict (see {@link oihwToHwio}). Every function is differentiable, so the
 * same code serves inference and training.
 */
import * as tf from '@tensorflow/tfjs';
import { adaptivePoolMatrix, bilinearMatrix } from './matrices.js';

// Production mode: no per-op debug checks, and no "install tfjs-node" console banner in Node (backend.ts
// chooses backends, tfjs-node included).
tf.enableProdMode();

/** PyTorch BatchNorm2d defaults used by the reference network. */
export const BN_EPS = 1e-5;
export const BN_MOMENTUM = 0.1;
/** LeakyReLU slope of every CBL block. */
export const LEAKY_SLOPE = 0.01;

/** A convolution ready to run: HWIO filter and bias (BatchNorm possibly folded in). */
export interface Conv {
  readonly filter: tf.Tensor4D;
  readonly bias: tf.Tensor1D;
}

/** BatchNorm2d parameters and running statistics, each [C]. */
export interface BatchNorm {
  readonly weight: tf.Tensor1D;
  readonly bias: tf.Tensor1D;
  readonly runningMean: tf.Tensor1D;
  readonly runningVar: tf.Tensor1D;
}

/** PyTorch conv weight [O, I, kH, kW] -> TensorFlow.js filter [kH, kW, I, O]. */
export function oihwToHwio(w: tf.Tensor): tf.Tensor4D {
  return tf.transpose(w as tf.Tensor4D, [2, 3, 1, 0]);
}

/** k x k convolution, stride 1, zero padding k // 2 (odd k: TensorFlow's 'same'), plus bias. x: [N,H,W,I]. */
export function conv2d(x: tf.Tensor4D, c: Conv): tf.Tensor4D {
  return tf.add(tf.conv2d(x, c.filter, 1, 'same'), c.bias);
}

/**
 * {@link conv2d} (then LeakyReLU when `leakyRelu`) as one FusedConv2D op, for inference (no gradient is
 * taken through it): one pass on webgpu (src/model/webgpu/conv3x3.ts).
 */
export function conv2dFused(x: tf.Tensor4D, c: Conv, leakyRelu: boolean): tf.Tensor4D {
  return tf.fused.conv2d({ x, filter: c.filter, bias: c.bias, strides: 1, pad: 'same', ...(leakyRelu ? { activation: 'leakyrelu', leakyreluAlpha: LEAKY_SLOPE } : {}) });
}

/** Result of a training-mode BatchNorm: the output and the new running statistics (PyTorch's update rule). */
export interface BatchNormTrainResult {
  readonly y: tf.Tensor4D;
  readonly runningMean: tf.Tensor1D;
  readonly runningVar: tf.Tensor1D;
}

/**
 * Training-mode BatchNorm2d exactly as PyTorch: normalise with the batch mean and the *biased* batch
 * variance over (N, H, W); running_mean <- (1 - m) running_mean + m mean,
 * running_var <- (1 - m) running_var + m var * n / (n - 1) (unbiased), n = N*H*W.
 * The running statistics are returned (outside any gradient), not assigned.
 */
export function batchNormTrain(x: tf.Tensor4D, bn: BatchNorm, momentum = BN_MOMENTUM, eps = BN_EPS): BatchNormTrainResult {
  const { mean, variance } = tf.moments(x, [0, 1, 2]);
  const y = tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, eps))), bn.weight), bn.bias) as tf.Tensor4D;
  const n = x.shape[0] * x.shape[1] * x.shape[2];
  // (these feed no loss, so no gradient flows through them; TensorFlow.js has no stop-gradient op)
  const stats = tf.tidy(() => ({
    runningMean: tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(mean, momentum)) as tf.Tensor1D,
    runningVar: tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(variance, (momentum * n) / Math.max(1, n - 1))) as tf.Tensor1D,
  }));
  return { y, ...stats };
}

/** LeakyReLU(0.01). */
export function leaky(x: tf.Tensor4D): tf.Tensor4D {
  return tf.leakyRelu(x, LEAKY_SLOPE);
}

/** MaxPool2d(2): 2x2 windows, stride 2, floor (a trailing odd row/column is dropped). */
export function maxPool2(x: tf.Tensor4D): tf.Tensor4D {
  return tf.maxPool(x, 2, 2, 'valid');
}

/**
 * Bilinear resize with half-pixel centres (PyTorch `F.interpolate(..., mode='bilinear', align_corners=False)`
 * with an explicit size). Forward: TensorFlow.js's kernel with `halfPixelCenters`, which computes
 * src = (dst + 0.5) * in/out - 0.5 and clamps both taps to the image: the same as PyTorch's clamp of a
 * negative src to 0 (the parity fixtures check it on odd sizes). Gradient: our own, as the transposed
 * interpolation matrices (two matmuls), because TensorFlow.js 4.22's ResizeBilinearGrad ignores
 * halfPixelCenters and its cpu kernel swaps height and width of the result.
 */
export function resizeBilinear(x: tf.Tensor4D, height: number, width: number): tf.Tensor4D {
  const [n, h, w, c] = x.shape;
  if (h === height && w === width) return x;
  const f = tf.customGrad(((input: tf.Tensor, save: tf.GradSaveFunc) => {
    save([]);
    return {
      value: tf.image.resizeBilinear(input as tf.Tensor4D, [height, width], false, true),
      gradFunc: (dy: tf.Tensor) =>
        tf.tidy(() => {
          const rh = tf.tensor3d(bilinearMatrix(h, height), [1, height, h]);
          const rw = tf.tensor3d(bilinearMatrix(w, width), [1, width, w]);
          // dx = Rh^T . dy . Rw, per sample and channel
          const a = tf.matMul(rh, tf.reshape(dy, [n, height, width * c]), true, false); // [N, h, width*C]
          const b = tf.matMul(rw, tf.reshape(a, [n * h, width, c]), true, false); // [N*h, w, C]
          return tf.reshape(b, [n, h, w, c]);
        }),
    };
  }) as unknown as Parameters<typeof tf.customGrad>[0]);
  return f(x) as tf.Tensor4D;
}

/**
 * Adaptive average pool of x [N,H,W,C] to r x r tokens, as two matmuls with bin-averaging matrices
 * (exact for any H, W; differentiable). Returns [N, r*r, C], tokens in row-major (i, j) order like PyTorch's
 * `view(n, c, r*r)`.
 */
export function adaptiveAvgPoolTokens(x: tf.Tensor4D, r: number): tf.Tensor3D {
  const [n, h, w, c] = x.shape;
  return tf.tidy(() => {
    const ph = tf.tensor3d(adaptivePoolMatrix(h, r), [1, r, h]);
    const pw = tf.tensor3d(adaptivePoolMatrix(w, r), [1, r, w]);
    const a = tf.matMul(ph, tf.reshape(x, [n, h, w * c])); // [N, r, W*C]
    const b = tf.matMul(pw, tf.reshape(a, [n * r, w, c])); // [N*r, r, C]
    return tf.reshape(b, [n, r * r, c]);
  });
}

/** Query rows per attention chunk at inference: bounds the [rows, 64] logits block (16 MiB at 64 tokens). */
export const ATTENTION_CHUNK_ROWS = 65536;

/**
 * Pooled cross-attention att(q, k, v) of the CFI: k and v are average-pooled adaptively to r x r tokens;
 * every position of q takes a softmax over the tokens of q.k / sqrt(C) and returns the weighted sum of the
 * v tokens. q, k, v: [N,H,W,C] (k and v may have another size than q in principle; here they share it).
 * With `chunkRows`, queries are processed in blocks of that many positions (same result, lower peak memory;
 * use it only outside gradient tapes).
 */
export function pooledCrossAttention(
  q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D, r = 8, chunkRows = 0,
): tf.Tensor4D {
  const [n, h, w, c] = q.shape;
  const kt = adaptiveAvgPoolTokens(k, r);
  const vt = adaptiveAvgPoolTokens(v, r);
  const scale = 1 / Math.sqrt(c);
  const qf = tf.reshape(q, [n, h * w, c]);
  const attend = (qs: tf.Tensor3D): tf.Tensor3D =>
    tf.matMul(tf.softmax(tf.mul(tf.matMul(qs, kt, false, true), scale)), vt) as tf.Tensor3D;
  let out: tf.Tensor3D;
  if (chunkRows > 0 && h * w > chunkRows) {
    const parts: tf.Tensor3D[] = [];
    for (let s = 0; s < h * w; s += chunkRows) {
      const len = Math.min(chunkRows, h * w - s);
      parts.push(tf.tidy(() => attend(tf.slice(qf, [0, s, 0], [n, len, c]) as tf.Tensor3D)));
    }
    out = tf.concat(parts, 1);
    tf.dispose(parts);
  } else {
    out = attend(qf as tf.Tensor3D);
  }
  const res = tf.reshape(out, [n, h, w, c]) as tf.Tensor4D;
  out.dispose();
  tf.dispose([kt, vt]);
  qf.dispose();
  return res;
}
