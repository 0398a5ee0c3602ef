/**
 * Separable 2-D filtering in float64, 'valid' mode (no padding: the output holds only the positions whose
 * window lies wholly inside the image, so it shrinks by `n - 1` in each direction), as the metrics need it. The
 * filters that keep the image size and extend its border are in ./box.ts, ./gaussian.ts and the other files here.
 *
 * A 2-D window that is the outer product `k ⊗ k` of a 1-D kernel (Gaussian windows, box windows) is applied
 * as a horizontal pass then a vertical pass: O(2n) instead of O(n^2) operations per pixel. This is
 * correlation (the window is not flipped); every window used by the metrics is symmetric, so correlation
 * and convolution (scipy `convolve2d`) coincide. Every output is a float64 sum `acc + k[t] * x` over the taps in
 * order, so results differ from a direct 2-D sum only by rounding (~1e-16 relative).
 *
 * Speed: {@link filterValid} runs on WebAssembly SIMD kernels (./valid-wasm.ts: two float64 lanes, eight outputs
 * per loop) when the runtime has them, about 3-4x faster than the JavaScript loops, which remain as the fallback
 * and give bit-identical results. The JavaScript loops compute four neighbouring outputs at once with
 * independent accumulators, which keeps V8's scalar code out of a floating-point dependency chain.
 */

import type { Plane64 } from '../core/image.js';
import { filterValidWasm } from './valid-wasm.js';

// Reusable scratch buffers (module state is per thread, and no function here calls back into user code, so
// reuse is safe). Fresh large typed arrays cost page faults and zeroing; reuse saves ~20% of filtering time.
const scratchBuffers: Float64Array[] = [new Float64Array(0), new Float64Array(0)];

/** Scratch buffer `slot` of at least `n` samples (contents undefined), as an exact-length view. */
function scratch(slot: 0 | 1, n: number): Float64Array {
  let b = scratchBuffers[slot]!;
  if (b.length < n) {
    b = new Float64Array(Math.max(n, Math.ceil(b.length * 1.5)));
    scratchBuffers[slot] = b;
  }
  return b.subarray(0, n);
}

/**
 * 'valid' correlation of `src` with the separable window `k ⊗ k`, keeping every `step`-th output row and
 * column starting at 0 (step 2 = filter-then-decimate, `out[::2, ::2]`, computed at about a quarter of the cost).
 *
 * @param src image, at least `k.length` wide and high.
 * @param k 1-D kernel of length n (e.g. `gaussian1d` of ./gaussian.ts).
 * @param step output stride, 1 (default) or more.
 * @returns the plane of size `ceil((W-n+1)/step) x ceil((H-n+1)/step)`.
 * @throws RangeError when the image is smaller than the window.
 * @example const mu = filterValid({ width: w, height: h, data }, gaussian1d(11, 1.5));
 */
export function filterValid(src: Plane64, k: Float64Array, step = 1): Plane64 {
  const { width: w, height: h } = src;
  const n = k.length;
  const vw = w - n + 1, vh = h - n + 1;
  if (vw < 1 || vh < 1) throw new RangeError(`filterValid: ${w}x${h} image is smaller than the ${n}x${n} window`);
  const fast = filterValidWasm(src.data, w, h, k, step);
  if (fast) return fast;
  const ow = Math.ceil(vw / step), oh = Math.ceil(vh / step);
  const tmp = scratch(0, h * ow);
  if (step === 1) horizontal1(src.data, w, h, k, ow, tmp);
  else horizontalStep(src.data, w, h, k, step, ow, tmp);
  const out = new Float64Array(ow * oh);
  vertical(tmp, ow, oh, k, step, out);
  return { width: ow, height: oh, data: out };
}

/** Horizontal pass, stride 1: tmp(y, x) = sum_t k[t] d(y, x + t). Four outputs per step, sliding registers. */
function horizontal1(d: Float64Array, w: number, h: number, k: Float64Array, ow: number, tmp: Float64Array): void {
  const n = k.length;
  for (let y = 0; y < h; y++) {
    const r = y * w, o = y * ow;
    let x = 0;
    for (; x + 3 < ow; x += 4) {
      const p = r + x;
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let a0 = d[p]!, a1 = d[p + 1]!, a2 = d[p + 2]!;
      for (let t = 0; t < n; t++) {
        const kt = k[t]!;
        const a3 = d[p + t + 3]!;
        s0 += kt * a0;
        s1 += kt * a1;
        s2 += kt * a2;
        s3 += kt * a3;
        a0 = a1;
        a1 = a2;
        a2 = a3;
      }
      tmp[o + x] = s0;
      tmp[o + x + 1] = s1;
      tmp[o + x + 2] = s2;
      tmp[o + x + 3] = s3;
    }
    for (; x < ow; x++) {
      const p = r + x;
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t]! * d[p + t]!;
      tmp[o + x] = s;
    }
  }
}

/** Horizontal pass with output stride `step`: tmp(y, ox) = sum_t k[t] d(y, ox*step + t). Four outputs per step. */
function horizontalStep(d: Float64Array, w: number, h: number, k: Float64Array, step: number, ow: number, tmp: Float64Array): void {
  const n = k.length;
  const s1 = step, s2 = 2 * step, s3 = 3 * step;
  for (let y = 0; y < h; y++) {
    const r = y * w, o = y * ow;
    let ox = 0;
    for (; ox + 3 < ow; ox += 4) {
      const p = r + ox * step;
      let a0 = 0, a1 = 0, a2 = 0, a3 = 0;
      for (let t = 0; t < n; t++) {
        const kt = k[t]!, q = p + t;
        a0 += kt * d[q]!;
        a1 += kt * d[q + s1]!;
        a2 += kt * d[q + s2]!;
        a3 += kt * d[q + s3]!;
      }
      tmp[o + ox] = a0;
      tmp[o + ox + 1] = a1;
      tmp[o + ox + 2] = a2;
      tmp[o + ox + 3] = a3;
    }
    for (; ox < ow; ox++) {
      const p = r + ox * step;
      let s = 0;
      for (let t = 0; t < n; t++) s += k[t]! * d[p + t]!;
      tmp[o + ox] = s;
    }
  }
}

/** Vertical pass: out(oy, x) = sum_t k[t] tmp(oy*step + t, x), taps in order. Four columns per step. */
function vertical(tmp: Float64Array, ow: number, oh: number, k: Float64Array, step: number, out: Float64Array): void {
  const n = k.length;
  for (let oy = 0; oy < oh; oy++) {
    const o = oy * ow;
    const row0 = oy * step * ow;
    let x = 0;
    for (; x + 3 < ow; x += 4) {
      let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
      let b = row0 + x;
      for (let t = 0; t < n; t++) {
        const kt = k[t]!;
        s0 += kt * tmp[b]!;
        s1 += kt * tmp[b + 1]!;
        s2 += kt * tmp[b + 2]!;
        s3 += kt * tmp[b + 3]!;
        b += ow;
      }
      out[o + x] = s0;
      out[o + x + 1] = s1;
      out[o + x + 2] = s2;
      out[o + x + 3] = s3;
    }
    for (; x < ow; x++) {
      let s = 0;
      let b = row0 + x;
      for (let t = 0; t < n; t++) {
        s += k[t]! * tmp[b]!;
        b += ow;
      }
      out[o + x] = s;
    }
  }
}

/** Local weighted moments of an image, as returned by {@link filterMomentsValid}. */
export interface LocalMoments {
  /** `x (*) w` */
  readonly mean: Plane64;
  /** `x^2 (*) w` */
  readonly sq: Plane64;
  /** `x y (*) w` (only when `y` was given) */
  readonly cross?: Plane64;
}

/**
 * 'valid' filtering of `x`, `x^2` and (if `y` is given) `x * y` with the separable window `k ⊗ k`: the local
 * weighted means, second moments and cross moments that SSIM-like and VIF-like metrics need.
 * (A single fused sweep was measured slower than three sliding-register passes in V8.)
 */
export function filterMomentsValid(x: Plane64, y: Plane64 | null, k: Float64Array): LocalMoments {
  if (y && (y.width !== x.width || y.height !== x.height)) throw new RangeError('filterMomentsValid: x and y differ in size');
  const mean = filterValid(x, k);
  const p = scratch(1, x.data.length);
  const sq = filterValid(product(x, x, p), k);
  return y ? { mean, sq, cross: filterValid(product(x, y, p), k) } : { mean, sq };
}

/** Element-wise product of two planes of one size, into `out` (length >= the planes'). */
function product(x: Plane64, y: Plane64, out: Float64Array): Plane64 {
  const a = x.data, b = y.data;
  if (out.length !== a.length) out = out.subarray(0, a.length);
  for (let i = 0; i < out.length; i++) out[i] = a[i]! * b[i]!;
  return { width: x.width, height: x.height, data: out };
}

/**
 * 'valid' box sums: `out(y, x) = sum of src over rows y..y+n-1, columns x..x+n-1` (unnormalised), so the output
 * is `n - 1` smaller in each direction (the same-size sum over windows clipped at the border is `boxSumClipped`
 * in ./box.ts).
 *
 * With WebAssembly SIMD available every output is a direct n-term sum in order (the SIMD filter with a kernel of
 * ones). Otherwise, with `exact: true` (the caller guarantees that every partial sum is an integer below 2^53,
 * e.g. products of 0..255 values) the sums are running sums (O(1) per pixel, still exact), and without it direct
 * n-term sums. All three give identical results on integer data.
 */
export function boxSumValid(src: Plane64, n: number, exact = false): Plane64 {
  const { width: w, height: h, data } = src;
  const ow = w - n + 1, oh = h - n + 1;
  if (ow < 1 || oh < 1) throw new RangeError(`boxSumValid: ${w}x${h} image is smaller than the ${n}x${n} window`);
  const ones = new Float64Array(n).fill(1);
  // The SIMD filter with a kernel of ones adds the n samples in order: exact for integer data, no drift otherwise.
  const fast = filterValidWasm(data, w, h, ones, 1);
  if (fast) return fast;
  if (!exact) {
    const tmp = scratch(0, h * ow);
    horizontal1(data, w, h, ones, ow, tmp);
    const out = new Float64Array(ow * oh);
    vertical(tmp, ow, oh, ones, 1, out);
    return { width: ow, height: oh, data: out };
  }
  const tmp = scratch(0, h * ow);
  for (let y = 0; y < h; y++) {
    const r = y * w, o = y * ow;
    let s = 0;
    for (let t = 0; t < n; t++) s += data[r + t]!;
    tmp[o] = s;
    for (let x = 1; x < ow; x++) {
      s += data[r + x + n - 1]! - data[r + x - 1]!;
      tmp[o + x] = s;
    }
  }
  const out = new Float64Array(ow * oh);
  // First output row: sum of the first n tmp rows; then slide down one row at a time.
  for (let t = 0; t < n; t++) {
    const b = t * ow;
    for (let x = 0; x < ow; x++) out[x] += tmp[b + x]!;
  }
  for (let y = 1; y < oh; y++) {
    const o = y * ow, prev = o - ow, add = (y + n - 1) * ow, sub = (y - 1) * ow;
    for (let x = 0; x < ow; x++) out[o + x] = out[prev + x]! + tmp[add + x]! - tmp[sub + x]!;
  }
  return { width: ow, height: oh, data: out };
}
