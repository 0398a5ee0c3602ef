/**
 * Qabf — Xydeas-Petrović gradient-based fusion performance (mmif convention): how much of the sources' edge
 * strength and orientation the fused image preserves, weighted by the sources' edge strength.
 *
 * Definition (docs/METRICS.md#mmif-qabf with the per-pixel model of #vifb-qabf):
 * - Sobel responses by true 2-D convolution with zero padding, same size:
 *   `Sx = X * [[-1,0,1],[-2,0,2],[-1,0,1]]`, `Sy = X * [[1,2,1],[0,0,0],[-1,-2,-1]]`;
 *   `g = sqrt(Sx^2 + Sy^2)`; `alpha = atan(Sy / Sx)`, and `pi/2` wherever `Sx == 0`.
 * - For X in {A, B}: `G = g_F / g_X` if `g_X > g_F`, `g_X / g_F` if `g_X < g_F`, and **`g_F` if equal** (the
 *   reference's quirk, kept); `Aa = 1 - |alpha_X - alpha_F| / (pi/2)`;
 *   `Q = 0.9994 / (1 + exp(-15 (G - 0.5))) * 0.9879 / (1 + exp(-22 (Aa - 0.8)))`.
 * - `Qabf = sum(Q_AF g_A + Q_BF g_B) / sum(g_A + g_B)` (L = 1). Range 0..~1, higher is better.
 *   Symmetric in A and B. Both sources without any Sobel response: 0/0 = NaN (docs/METRICS.md#edge-cases); with zero
 *   padding that means all-zero images (a non-zero constant image has gradients along its border).
 * No x255 scaling here, unlike VIFB's Qabf, so the quirk gives `0.9994 / (1 + exp(-15 (g_F - 0.5)))`.
 *
 * Paper: C. S. Xydeas, V. Petrović, "Objective image fusion performance measure", Electron. Lett. 36(4), 2000.
 *
 * Reference implementation reproduced: `Evaluator.Qabf` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse
 * at commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Speed: the orientations (atan) and Q values are computed only where a source has a gradient (elsewhere the
 * pixel has weight 0); the cost is dominated by about 3 atan and 4 exp calls per pixel.
 *
 * Tolerance: float64 (Sobel responses exact for integer inputs); matches golden `values_float64` to 1e-9
 * relative. The reference computes in float32; its `values` differ by up to ~2.5e-7 relative.
 */
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

const HALF_PI = Math.PI / 2;
const TG = 0.9994, KG = -15, DG = 0.5;
const TA = 0.9879, KA = -22, DA = 0.8;

/** Sobel responses and gradient magnitude with zero padding (see the module comment). */
export function sobel(x: Plane64): { sx: Float64Array; sy: Float64Array; g: Float64Array } {
  const { width: w, height: h, data } = x;
  const n = w * h;
  const SX = new Float64Array(n), SY = new Float64Array(n), g = new Float64Array(n);
  const at = (yy: number, xx: number): number => (yy < 0 || yy >= h || xx < 0 || xx >= w ? 0 : data[yy * w + xx]!);
  for (let y = 0; y < h; y++) {
    const border = y === 0 || y === h - 1;
    for (let xx = 0; xx < w; xx++) {
      let sx: number, sy: number;
      const i = y * w + xx;
      if (border || xx === 0 || xx === w - 1) {
        const nw = at(y - 1, xx - 1), nn = at(y - 1, xx), ne = at(y - 1, xx + 1);
        const ww = at(y, xx - 1), e = at(y, xx + 1);
        const sw = at(y + 1, xx - 1), s = at(y + 1, xx), se = at(y + 1, xx + 1);
        // conv2 flips the kernel: Sx = left column - right column, Sy = bottom row - top row.
        sx = nw + 2 * ww + sw - (ne + 2 * e + se);
        sy = sw + 2 * s + se - (nw + 2 * nn + ne);
      } else {
        const nw = data[i - w - 1]!, nn = data[i - w]!, ne = data[i - w + 1]!;
        const ww = data[i - 1]!, e = data[i + 1]!;
        const sw = data[i + w - 1]!, s = data[i + w]!, se = data[i + w + 1]!;
        sx = nw + 2 * ww + sw - (ne + 2 * e + se);
        sy = sw + 2 * s + se - (nw + 2 * nn + ne);
      }
      SX[i] = sx;
      SY[i] = sy;
      g[i] = Math.sqrt(sx * sx + sy * sy);
    }
  }
  return { sx: SX, sy: SY, g };
}

/** Orientation `atan(Sy / Sx)`, and pi/2 where `Sx == 0`. */
function angle(sx: number, sy: number): number {
  return sx === 0 ? HALF_PI : Math.atan(sy / sx);
}

/** Edge preservation `Q_XF` at one pixel. */
function qxf(gx: number, ax: number, gf: number, af: number): number {
  const G = gx > gf ? gf / gx : gx === gf ? gf : gx / gf;
  const A = 1 - Math.abs(ax - af) / HALF_PI;
  return (TG / (1 + Math.exp(KG * (G - DG)))) * (TA / (1 + Math.exp(KA * (A - DA))));
}

/** Qabf of fused `f` with sources `a`, `b` (all the same size). */
export function qabf(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('Qabf', [a, b, f]);
  const A = sobel(a), B = sobel(b), F = sobel(f);
  let num = 0, den = 0;
  const n = A.g.length;
  for (let i = 0; i < n; i++) {
    const ga = A.g[i]!, gb = B.g[i]!;
    // A source without gradient carries zero weight (Q is always finite), so its Q is not needed; the
    // orientations (atan) are computed only where they are used.
    if (ga === 0 && gb === 0) continue;
    const gf = F.g[i]!, af = angle(F.sx[i]!, F.sy[i]!);
    const qa = ga === 0 ? 0 : qxf(ga, angle(A.sx[i]!, A.sy[i]!), gf, af) * ga;
    const qb = gb === 0 ? 0 : qxf(gb, angle(B.sx[i]!, B.sy[i]!), gf, af) * gb;
    num += qa + qb;
    den += ga + gb;
  }
  return num / den;
}

export const Qabf: MmifMetric = {
  name: 'Qabf',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Xydeas-Petrovic edge preservation (Sobel strength and orientation, weights L = 1)',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => qabf(ir, vis, fused),
};
