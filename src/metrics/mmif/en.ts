/**
 * EN — Shannon entropy of the fused image (mmif convention).
 *
 * Definition (docs/METRICS.md#mmif-en): `q = round_half_even(F)` as 8-bit values, `h = hist256(q) / N`,
 * `EN = -sum_{h(b) > 0} h(b) log2 h(b)` in bits. Range 0..8; higher means more information (direction: higher is
 * better). Depends on the fused image only.
 *
 * Paper: J. W. Roberts, J. A. van Aardt, F. B. Ahmed, "Assessment of image fusion procedures using entropy,
 * image quality, and multispectral classification", J. Appl. Remote Sens. 2(1) 023522, 2008.
 *
 * Reference implementation reproduced: `Evaluator.EN` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Tolerance: matches the golden `values` and `values_float64` to 1e-12 relative (the reference histogram is
 * exact; only the order of the 256-term sum can differ).
 *
 * Known deviation: the reference casts with `np.uint8`, which wraps values outside 0..255; here values are
 * rounded half to even and then clamped to 0..255, NaN counting as 0 (the loaders never produce such values).
 */
import { roundHalfEven } from '../../io/color.js';
import { entropyBits, histogram256 } from '../common/histogram.js';
import { checkPlanes, isByteValued } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

/** Entropy in bits of the rounded 0..255 values of `f`. */
export function en(f: Plane64): number {
  checkPlanes('EN', [f]);
  let q = f.data;
  if (!isByteValued(q)) {
    q = new Float64Array(q.length);
    for (let i = 0; i < q.length; i++) {
      const r = roundHalfEven(f.data[i]!);
      q[i] = r < 0 ? 0 : r > 255 ? 255 : r === r ? r : 0;
    }
  }
  return entropyBits(histogram256(q), q.length);
}

export const EN: MmifMetric = {
  name: 'EN',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'Entropy of the fused image (bits, 256 bins)',
  uses: ['fused'],
  compute: ({ fused }) => en(fused),
};
