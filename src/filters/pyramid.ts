/**
 * Gaussian and Laplacian pyramids (P. J. Burt, E. H. Adelson, "The Laplacian Pyramid as a Compact Image
 * Code", IEEE Trans. Communications 31(4), 1983) with the 5-tap generating kernel
 * `w = [1, 4, 6, 4, 1] / 16` (Burt's a = 0.375), separable.
 *
 * The two steps match OpenCV's `cv2.pyrDown` / `cv2.pyrUp` (border `BORDER_REFLECT_101`), so any size,
 * odd ones included, works and the test suite compares against OpenCV directly:
 *
 * - REDUCE ({@link pyrDown}): blur the `n`-sample signal with `w` (reflect-101 border in the source), keep
 *   the even samples: `ceil(n / 2)` samples out.
 * - EXPAND ({@link pyrUp}): insert a zero after every sample (length `2n`), blur with `2w` (reflect-101
 *   border in that `2n` domain), keep the first `m` samples, `m` in `{2n - 1, 2n}` — the exact size of the
 *   finer level.
 *
 * A Laplacian pyramid with L levels holds `L_k = G_k - EXPAND(G_{k+1})` for k = 0..L-1 and the base
 * `G_L`; collapsing it (`G_k = L_k + EXPAND(G_{k+1})`) returns the image up to float64 rounding.
 */
import { plane64, type Plane, type Plane64 } from '../core/image.js';
import { reflect101Index } from './border.js';

const W = [1 / 16, 4 / 16, 6 / 16, 4 / 16, 1 / 16] as const;

/** Size of the next coarser level along one axis: `ceil(n / 2)` (OpenCV's default `pyrDown` size). */
export function reducedSize(n: number): number {
  return (n + 1) >> 1;
}

/** REDUCE along one axis of a strided line: out[i] = sum_t w[t] src[reflect101(2i + t - 2)]. */
function downLine(src: Float64Array | Float32Array, off: number, stride: number, n: number, out: Float64Array, oOff: number, oStride: number): void {
  const m = reducedSize(n);
  for (let i = 0; i < m; i++) {
    const c = 2 * i;
    let s = 0;
    for (let t = 0; t < 5; t++) s += W[t]! * src[off + reflect101Index(c + t - 2, n) * stride]!;
    out[oOff + i * oStride] = s;
  }
}

/**
 * EXPAND along one axis: u = src with zeros inserted (length 2n), out[k] = 2 sum_t w[t] u[reflect101(k + t - 2, 2n)]
 * for k < m. Reflect-101 in an even-length domain keeps parity, so only the even taps of u contribute.
 */
function upLine(src: Float64Array, off: number, stride: number, n: number, m: number, out: Float64Array, oOff: number, oStride: number): void {
  const L = 2 * n;
  for (let k = 0; k < m; k++) {
    let s = 0;
    for (let t = 0; t < 5; t++) {
      const j = reflect101Index(k + t - 2, L);
      if ((j & 1) === 0) s += W[t]! * src[off + (j >> 1) * stride]!;
    }
    out[oOff + k * oStride] = 2 * s;
  }
}

/**
 * REDUCE: Gaussian blur with [1,4,6,4,1]/16 in both directions and 2x decimation (`cv2.pyrDown`).
 *
 * @param src plane, width x height >= 1 x 1.
 * @returns float64 plane of `ceil(width/2) x ceil(height/2)`.
 */
export function pyrDown(src: Plane<Float64Array | Float32Array>): Plane64 {
  const { width: w, height: h, data } = src;
  const w2 = reducedSize(w);
  const h2 = reducedSize(h);
  const tmp = new Float64Array(w2 * h);
  for (let y = 0; y < h; y++) downLine(data, y * w, 1, w, tmp, y * w2, 1);
  const out = new Float64Array(w2 * h2);
  for (let x = 0; x < w2; x++) downLine(tmp, x, w2, h, out, x, w2);
  return plane64(w2, h2, out);
}

/**
 * EXPAND to an exact size (`cv2.pyrUp(src, dstsize=(width, height))`).
 *
 * @param src plane, width x height >= 1 x 1.
 * @param width target width, `2 * src.width - 1` or `2 * src.width`.
 * @param height target height, `2 * src.height - 1` or `2 * src.height`.
 * @returns float64 plane of `width x height`.
 * @throws RangeError when the target size is not one of those.
 */
export function pyrUp(src: Plane64, width: number, height: number): Plane64 {
  const { width: w, height: h, data } = src;
  if (width !== 2 * w && width !== 2 * w - 1) throw new RangeError(`pyrUp: width ${width} cannot be expanded from ${w}`);
  if (height !== 2 * h && height !== 2 * h - 1) throw new RangeError(`pyrUp: height ${height} cannot be expanded from ${h}`);
  const tmp = new Float64Array(width * h);
  for (let y = 0; y < h; y++) upLine(data, y * w, 1, w, width, tmp, y * width, 1);
  const out = new Float64Array(width * height);
  for (let x = 0; x < width; x++) upLine(tmp, x, width, h, height, out, x, width);
  return plane64(width, height, out);
}

/** A Laplacian pyramid: `details[k]` is level k (finest first, k = 0..L-1), `base` is `G_L`. */
export interface LaplacianPyramid {
  readonly details: Plane64[];
  readonly base: Plane64;
}

/**
 * Most levels useful for a `width x height` image: `floor(log2(min(width, height)))`, i.e. every REDUCE
 * starts from a level whose smaller side is at least 2.
 */
export function maxPyramidLevels(width: number, height: number): number {
  return Math.floor(Math.log2(Math.min(width, height)));
}

/**
 * Build a Laplacian pyramid with `levels` detail levels.
 *
 * @param src plane, width x height >= 1 x 1.
 * @param levels number of detail levels, integer >= 0 (not clamped here).
 */
export function laplacianPyramid(src: Plane<Float64Array | Float32Array>, levels: number): LaplacianPyramid {
  let g: Plane64 = plane64(src.width, src.height, Float64Array.from(src.data));
  const details: Plane64[] = [];
  for (let k = 0; k < levels; k++) {
    const next = pyrDown(g);
    const up = pyrUp(next, g.width, g.height);
    const d = g.data;
    const u = up.data;
    for (let i = 0; i < d.length; i++) u[i] = d[i]! - u[i]!;
    details.push(up);
    g = next;
  }
  return { details, base: g };
}

/** Collapse a Laplacian pyramid: `G_k = L_k + EXPAND(G_{k+1})` from the base down to level 0. */
export function collapseLaplacianPyramid(pyr: LaplacianPyramid): Plane64 {
  let g = pyr.base;
  for (let k = pyr.details.length - 1; k >= 0; k--) {
    const lk = pyr.details[k]!;
    const up = pyrUp(g, lk.width, lk.height);
    const u = up.data;
    const l = lk.data;
    for (let i = 0; i < u.length; i++) u[i]! += l[i]!;
    g = up;
  }
  return g;
}
