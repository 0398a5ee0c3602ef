/**
 * Edge_intensity (EI) — mean Sobel gradient magnitude of the fused image, vifb convention. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-edge-intensity), per channel of F (the sources are not used): MATLAB
 * `imfilter(F, fspecial('sobel'), 'replicate')` and the same with the transposed kernel, i.e. correlation with
 * `[[1,2,1],[0,0,0],[-1,-2,-1]]` and its transpose, out-of-image pixels replaced by the nearest edge pixel;
 * `g = sqrt(gx^2 + gy^2)`; EI = mean of g over all pixels and channels (= mean of the per-channel means).
 * Invariant to adding a constant; scales linearly; 0 for a constant image.
 *
 * Paper: B. Rajalingam, R. Priya, "Hybrid multimodality medical image fusion technique for feature enhancement
 * in medical diagnosis", International Journal of Engineering Science Invention, 2018.
 *
 * Reference implementation reproduced: `metrics/metricsEdge_intensity.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (its own channel loop).
 *
 * Tolerance: Sobel responses exact for integer inputs; golden values to 1e-9 relative (observed max 1.3e-15 on the 12 golden cases).
 * Signs: `gx` = above minus below, `gy` = left minus right here are the negatives of ./sobel.ts's `dy`, `dx`;
 * only the magnitude is used.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';
import { pad1 } from './sobel.js';

/** Mean Sobel magnitude (replicate border) of one channel `f`. */
export function edgeIntensityChannel(f: Plane64): number {
  const { width: w, height: h } = f;
  const p = pad1(f, 'replicate', true);
  const wp = w + 2;
  let sum = 0;
  for (let y = 0; y < h; y++) {
    let c = (y + 1) * wp + 1;
    let rowSum = 0; // per-row partial sums limit the rounding error
    for (let j = 0; j < w; j++, c++) {
      // ./sobel.ts stencil
      const nw = p[c - wp - 1]!, n = p[c - wp]!, ne = p[c - wp + 1]!;
      const sw = p[c + wp - 1]!, s = p[c + wp]!, se = p[c + wp + 1]!;
      const dx = ne + 2 * p[c + 1]! + se - (nw + 2 * p[c - 1]! + sw);
      const dy = sw + 2 * s + se - (nw + 2 * n + ne);
      rowSum += Math.sqrt(dx * dx + dy * dy);
    }
    sum += rowSum;
  }
  return sum / (w * h);
}

export const Edge_intensity: VifbMetric = {
  name: 'Edge_intensity',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Mean Sobel gradient magnitude of the fused image (replicate border, per channel)',
  uses: ['fused'],
  compute: (inputs) => channelMean('Edge_intensity', inputs, (t) => edgeIntensityChannel(t.fused)),
};
