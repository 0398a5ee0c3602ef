/**
 * SSIM — structural similarity of the fused image with each source, as the mmif convention computes it.
 *
 * Definition (docs/METRICS.md#mmif-ssim): `SSIM = ssim(F, A) + ssim(F, B)` (range up to 2; higher is better; symmetric
 * in A and B) with scikit-image 0.19 `structural_similarity` defaults on 0..255 data:
 * - 7x7 **uniform** window; **sample** statistics: variances and covariance times 49/48;
 * - `data_range = 2` (skimage's default for float input), hence `C1 = (0.01*2)^2 = 4e-4`,
 *   `C2 = (0.03*2)^2 = 3.6e-3` although the data are 0..255: the stabilisers are practically absent;
 * - `map = (2 mu_x mu_y + C1)(2 s_xy + C2) / ((mu_x^2 + mu_y^2 + C1)(s_x + s_y + C2))`, averaged over the
 *   interior only (3 pixels cropped on every side = exactly the pixels whose 7x7 window lies in the image,
 *   so the 'reflect' border handling of the reference never matters).
 *
 * Paper: Z. Wang, A. C. Bovik, H. R. Sheikh, E. P. Simoncelli, "Image quality assessment: from error visibility
 * to structural similarity", IEEE Trans. Image Process. 13(4), 2004.
 *
 * Reference implementation reproduced: `Evaluator.SSIM` in utils/Evaluator.py of Zhaozixiang1228/MMIF-CDDFuse at
 * commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b (which calls `skimage.metrics.structural_similarity(F, X)`
 * with scikit-image 0.19.2; scikit-image >= 0.20 refuses float input without `data_range`).
 *
 * Arithmetic and tolerance: computed in float64 with exact 7x7 box sums (integer inputs), it matches the same
 * call on float64 arrays (golden `values_float64`) to 1e-9 relative. **Known deviation**: the reference passes
 * float32 arrays, and `E[x^2] - E[x]^2` cancels catastrophically in float32, so the number papers report differs
 * from this float64 value; on the 10 golden cases the float32 shift is at most 9.6e-6 relative (max over cases of
 * `|values - values_float64| / values_float64`), and this module is tested against the float32 values at 5e-4.
 * Needs at least 7x7 pixels. Not VIFB's SSIM (11x11 Gaussian, data range 255, 'valid').
 */
import { boxSumValid } from '../../filters/valid.js';
import { checkPlanes, isByteValued } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

const WIN = 7;
const NP = WIN * WIN;
const INV_NP = 1 / NP;
const COV_NORM = NP / (NP - 1);
const DATA_RANGE = 2;
const C1 = (0.01 * DATA_RANGE) ** 2;
const C2 = (0.03 * DATA_RANGE) ** 2;

function product(x: Float64Array, y: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  for (let i = 0; i < out.length; i++) out[i] = x[i]! * y[i]!;
  return out;
}

interface Moments {
  readonly s: Float64Array;
  readonly ss: Float64Array;
}

/** Box sums of x and x^2 over every interior 7x7 window (exact running sums for 0..255 integer data). */
function moments(p: Plane64, exact: boolean): Moments {
  return { s: boxSumValid(p, WIN, exact).data, ss: boxSumValid({ ...p, data: product(p.data, p.data) }, WIN, exact).data };
}

/** Mean SSIM map of x and y with moments already computed. */
function meanMap(x: Plane64, y: Plane64, mx: Moments, my: Moments, exact: boolean): number {
  const sxy = boxSumValid({ ...x, data: product(x.data, y.data) }, WIN, exact).data;
  let total = 0;
  for (let i = 0; i < sxy.length; i++) {
    const ux = mx.s[i]! * INV_NP, uy = my.s[i]! * INV_NP;
    const uxx = mx.ss[i]! * INV_NP, uyy = my.ss[i]! * INV_NP, uxy = sxy[i]! * INV_NP;
    const vx = COV_NORM * (uxx - ux * ux);
    const vy = COV_NORM * (uyy - uy * uy);
    const vxy = COV_NORM * (uxy - ux * uy);
    const a1 = 2 * ux * uy + C1, a2 = 2 * vxy + C2;
    const b1 = ux * ux + uy * uy + C1, b2 = vx + vy + C2;
    total += (a1 * a2) / (b1 * b2);
  }
  return total / sxy.length;
}

/** skimage-0.19-default SSIM of one pair (x, y the same size, at least 7x7). */
export function ssimPair(x: Plane64, y: Plane64): number {
  checkPlanes('SSIM', [x, y], WIN);
  const exact = isByteValued(x.data) && isByteValued(y.data);
  return meanMap(x, y, moments(x, exact), moments(y, exact), exact);
}

/** `ssim(F, A) + ssim(F, B)`. */
export function ssim(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('SSIM', [a, b, f], WIN);
  const exact = isByteValued(a.data) && isByteValued(b.data) && isByteValued(f.data);
  const mf = moments(f, exact);
  return meanMap(f, a, mf, moments(a, exact), exact) + meanMap(f, b, mf, moments(b, exact), exact);
}

export const SSIM: MmifMetric = {
  name: 'SSIM',
  convention: 'mmif',
  higherIsBetter: true,
  description: 'ssim(F,A) + ssim(F,B), skimage 0.19 defaults (7x7 box, sample stats, data_range 2)',
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => ssim(ir, vis, fused),
};
