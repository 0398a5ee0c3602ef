/**
 * Spatial_frequency (SF) — VIFB's spatial frequency of the fused image, with its side-by-side channel quirk.
 * Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-spatial-frequency): the channels of F are placed side by side as one H x (cW) matrix
 * `X = [F_1 | F_2 | ... | F_c]` (R, G, B order for c = 3);
 * `RF = sum_{i, j=2..cW} (X(i,j) - X(i,j-1))^2 / (H cW)`, `CF = sum_{i=2..H, j} (X(i,j) - X(i-1,j))^2 / (H cW)`,
 * `SF = sqrt(RF + CF)`. Depends on F only; invariant to adding a constant; scales linearly; 0 for a constant image.
 *
 * Paper: A. M. Eskicioglu, P. S. Fisher, "Image quality measures and their performance", IEEE Trans. Commun.
 * 43(12), 2959-2965, 1995.
 *
 * Reference implementation reproduced: `metrics/metricsSpatial_frequency.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade.
 *
 * Tolerance: exact sums for integer inputs; golden values to 1e-9 relative (observed: exact on the 12 golden cases).
 * Quirks reproduced: the reference takes `[m, n] = size(F)` of an H x W x 3 array (n = 3W) and indexes it as a
 * matrix, so (a) it is not the mean of per-channel SFs, (b) the seams between the last column of one channel and
 * the first of the next count in RF, (c) both sums are divided by the full pixel count H*3W. Channel order matters.
 * A gray fused image repeated to 3 channels by `vifbInputs` is therefore measured as [F | F | F].
 */
import { checkPlanes } from '../common/validate.js';
import type { Plane64, VifbMetric } from '../types.js';
import { channelTriples } from './channels.js';

/** SF of the channels `channels` placed side by side (all the same size). */
export function spatialFrequencySideBySide(channels: readonly Plane64[]): number {
  checkPlanes('Spatial_frequency', channels);
  const { width: w, height: h } = channels[0]!;
  let rf = 0, cf = 0;
  for (let k = 0; k < channels.length; k++) {
    const d = channels[k]!.data;
    const prev = k > 0 ? channels[k - 1]!.data : undefined;
    for (let i = 0; i < h; i++) {
      const r = i * w;
      if (prev) {
        // seam: first column of this channel minus last column of the previous one
        const s = d[r]! - prev[r + w - 1]!;
        rf += s * s;
      }
      for (let j = 1; j < w; j++) {
        const e = d[r + j]! - d[r + j - 1]!;
        rf += e * e;
      }
      if (i > 0) {
        for (let j = 0; j < w; j++) {
          const e = d[r + j]! - d[r - w + j]!;
          cf += e * e;
        }
      }
    }
  }
  const n = h * w * channels.length;
  return Math.sqrt(rf / n + cf / n);
}

export const Spatial_frequency: VifbMetric = {
  name: 'Spatial_frequency',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Spatial frequency of the fused channels placed side by side ([R|G|B], VIFB quirk)',
  uses: ['fused'],
  compute: (inputs) => {
    channelTriples('Spatial_frequency', inputs);
    return spatialFrequencySideBySide(inputs.fused);
  },
};
