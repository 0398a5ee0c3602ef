/**
 * MI — mutual information between the fused image and each source (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-mi): `MI = I(F; A) + I(F; B)`, `I` the mutual information in **nats** of the
 * contingency table of the exact pixel values (no normalisation, no re-binning):
 * `I = sum_ij p_ij ln(p_ij / (p_i p_j))` over non-empty cells. Higher is better. Symmetric in A and B.
 * A constant image carries no information: its I is exactly 0.
 *
 * Paper: G. Qu, D. Zhang, P. Yan, "Information measure for performance of image fusion",
 * Electron. Lett. 38(7), 2002.
 *
 * Reference implementation reproduced: `Evaluator.MI` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b, which calls scikit-learn's `mutual_info_score` (1.2):
 * its per-cell expression, its zeroing of terms below 2.2e-16, its clip at 0 and its single-value rule are
 * reproduced (see {@link mutualInfoNats}).
 *
 * Tolerance: matches the golden values (float32 and float64 are identical for this metric) to 1e-12 relative.
 * Speed: a dense 256x256 joint histogram for integer 0..255 inputs; an exact sort-based path otherwise.
 * Not the VIFB definition (VIFB min-max stretches and re-quantises each image first).
 */
import { mutualInfoNats } from '../common/histogram.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** `I(F; A) + I(F; B)` in nats on exact pixel values. */
export function mi(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('MI', [a, b, f]);
  return mutualInfoNats(f.data, a.data) + mutualInfoNats(f.data, b.data);
}

export const MI: MmifMetric = {
  name: 'MI',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Mutual information I(F;A) + I(F;B) on exact pixel values (nats)',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => mi(ir, vis, fused),
};
