/**
 * Convolution gradients written as forward convolutions (DESIGN.md §6), shared by the registered Conv2D
 * gradient (src/train/conv-gradient.ts, which re-exports them) and the fused training blocks of
 * src/model/train-ops.ts. On a backend with its own fast gradient kernels (webgpu with
 * src/model/webgpu/conv3x3.ts) they call those kernels instead.
 */
import * as tf from '@tensorflow/tfjs';

type Padding = readonly [number, number, number, number];

/** Per backend: which stride-1 convolutions (kernel size, padding) its own backprop kernels run fast. */
const nativeGradients = new Map<string, (kh: number, kw: number, padding: Padding) => boolean>();

/**
 * Makes the gradients below use `backend`'s own Conv2DBackpropInput / Conv2DBackpropFilter kernels for the
 * convolutions `handles` accepts (forward convolutions for the rest); `handles` undefined switches it off.
 */
export function setNativeConvGradients(backend: string, handles: ((kh: number, kw: number, padding: Padding) => boolean) | undefined): void {
  if (handles) nativeGradients.set(backend, handles);
  else nativeGradients.delete(backend);
}

const native = (kh: number, kw: number, padding: Padding): boolean =>
  nativeGradients.size > 0 && (nativeGradients.get(tf.getBackend())?.(kh, kw, padding) ?? false);

/** The explicit NHWC padding attribute of the backprop kernels. */
const padAttr = ([pt, pb, pl, pr]: Padding) => [[0, 0], [pt, pb], [pl, pr], [0, 0]];

/**
 * Filter gradient of a stride-1 NHWC convolution as a 'valid' convolution: the padded x transposed to
 * [Ci, H+ph, W+pw, N] is the input, dy transposed to [Ho, Wo, N, Co] the filter; the [Ci, kh, kw, Co] result is
 * transposed back to HWIO. x: [N,H,W,Ci], dy: [N,Ho,Wo,Co]; returns [kh, kw, Ci, Co].
 * A 1x1 kernel without padding is one matmul x^T dy (x transposed first: wasm's matmul is fast only without
 * transposes).
 */
export function convFilterGradient(x: tf.Tensor4D, dy: tf.Tensor4D, kh: number, kw: number, padding: Padding): tf.Tensor4D {
  if (native(kh, kw, padding)) {
    const attrs = { strides: 1, pad: padAttr(padding), dataFormat: 'NHWC', dimRoundingMode: undefined, filterShape: [kh, kw, x.shape[3], dy.shape[3]] };
    return tf.engine().runKernel('Conv2DBackpropFilter', { x, dy }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const [pt, pb, pl, pr] = padding;
    if (kh === 1 && kw === 1 && !(pt || pb || pl || pr)) {
      const ci = x.shape[3], co = dy.shape[3];
      const xt = tf.transpose(tf.reshape(x, [-1, ci])); // [Ci, P]
      return tf.reshape(tf.matMul(xt, tf.reshape(dy, [-1, co])), [1, 1, ci, co]) as tf.Tensor4D;
    }
    const xp = pt || pb || pl || pr ? tf.pad(x, [[0, 0], [pt, pb], [pl, pr], [0, 0]]) : x;
    const xt = tf.transpose(xp, [3, 1, 2, 0]); // [Ci, H+ph, W+pw, N]
    const f = tf.transpose(dy, [1, 2, 0, 3]); // [Ho, Wo, N, Co]
    const g = tf.conv2d(xt as tf.Tensor4D, f as tf.Tensor4D, 1, 'valid'); // [Ci, kh, kw, Co]
    if (g.shape[1] !== kh || g.shape[2] !== kw) throw new Error(`internal: filter gradient of shape [${g.shape}] for a ${kh}x${kw} kernel`);
    return tf.transpose(g, [1, 2, 0, 3]) as tf.Tensor4D;
  });
}

/**
 * Input gradient of a stride-1 NHWC convolution as a forward convolution: dy, zero-padded by
 * (k - 1 - pad) on each side, convolved ('valid') with the filter rotated by 180 degrees and with its in/out
 * channels swapped ([kh, kw, Co, Ci]). On wasm this runs on XNNPACK's convolution, which is several times
 * faster than the backend's own Conv2DBackpropInput loop. Returns [N,H,W,Ci].
 */
export function convInputGradient(dy: tf.Tensor4D, filter: tf.Tensor4D, padding: Padding): tf.Tensor4D {
  const [kh, kw] = filter.shape;
  const [pt, pb, pl, pr] = padding;
  if (native(kh, kw, padding)) {
    const inputShape = [dy.shape[0], dy.shape[1] + kh - 1 - pt - pb, dy.shape[2] + kw - 1 - pl - pr, filter.shape[2]];
    const attrs = { strides: 1, pad: padAttr(padding), dataFormat: 'NHWC', dimRoundingMode: undefined, inputShape };
    return tf.engine().runKernel('Conv2DBackpropInput', { dy, filter }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor4D;
  }
  return tf.tidy(() => {
    const wf = tf.transpose(tf.reverse(filter, [0, 1]), [0, 1, 3, 2]) as tf.Tensor4D;
    const t = kh - 1 - pt, b = kh - 1 - pb, l = kw - 1 - pl, r = kw - 1 - pr;
    if (t === b && l === r && t === (kh - 1) / 2 && l === (kw - 1) / 2) return tf.conv2d(dy, wf, 1, 'same');
    return tf.conv2d(tf.pad(dy, [[0, 0], [t, b], [l, r], [0, 0]]), wf, 1, 'valid');
  });
}
