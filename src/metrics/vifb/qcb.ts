/**
 * Qcb — Chen-Blum perceptual fusion metric, vifb convention: how well the fused image preserves the local,
 * contrast-sensitivity-filtered contrast of the more salient source. Higher is better, 0..1.
 *
 * Definition (docs/METRICS.md#vifb-qcb), per channel k with A = VI_k, B = IR_k, F = F_k; result = mean over channels:
 * 1. `normalize1` each of A, B, F (./csf.ts): `round_half_away(255 (x - min) / (max - min))`; an all-zero image
 *    is left unchanged; a constant non-zero image becomes NaN (0/0).
 * 2. CSF filtering in the frequency domain: `X~ = real(ifft2(ifftshift(fftshift(fft2(X)) .* S)))` with
 *    `S(r) = exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2)` on MATLAB's `freqspace` grid scaled by W/30, H/30.
 * 3. Local contrast with the unnormalised 31x31 Gaussians `G_s = exp(-(x^2+y^2)/(2 s^2)) / (2 pi s^2)`, s = 2, 4:
 *    `C = |(X~ (*) G_2) / (X~ (*) G_4) - 1|`, (*) = `filter2(..., 'same')` (correlation, zero padding).
 * 4. Masking `C' = C^3 / (C^2 + 0.0001)`.
 * 5. `Q_XF = C'_X / C'_F` if `C'_X < C'_F`, else `C'_F / C'_X`; saliency `lambda_A = C'_A^2 / (C'_A^2 + C'_B^2)`,
 *    `lambda_B = C'_B^2 / (C'_A^2 + C'_B^2)`; `Qcb_k = mean(lambda_A Q_AF + lambda_B Q_BF)`.
 * Symmetric in A and B; Qcb(A, B, F) = 1 when F = A = B (non-constant); invariant to increasing affine changes of
 * any image (normalize1 removes them).
 *
 * Paper: Y. Chen, R. S. Blum, "A new automated quality assessment algorithm for image fusion", Image and Vision
 * Computing 27(10), 1421-1432, 2009.
 *
 * Reference implementation reproduced: `metrics/metricsQcb.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper; Z. Liu's `metricChenBlum.m`).
 *
 * Computation: steps 2-3 are done together in the frequency domain. For images of at least 64x64 pixels the two
 * Gaussian filterings are applied to the CSF spectrum as well (`S . G^_2`, `S . G^_4`, one inverse FFT giving both
 * as real and imaginary part), which yields the zero-padded result exactly for every pixel at least 15 pixels from
 * the border (no wrap-around there); the 15-pixel border band is then recomputed directly from `X~` with the
 * zero-padded separable sums. Smaller images use direct separable filtering throughout ({@link maskedContrast}).
 * With WebAssembly SIMD (the default) the Gaussian sums and the mask are done there instead (./qcb-wasm.ts, the
 * float64 operations of {@link maskedContrast}), on `X~` obtained from the forward transforms of ./spectra.ts, which
 * Qcv then reuses; the transforms themselves run on ./fft-wasm.ts.
 *
 * Tolerance: the FFT (./fft.ts) and the Gaussian sums differ from MATLAB's only by rounding (~1e-15 relative of
 * the image scale); golden values to 1e-9 relative (observed max 2e-15 on the 12 golden cases).
 * Quirks reproduced: the Q map is computed as MATLAB's mask arithmetic `(a/f) m + (f/a) (1 - m)`, so a pixel where
 * C'_X or C'_F is exactly 0 gives `Inf * 0 = NaN` and the result is NaN, as in the reference (never seen on real
 * images; an all-zero or constant image gets there). The Gaussians are truncated at 15 pixels and not normalised.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelTriples, distinctPlanes } from './channels.js';
import { chenBlumCsf, filterImages, gridRadius, normalize1, normalize1Into, qcbFilter } from './csf.js';
import { fft2d, filterSpectrum } from './fft.js';
import { normalisedSpectra } from './spectra.js';
import { maskedContrastWasm, qcbWasmAvailable } from './qcb-wasm.js';

/** Gaussian half-width (31x31 windows). */
const R = 15;
/** Images smaller than this (either side) take the direct path. */
const FFT_MIN_SIZE = 64;

function gaussianHalf(sigma: number, scale: number): Float64Array {
  const g = new Float64Array(R + 1);
  for (let k = 0; k <= R; k++) g[k] = Math.exp(-(k * k) / (2 * sigma * sigma)) * scale;
  return g;
}

// G_s(x, y) = g_s(x) g_s(y) / (2 pi s^2): horizontal passes use g_s, vertical ones g_s / (2 pi s^2).
const G2H = gaussianHalf(2, 1), G4H = gaussianHalf(4, 1);
const G2V = gaussianHalf(2, 1 / (2 * Math.PI * 4)), G4V = gaussianHalf(4, 1 / (2 * Math.PI * 16));

/** Vertical 'same' pass with zero padding of a symmetric kernel of half-width R (half taps `g`). */
function verticalSame(src: Float64Array, w: number, h: number, g: Float64Array, out: Float64Array): void {
  const g0 = g[0]!;
  for (let i = 0; i < h; i++) {
    const o = i * w;
    for (let j = 0; j < w; j++) out[o + j] = g0 * src[o + j]!;
    for (let k = 1; k <= R; k++) {
      const gk = g[k]!;
      const up = i - k >= 0 ? (i - k) * w : -1, dn = i + k < h ? (i + k) * w : -1;
      if (up >= 0 && dn >= 0) for (let j = 0; j < w; j++) out[o + j] += gk * (src[up + j]! + src[dn + j]!);
      else if (up >= 0) for (let j = 0; j < w; j++) out[o + j] += gk * src[up + j]!;
      else if (dn >= 0) for (let j = 0; j < w; j++) out[o + j] += gk * src[dn + j]!;
    }
  }
}

/** In place: `y2[i] <- C'` with `C = |y2/y4 - 1|`, `C' = C^3 / (C^2 + 0.0001)` (steps 3-4). */
function mask(y2: Float64Array, y4: Float64Array): Float64Array {
  for (let i = 0; i < y2.length; i++) {
    const c = Math.abs(y2[i]! / y4[i]! - 1);
    const c2 = c * c;
    y2[i] = (c2 * c) / (c2 + 0.0001);
  }
  return y2;
}

/**
 * Masked local contrast `C'` (steps 3-4) of a CSF-filtered image `xt` (H x W) by direct separable filtering:
 * one horizontal pass computing both kernels, two vertical passes. The reference path; used below 64x64.
 */
export function maskedContrast(xt: Float64Array, w: number, h: number): Float64Array {
  const n = w * h;
  const t2 = new Float64Array(n), t4 = new Float64Array(n);
  const row = new Float64Array(w + 2 * R);
  for (let i = 0; i < h; i++) {
    row.set(xt.subarray(i * w, i * w + w), R);
    const o = i * w;
    for (let j = 0; j < w; j++) {
      const c = j + R;
      let s2 = G2H[0]! * row[c]!, s4 = G4H[0]! * row[c]!;
      for (let k = 1; k <= R; k++) {
        const p = row[c - k]! + row[c + k]!;
        s2 += G2H[k]! * p;
        s4 += G4H[k]! * p;
      }
      t2[o + j] = s2;
      t4[o + j] = s4;
    }
  }
  const y2 = new Float64Array(n), y4 = new Float64Array(n);
  verticalSame(t2, w, h, G2V, y2);
  verticalSame(t4, w, h, G4V, y4);
  return mask(y2, y4);
}

let hz2 = new Float64Array(0);
let hz4 = new Float64Array(0);

/** Horizontal zero-padded sums of row i of `xt` for columns j0..j1-1, both kernels, into hz2 / hz4. */
function horizontalRange(xt: Float64Array, w: number, i: number, j0: number, j1: number): void {
  const r = i * w;
  for (let j = j0; j < j1; j++) {
    const o = r + j;
    let s2 = G2H[0]! * xt[o]!, s4 = G4H[0]! * xt[o]!;
    if (j >= R && j < w - R) {
      for (let k = 1; k <= R; k++) {
        const p = xt[o - k]! + xt[o + k]!;
        s2 += G2H[k]! * p;
        s4 += G4H[k]! * p;
      }
    } else {
      for (let k = 1; k <= R; k++) {
        const p = (j - k >= 0 ? xt[o - k]! : 0) + (j + k < w ? xt[o + k]! : 0);
        s2 += G2H[k]! * p;
        s4 += G4H[k]! * p;
      }
    }
    hz2[o] = s2;
    hz4[o] = s4;
  }
}

/** Vertical zero-padded sums for all of row i (a top or bottom band row), vectorised along the row. */
function verticalRow(w: number, h: number, i: number, y2: Float64Array, y4: Float64Array): void {
  const r = i * w;
  const a0 = G2V[0]!, b0 = G4V[0]!;
  for (let j = 0; j < w; j++) {
    y2[r + j] = a0 * hz2[r + j]!;
    y4[r + j] = b0 * hz4[r + j]!;
  }
  for (let k = 1; k <= R; k++) {
    const a = G2V[k]!, b = G4V[k]!;
    const up = i - k >= 0 ? r - k * w : -1, dn = i + k < h ? r + k * w : -1;
    if (up >= 0) {
      for (let j = 0; j < w; j++) {
        y2[r + j]! += a * hz2[up + j]!;
        y4[r + j]! += b * hz4[up + j]!;
      }
    }
    if (dn >= 0) {
      for (let j = 0; j < w; j++) {
        y2[r + j]! += a * hz2[dn + j]!;
        y4[r + j]! += b * hz4[dn + j]!;
      }
    }
  }
}

/** Vertical sums at (i, j), j0 <= j < j1, for a row i with R <= i < h - R (no row falls outside). */
function verticalInner(w: number, i: number, j0: number, j1: number, y2: Float64Array, y4: Float64Array): void {
  const r = i * w;
  for (let j = j0; j < j1; j++) {
    const o = r + j;
    let s2 = G2V[0]! * hz2[o]!, s4 = G4V[0]! * hz4[o]!;
    for (let k = 1; k <= R; k++) {
      const a = o - k * w, b = o + k * w;
      s2 += G2V[k]! * (hz2[a]! + hz2[b]!);
      s4 += G4V[k]! * (hz4[a]! + hz4[b]!);
    }
    y2[o] = s2;
    y4[o] = s4;
  }
}

/**
 * Recomputes the zero-padded Gaussian filterings `y2`, `y4` of `xt` directly on the border band (pixels less than
 * R from an edge), where the circular (FFT) results wrap around. Needs w, h >= 4R.
 */
function fixBorderBand(xt: Float64Array, w: number, h: number, y2: Float64Array, y4: Float64Array): void {
  if (hz2.length < w * h) {
    hz2 = new Float64Array(w * h);
    hz4 = new Float64Array(w * h);
  }
  // Horizontal sums where the band's vertical sums read them: every column of the first and last 2R rows,
  // the first and last R columns of the other rows.
  for (let i = 0; i < h; i++) {
    if (i < 2 * R || i >= h - 2 * R) horizontalRange(xt, w, i, 0, w);
    else {
      horizontalRange(xt, w, i, 0, R);
      horizontalRange(xt, w, i, w - R, w);
    }
  }
  for (let i = 0; i < h; i++) {
    if (i < R || i >= h - R) verticalRow(w, h, i, y2, y4);
    else {
      verticalInner(w, i, 0, R, y2, y4);
      verticalInner(w, i, w - R, w, y2, y4);
    }
  }
}

interface Spectra {
  /** CSF S / (W H), unshifted DFT layout, row-major [v][u] */
  readonly s: Float64Array;
  /** S G^_2 / (W H) and S G^_4 / (W H): the Gaussians' DFTs (real: the windows are even) times the CSF */
  readonly g2: Float64Array;
  readonly g4: Float64Array;
}

const spectraCache = new Map<string, Spectra>();

/** DFT of the even 1-D kernel g (half taps) at length n: `g0 + 2 sum_k g_k cos(2 pi f k / n)`. */
function evenKernelDft(g: Float64Array, n: number): Float64Array {
  const out = new Float64Array(n);
  for (let f = 0; f < n; f++) {
    let s = g[0]!;
    for (let k = 1; k <= R; k++) s += 2 * g[k]! * Math.cos((2 * Math.PI * ((f * k) % n)) / n);
    out[f] = s;
  }
  return out;
}

function spectra(w: number, h: number): Spectra {
  const key = `${w}x${h}`;
  let sp = spectraCache.get(key);
  if (sp) return sp;
  const n = w * h, scale = 1 / n;
  const s = new Float64Array(n), g2 = new Float64Array(n), g4 = new Float64Array(n);
  const g2u = evenKernelDft(G2H, w), g2v = evenKernelDft(G2V, h), g4u = evenKernelDft(G4H, w), g4v = evenKernelDft(G4V, h);
  const hw = Math.floor(w / 2), hh = Math.floor(h / 2);
  for (let v = 0; v < h; v++) {
    const cv = ((v + hh) % h) - hh;
    for (let u = 0; u < w; u++) {
      const cu = ((u + hw) % w) - hw;
      const sv = chenBlumCsf(gridRadius(cu, cv, w, h, 30)) * scale;
      const o = v * w + u;
      s[o] = sv;
      g2[o] = sv * g2u[u]! * g2v[v]!;
      g4[o] = sv * g4u[u]! * g4v[v]!;
    }
  }
  sp = { s, g2, g4 };
  if (spectraCache.size >= 8) spectraCache.delete(spectraCache.keys().next().value!);
  spectraCache.set(key, sp);
  return sp;
}

/**
 * `P = F_X . (g2 + i g4)` where F_X is one of the two real images packed in `Z = F_X + i F_Y`:
 * `F_X[k] = (Z[k] + conj(Z[-k])) / 2`, `F_Y[k] = (Z[k] - conj(Z[-k])) / (2i)`.
 */
function splitTimes(zr: Float64Array, zi: Float64Array, w: number, h: number, second: boolean, sp: Spectra, pr: Float64Array, pi: Float64Array): void {
  const { g2, g4 } = sp;
  for (let v = 0; v < h; v++) {
    const row = v * w, nrow = ((h - v) % h) * w;
    for (let u = 0; u < w; u++) {
      const k = row + u, nk = nrow + ((w - u) % w);
      let fr: number, fi: number;
      if (!second) {
        fr = (zr[k]! + zr[nk]!) * 0.5;
        fi = (zi[k]! - zi[nk]!) * 0.5;
      } else {
        fr = (zi[k]! + zi[nk]!) * 0.5;
        fi = (zr[nk]! - zr[k]!) * 0.5;
      }
      const a = g2[k]!, b = g4[k]!;
      pr[k] = fr * a - fi * b;
      pi[k] = fr * b + fi * a;
    }
  }
}

// Scratch for contrastsFft, reused across calls (grown on demand): the packed spectrum and the pair's X~.
let zr = new Float64Array(0), zi = new Float64Array(0), xr = new Float64Array(0), xi = new Float64Array(0), y4 = new Float64Array(0);

function scratch(n: number): void {
  if (zr.length === n) return;
  zr = new Float64Array(n);
  zi = new Float64Array(n);
  xr = new Float64Array(n);
  xi = new Float64Array(n);
  y4 = new Float64Array(n);
}

/**
 * Masked contrasts (steps 1-4) of planes of size w x h (w, h >= 4R), two planes per transform: each is
 * normalised straight into the real or imaginary half of the transform buffer.
 */
function contrastsFft(planes: readonly Plane64[], w: number, h: number): Float64Array[] {
  const n = w * h;
  const sp = spectra(w, h);
  scratch(n);
  const out: Float64Array[] = new Array(planes.length);
  let first = -1;
  const run = (a: number, b: number): void => {
    fft2d(zr, zi, w, h);
    // X~ of both images (needed on the border band only)
    const s = sp.s;
    for (let k = 0; k < n; k++) {
      xr[k] = zr[k]! * s[k]!;
      xi[k] = zi[k]! * s[k]!;
    }
    fft2d(xr, xi, w, h, true);
    for (const [m, idx] of [[0, a], [1, b]] as const) {
      if (idx < 0) continue;
      const pr = new Float64Array(n); // becomes the output C'
      splitTimes(zr, zi, w, h, m === 1, sp, pr, y4);
      fft2d(pr, y4, w, h, true); // real part: X~ (*) G_2 (circular), imaginary part: X~ (*) G_4
      fixBorderBand(m === 0 ? xr : xi, w, h, pr, y4);
      out[idx] = mask(pr, y4);
    }
  };
  planes.forEach((p, i) => {
    // NaN, or an all-zero image (X~ = 0, so 0/0): C' is NaN everywhere, as in MATLAB.
    if (normalize1Into(p.data, first < 0 ? zr : zi) !== 'ok') {
      out[i] = new Float64Array(n).fill(NaN);
    } else if (first < 0) {
      first = i;
    } else {
      run(first, i);
      first = -1;
    }
  });
  if (first >= 0) {
    zi.fill(0);
    run(first, -1);
  }
  return out;
}

/** `mean(lambda_A Q_AF + lambda_B Q_BF)` from the masked contrasts of A, B and F (step 5). */
export function qcbFromContrast(ca: Float64Array, cb: Float64Array, cf: Float64Array): number {
  let s = 0;
  // partial sums over blocks of 1024 pixels limit the rounding error of the mean
  for (let i0 = 0; i0 < cf.length; i0 += 1024) {
    let bs = 0;
    const i1 = Math.min(i0 + 1024, cf.length);
    for (let i = i0; i < i1; i++) {
      const a = ca[i]!, b = cb[i]!, f = cf[i]!;
      // MATLAB: mask = (a < f); Q = (a./f).*mask + (f./a).*(1-mask)  (Inf * 0 = NaN kept on purpose)
      const ma = a < f ? 1 : 0, mb = b < f ? 1 : 0;
      const qa = (a / f) * ma + (f / a) * (1 - ma);
      const qb = (b / f) * mb + (f / b) * (1 - mb);
      const a2 = a * a, b2 = b * b;
      bs += (a2 / (a2 + b2)) * qa + (b2 / (a2 + b2)) * qb;
    }
    s += bs;
  }
  return s / cf.length;
}

const TAPS = [G2H, G4H, G2V, G4V] as const;

/**
 * {@link maskedContrast} on WebAssembly SIMD (./qcb-wasm.ts): the same float64 operations, so the same values;
 * into output slot `slot` of `slots` (a view of the kernels' memory, see there). Null when unavailable.
 */
function maskedContrastSimd(xt: Float64Array, w: number, h: number, slot = 0, slots = 1): Float64Array | null {
  return maskedContrastWasm(xt, w, h, TAPS, slot, slots);
}

// X~ of the two planes of a pair (scratch for contrastsSimdShared).
let sr = new Float64Array(0), si = new Float64Array(0);

/**
 * The 'simd' computation from the shared forward spectra (./spectra.ts): each pair's spectrum is CSF-filtered
 * and transformed back ({@link filterSpectrum}: the same float64 operations as {@link filterImages}, so the same
 * `X~`), then filtered by the Gaussians on WebAssembly SIMD. Planes that normalise to all zeros or to NaN give
 * NaN everywhere (`0/0`, as the other paths). The results are views of the kernels' memory (valid until the next
 * call; no 2.4 MB allocation per 640x480 plane). Null if the SIMD filter fails.
 */
function contrastsSimdShared(planes: readonly Plane64[], w: number, h: number): Float64Array[] | null {
  const n = w * h;
  const spectra = normalisedSpectra(planes);
  const filter = qcbFilter(w, h);
  if (sr.length !== n) {
    sr = new Float64Array(n);
    si = new Float64Array(n);
  }
  const out: Float64Array[] = new Array(planes.length);
  for (let i = 0; i < planes.length; i++) {
    const s = spectra[i]!;
    if (s.kind !== 'ok') {
      out[i] = new Float64Array(n).fill(NaN);
      continue;
    }
    if (s.second) continue; // done with its first
    const j = spectra.findIndex((t, k) => k > i && t.re === s.re);
    filterSpectrum(s.re!, s.im!, filter, sr, si);
    const ci = maskedContrastSimd(sr, w, h, i, planes.length);
    const cj = j >= 0 ? maskedContrastSimd(si, w, h, j, planes.length) : null;
    if (!ci || (j >= 0 && !cj)) return null;
    out[i] = ci;
    if (j >= 0) out[j] = cj!;
  }
  return out;
}

/**
 * Masked contrasts `C'` (steps 1-4) of several same-size planes. `path` forces one computation of the Gaussian
 * step: 'direct' (JavaScript separable sums), 'fft' (in the frequency domain, from 60x60 up) or 'simd' (the
 * separable sums on WebAssembly SIMD; falls back to 'direct' without it). Default: 'simd' when available (the
 * fastest: ~2 FFTs per pair of planes instead of 4), else 'fft' from 64x64 up. All agree to rounding.
 */
export function qcbContrasts(planes: readonly Plane64[], path?: 'direct' | 'fft' | 'simd'): Float64Array[] {
  const { width: w, height: h } = planes[0]!;
  const simd = path === 'simd' || (path === undefined && qcbWasmAvailable());
  const useFft = !simd && (path === 'fft' || (path === undefined && w >= FFT_MIN_SIZE && h >= FFT_MIN_SIZE));
  if (useFft && (w < 4 * R || h < 4 * R)) throw new RangeError(`qcbContrasts: the FFT path needs at least ${4 * R}x${4 * R} pixels`);
  if (useFft) return contrastsFft(planes, w, h);
  if (simd && qcbWasmAvailable()) {
    const c = contrastsSimdShared(planes, w, h);
    if (c) return c.map((x) => x.slice());
  }
  const normalised = planes.map((p) => normalize1(p.data));
  return filterImages(normalised, qcbFilter(w, h)).map((xt) => (simd && maskedContrastSimd(xt, w, h)?.slice()) || maskedContrast(xt, w, h));
}

/** Qcb of one channel: sources `a` (visible), `b` (infrared), fused `f` (same size). */
export function qcbChannel(a: Plane64, b: Plane64, f: Plane64): number {
  const [ca, cb, cf] = qcbContrasts([a, b, f]);
  return qcbFromContrast(ca!, cb!, cf!);
}

export const Qcb: VifbMetric = {
  name: 'Qcb',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Chen-Blum metric: preservation of CSF-filtered local contrast of the salient source, mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const triples = channelTriples('Qcb', inputs);
    // Every distinct plane once (a 1-channel infrared plane serves all channels).
    const planes = distinctPlanes(triples);
    // the default path without copies when the kernels are there
    const { width: w, height: h } = planes[0]!;
    const c = (qcbWasmAvailable() && contrastsSimdShared(planes, w, h)) || qcbContrasts(planes);
    const of = (p: Plane64): Float64Array => c[planes.indexOf(p)]!;
    let s = 0;
    for (const t of triples) s += qcbFromContrast(of(t.vis), of(t.ir), of(t.fused));
    return s / triples.length;
  },
};
