/**
 * The sampled Gaussian kernel (fusion's blur here, the metrics' windows in ./valid.ts) and the separable
 * Gaussian blur with edge replication, as MATLAB's `imfilter(I, fspecial('gaussian', 2r+1, sigma), 'replicate')`.
 *
 * The blur's kernel is `gaussian1d(2r+1, sigma)`. (MATLAB's 2-D kernel is the outer product of this 1-D kernel
 * with itself, so the separable form is the same filter; its `h(h < eps*max(h)) = 0` cut-off never triggers for
 * sigma >= r / 8.)
 */
import { plane64, type Plane, type Plane64 } from '../core/image.js';
import { replicateIndex } from './border.js';

/**
 * Sampled Gaussian `exp(-x^2 / (2 sigma^2))` for x = -(n-1)/2 .. (n-1)/2, normalised to sum 1.
 * `gaussian1d(n, s) ⊗ gaussian1d(n, s)` equals MATLAB's `fspecial('gaussian', n, s)` (and the numpy copies of it)
 * up to rounding, provided no 2-D entry falls below `eps * max` (fspecial zeroes those); each caller states that
 * this holds for its sizes.
 *
 * @param n kernel length, integer >= 1 (odd for a kernel centred on a sample).
 * @param sigma standard deviation in pixels, > 0.
 */
export function gaussian1d(n: number, sigma: number): Float64Array {
  const k = new Float64Array(n);
  const c = (n - 1) / 2;
  let s = 0;
  for (let i = 0; i < n; i++) {
    const x = i - c;
    k[i] = Math.exp(-(x * x) / (2 * sigma * sigma));
    s += k[i]!;
  }
  for (let i = 0; i < n; i++) k[i]! /= s;
  return k;
}

/**
 * Correlate a plane with `kernel` along rows and then columns, extending the image by edge replication.
 *
 * @param src plane, width x height >= 1 x 1.
 * @param kernel odd-length 1-D kernel (length `2r+1`), applied as a correlation (centre at index r).
 * @returns a new float64 plane.
 */
export function separableFilterReplicate(src: Plane<Float64Array | Float32Array>, kernel: Float64Array): Plane64 {
  const { width: w, height: h, data } = src;
  const K = kernel.length;
  const r = (K - 1) >> 1;
  const tmp = new Float64Array(w * h);
  const line = new Float64Array(w + 2 * r);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let i = 0; i < line.length; i++) line[i] = data[o + replicateIndex(i - r, w)]!;
    for (let x = 0; x < w; x++) {
      let s = 0;
      for (let t = 0; t < K; t++) s += kernel[t]! * line[x + t]!;
      tmp[o + x] = s;
    }
  }
  // Columns: one output row at a time from the K source rows it needs (offsets precomputed), accumulated
  // in a row buffer tap by tap (the same summation order as the rows: t = 0..K-1).
  const out = new Float64Array(w * h);
  const offs = new Int32Array(K);
  for (let y = 0; y < h; y++) {
    for (let t = 0; t < K; t++) offs[t] = replicateIndex(y + t - r, h) * w;
    const o = y * w;
    for (let t = 0; t < K; t++) {
      const kt = kernel[t]!;
      const oi = offs[t]!;
      for (let x = 0; x < w; x++) out[o + x]! += kt * tmp[oi + x]!;
    }
  }
  return plane64(w, h, out);
}

/**
 * Gaussian blur, window `(2r+1) x (2r+1)`, edge replication.
 *
 * @param src plane, width x height >= 1 x 1.
 * @param r window radius, integer >= 0.
 * @param sigma standard deviation, > 0.
 * @example gaussianBlurReplicate(saliency, 5, 5) // GFF's 11 x 11, sigma 5 low-pass
 */
export function gaussianBlurReplicate(src: Plane<Float64Array | Float32Array>, r: number, sigma: number): Plane64 {
  return separableFilterReplicate(src, gaussian1d(2 * r + 1, sigma));
}
