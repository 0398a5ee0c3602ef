/**
 * Ssim — structural similarity, vifb convention: `SSIM(VI, F) + SSIM(IR, F)` per channel (a sum, range up to 2),
 * mean over channels. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-ssim): `SSIM(a, b)` with the 11x11 Gaussian window of sigma 1.5 normalised to sum 1
 * (MATLAB `fspecial('gaussian', 11, 1.5)`; no entry falls below eps * max, so none is zeroed); local statistics by
 * 'valid' correlation (output (H-10) x (W-10), no padding): `mu_a`, `mu_b`, `s_a = E_w[a^2] - mu_a^2`,
 * `s_b = E_w[b^2] - mu_b^2`, `s_ab = E_w[ab] - mu_a mu_b` (population weighting); `C1 = (0.01 * 255)^2`,
 * `C2 = (0.03 * 255)^2`; `map = (2 mu_a mu_b + C1)(2 s_ab + C2) / ((mu_a^2 + mu_b^2 + C1)(s_a + s_b + C2))`;
 * SSIM = mean(map). Symmetric in the two sources and in (a, b); SSIM(x, x) = 1; at most 1.
 * Images smaller than 11x11 have an empty map: NaN (MATLAB's mean of an empty array).
 *
 * Paper: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error visibility to
 * structural similarity", IEEE Trans. Image Process. 13(4), 600-612, 2004.
 *
 * Reference implementation reproduced: `metrics/metricsSsim.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper; Cool_ben's `ssim`).
 *
 * Computation: with WebAssembly SIMD (the default) the moments and maps are computed in ./ssim-wasm.ts, every
 * plane once, with the float64 operations of the JavaScript path below (the same values); only the means stay here.
 *
 * Tolerance: the window is applied separably (11 + 11 taps instead of 121, ../../filters/valid.ts), which changes
 * only the rounding;
 * golden values to 1e-9 relative (observed max 5e-15 on the 12 golden cases).
 * Quirk reproduced: the two SSIMs are added, not averaged.
 */
import { gaussian1d } from '../../filters/gaussian.js';
import { filterValid } from '../../filters/valid.js';
import type { Plane64, VifbMetric } from '../types.js';
import { channelTriples, distinctPlanes, perPlane } from './channels.js';
import { ssimWasm } from './ssim-wasm.js';

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;
const WIN = gaussian1d(11, 1.5);

// Scratch for the element-wise products filtered below (reused: nothing here calls back into user code).
let prod = new Float64Array(0);

/**
 * 'valid' correlation of `src` (w x h) with the separable 11x11 window; returns (w-10) x (h-10). `src2`, when
 * given, is multiplied in first (the window is applied to `src .* src2`). Runs on ../../filters/valid.ts
 * `filterValid` (WebAssembly SIMD when available, bit-identical JavaScript loops otherwise): taps in order,
 * horizontal then vertical pass.
 */
export function filterValid11(src: Float64Array, w: number, h: number, src2?: Float64Array): Float64Array {
  let data = src;
  if (src2) {
    if (prod.length < w * h) prod = new Float64Array(w * h);
    data = prod.subarray(0, w * h);
    for (let i = 0; i < data.length; i++) data[i] = src[i]! * src2[i]!;
  }
  return filterValid({ width: w, height: h, data }, WIN).data;
}

interface Moments {
  /** local mean */
  readonly mu: Float64Array;
  /** local mean of squares */
  readonly sq: Float64Array;
}

function moments(p: Plane64): Moments {
  const { width: w, height: h, data } = p;
  return { mu: filterValid11(data, w, h), sq: filterValid11(data, w, h, data) };
}

/** Mean of the map in the order of {@link ssimFromMoments}: blocks of 1024, then their sums. */
function blockMean(map: Float64Array): number {
  let s = 0;
  for (let i0 = 0; i0 < map.length; i0 += 1024) {
    let bs = 0;
    const i1 = Math.min(i0 + 1024, map.length);
    for (let i = i0; i < i1; i++) bs += map[i]!;
    s += bs;
  }
  return s / map.length;
}

/**
 * Ssim on the WebAssembly SIMD kernels (./ssim-wasm.ts): every distinct plane's moments once, then per channel the
 * two maps, averaged here as {@link ssimFromMoments} does. Null without the kernels or their memory.
 */
function ssimSimd(triples: ReturnType<typeof channelTriples>): number | null {
  const { width: w, height: h } = triples[0]!.fused;
  const planes = distinctPlanes(triples);
  const k = ssimWasm(w, h, planes.length, WIN);
  if (!k) return null;
  planes.forEach((p, i) => k.moments(i, p.data));
  const slot = (p: Plane64): number => planes.indexOf(p);
  let s = 0;
  for (const { vis, ir, fused } of triples) s += blockMean(k.map(slot(vis), slot(fused))) + blockMean(k.map(slot(ir), slot(fused)));
  return s / triples.length;
}

function ssimFromMoments(a: Plane64, b: Plane64, ma: Moments, mb: Moments): number {
  const { width: w, height: h } = a;
  const n = (w - 10) * (h - 10);
  const ab = filterValid11(a.data, w, h, b.data);
  const ua = ma.mu, ub = mb.mu, sa = ma.sq, sb = mb.sq;
  let s = 0;
  // partial sums over blocks of 1024 pixels limit the rounding error of the mean
  for (let i0 = 0; i0 < n; i0 += 1024) {
    let bs = 0;
    const i1 = Math.min(i0 + 1024, n);
    for (let i = i0; i < i1; i++) {
      const x = ua[i]!, y = ub[i]!;
      const xx = x * x, yy = y * y, xy = x * y;
      bs += ((2 * xy + C1) * (2 * (ab[i]! - xy) + C2)) / ((xx + yy + C1) * (sa[i]! - xx + (sb[i]! - yy) + C2));
    }
    s += bs;
  }
  return s / n;
}

/** SSIM(a, b) of two same-size planes as VIFB's `ssim` computes it. NaN when smaller than 11x11. */
export function ssimPair(a: Plane64, b: Plane64): number {
  if (a.width < 11 || a.height < 11) return NaN;
  return ssimFromMoments(a, b, moments(a), moments(b));
}

/** Ssim of one channel: `SSIM(a, f) + SSIM(b, f)` for sources `a` (visible), `b` (infrared), fused `f`. */
export function ssimChannel(a: Plane64, b: Plane64, f: Plane64): number {
  if (f.width < 11 || f.height < 11) return NaN;
  const mf = moments(f);
  return ssimFromMoments(a, f, moments(a), mf) + ssimFromMoments(b, f, moments(b), mf);
}

export const Ssim: VifbMetric = {
  name: 'Ssim',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'SSIM(VI,F) + SSIM(IR,F) (11x11 Gaussian window, valid), mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const triples = channelTriples('Ssim', inputs);
    const { width: w, height: h } = triples[0]!.fused;
    if (w < 11 || h < 11) return NaN;
    const fast = ssimSimd(triples);
    if (fast !== null) return fast;
    const m = perPlane(moments);
    let s = 0;
    for (const { vis, ir, fused } of triples) s += ssimFromMoments(vis, fused, m(vis), m(fused)) + ssimFromMoments(ir, fused, m(ir), m(fused));
    return s / triples.length;
  },
};
