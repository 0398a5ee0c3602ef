/**
 * Variance — population standard deviation of the fused image (despite the name), vifb convention.
 * Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-variance), per channel k: `sqrt( sum (F_k - mean(F_k))^2 / N )`; result = mean over
 * channels. Depends on F only. Invariant to adding a constant; scales with |c| under multiplication by c;
 * 0 for a constant image.
 *
 * Paper (as cited by VIFB): Y.-J. Rao, "In-fibre Bragg grating sensors", Measurement Science and Technology 8(4),
 * 355, 1997.
 *
 * Reference implementation reproduced: `metrics/metricsVariance.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: two-pass float64; golden values to 1e-9 relative (observed max 1.9e-15 on the 12 golden cases).
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';

/** Population standard deviation of one channel `f`. */
export function varianceChannel(f: Plane64): number {
  const { width: w, data: d } = f;
  const n = d.length;
  // per-row partial sums keep the rounding error near MATLAB's column-wise sums
  let m = 0;
  for (let r = 0; r < n; r += w) {
    let rs = 0;
    for (let i = r; i < r + w; i++) rs += d[i]!;
    m += rs;
  }
  m /= n;
  let s = 0;
  for (let r = 0; r < n; r += w) {
    let rs = 0;
    for (let i = r; i < r + w; i++) {
      const e = d[i]! - m;
      rs += e * e;
    }
    s += rs;
  }
  return Math.sqrt(s / n);
}

export const Variance: VifbMetric = {
  name: 'Variance',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Standard deviation of the fused image (population, per channel; VIFB calls it Variance)',
  uses: ['fused'],
  compute: (inputs) => channelMean('Variance', inputs, (t) => varianceChannel(t.fused)),
};
