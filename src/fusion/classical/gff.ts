/**
 * Guided Filtering based Fusion, GFF (S. Li, X. Kang, J. Hu, "Image Fusion With Guided Filtering",
 * IEEE Trans. Image Processing 22(7), 2864-2875, 2013), as the authors' MATLAB code `GFF.m` (X. Kang, 2013;
 * the code VIFB runs) computes it, for two gray sources taken in the order (vis, ir):
 *
 * 1. Two-scale decomposition: base `B_n = mean_31x31(I_n)` (MATLAB `imfilter(I, fspecial('average', 31),
 *    'replicate')`: edge replication), detail `D_n = I_n - B_n`.
 * 2. Saliency: `S_n = gauss_11x11,sigma5(|lap(I_n)|)`, with `lap` the 3x3 kernel [0 1 0; 1 -4 1; 0 1 0];
 *    both filters with edge replication (`imfilter(..., 'replicate')`), i.e. r_g = 5, sigma_g = 5.
 * 3. Binary weight maps: `P_n = 1` where `S_n` is the largest (MATLAB `max` picks the first: ties go to `vis`).
 * 4. Weight refinement by the guided filter (He et al., `guidedfilter.m`: box sums over the window clipped to
 *    the image, divided by the actual sample count N) with the source as guide:
 *    `W^B_n = GF(I_n, P_n; r1 = 45, eps1 = 0.3)`, `W^D_n = GF(I_n, P_n; r2 = 7, eps2 = 1e-6)`.
 * 5. Normalisation to sum 1 per pixel. With `weights: 'authors'` (default) exactly as `GFF.m` does:
 *    `W = double(uint8(W * 255)) / 255` (clamps to [0, 1] and rounds to 1/255 steps, half away from zero),
 *    then `W = (W + 1e-12) / sum_n (W_n + 1e-12)`. With `weights: 'paper'`: `W_n / sum_n W_n` of the raw
 *    guided-filter outputs (where that sum is 0, equal weights).
 * 6. `F = sum_n W^B_n B_n + W^D_n D_n`, clamped to [0, 1] (the authors round to uint8 afterwards; the
 *    toolkit's encoder does that).
 *
 * Everything in float64, O(width x height) for any radius (running-sum box filters): a 640 x 480 pair in
 * a few tens of milliseconds. Sizes: any width x height >= 1 x 1 (the windows are clipped / replicated).
 * Identical inputs return that input to ~1e-12 (the 1e-12 of step 5 leaves the weights at 1 - 1e-12 and
 * 1e-12, which sum to 1).
 *
 * Reference match: equals an independent NumPy/SciPy implementation of the same steps (He's cumsum box
 * filter, `scipy.ndimage` replicate filters) to < 1e-6 (test/fusion/classical/gff.test.ts).
 */
import { plane64, type Plane } from '../../core/image.js';
import { boxMeanReplicate } from '../../filters/box.js';
import { gaussianBlurReplicate } from '../../filters/gaussian.js';
import { guidedFilter } from '../../filters/guided.js';
import { laplacian3x3Replicate } from '../../filters/laplacian.js';
import type { Fuser, FuserOptions } from '../types.js';
import { checkOptionKeys, checkPair, choiceOption, intOption, positiveOption, toUnitPlane, type InputPlane } from './options.js';

export type GffWeights = 'authors' | 'paper';

export interface GffOptions {
  /** Guided-filter radius for the base-layer weights, integer 1..1000, default 45. */
  readonly r1?: number;
  /** Guided-filter regularisation for the base-layer weights, > 0, default 0.3. */
  readonly eps1?: number;
  /** Guided-filter radius for the detail-layer weights, integer 1..1000, default 7. */
  readonly r2?: number;
  /** Guided-filter regularisation for the detail-layer weights, > 0, default 1e-6. */
  readonly eps2?: number;
  /** Weight normalisation: 'authors' (GFF.m: uint8 rounding, + 1e-12; default) or 'paper' (plain). */
  readonly weights?: GffWeights;
}

export const GFF_DEFAULTS = Object.freeze({ r1: 45, eps1: 0.3, r2: 7, eps2: 1e-6, weights: 'authors' as GffWeights });

/** Radius of the 31 x 31 base-layer average filter. */
const BASE_RADIUS = 15;
/** Saliency low-pass: (2 r_g + 1)^2 = 11 x 11 Gaussian, sigma_g = 5. */
const SAL_RADIUS = 5;
const SAL_SIGMA = 5;

/** MATLAB `double(uint8(v * 255)) / 255`: saturate to [0, 255], round half away from zero (NaN -> 0). */
function uint8Weight(v: number): number {
  const s = v * 255;
  if (!(s > 0)) return 0;
  if (s >= 255) return 1;
  return Math.floor(s + 0.5) / 255;
}

/**
 * Fuse two planes by GFF.
 *
 * @param ir infrared / functional plane in [0, 1], width x height >= 1 x 1.
 * @param vis visible luminance / MRI plane, same size.
 * @param options `{ r1, eps1, r2, eps2, weights }` (defaults 45, 0.3, 7, 1e-6, 'authors').
 * @returns new float32 plane in [0, 1].
 * @throws IsfuseError (usage) for a bad or unknown option; (input) for mismatched or empty planes.
 * @example const f = gffFuse(ir, vis); // the paper's parameters
 */
export function gffFuse(ir: InputPlane, vis: InputPlane, options?: GffOptions): Plane {
  const o = checkOptionKeys('gff', options, ['r1', 'eps1', 'r2', 'eps2', 'weights']);
  const r1 = intOption('r1', o['r1'], 1, 1000, GFF_DEFAULTS.r1);
  const eps1 = positiveOption('eps1', o['eps1'], GFF_DEFAULTS.eps1);
  const r2 = intOption('r2', o['r2'], 1, 1000, GFF_DEFAULTS.r2);
  const eps2 = positiveOption('eps2', o['eps2'], GFF_DEFAULTS.eps2);
  const weights = choiceOption('weights', o['weights'], ['authors', 'paper'] as const, GFF_DEFAULTS.weights);
  const { width, height } = checkPair('gff', ir, vis);
  const n = width * height;

  // Sources in the authors' stack order: vis first, so that saliency ties go to vis.
  const src = [vis, ir].map((p) => plane64(width, height, Float64Array.from(p.data)));
  const sal = src.map((p) => {
    const lap = laplacian3x3Replicate(p);
    const d = lap.data;
    for (let i = 0; i < n; i++) d[i] = Math.abs(d[i]!);
    return gaussianBlurReplicate(lap, SAL_RADIUS, SAL_SIGMA).data;
  });
  const p0 = new Float64Array(n);
  const p1 = new Float64Array(n);
  const s0 = sal[0]!;
  const s1 = sal[1]!;
  for (let i = 0; i < n; i++) {
    if (s1[i]! > s0[i]!) p1[i] = 1;
    else p0[i] = 1;
  }
  const P = [plane64(width, height, p0), plane64(width, height, p1)];

  const refine = (r: number, eps: number): Float64Array[] => {
    const w = src.map((g, k) => guidedFilter(g, P[k]!, r, eps).data);
    const a = w[0]!;
    const b = w[1]!;
    for (let i = 0; i < n; i++) {
      let wa = a[i]!;
      let wb = b[i]!;
      if (weights === 'authors') {
        wa = uint8Weight(wa) + 1e-12;
        wb = uint8Weight(wb) + 1e-12;
      }
      const s = wa + wb;
      if (s === 0) {
        a[i] = 0.5;
        b[i] = 0.5;
      } else {
        a[i] = wa / s;
        b[i] = wb / s;
      }
    }
    return w;
  };
  const wB = refine(r1, eps1);
  const wD = refine(r2, eps2);

  const out = new Float64Array(n);
  for (let k = 0; k < 2; k++) {
    const I = src[k]!.data;
    const B = boxMeanReplicate(src[k]!, BASE_RADIUS).data;
    const wb = wB[k]!;
    const wd = wD[k]!;
    for (let i = 0; i < n; i++) out[i]! += wb[i]! * B[i]! + wd[i]! * (I[i]! - B[i]!);
  }
  return toUnitPlane(width, height, out);
}

export const gff: Fuser = Object.freeze({
  name: 'gff',
  description: 'Guided filtering based fusion: two-scale decomposition, saliency weights refined by guided filters',
  reference: 'S. Li, X. Kang, J. Hu, "Image Fusion With Guided Filtering", IEEE Trans. Image Processing 22(7), 2864-2875, 2013',
  options: Object.freeze({
    r1: 'guided-filter radius for the base-layer weights, integer 1..1000 (default 45)',
    eps1: 'guided-filter regularisation for the base-layer weights, > 0 (default 0.3)',
    r2: 'guided-filter radius for the detail-layer weights, integer 1..1000 (default 7)',
    eps2: 'guided-filter regularisation for the detail-layer weights, > 0 (default 1e-6)',
    weights: "'authors' (default: GFF.m's uint8 rounding of the weights and + 1e-12) or 'paper' (plain normalisation)",
  }),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<Plane> {
    return gffFuse(ir, vis, options as GffOptions | undefined);
  },
});
