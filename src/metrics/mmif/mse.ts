/**
 * MSE — mean squared error between the fused image and the sources (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-mse): `MSE = (mean((A - F)^2) + mean((B - F)^2)) / 2`, in squared 0..255 units.
 * **Lower is better.** Symmetric in A and B; 0 iff F = A = B.
 *
 * Paper: P. Jagalingam, A. V. Hegde, "A review of quality metrics for fused image", Aquatic Procedia 4, 2015.
 *
 * Reference implementation reproduced: `Evaluator.MSE` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64 (exact sums for integer inputs); matches golden `values_float64` to 1e-12 relative
 * (float32 `values`: ~1.4e-7). Not VIFB's "Rmse" (sqrt(SSE)/N).
 */
import { meanSquaredError } from '../common/stats.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Mean of the two mean squared errors `A - F` and `B - F`. */
export function mse(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('MSE', [a, b, f]);
  return (meanSquaredError(a.data, f.data) + meanSquaredError(b.data, f.data)) / 2;
}

export const MSE: MmifMetric = {
  name: 'MSE',
  convention: 'mmif',
  higherIsBetter: false,
  description: 'Mean squared error to the sources, averaged over the two (lower is better)',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => mse(ir, vis, fused),
};
