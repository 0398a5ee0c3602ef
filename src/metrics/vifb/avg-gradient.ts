/**
 * Avg_gradient (AG) — average gradient of the fused image, vifb convention. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-avg-gradient), per channel k of F (the sources are not used):
 * `gx`, `gy` = MATLAB `gradient(F_k)` with unit spacing (central differences `(F(j+1) - F(j-1)) / 2` inside,
 * one-sided differences in the first and last column / row); `s = sqrt((gx^2 + gy^2) / 2)`;
 * `AG_k = sum(s over all H*W pixels) / ((H - 1) (W - 1))`; result = mean of AG_k over channels.
 * Invariant to adding a constant; scales linearly with the image; 0 for a constant image.
 *
 * Paper: G. Cui, H. Feng, Z. Xu, Q. Li, Y. Chen, "Detail preserved fusion of visible and infrared images using
 * regional saliency extraction and multi-scale image decomposition", Optics Communications 341, 199-209, 2015.
 *
 * Reference implementation reproduced: `metrics/metricsAvg_gradient.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (its own channel loop).
 *
 * Tolerance: float64, same operations as the reference; golden values (test/metrics/golden-vifb.test.ts) to 1e-9
 * relative (observed max 3e-15 on the 12 golden cases).
 *
 * Quirk reproduced: the numerator sums all N pixels but the denominator is (H-1)(W-1). A 1-pixel-wide or -high
 * image gives x / 0 (Infinity, or NaN when constant), as MATLAB does.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';

/** AG of one channel `f`. */
export function avgGradientChannel(f: Plane64): number {
  const { width: w, height: h, data } = f;
  // gradient along x for column j of a row starting at r
  const gxAt = (r: number, j: number): number =>
    w === 1 ? 0 : j === 0 ? data[r + 1]! - data[r]! : j === w - 1 ? data[r + j]! - data[r + j - 1]! : (data[r + j + 1]! - data[r + j - 1]!) / 2;
  let sum = 0;
  for (let i = 0; i < h; i++) {
    const r = i * w;
    // gradient along y: rows above/below, one-sided at the first and last row
    const up = i === 0 ? r : r - w, down = i === h - 1 ? r : r + w;
    const div = h === 1 ? 0 : i === 0 || i === h - 1 ? 1 : 2;
    let rowSum = 0; // per-row partial sums keep the rounding error near MATLAB's sum(sum(s))
    for (let j = 0; j < w; j++) {
      const gx = j > 0 && j < w - 1 ? (data[r + j + 1]! - data[r + j - 1]!) / 2 : gxAt(r, j);
      const gy = div === 0 ? 0 : (data[down + j]! - data[up + j]!) / div;
      rowSum += Math.sqrt((gx * gx + gy * gy) / 2);
    }
    sum += rowSum;
  }
  return sum / ((h - 1) * (w - 1));
}

export const Avg_gradient: VifbMetric = {
  name: 'Avg_gradient',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Average gradient of the fused image (per channel, sum over N / ((H-1)(W-1)))',
  uses: ['fused'],
  compute: (inputs) => channelMean('Avg_gradient', inputs, (t) => avgGradientChannel(t.fused)),
};
