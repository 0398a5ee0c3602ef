/**
 * Fused training-mode operations with hand-written gradients (for CPU training speed). They compute the same
 * functions as the plain compositions in layers.ts and exist for speed and memory on the wasm backend,
 * where (measured, docs/PERFORMANCE.md "Training on CPU"):
 * - a matmul runs on XNNPACK (~8 GFLOP/s) only as a single 2-D product without transposed operands; batched
 *   or transposed products fall back to a loop at ~0.8 GFLOP/s;
 * - every elementwise op is a full pass over memory (~5-10 ms per 1M values) and channel reductions are
 *   ~8x faster as a product with a row of ones than as a Sum/Mean kernel;
 * - the autodiff of conv -> BatchNorm -> LeakyReLU keeps ~6 full-size tensors per block.
 *
 * {@link cblTrain}: conv + training-mode BatchNorm + LeakyReLU in one custom gradient that saves only the
 * block input, the conv output z and the block output (the input and output are shared with the neighbours).
 * {@link matMul2d}: a 2-D matmul whose gradients are untransposed 2-D matmuls.
 * {@link pooledAttentionPair}: the CFI's two pooled cross-attentions with the K/V convolutions run on the
 * 8x8-pooled tokens and the Q convolution folded into the logits (see the function comment).
 * On webgpu, cblTrain's BatchNorm and the attention run on isfuse's kernels (src/model/webgpu/), picked by
 * whether the active backend has them registered.
 *
 * Parity with the stock compositions (forward and gradients, cpu backend) and finite differences:
 * test/model/train-ops.test.ts; the webgpu paths: test/webgpu/model.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradient, convInputGradient } from './conv-gradient.js';
import { adaptiveAvgPoolTokens, BN_EPS, LEAKY_SLOPE, type Conv } from './layers.js';
import { BN_LEAKY, BN_LEAKY_GRAD, BN_LEAKY_GRAD_SUMS, BN_STATS } from './webgpu/batchnorm.js';
import { ATTEND, ATTEND_GRAD, ATTEND_PROBS, attendHandles } from './webgpu/attention.js';

type GradFn = Parameters<typeof tf.customGrad>[0];

/** Per-channel sums of x [.., C] as one product with a row of ones (fast on wasm). Returns [C]. */
export function channelSum(x: tf.Tensor): tf.Tensor1D {
  const c = x.shape[x.shape.length - 1]!;
  const rows = x.size / c;
  return tf.tidy(() => tf.reshape(tf.matMul(tf.ones([1, rows]), tf.reshape(x, [rows, c])), [c]) as tf.Tensor1D);
}

/** a * x + b per channel, in one pass (the BatchNorm kernel with mean 0, variance 1, epsilon 0). */
function affine(x: tf.Tensor4D, scale: tf.Tensor1D, offset: tf.Tensor1D): tf.Tensor4D {
  const c = x.shape[3];
  return tf.batchNorm(x, tf.zeros([c]) as tf.Tensor1D, tf.ones([c]) as tf.Tensor1D, offset, scale, 0) as tf.Tensor4D;
}

/** The 'same' padding [top, bottom, left, right] of an odd k x k kernel. */
function samePadding(k: number): [number, number, number, number] {
  const p = (k - 1) / 2;
  return [p, p, p, p];
}

export interface CblTrainResult {
  readonly y: tf.Tensor4D;
  /** batch mean of the conv output *with* its bias, and the biased batch variance, each [C] (no gradient) */
  readonly mean: tf.Tensor1D;
  readonly variance: tf.Tensor1D;
}

/**
 * Training-mode CBL: y = LeakyReLU(BatchNorm_batch(conv(x, filter) + bias)). filter HWIO (odd k, 'same').
 * Mathematically identical to layers.ts's conv2d -> batchNormTrain -> leaky. The conv bias cancels in the
 * batch normalisation, so it is left out of the computation (its gradient is exactly 0, as in exact
 * arithmetic) and only added to the returned mean (for the running statistics).
 *
 * Backward, with xhat = (z - mean) * istd, a = gamma * istd, dv = dy * (y > 0 ? 1 : 0.01), M = N*H*W:
 *   dbeta = sum dv, dgamma = sum dv * xhat = istd * (sum dv*z - mean * sum dv),
 *   dz = a * dv - a/M * dbeta - a * istd / M * dgamma * (z - mean), then the conv gradients of dz.
 * On a backend with isfuse's fused BatchNorm kernels (webgpu, src/model/webgpu/batchnorm.ts) the statistics,
 * normalisation + LeakyReLU, the two backward sums and dz are one kernel each.
 */
export function cblTrain(x: tf.Tensor4D, filter: tf.Tensor4D, bias: tf.Tensor1D, gamma: tf.Tensor1D, beta: tf.Tensor1D, eps = BN_EPS): CblTrainResult {
  const [kh, kw] = filter.shape;
  if (kh !== kw || kh % 2 === 0) throw new Error(`cblTrain: odd square kernels only, got ${kh}x${kw}`);
  const padding = samePadding(kh);
  let mean: tf.Tensor1D | undefined, variance: tf.Tensor1D | undefined;
  const f = tf.customGrad(((xi: tf.Tensor4D, w: tf.Tensor4D, b: tf.Tensor1D, g: tf.Tensor1D, be: tf.Tensor1D, save: tf.GradSaveFunc) => {
    const z = tf.conv2d(xi, w, 1, 'same');
    const m = z.shape[0] * z.shape[1] * z.shape[2];
    const fused = !!tf.getKernel(BN_STATS, tf.getBackend());
    // fused: the statistics as one [2, C] tensor (mean, variance), which the fused kernels take
    const [mu, va, stats] = tf.tidy((): [tf.Tensor1D, tf.Tensor1D, tf.Tensor2D?] => {
      if (fused) {
        const st = tf.engine().runKernel(BN_STATS, { z }) as tf.Tensor2D;
        const [mu, va] = tf.unstack(st) as [tf.Tensor1D, tf.Tensor1D];
        return [mu, va, st];
      }
      const mu = tf.div(channelSum(z), m) as tf.Tensor1D;
      return [mu, tf.div(channelSum(tf.squaredDifference(z, mu)), m) as tf.Tensor1D];
    });
    const y = stats
      ? (tf.engine().runKernel(BN_LEAKY, { z, stats, gamma: g, beta: be }, { eps, slope: LEAKY_SLOPE }) as tf.Tensor4D)
      : tf.tidy(() => tf.prelu(tf.batchNorm(z, mu, va, be, g, eps) as tf.Tensor4D, tf.fill([z.shape[3]], LEAKY_SLOPE) as unknown as tf.Tensor4D) as tf.Tensor4D);
    mean = tf.keep(tf.add(mu, b) as tf.Tensor1D);
    variance = tf.keep(va.clone());
    save(stats ? [xi, w, z, y, mu, va, g, stats] : [xi, w, z, y, mu, va, g]);
    return {
      value: y,
      gradFunc: (dy: tf.Tensor4D, saved: tf.Tensor[]) => {
        const [sx, sw, sz, sy, smu, sva, sg, sst] = saved as [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor4D, tf.Tensor1D, tf.Tensor1D, tf.Tensor1D, tf.Tensor2D?];
        const dz = tf.tidy(() => {
          const istd = tf.rsqrt(tf.add(sva, eps)) as tf.Tensor1D;
          const a = tf.mul(sg, istd) as tf.Tensor1D;
          if (sst) {
            const sums = tf.engine().runKernel(BN_LEAKY_GRAD_SUMS, { dy, y: sy, z: sz, stats: sst }, { slope: LEAKY_SLOPE }) as tf.Tensor2D;
            const [sdv, sdvzc] = tf.unstack(sums) as [tf.Tensor1D, tf.Tensor1D]; // sum dv, sum dv (z - mean)
            const dgamma = tf.mul(istd, sdvzc) as tf.Tensor1D;
            const k1 = tf.div(tf.mul(tf.mul(a, istd), dgamma), -m) as tf.Tensor1D;
            const k0 = tf.sub(tf.div(tf.mul(a, sdv), -m), tf.mul(k1, smu)) as tf.Tensor1D;
            const coef = tf.stack([a, k1, k0]);
            return { dz: tf.engine().runKernel(BN_LEAKY_GRAD, { dy, y: sy, z: sz, coef }, { slope: LEAKY_SLOPE }) as tf.Tensor4D, dgamma, dbeta: sdv };
          }
          const dv = tf.mul(dy, tf.step(sy, LEAKY_SLOPE)) as tf.Tensor4D;
          const sdv = channelSum(dv);
          const sdvz = channelSum(tf.mul(dv, sz));
          const dgamma = tf.mul(istd, tf.sub(sdvz, tf.mul(smu, sdv))) as tf.Tensor1D;
          const k1 = tf.div(tf.mul(tf.mul(a, istd), dgamma), -m) as tf.Tensor1D;
          const k0 = tf.sub(tf.div(tf.mul(a, sdv), -m), tf.mul(k1, smu)) as tf.Tensor1D;
          return { dz: tf.add(tf.mul(dv, a), affine(sz, k1, k0)) as tf.Tensor4D, dgamma, dbeta: sdv };
        });
        const dx = convInputGradient(dz.dz, sw, padding);
        const dw = convFilterGradient(sx, dz.dz, kh, kw, padding);
        dz.dz.dispose();
        return [dx, dw, tf.zerosLike(b), dz.dgamma, dz.dbeta];
      },
    };
  }) as unknown as GradFn);
  const y = f(x, filter, bias, gamma, beta) as tf.Tensor4D;
  return { y, mean: mean!, variance: variance! };
}

/**
 * a [m, k] x b [k, n] with gradients da = dy b^T and db = a^T dy, each as an untransposed 2-D matmul (the
 * small operand or the big one transposed first): on wasm the transposed/batched matmul is ~10x slower.
 */
export function matMul2d(a: tf.Tensor2D, b: tf.Tensor2D): tf.Tensor2D {
  const f = tf.customGrad(((x: tf.Tensor2D, y: tf.Tensor2D, save: tf.GradSaveFunc) => {
    save([x, y]);
    return {
      value: tf.matMul(x, y),
      gradFunc: (dy: tf.Tensor2D, saved: tf.Tensor[]) => {
        const [sa, sb] = saved as [tf.Tensor2D, tf.Tensor2D];
        return [
          tf.tidy(() => tf.matMul(dy, tf.transpose(sb))),
          tf.tidy(() => tf.matMul(tf.transpose(sa), dy)),
        ];
      },
    };
  }) as unknown as GradFn);
  return f(a, b) as tf.Tensor2D;
}

/** Adaptive average pool to r x r tokens [N, r*r, C]: tf.avgPool when the bins are uniform, else the matrices. */
export function poolTokens(x: tf.Tensor4D, r: number): tf.Tensor3D {
  const [n, h, w, c] = x.shape;
  if (h % r === 0 && w % r === 0) return tf.tidy(() => tf.reshape(tf.avgPool(x, [h / r, w / r], [h / r, w / r], 'valid'), [n, r * r, c]) as tf.Tensor3D);
  return adaptiveAvgPoolTokens(x, r);
}

/** 1x1 convolution parameters as a matrix [Cin, Cout] and a row [1, Cout]. */
function asMatrix(c: Conv): [tf.Tensor2D, tf.Tensor2D] {
  const [, , ci, co] = c.filter.shape;
  return [tf.reshape(c.filter, [ci, co]) as tf.Tensor2D, tf.reshape(c.bias, [1, co]) as tf.Tensor2D];
}

/**
 * One direction of the pooled cross-attention, att(conv_q(fq), conv_k(fk), conv_v(fk)), for pooled key
 * features pk = pool(fk) [N, T, C]. Uses pool(conv1x1(f)) = conv1x1(pool(f)) (biases included: the bins
 * average to 1), so K = pk Wk + bk and V = pk Wv + bv are computed on the T tokens; and folds the query conv
 * into the logits: (fq Wq + bq) K^T s = fq (Wq K^T s) + bq K^T s (s = 1/sqrt(C)). Per batch element n, the
 * two big products are [P, C] x [C, T] and [P, T] x [T, C] ({@link matMul2d}). With chunkRows > 0 the queries
 * run in row blocks (inference only). Returns [N, P, C].
 */
function attendDirection(fqRows: tf.Tensor2D[], pk: tf.Tensor3D, q: Conv, k: Conv, v: Conv, chunkRows: number): tf.Tensor2D[] {
  const [n, t, c] = pk.shape;
  const { mT, cRow, vals } = attentionOperands(pk, q, k, v);
  const out: tf.Tensor2D[] = [];
  for (let i = 0; i < n; i++) {
    const m = tf.transpose(tf.slice(mT, [i * t, 0], [t, -1])) as tf.Tensor2D; // [Cin, T]
    const ci = tf.reshape(tf.slice(cRow, [i * t, 0], [t, 1]), [1, t]);
    const vi = tf.slice(vals, [i * t, 0], [t, c]) as tf.Tensor2D; // [T, C]
    const attend = (rows: tf.Tensor2D): tf.Tensor2D => matMul2d(tf.softmax(tf.add(matMul2d(rows, m), ci)) as tf.Tensor2D, vi);
    const xq = fqRows[i]!;
    const p = xq.shape[0];
    if (chunkRows > 0 && p > chunkRows) {
      const parts: tf.Tensor2D[] = [];
      for (let s = 0; s < p; s += chunkRows) {
        parts.push(tf.tidy(() => attend(tf.slice(xq, [s, 0], [Math.min(chunkRows, p - s), -1]))));
      }
      out.push(tf.concat(parts, 0));
      tf.dispose(parts);
    } else {
      out.push(attend(xq));
    }
  }
  return out;
}

/**
 * The attention's operands from the pooled keys pk [N, T, C] (see {@link attendDirection}): mT [N*T, Cin]
 * (Wq K^T s, transposed, per sample), cRow [N*T, 1] (bq K^T s) and vals [N*T, C].
 */
function attentionOperands(pk: tf.Tensor3D, q: Conv, k: Conv, v: Conv): { mT: tf.Tensor2D; cRow: tf.Tensor2D; vals: tf.Tensor2D } {
  const [n, t, c] = pk.shape;
  const scale = 1 / Math.sqrt(c);
  const [wq, bq] = asMatrix(q);
  const [wk, bk] = asMatrix(k);
  const [wv, bv] = asMatrix(v);
  const pk2 = tf.reshape(pk, [n * t, c]) as tf.Tensor2D;
  const keys = tf.mul(tf.add(tf.matMul(pk2, wk), bk), scale) as tf.Tensor2D; // [N*T, C], scaled
  return {
    mT: tf.matMul(keys, wq, false, true), // [N*T, Cin] = (Wq K^T s)^T per sample
    cRow: tf.matMul(keys, bq, false, true), // [N*T, 1]
    vals: tf.add(tf.matMul(pk2, wv), bv) as tf.Tensor2D, // [N*T, C]
  };
}

/**
 * {@link attendDirection} for all samples at once through the one-pass attention kernel (webgpu,
 * src/model/webgpu/attention.ts): fq [N, H, W, Cin] -> [N, H*W, C]. Gradient: the probabilities p and the
 * logits' gradient dL = p (dp - rowsum(dp p)), dp = dy V^T, from two more kernels, then batched products
 * (dV = p^T dy, drows = dL M^T, dM = rows^T dL, dc = colsum dL).
 */
function attendDirectionFused(fq: tf.Tensor4D, pk: tf.Tensor3D, q: Conv, k: Conv, v: Conv): tf.Tensor3D {
  const [n, h, w, cin] = fq.shape;
  const [, t, c] = pk.shape;
  const { mT, cRow, vals } = attentionOperands(pk, q, k, v);
  const rows = tf.reshape(fq, [n, h * w, cin]) as tf.Tensor3D;
  const m = tf.transpose(tf.reshape(mT, [n, t, cin]), [0, 2, 1]) as tf.Tensor3D; // [N, Cin, T]
  const cb = tf.reshape(cRow, [n, 1, t]) as tf.Tensor3D;
  const vv = tf.reshape(vals, [n, t, c]) as tf.Tensor3D;
  const f = tf.customGrad(((r: tf.Tensor3D, mm: tf.Tensor3D, cc: tf.Tensor3D, vl: tf.Tensor3D, save: tf.GradSaveFunc) => {
    save([r, mm, cc, vl]);
    return {
      value: tf.engine().runKernel(ATTEND, { rows: r, m: mm, c: cc, v: vl }) as tf.Tensor3D,
      gradFunc: (dy: tf.Tensor3D, saved: tf.Tensor[]) => {
        const [sr, sm, sc, sv] = saved as [tf.Tensor3D, tf.Tensor3D, tf.Tensor3D, tf.Tensor3D];
        return tf.tidy(() => {
          const p = tf.engine().runKernel(ATTEND_PROBS, { rows: sr, m: sm, c: sc }) as tf.Tensor3D; // [N, P, T]
          const dl = tf.engine().runKernel(ATTEND_GRAD, { p, v: sv, dy }) as tf.Tensor3D;
          return [tf.matMul(dl, sm, false, true), tf.matMul(sr, dl, true, false), tf.sum(dl, 1, true), tf.matMul(p, dy, true, false)];
        });
      },
    };
  }) as unknown as GradFn);
  return f(rows, m, cb, vv) as tf.Tensor3D;
}

/**
 * cross = att(Q_v, K_i, V_i) + att(Q_i, K_v, V_v) of the CFI (docs/NETWORK.md#pooled-attention) with 8x8 pooled tokens, from the
 * features fv, fi [N,H,W,C] and the six 1x1 convolutions (HWIO [1,1,C,C] filters and biases). Returns
 * [N,H,W,C]. Equal to layers.ts's pooledCrossAttention on the convolved maps, up to float32 rounding.
 */
export function pooledAttentionPair(
  fv: tf.Tensor4D, fi: tf.Tensor4D,
  convs: { qv: Conv; kv: Conv; vv: Conv; qi: Conv; ki: Conv; vi: Conv }, r = 8, chunkRows = 0,
): tf.Tensor4D {
  const [n, h, w, c] = fv.shape;
  return tf.tidy(() => {
    const pv = poolTokens(fv, r);
    const pi = poolTokens(fi, r);
    // the kernel never holds the [P, T] scores, so it needs no row chunks
    if (tf.getKernel(ATTEND, tf.getBackend()) && attendHandles(c, r * r, c)) {
      const a = attendDirectionFused(fv, pi, convs.qv, convs.ki, convs.vi);
      const b = attendDirectionFused(fi, pv, convs.qi, convs.kv, convs.vv);
      return tf.reshape(tf.add(a, b), [n, h, w, c]) as tf.Tensor4D;
    }
    // per-sample [P, C] row blocks (split's gradient is one concat; a single sample is a plain reshape)
    const rowsOf = (f: tf.Tensor4D): tf.Tensor2D[] => {
      const r2 = tf.reshape(f, [n * h * w, c]) as tf.Tensor2D;
      return n === 1 ? [r2] : tf.split(r2, n, 0);
    };
    const rowsV = rowsOf(fv);
    const rowsI = rowsOf(fi);
    const a = attendDirection(rowsV, pi, convs.qv, convs.ki, convs.vi, chunkRows);
    const b = attendDirection(rowsI, pv, convs.qi, convs.kv, convs.vv, chunkRows);
    const sums = a.map((t, i) => tf.add(t, b[i]!));
    return tf.reshape(n === 1 ? sums[0]! : tf.concat(sums, 0), [n, h, w, c]) as tf.Tensor4D;
  });
}
