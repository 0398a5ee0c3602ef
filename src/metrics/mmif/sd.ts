/**
 * SD — standard deviation of the fused image (mmif convention): contrast.
 *
 * Definition (docs/METRICS.md#mmif-sd): population standard deviation of F, `sqrt(mean((F - mean F)^2))` (ddof = 0,
 * `np.std`). Higher is better. Depends on the fused image only. Invariant to adding a constant.
 *
 * Paper: Y.-J. Rao, "In-fibre Bragg grating sensors", Meas. Sci. Technol. 8(4), 1997 (cited for SD by the
 * fusion literature); the statistic itself is textbook.
 *
 * Reference implementation reproduced: `Evaluator.SD` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64 two-pass; matches golden `values_float64` to 1e-9 relative. The reference runs in float32:
 * its `values` differ by up to ~1e-7 relative.
 */
import { stdPopulation } from '../common/stats.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Population standard deviation of the samples of `f`. */
export function sd(f: Plane64): number {
  checkPlanes('SD', [f]);
  return stdPopulation(f.data);
}

export const SD: MmifMetric = {
  name: 'SD',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Standard deviation of the fused image (population, ddof = 0)',
  uses: ['fused'],
  compute: ({ fused }) => sd(fused),
};
