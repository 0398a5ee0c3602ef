/**
 * CC — correlation coefficient between the fused image and the sources (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-cc): `CC = (r(A, F) + r(B, F)) / 2` with Pearson's r. Higher is better; range -1..1.
 * Symmetric in A and B; invariant to adding a constant to, or positively scaling, any image.
 * A constant image gives 0/0 = NaN (as the reference).
 *
 * Paper: P. Shah, S. N. Merchant, U. B. Desai, "Multifocus and multispectral image fusion based on pixel
 * significance using multiresolution decomposition", Signal Image Video Process. 7(1), 2013.
 *
 * Reference implementation reproduced: `Evaluator.CC` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64 two-pass; matches golden `values_float64` to 1e-9 relative (float32 `values`: ~4e-7).
 */
import { pearson } from '../common/stats.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Mean Pearson correlation of F with A and with B. */
export function cc(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('CC', [a, b, f]);
  return (pearson(a.data, f.data) + pearson(b.data, f.data)) / 2;
}

export const CC: MmifMetric = {
  name: 'CC',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Correlation coefficient (r(A,F) + r(B,F)) / 2',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => cc(ir, vis, fused),
};
