/**
 * VIF — pixel-domain visual information fidelity of the fused image with respect to each source
 * (mmif convention; CDDFuse calls it "VIFF", and the golden file keys it `VIFF`: both names are accepted).
 *
 * Definition (docs/METRICS.md#mmif-vif): `VIF = VIFp(A, F) + VIFp(B, F)`, with VIFp(ref, dist) over four scales
 * s = 1..4, window `n_s = 2^(5-s) + 1` (17, 9, 5, 3), Gaussian sigma `n_s / 5` normalised to sum 1:
 * - s > 1: `ref <- (ref (*) w_s)[::2, ::2]`, same for dist ('valid' filtering, cumulative over scales);
 * - `mu = x (*) w_s`, `s1 = ref^2 (*) w - mu1^2`, `s2 = dist^2 (*) w - mu2^2`, `s12 = ref dist (*) w - mu1 mu2`;
 * - clamps in the reference's order: `s1, s2 >= 0`; `g = s12 / (s1 + 1e-10)`, `sv = s2 - g s12`;
 *   `s1 < 1e-10 -> g = 0, sv = s2, s1 = 0`; `s2 < 1e-10 -> g = 0, sv = 0`; `g < 0 -> sv = s2, g = 0`;
 *   `sv <= 1e-10 -> 1e-10`;
 * - `num += sum log10(1 + g^2 s1 / (sv + 2))`, `den += sum log10(1 + s1 / 2)` (noise variance 2);
 * - `VIFp = num / den`, and **1.0** when that is NaN (e.g. a constant reference: 0/0).
 * Higher is better (about 0..2 for the sum; above 1 per source means contrast enhancement). Symmetric in A and B.
 * This is Sheikh & Bovik's pixel-domain VIF, not Han et al.'s VIFF, whatever the reference's name says.
 *
 * Paper: H. R. Sheikh, A. C. Bovik, "Image information and visual quality", IEEE Trans. Image Process. 15(2), 2006
 * (the fusion literature cites Y. Han, Y. Cai, Y. Cao, X. Xu, "A new image fusion performance metric based on
 * visual information fidelity", Inf. Fusion 14(2), 2013, for this number).
 *
 * Reference implementation reproduced: `Evaluator.VIFF` / `compare_viff` in utils/Evaluator.py of
 * Zhaozixiang1228/MMIF-CDDFuse at commit fd8da1f39d8d403b7343e577bd5a30cba38c7b7b.
 *
 * Implementation: the 2-D Gaussian windows are outer products of 1-D Gaussians (no entry of the 17x17 window
 * falls below `eps * max`, so the reference's zeroing never applies) and are applied separably in float64;
 * the filter-then-decimate steps compute only the kept (even) outputs; F's statistics are shared by both sources;
 * the per-pixel `log10` terms are summed as `log10` of products of 16 factors (each factor is >= 1 and bounded,
 * so nothing overflows; the result changes by ~1e-16 relative).
 *
 * Tolerance: tested against golden `values_float64` at 1e-6 relative (the spec's bound: the local variances
 * `E[x^2] - mu^2` are ill-conditioned in flat regions, so summation order matters there); measured 3.7e-10 on the
 * golden cases, and 1e-9 against a direct 2-D implementation.
 * Needs at least 41x41 pixels (so that every scale keeps at least one 'valid' pixel).
 */
import { gaussian1d } from '../../filters/gaussian.js';
import { filterMomentsValid, filterValid } from '../../filters/valid.js';
import { checkPlanes } from '../common/validate.js';
import type { MmifMetric, Plane64 } from '../types.js';

const EPS = 1e-10;
const SIGMA_NSQ = 2;
const CHUNK = 16;
/** Smallest side for which all four scales are defined. */
export const VIF_MIN_SIZE = 41;

/**
 * VIFp of each reference in `refs` against the same distorted image `dist` (all the same size, >= 41x41).
 * Returns one value per reference; `vifp([ref], dist)[0]` is `compare_viff(ref, dist)`.
 */
export function vifp(refs: readonly Plane64[], dist: Plane64): number[] {
  checkPlanes('VIF', [...refs, dist], VIF_MIN_SIZE);
  let R: readonly Plane64[] = refs;
  let D = dist;
  const num = refs.map(() => 0), den = refs.map(() => 0);
  for (let scale = 1; scale <= 4; scale++) {
    const n = 2 ** (5 - scale) + 1;
    const k = gaussian1d(n, n / 5);
    if (scale > 1) {
      R = R.map((r) => filterValid(r, k, 2));
      D = filterValid(D, k, 2);
    }
    const dm = filterMomentsValid(D, null, k);
    const mu2 = dm.mean.data, d2 = dm.sq.data;
    for (let r = 0; r < R.length; r++) {
      const rm = filterMomentsValid(R[r]!, D, k);
      const mu1 = rm.mean.data, r2 = rm.sq.data, rd = rm.cross!.data;
      // log10 of products of up to CHUNK factors instead of CHUNK log10 calls (factors are >= 1 and bounded by
      // ~1 + 255^2 / 2, so a chunk cannot overflow): same sums up to ~1e-16 relative per factor.
      let nu = 0, de = 0, pn = 1, pd = 1, cnt = 0;
      for (let i = 0; i < mu1.length; i++) {
        const m1 = mu1[i]!, m2 = mu2[i]!;
        let s1 = r2[i]! - m1 * m1;
        let s2 = d2[i]! - m2 * m2;
        const s12 = rd[i]! - m1 * m2;
        if (s1 < 0) s1 = 0;
        if (s2 < 0) s2 = 0;
        let g = s12 / (s1 + EPS);
        let sv = s2 - g * s12;
        if (s1 < EPS) {
          // g = 0 and s1 = 0: both terms are log10(1) = 0.
          continue;
        }
        if (s2 < EPS) {
          g = 0;
          sv = 0;
        }
        if (g < 0) {
          sv = s2;
          g = 0;
        }
        if (sv <= EPS) sv = EPS;
        pn *= 1 + (g * g * s1) / (sv + SIGMA_NSQ);
        pd *= 1 + s1 / SIGMA_NSQ;
        if (++cnt === CHUNK) {
          nu += Math.log10(pn);
          de += Math.log10(pd);
          pn = pd = 1;
          cnt = 0;
        }
      }
      nu += Math.log10(pn);
      de += Math.log10(pd);
      num[r]! += nu;
      den[r]! += de;
    }
  }
  return num.map((v, r) => {
    const q = v / den[r]!;
    return Number.isNaN(q) ? 1 : q;
  });
}

/** `VIFp(A, F) + VIFp(B, F)`. */
export function vif(a: Plane64, b: Plane64, f: Plane64): number {
  checkPlanes('VIF', [a, b, f], VIF_MIN_SIZE);
  const [va, vb] = vifp([a, b], f);
  return va! + vb!;
}

export const VIF: MmifMetric = {
  name: 'VIF',
  convention: 'mmif',
  higherIsBetter: true,
  description: "Pixel-domain visual information fidelity VIFp(A,F) + VIFp(B,F) (CDDFuse's 'VIFF')",
  uses: ['ir', 'vis', 'fused'],
  compute: ({ ir, vis, fused }) => vif(ir, vis, fused),
};
