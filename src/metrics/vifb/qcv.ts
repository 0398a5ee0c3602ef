/**
 * Qcv — Chen-Varshney perceptual fusion metric, vifb convention: CSF-weighted squared difference between each
 * source and the fused image over 16x16 regions, weighted by the regions' edge saliency. Lower is better
 * (0 when F equals both sources); values in the hundreds to thousands.
 *
 * Definition (docs/METRICS.md#vifb-qcv), per channel k with A = VI_k, B = IR_k, F = F_k; result = mean over channels:
 * 1. `normalize1` each of A, B, F (./csf.ts).
 * 2. Edge strength of A and B: `gx = X (*) [[-1,0,1],[-2,0,2],[-1,0,1]]`, `gy = X (*) [[-1,-2,-1],[0,0,0],[1,2,1]]`
 *    (`filter2` 'same': correlation, zero padding), `G = sqrt(gx^2 + gy^2)`.
 * 3. Non-overlapping 16x16 tiles from the top-left, the image zero-padded at the bottom/right to multiples of 16
 *    (MATLAB `blkproc`); saliency `lambda_X(t) = sum over tile t of G_X^5`.
 * 4. `D_X = X - F`, filtered as in Qcb step 2 but with the grid scaled by W/8, H/8 and the Mannos-Sakrison CSF
 *    `theta(r) = 2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1)`.
 * 5. `d_X(t) = mean over the 256 entries of tile t (padding zeros included) of D~_X^2`.
 * 6. `Qcv_k = sum_t (lambda_A d_A + lambda_B d_B) / sum_t (lambda_A + lambda_B)`.
 * Symmetric in A and B; 0 when F = A = B; invariant to increasing affine changes of any image (normalize1).
 *
 * Paper: H. Chen, P. K. Varshney, "A human perception inspired quality metric for image fusion based on regional
 * information", Information Fusion 8(2), 193-207, 2007.
 *
 * Reference implementation reproduced: `metrics/metricsQcv.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper; Z. Liu's `metricChen.m`).
 *
 * Computation: from 64x64 up, {@link Qcv}.compute takes the forward transforms of the normalised planes from
 * ./spectra.ts (shared with Qcb: computed there when Qcb ran first on the same planes) and filters the differences
 * in the frequency domain, `FFT(X - F) = FFT(X) - FFT(F)`, two differences per inverse transform; a difference that
 * is identically zero or holds NaN is handled exactly as the direct path does. Smaller images, and
 * {@link qcvChannel}, filter each difference on its own (./csf.ts filterImages). Both agree to ~1e-15 relative.
 *
 * Tolerance: Sobel responses exact for integer inputs; the FFT differs from MATLAB's by rounding only;
 * golden values to 1e-9 relative (observed max 3e-15 on the 12 golden cases).
 * Quirks reproduced: partial tiles at the bottom/right are averaged over 256 entries (padding zeros included);
 * they add nothing to the saliency sums. The reference also computes F's gradient and all gradient angles; they
 * are unused and skipped here. Both sources flat (all lambda 0): 0/0 = NaN (docs/METRICS.md#edge-cases).
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelTriples, distinctPlanes, perPlane } from './channels.js';
import { filterImages, normalize1, qcvFilter } from './csf.js';
import { filterSpectrum } from './fft.js';
import { pad1 } from './sobel.js';
import { normalisedSpectra, type PlaneSpectrum } from './spectra.js';

const TILE = 16;

/** Per-tile sums of `G^5` of a normalised image (tile index `ty * tilesX + tx`). */
export function tileSaliency(x: Plane64): Float64Array {
  const { width: w, height: h } = x;
  const p = pad1(x, 'zero', true);
  const wp = w + 2;
  const tx = Math.ceil(w / TILE), ty = Math.ceil(h / TILE);
  const lam = new Float64Array(tx * ty);
  for (let i = 0; i < h; i++) {
    const tr = Math.floor(i / TILE) * tx;
    // pixels of row i tile by tile, left to right (the same order of additions into each tile's sum)
    for (let t = 0, j0 = 0; j0 < w; t++, j0 += TILE) {
      const j1 = Math.min(j0 + TILE, w);
      let acc = lam[tr + t]!;
      for (let c = (i + 1) * wp + 1 + j0, e = c + (j1 - j0); c < e; c++) {
        // ./sobel.ts stencil: gx = dx (right - left), gy = dy (below - above), as filter2 with flt1 / flt2
        const nw = p[c - wp - 1]!, n = p[c - wp]!, ne = p[c - wp + 1]!;
        const sw = p[c + wp - 1]!, s = p[c + wp]!, se = p[c + wp + 1]!;
        const gx = ne + 2 * p[c + 1]! + se - (nw + 2 * p[c - 1]! + sw);
        const gy = sw + 2 * s + se - (nw + 2 * n + ne);
        const g2 = gx * gx + gy * gy;
        const g = Math.sqrt(g2);
        acc += g2 * g2 * g;
      }
      lam[tr + t] = acc;
    }
  }
  return lam;
}

/** Per-tile mean over 256 entries (padding zeros included) of `d^2`. */
export function tileMeanSquares(d: Float64Array, w: number, h: number): Float64Array {
  const tx = Math.ceil(w / TILE), ty = Math.ceil(h / TILE);
  const out = new Float64Array(tx * ty);
  for (let i = 0; i < h; i++) {
    const r = i * w, tr = Math.floor(i / TILE) * tx;
    for (let t = 0, j0 = 0; j0 < w; t++, j0 += TILE) {
      const j1 = Math.min(j0 + TILE, w);
      let acc = out[tr + t]!;
      for (let j = j0; j < j1; j++) {
        const v = d[r + j]!;
        acc += v * v;
      }
      out[tr + t] = acc;
    }
  }
  for (let t = 0; t < out.length; t++) out[t]! /= TILE * TILE;
  return out;
}

interface Normalised {
  readonly plane: Plane64;
  readonly lambda: Float64Array;
}

function normalised(p: Plane64): Plane64 {
  return { width: p.width, height: p.height, data: normalize1(p.data) };
}

function prepare(p: Plane64): Normalised {
  const plane = normalised(p);
  return { plane, lambda: tileSaliency(plane) };
}

/** Qcv from normalised, prepared A, B and F. */
function qcvPrepared(A: Normalised, B: Normalised, F: Plane64): number {
  const { width: w, height: h } = F;
  const fa = A.plane.data, fb = B.plane.data, ff = F.data;
  const da = new Float64Array(fa.length), db = new Float64Array(fa.length);
  for (let i = 0; i < fa.length; i++) {
    da[i] = fa[i]! - ff[i]!;
    db[i] = fb[i]! - ff[i]!;
  }
  const [ta, tb] = filterImages([da, db], qcvFilter(w, h));
  const dA = tileMeanSquares(ta!, w, h), dB = tileMeanSquares(tb!, w, h);
  const la = A.lambda, lb = B.lambda;
  let num = 0, den = 0;
  for (let t = 0; t < la.length; t++) {
    num += la[t]! * dA[t]! + lb[t]! * dB[t]!;
    den += la[t]! + lb[t]!;
  }
  return num / den;
}

/** Qcv of one channel: sources `a` (visible), `b` (infrared), fused `f` (same size). */
export function qcvChannel(a: Plane64, b: Plane64, f: Plane64): number {
  return qcvPrepared(prepare(a), prepare(b), normalised(f));
}

// Scratch for qcvShared: the packed spectrum of two differences, filtered in place.
let pr = new Float64Array(0), pim = new Float64Array(0);

/**
 * One plane's half of its packed spectrum `Z` in the form `X[k] = (P[k] + P[-k]) a + i (Q[k] - Q[-k]) b`:
 * for the first half (`X = (Z[k] + conj Z[-k]) / 2`) P = Re Z, Q = Im Z, a = b = 1/2; for the second
 * (`Y = (Z[k] - conj Z[-k]) / 2i`) P = Im Z, Q = Re Z, a = 1/2, b = -1/2. A plane of zeros: P = Q = 0.
 */
interface Half {
  readonly p: Float64Array;
  readonly q: Float64Array;
  readonly a: number;
  readonly b: number;
}

let zeros = new Float64Array(0);

function half(s: PlaneSpectrum, sign: number): Half {
  if (s.kind !== 'ok') return { p: zeros, q: zeros, a: 0, b: 0 };
  return s.second ? { p: s.im!, q: s.re!, a: 0.5 * sign, b: -0.5 * sign } : { p: s.re!, q: s.im!, a: 0.5 * sign, b: 0.5 * sign };
}

/**
 * `(pr, pi) = (X1 - F1) + i (X2 - F2)` in the frequency domain from the halves `x1 = +X1`, `f1 = -F1`,
 * `x2 = +X2`, `f2 = -F2` (see {@link Half}); one pass over the spectra.
 */
function packDifferences(x1: Half, f1: Half, x2: Half, f2: Half, w: number, h: number, pr: Float64Array, pi: Float64Array): void {
  const p0 = x1.p, q0 = x1.q, a0 = x1.a, b0 = x1.b, p1 = f1.p, q1 = f1.q, a1 = f1.a, b1 = f1.b;
  const p2 = x2.p, q2 = x2.q, a2 = x2.a, b2 = x2.b, p3 = f2.p, q3 = f2.q, a3 = f2.a, b3 = f2.b;
  for (let v = 0; v < h; v++) {
    const row = v * w, nrow = v === 0 ? 0 : (h - v) * w;
    for (let u = 0; u < w; u++) {
      // -u wraps to w - u for u >= 1
      const k = row + u, nk = u === 0 ? nrow : nrow + w - u;
      // real part of D1 minus imaginary part of D2 (i D2), imaginary part of D1 plus real part of D2
      pr[k] = (p0[k]! + p0[nk]!) * a0 + (p1[k]! + p1[nk]!) * a1 - ((q2[k]! - q2[nk]!) * b2 + (q3[k]! - q3[nk]!) * b3);
      pi[k] = (q0[k]! - q0[nk]!) * b0 + (q1[k]! - q1[nk]!) * b1 + ((p2[k]! + p2[nk]!) * a2 + (p3[k]! + p3[nk]!) * a3);
    }
  }
}

interface Difference {
  readonly x: PlaneSpectrum;
  readonly f: PlaneSpectrum;
  /** per-tile mean squares of the filtered difference, filled below */
  d?: Float64Array;
}

/**
 * Qcv over all channels from the shared forward spectra (./spectra.ts): the filtered differences
 * `D~ = ifft(S . (FFT(X) - FFT(F)))` two per inverse transform. Same as {@link filterImages} on `X - F` up to
 * rounding, with its special cases kept exact: a difference that is identically zero (F equals the source after
 * normalize1) stays exactly 0, and one holding NaN becomes NaN everywhere.
 */
function qcvShared(triples: ReturnType<typeof channelTriples>): number {
  const { width: w, height: h } = triples[0]!.fused;
  const n = w * h;
  const planes = distinctPlanes(triples);
  const spectra = normalisedSpectra(planes);
  const of = (p: Plane64): PlaneSpectrum => spectra[planes.indexOf(p)]!;
  const filter = qcvFilter(w, h);
  if (pr.length !== n) {
    pr = new Float64Array(n);
    pim = new Float64Array(n);
  }
  const tiles = Math.ceil(w / TILE) * Math.ceil(h / TILE);
  const diffs: Difference[] = triples.flatMap((t) => [{ x: of(t.vis), f: of(t.fused) }, { x: of(t.ir), f: of(t.fused) }]);
  const pending: Difference[] = [];
  for (const d of diffs) {
    if (d.x.kind === 'bad' || d.f.kind === 'bad') d.d = new Float64Array(tiles).fill(NaN);
    else if (d.x === d.f || sameSamples(d.x.normalised, d.f.normalised)) d.d = new Float64Array(tiles);
    else pending.push(d);
  }
  if (pending.length > 0 && zeros.length !== n) zeros = new Float64Array(n);
  for (let k = 0; k < pending.length; k += 2) {
    const a = pending[k]!, b = pending[k + 1];
    const none: Half = { p: zeros, q: zeros, a: 0, b: 0 };
    packDifferences(half(a.x, 1), half(a.f, -1), b ? half(b.x, 1) : none, b ? half(b.f, -1) : none, w, h, pr, pim);
    filterSpectrum(pr, pim, filter, pr, pim);
    a.d = tileMeanSquares(pr, w, h);
    if (b) b.d = tileMeanSquares(pim, w, h);
  }
  const lambda = perPlane((p: Plane64) => tileSaliency({ width: w, height: h, data: of(p).normalised }));
  let s = 0;
  triples.forEach((t, c) => {
    const la = lambda(t.vis), lb = lambda(t.ir), dA = diffs[2 * c]!.d!, dB = diffs[2 * c + 1]!.d!;
    let num = 0, den = 0;
    for (let i = 0; i < la.length; i++) {
      num += la[i]! * dA[i]! + lb[i]! * dB[i]!;
      den += la[i]! + lb[i]!;
    }
    s += num / den;
  });
  return s / triples.length;
}

function sameSamples(a: Float64Array, b: Float64Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Images at least this large (both sides) share the forward transforms with Qcb (./spectra.ts). */
const SHARED_MIN_SIZE = 64;

export const Qcv: VifbMetric = {
  name: 'Qcv',
  convention: 'vifb',
  higherIsBetter: false,
  description: 'Chen-Varshney metric: saliency-weighted CSF-filtered squared difference over 16x16 regions, mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const triples = channelTriples('Qcv', inputs);
    const { width: w, height: h } = triples[0]!.fused;
    if (w >= SHARED_MIN_SIZE && h >= SHARED_MIN_SIZE) return qcvShared(triples);
    const prep = perPlane(prepare);
    const norm = perPlane(normalised);
    let s = 0;
    for (const t of triples) s += qcvPrepared(prep(t.vis), prep(t.ir), norm(t.fused));
    return s / triples.length;
  },
};
