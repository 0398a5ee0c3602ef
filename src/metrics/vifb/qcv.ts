/**
 * Qcv — Chen-Varshney perceptual fusion metric, vifb convention: CSF-weighted squared difference between each
 * source and the fused image over 16x16 regions, weighted by the regions' edge saliency. Lower is better
 * (0 when F equals both sources); values in the hundreds to thousands.
 *
 * Definition (METRICS.md §1.9), per channel k with A = VI_k, B = IR_k, F = F_k; result = mean over channels:
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
 * Tolerance: Sobel responses exact for integer inputs; the FFT differs from MATLAB's by rounding only;
 * golden values to 1e-9 relative (observed max 3e-15 on the 12 golden cases).
 * Quirks reproduced: partial tiles at the bottom/right are averaged over 256 entries (padding zeros included);
 * they add nothing to the saliency sums. The reference also computes F's gradient and all gradient angles; they
 * are unused and skipped here. Both sources flat (all lambda 0): 0/0 = NaN (METRICS.md §4).
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelTriples, perPlane } from './channels.js';
import { filterImages, normalize1, qcvFilter } from './csf.js';
import { pad1 } from './sobel.js';

const TILE = 16;

/** Per-tile sums of `G^5` of a normalised image (tile index `ty * tilesX + tx`). */
export function tileSaliency(x: Plane64): Float64Array {
  const { width: w, height: h } = x;
  const p = pad1(x, 'zero');
  const wp = w + 2;
  const tx = Math.ceil(w / TILE), ty = Math.ceil(h / TILE);
  const lam = new Float64Array(tx * ty);
  for (let i = 0; i < h; i++) {
    const tr = Math.floor(i / TILE) * tx;
    let c = (i + 1) * wp + 1;
    for (let j = 0; j < w; j++, c++) {
      // ./sobel.ts stencil: gx = dx (right - left), gy = dy (below - above), as filter2 with flt1 / flt2
      const nw = p[c - wp - 1]!, n = p[c - wp]!, ne = p[c - wp + 1]!;
      const sw = p[c + wp - 1]!, s = p[c + wp]!, se = p[c + wp + 1]!;
      const gx = ne + 2 * p[c + 1]! + se - (nw + 2 * p[c - 1]! + sw);
      const gy = sw + 2 * s + se - (nw + 2 * n + ne);
      const g2 = gx * gx + gy * gy;
      const g = Math.sqrt(g2);
      lam[tr + Math.floor(j / TILE)]! += g2 * g2 * g;
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
    for (let j = 0; j < w; j++) {
      const v = d[r + j]!;
      out[tr + Math.floor(j / TILE)]! += v * v;
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

export const Qcv: VifbMetric = {
  name: 'Qcv',
  convention: 'vifb',
  higherIsBetter: false,
  description: 'Chen-Varshney metric: saliency-weighted CSF-filtered squared difference over 16x16 regions, mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const triples = channelTriples('Qcv', inputs);
    const prep = perPlane(prepare);
    const norm = perPlane(normalised);
    let s = 0;
    for (const t of triples) s += qcvPrepared(prep(t.vis), prep(t.ir), norm(t.fused));
    return s / triples.length;
  },
};
