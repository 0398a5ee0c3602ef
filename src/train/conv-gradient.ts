/**
 * A convolution gradient that trains on every TensorFlow.js backend (DESIGN.md §6).
 *
 * tfjs-backend-wasm 4.22 has no `Conv2DBackpropFilter` kernel, so the stock gradient of `Conv2D` fails there.
 * {@link installConvGradient} re-registers the gradient of the `Conv2D` kernel (the model code is unchanged):
 *
 * - input gradient, for the same cases: a forward convolution of dy with the 180-degree-rotated filter, in/out
 *   channels swapped ({@link convInputGradient}); wasm's own Conv2DBackpropInput is a plain loop that took
 *   ~2x the time of all the forward and filter-gradient convolutions together (profile, batch 2, 64x64);
 * - filter gradient, for stride 1, dilation 1, NHWC, 'same' (odd kernel) / 'valid' / explicit padding:
 *     dW[a, b, ci, co] = sum_{n, y, x} xpad[n, y + a, x + b, ci] * dy[n, y, x, co]
 *   computed as one 'valid' convolution whose *input* is the padded x transposed to [Ci, H+ph, W+pw, N]
 *   (channels become the batch, the batch becomes the channels) and whose *filter* is dy transposed to
 *   [Ho, Wo, N, Co]; the [Ci, kh, kw, Co] result is transposed back to HWIO. On wasm (XNNPACK) this was
 *   measured ~6x faster than an im2col matmul (DESIGN.md §6).
 * - anything else (strides, dilations, NCHW, even 'same' kernels) falls back to the stock gradient.
 *
 * Checked against the stock gradient on the cpu backend and against central finite differences
 * (test/train/conv-gradient.test.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { convFilterGradient, convInputGradient } from '../model/conv-ops.js';

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

export { convFilterGradient, convInputGradient } from '../model/conv-ops.js';

let stock: tf.GradConfig | undefined;
let installed = false;

/** Whether {@link installConvGradient} is in effect. */
export function convGradientInstalled(): boolean {
  return installed;
}

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
