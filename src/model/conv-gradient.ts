/**
 * Convolution gradients written as forward convolutions (docs/ENGINES.md#gradients), used in two ways:
 * the fused training blocks of model/train-ops.ts call {@link convFilterGradient} / {@link convInputGradient}
 * directly, and {@link installConvGradient} registers them as the gradient of TensorFlow.js's `Conv2D`
 * kernel, because tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel (the stock gradient fails there).
 * On a backend with its own fast gradient kernels (webgpu, model/webgpu/conv3x3.ts) they call those instead.
 *
 * - input gradient: a forward convolution of dy with the 180-degree-rotated filter, in/out channels swapped;
 *   wasm's own Conv2DBackpropInput is a plain loop that took ~2x the time of all the forward and
 *   filter-gradient convolutions together (profile, batch 2, 64x64);
 * - filter gradient, for stride 1, dilation 1, NHWC, 'same' (odd kernel) / 'valid' / explicit padding:
 *     dW[a, b, ci, co] = sum_{n, y, x} xpad[n, y + a, x + b, ci] * dy[n, y, x, co]
 *   as one 'valid' convolution (see {@link convFilterGradient}); on wasm (XNNPACK) measured ~6x faster than
 *   an im2col matmul;
 * - anything else (strides, dilations, NCHW, even 'same' kernels) falls back to the stock gradient.
 *
 * Checked against the stock gradient on the cpu backend and against central finite differences
 * (test/model/conv-gradient.test.ts).
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

type Pad = 'same' | 'valid' | number | [[number, number], [number, number], [number, number], [number, number]];

interface Conv2DAttrs {
  strides: number | [number, number];
  pad: Pad | 'explicit';
  dataFormat: 'NHWC' | 'NCHW';
  dilations: number | [number, number];
  dimRoundingMode?: 'floor' | 'round' | 'ceil';
}

const ones = (v: number | readonly number[] | undefined): boolean => v === undefined || (Array.isArray(v) ? v.every((x) => x === 1) : v === 1);

/** Padding [top, bottom, left, right] of a stride-1 convolution, or null when not handled here. */
function paddingOf(pad: Conv2DAttrs['pad'], kh: number, kw: number): [number, number, number, number] | null {
  if (pad === 'valid') return [0, 0, 0, 0];
  if (pad === 'same') {
    if (kh % 2 === 0 || kw % 2 === 0) return null;
    return [(kh - 1) / 2, (kh - 1) / 2, (kw - 1) / 2, (kw - 1) / 2];
  }
  if (typeof pad === 'number') return [pad, pad, pad, pad];
  if (Array.isArray(pad) && pad.length === 4) return [pad[1][0], pad[1][1], pad[2][0], pad[2][1]];
  return null;
}

let stock: tf.GradConfig | undefined;
let installed = false;

/**
 * Replaces the registered gradient of the `Conv2D` kernel (process-wide; idempotent). Needed on wasm,
 * harmless elsewhere. {@link uninstallConvGradient} restores the stock one.
 */
export function installConvGradient(): void {
  if (installed) return;
  stock = tf.getGradient('Conv2D');
  if (!stock) throw new Error('internal: TensorFlow.js has no registered Conv2D gradient (is the @tensorflow/tfjs bundle loaded?)');
  const fallback = stock;
  tf.registerGradient({
    kernelName: 'Conv2D',
    inputsToSave: ['x', 'filter'],
    gradFunc: (dy, saved, attrs) => {
      const a = attrs as unknown as Conv2DAttrs;
      const [x, filter] = saved as [tf.Tensor4D, tf.Tensor4D];
      const [kh, kw] = filter.shape;
      const padding = a.dataFormat === 'NHWC' && ones(a.strides) && ones(a.dilations) ? paddingOf(a.pad, kh, kw) : null;
      if (!padding) return fallback.gradFunc(dy, saved, attrs);
      const dy4 = dy as tf.Tensor4D;
      return {
        x: () => convInputGradient(dy4, filter, padding),
        filter: () => convFilterGradient(x, dy4, kh, kw, padding),
      };
    },
  });
  installed = true;
}

/** Restores the stock `Conv2D` gradient (tests use it to compare). */
export function uninstallConvGradient(): void {
  if (!installed || !stock) return;
  tf.registerGradient(stock);
  installed = false;
}
