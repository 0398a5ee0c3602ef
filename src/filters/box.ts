/**
 * Box (moving-average) filters on float64 planes that keep the image size, O(width x height) whatever the
 * radius: one running sum along rows, then one along columns. (The metrics' box sum with no border at all,
 * whose output shrinks to the windows wholly inside the image, is `boxSumValid` in ./valid.ts.)
 *
 * Two border conventions, because the guided-filtering fusion (GFF) reference code uses both:
 *
 * - {@link boxMeanClipped}: the mean over the part of the `(2r+1) x (2r+1)` window that lies inside the
 *   image (He et al.'s `boxfilter.m` sum divided by `N = boxfilter(ones)`), used by the guided filter.
 * - {@link boxMeanReplicate}: the mean over the full window of the image extended by replicating its
 *   edge (MATLAB `imfilter(I, fspecial('average', 2r+1), 'replicate')`), used for GFF's base layer.
 *
 * Precision: running sums in float64 (each window sum is updated by adding the sample that enters and
 * subtracting the one that leaves); against direct window sums the error is < 1e-12 for inputs in [0, 1]
 * (test/filters/box.test.ts), ~1e-13 relative at 640 x 480.
 */
import { plane64, type Plane, type Plane64 } from '../core/image.js';
import { replicateIndex } from './border.js';

/**
 * Sum over the window `[x-r, x+r] x [y-r, y+r]` clipped to the image.
 *
 * @param src plane of any values, width x height >= 1 x 1.
 * @param r window radius, integer >= 0 (window side 2r+1; may exceed the image).
 * @returns a new float64 plane of the same size.
 */
export function boxSumClipped(src: Plane<Float64Array | Float32Array>, r: number): Plane64 {
  const { width: w, height: h } = src;
  const out = new Float64Array(w * h);
  clippedBox(src.data, w, h, r, out, new Float64Array(w * h), false);
  return plane64(w, h, out);
}

/**
 * Clipped-window box sums (or means, when `mean`): a running sum along each row into `tmp`, then a running
 * sum of those down the columns kept in a one-row buffer, written out once (divided by the sample count
 * `N = nx * ny` for means).
 */
function clippedBox(
  data: Float64Array | Float32Array, w: number, h: number, r: number, out: Float64Array, tmp: Float64Array, mean: boolean,
): void {
  // Rows: s(x) = sum of src over [max(0,x-r), min(w-1,x+r)], updated as s(x+1) = s(x) + src[x+r+1] - src[x-r]
  // (each term only while inside the row); three branch-free stretches.
  const addEnd = Math.max(0, w - r - 1); // x < addEnd: src[x+r+1] exists
  const lead = Math.min(r, addEnd); // x < r: nothing leaves
  const first = Math.min(r, w - 1);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    for (let x = 0; x <= first; x++) s += data[o + x]!;
    let x = 0;
    for (; x < lead; x++) {
      tmp[o + x] = s;
      s += data[o + x + r + 1]!;
    }
    for (; x < addEnd; x++) {
      tmp[o + x] = s;
      s += data[o + x + r + 1]! - data[o + x - r]!;
    }
    for (; x < w; x++) {
      tmp[o + x] = s;
      if (x >= r) s -= data[o + x - r]!;
    }
  }
  // Columns: col(y) = col(y-1) + tmp(y+r) - tmp(y-r-1), each term only inside the image.
  const col = new Float64Array(w);
  const cx = windowCounts(w, r);
  const firstY = Math.min(r, h - 1);
  for (let y = 0; y <= firstY; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) col[x]! += tmp[o + x]!;
  }
  for (let y = 0; y < h; y++) {
    if (y > 0) {
      const add = y + r;
      const sub = y - r - 1;
      if (add < h && sub >= 0) {
        const oa = add * w;
        const os = sub * w;
        for (let x = 0; x < w; x++) col[x]! += tmp[oa + x]! - tmp[os + x]!;
      } else if (add < h) {
        const oa = add * w;
        for (let x = 0; x < w; x++) col[x]! += tmp[oa + x]!;
      } else if (sub >= 0) {
        const os = sub * w;
        for (let x = 0; x < w; x++) col[x]! -= tmp[os + x]!;
      }
    }
    const o = y * w;
    if (mean) {
      const ny = Math.min(y + r, h - 1) - Math.max(y - r, 0) + 1;
      for (let x = 0; x < w; x++) out[o + x] = col[x]! / (ny * cx[x]!);
    } else {
      out.set(col, o);
    }
  }
}

/**
 * Number of samples of the clipped window at each position along one axis of length `n`:
 * `min(i+r, n-1) - max(i-r, 0) + 1`.
 */
function windowCounts(n: number, r: number): Float64Array {
  const c = new Float64Array(n);
  for (let i = 0; i < n; i++) c[i] = Math.min(i + r, n - 1) - Math.max(i - r, 0) + 1;
  return c;
}

/**
 * Mean over the `(2r+1) x (2r+1)` window clipped to the image: `boxSumClipped(src, r) / N`, with N the
 * number of samples inside (He et al.'s guided-filter box filter).
 *
 * @param src plane, width x height >= 1 x 1.
 * @param r window radius, integer >= 0.
 * @returns a new float64 plane. A constant plane maps to itself exactly.
 */
export function boxMeanClipped(src: Plane<Float64Array | Float32Array>, r: number): Plane64 {
  const { width: w, height: h } = src;
  const out = new Float64Array(w * h);
  boxMeanClippedInto(src.data, w, h, r, out, new Float64Array(w * h));
  return plane64(w, h, out);
}

/**
 * {@link boxMeanClipped} into caller-owned buffers (no allocation): `out` and `scratch` hold `w * h` samples
 * and must not alias `data`.
 */
export function boxMeanClippedInto(
  data: Float64Array | Float32Array, w: number, h: number, r: number, out: Float64Array, scratch: Float64Array,
): void {
  clippedBox(data, w, h, r, out, scratch, true);
}

/**
 * Mean over the full `(2r+1) x (2r+1)` window of the image extended by edge replication
 * (MATLAB `imfilter(I, fspecial('average', 2r+1), 'replicate')`; OpenCV `blur` with `BORDER_REPLICATE`).
 *
 * @param src plane, width x height >= 1 x 1.
 * @param r window radius, integer >= 0 (may exceed the image: the edge keeps being replicated).
 * @returns a new float64 plane.
 */
export function boxMeanReplicate(src: Plane<Float64Array | Float32Array>, r: number): Plane64 {
  const { width: w, height: h, data } = src;
  const tmp = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    let s = 0;
    for (let t = -r; t <= r; t++) s += data[o + replicateIndex(t, w)]!;
    for (let x = 0; x < w; x++) {
      tmp[o + x] = s;
      s += data[o + replicateIndex(x + r + 1, w)]! - data[o + replicateIndex(x - r, w)]!;
    }
  }
  const out = new Float64Array(w * h);
  const col = new Float64Array(w);
  for (let t = -r; t <= r; t++) {
    const o = replicateIndex(t, h) * w;
    for (let x = 0; x < w; x++) col[x]! += tmp[o + x]!;
  }
  const norm = 1 / ((2 * r + 1) * (2 * r + 1));
  for (let y = 0; y < h; y++) {
    const o = y * w;
    for (let x = 0; x < w; x++) out[o + x] = col[x]! * norm;
    const oa = replicateIndex(y + r + 1, h) * w;
    const os = replicateIndex(y - r, h) * w;
    for (let x = 0; x < w; x++) col[x]! += tmp[oa + x]! - tmp[os + x]!;
  }
  return plane64(w, h, out);
}
