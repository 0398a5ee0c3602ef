/**
 * 3x3 Sobel differences with a chosen border, shared by Qabf (conv2 'same', zero padding), Qcv (filter2
 * 'same', zero padding) and Edge_intensity (imfilter, replicate border).
 *
 * Returned in one orientation convention, with `w = [1, 2, 1]`:
 * - `dx(i, j) = sum_a w_a (X(i+a, j+1) - X(i+a, j-1))` (right minus left),
 * - `dy(i, j) = sum_b w_b (X(i+1, j+b) - X(i-1, j+b))` (below minus above),
 * where out-of-image samples are 0 (`'zero'`) or the nearest edge sample (`'replicate'`). Each caller maps
 * these to its reference's kernels and signs (documented there). For integer inputs every value is an exact
 * integer, so the summation order does not matter.
 *
 * Stencil at padded index c (row stride wp = w + 2), as used by every caller:
 * `dx = ne + 2e + se - (nw + 2w + sw)`, `dy = sw + 2s + se - (nw + 2n + ne)`.
 */
import type { Plane64 } from '../types.js';

export type Border = 'zero' | 'replicate';

// The buffer pad1(..., true) reuses (single-threaded; its callers read it before padding another plane).
let scratch = new Float64Array(0);

/**
 * Copy of `x` with a 1-pixel border, (w+2) x (h+2), row-major. The metrics run the stencil of {@link sobel} on
 * it themselves, fused with what they compute from `dx`, `dy` (one pass, no full-size `dx` / `dy` arrays).
 * With `reuse`, the copy is written into a buffer kept for the next such call (valid until then): no 2.5 MB
 * allocation per 640x480 plane.
 */
export function pad1(x: Plane64, border: Border, reuse = false): Float64Array {
  const { width: w, height: h, data } = x;
  const wp = w + 2, len = wp * (h + 2);
  let p: Float64Array;
  if (reuse) {
    if (scratch.length < len) scratch = new Float64Array(len);
    p = scratch.subarray(0, len);
    // the zero frame (rewritten below for 'replicate')
    p.fill(0, 0, wp);
    p.fill(0, (h + 1) * wp, len);
    for (let y = 1; y <= h; y++) p[y * wp] = p[y * wp + w + 1] = 0;
  } else p = new Float64Array(len);
  for (let y = 0; y < h; y++) {
    const o = (y + 1) * wp + 1;
    p.set(data.subarray(y * w, y * w + w), o);
    if (border === 'replicate') {
      p[o - 1] = data[y * w]!;
      p[o + w] = data[y * w + w - 1]!;
    }
  }
  if (border === 'replicate') {
    p.copyWithin(0, wp, 2 * wp);
    p.copyWithin((h + 1) * wp, h * wp, (h + 1) * wp);
  }
  return p;
}

/** Sobel differences `dx`, `dy` of `x` (see the module comment). */
export function sobel(x: Plane64, border: Border): { dx: Float64Array; dy: Float64Array } {
  const { width: w, height: h } = x;
  const p = pad1(x, border);
  const wp = w + 2;
  const dx = new Float64Array(w * h), dy = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    let c = (y + 1) * wp + 1;
    const o = y * w;
    for (let j = 0; j < w; j++, c++) {
      const nw = p[c - wp - 1]!, n = p[c - wp]!, ne = p[c - wp + 1]!;
      const ww = p[c - 1]!, e = p[c + 1]!;
      const sw = p[c + wp - 1]!, s = p[c + wp]!, se = p[c + wp + 1]!;
      dx[o + j] = ne + 2 * e + se - (nw + 2 * ww + sw);
      dy[o + j] = sw + 2 * s + se - (nw + 2 * n + ne);
    }
  }
  return { dx, dy };
}
