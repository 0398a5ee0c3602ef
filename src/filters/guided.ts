/**
 * Guided filter with a gray guide (K. He, J. Sun, X. Tang, "Guided Image Filtering", ECCV 2010 /
 * IEEE TPAMI 35(6), 2013), following the authors' reference `guidedfilter.m` step by step:
 *
 * ```
 * N      = boxfilter(ones, r)                 % samples in the window clipped to the image
 * mean_I = boxfilter(I, r) / N;   mean_p = boxfilter(p, r) / N
 * cov_Ip = boxfilter(I.*p, r) / N - mean_I .* mean_p
 * var_I  = boxfilter(I.*I, r) / N - mean_I .* mean_I
 * a = cov_Ip ./ (var_I + eps);    b = mean_p - a .* mean_I
 * q = boxfilter(a, r) / N .* I + boxfilter(b, r) / N
 * ```
 *
 * Window `(2r+1) x (2r+1)`, clipped at the borders (mean over the valid part, `boxMeanClipped` in box.ts).
 * Float64 throughout, O(width x height) for any r. A constant `p` is returned exactly (a = 0, b = p).
 */
import { plane64, type Plane, type Plane64 } from '../core/image.js';
import { boxMeanClippedInto } from './box.js';

/**
 * @param guide guide image I, width x height >= 1 x 1 (any range; GFF passes the source in [0, 1]).
 * @param input filtering input p, same size as `guide`.
 * @param r window radius, integer >= 0.
 * @param eps regularisation, > 0 (in squared units of the guide: 0.3 and 1e-6 for guides in [0, 1] in GFF).
 * @returns q, a new float64 plane of the same size.
 * @example const q = guidedFilter(ir, weightMap, 7, 1e-6);
 */
export function guidedFilter(
  guide: Plane<Float64Array | Float32Array>,
  input: Plane<Float64Array | Float32Array>,
  r: number,
  eps: number,
): Plane64 {
  const { width: w, height: h } = guide;
  const n = w * h;
  const I = guide.data;
  const p = input.data;
  // Seven buffers of n samples in all (the box filters write into them; no other allocation).
  const scratch = new Float64Array(n);
  const meanI = new Float64Array(n);
  const meanP = new Float64Array(n);
  const meanIp = new Float64Array(n);
  const meanII = new Float64Array(n);
  const t1 = new Float64Array(n);
  const t2 = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const g = I[i]!;
    t1[i] = g * p[i]!;
    t2[i] = g * g;
  }
  boxMeanClippedInto(I, w, h, r, meanI, scratch);
  boxMeanClippedInto(p, w, h, r, meanP, scratch);
  boxMeanClippedInto(t1, w, h, r, meanIp, scratch);
  boxMeanClippedInto(t2, w, h, r, meanII, scratch);
  const a = t1;
  const b = t2;
  for (let i = 0; i < n; i++) {
    const mI = meanI[i]!;
    const cov = meanIp[i]! - mI * meanP[i]!;
    const v = meanII[i]! - mI * mI;
    const ai = cov / (v + eps);
    a[i] = ai;
    b[i] = meanP[i]! - ai * mI;
  }
  const meanA = meanIp;
  const meanB = meanII;
  boxMeanClippedInto(a, w, h, r, meanA, scratch);
  boxMeanClippedInto(b, w, h, r, meanB, scratch);
  const q = meanI; // overwritten in place: q[i] depends on meanA, meanB and I only
  for (let i = 0; i < n; i++) q[i] = meanA[i]! * I[i]! + meanB[i]!;
  return plane64(w, h, q);
}
