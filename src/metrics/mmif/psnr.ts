/**
 * PSNR — peak signal-to-noise ratio of the fused image against the sources (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-psnr): `PSNR = 10 log10( max(F)^2 / MSE )` in dB with the MSE of #mmif-mse (the mean
 * of the two sources' MSEs). **The peak is the largest pixel of the fused image, not 255.** Higher is better.
 * Symmetric in A and B. Zero error gives +Infinity (0/0 = NaN if F is also all zeros), as numpy does.
 *
 * Paper: P. Jagalingam, A. V. Hegde, "A review of quality metrics for fused image", Aquatic Procedia 4, 2015.
 *
 * Reference implementation reproduced: `Evaluator.PSNR` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64; matches golden `values_float64` to 1e-12 relative (float32 `values`: ~6e-8).
 * Not the VIFB definition (VIFB uses 255 and its sqrt(SSE)/N "mse").
 */
import { maxOf } from '../common/stats.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';
import { mse } from './mse.js';

/** `10 log10(max(F)^2 / MSE)` in dB. */
export function psnr(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('PSNR', [a, b, f]);
  const peak = maxOf(f.data);
  return 10 * Math.log10((peak * peak) / mse(a, b, f));
}

export const PSNR: MmifMetric = {
  name: 'PSNR',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Peak signal-to-noise ratio (dB), peak = max of the fused image, MSE as in MSE',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => psnr(ir, vis, fused),
};
