/**
 * SCD — sum of the correlations of differences (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-scd): `SCD = r(A, F - B) + r(B, F - A)` with Pearson's r: how much of each source
 * the fused image carries beyond the other source. Higher is better; range -2..2. Symmetric in A and B.
 * A constant source, or `F - B` / `F - A` constant, gives 0/0 = NaN (as the reference).
 *
 * Paper: V. Aslantas, E. Bendes, "A new image quality metric for image fusion: The sum of the correlations of
 * differences", AEU Int. J. Electron. Commun. 69(12), 2015.
 *
 * Reference implementation reproduced: `Evaluator.SCD` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64 two-pass; matches golden `values_float64` to 1e-9 relative (float32 `values`: ~1.3e-7).
 */
import { pearsonWithDifference } from '../common/stats.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** `r(A, F - B) + r(B, F - A)`. */
export function scd(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('SCD', [a, b, f]);
  return pearsonWithDifference(a.data, f.data, b.data) + pearsonWithDifference(b.data, f.data, a.data);
}

export const SCD: MmifMetric = {
  name: 'SCD',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Sum of the correlations of differences r(A, F-B) + r(B, F-A)',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => scd(ir, vis, fused),
};
