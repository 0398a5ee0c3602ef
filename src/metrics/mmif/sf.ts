/**
 * SF — spatial frequency of the fused image (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-sf):
 * `SF = sqrt( mean_{H x (W-1)} (F(i,j+1) - F(i,j))^2 + mean_{(H-1) x W} (F(i+1,j) - F(i,j))^2 )`
 * (row and column frequencies, each averaged over its own number of differences). Higher is better.
 * Depends on the fused image only. Invariant to adding a constant; scales linearly with the image.
 *
 * Paper: A. M. Eskicioglu, P. S. Fisher, "Image quality measures and their performance",
 * IEEE Trans. Commun. 43(12), 1995.
 *
 * Reference implementation reproduced: `Evaluator.SF` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: float64; exact sums for integer inputs; matches golden `values_float64` to 1e-12 relative
 * (float32 `values`: ~1e-7). Needs at least 2x2 pixels (the reference's means are empty otherwise).
 * Not the VIFB definition (that one divides by H*3W on side-by-side RGB channels).
 */
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Spatial frequency of `f`. */
export function sf(f: Plane64): number {
  checkPlanes('SF', [f], 2);
  const { width: w, height: h, data } = f;
  let rf = 0, cf = 0;
  for (let y = 0; y < h; y++) {
    const r = y * w;
    for (let x = 1; x < w; x++) {
      const d = data[r + x]! - data[r + x - 1]!;
      rf += d * d;
    }
  }
  for (let y = 1; y < h; y++) {
    const r = y * w;
    for (let x = 0; x < w; x++) {
      const d = data[r + x]! - data[r - w + x]!;
      cf += d * d;
    }
  }
  return Math.sqrt(rf / (h * (w - 1)) + cf / ((h - 1) * w));
}

export const SF: MmifMetric = {
  name: 'SF',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Spatial frequency of the fused image (RMS of horizontal and vertical differences)',
  uses: ['fused'],
  compute: ({ fused }) => sf(fused),
};
