/**
 * AG — average gradient of the fused image (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-ag): `gx`, `gy` = central differences `(F(j+1) - F(j-1)) / 2` inside, one-sided
 * differences in the first and last column (row); `AG = mean over all N pixels of sqrt((gx^2 + gy^2) / 2)`.
 * Higher is better. Depends on the fused image only. Invariant to adding a constant.
 *
 * Paper: G. Cui, H. Feng, Z. Xu, Q. Li, Y. Chen, "Detail preserved fusion of visible and infrared images using
 * regional saliency extraction and multi-scale image decomposition", Opt. Commun. 341, 2015.
 *
 * Reference implementation reproduced: `Evaluator.AG` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64; matches golden `values_float64` to 1e-9 relative (float32 `values`: ~2e-7).
 * Needs at least 2x2 pixels. Not the VIFB definition (VIFB divides the sum by (H-1)(W-1)).
 */
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Average gradient of `f`. */
export function ag(f: Plane64): number {
  checkPlanes('AG', [f], 2);
  const { width: w, height: h, data } = f;
  let s = 0;
  for (let y = 0; y < h; y++) {
    const r = y * w;
    // Row offsets of the vertical neighbours and the divisor (one-sided at the first and last row).
    const up = y === 0 ? r : r - w;
    const dn = y === h - 1 ? r : r + w;
    const dy = y === 0 || y === h - 1 ? 1 : 2;
    for (let x = 0; x < w; x++) {
      const gx = x === 0 ? data[r + 1]! - data[r]! : x === w - 1 ? data[r + x]! - data[r + x - 1]! : (data[r + x + 1]! - data[r + x - 1]!) / 2;
      const gy = dy === 1 ? data[dn + x]! - data[up + x]! : (data[dn + x]! - data[up + x]!) / 2;
      s += Math.sqrt((gx * gx + gy * gy) / 2);
    }
  }
  return s / (w * h);
}

export const AG: MmifMetric = {
  name: 'AG',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Average gradient of the fused image (mean over all pixels)',
  uses: ['fused'],
  compute: ({ fused }) => ag(fused),
};
