/**
 * Laplacian pyramid fusion (P. J. Burt, E. H. Adelson, "The Laplacian Pyramid as a Compact Image Code",
 * IEEE Trans. Communications 31(4), 1983; for fusion: A. Toet, 1989, and the multi-scale-transform
 * baselines of Liu et al., Information Fusion 24, 2015).
 *
 * 1. Build a Laplacian pyramid of each source with `levels` detail levels
 *    (see `../filters/pyramid.ts`: kernel [1,4,6,4,1]/16, OpenCV `pyrDown`/`pyrUp`, border reflect-101,
 *    EXPAND to the exact size of the finer level so that odd sizes work).
 * 2. Detail levels: at each coefficient keep the one of larger magnitude (max-abs; ties go to `vis`).
 * 3. Base level (`G_levels`): average of the two.
 * 4. Collapse the fused pyramid and clamp to [0, 1].
 *
 * Sizes: any width x height >= 1 x 1. `levels` is clamped to `[1, floor(log2(min(width, height)))]`
 * (at least one level: REDUCE of a side of 1 keeps 1). Identical inputs return that input to float64
 * rounding (< 1e-12 before the float32 output).
 *
 * Reference match: equals the same algorithm written with `cv2.pyrDown` / `cv2.pyrUp` (float64) to < 1e-6
 * (test/fusion/classical/lp.test.ts).
 */
import type { Plane } from '../../core/image.js';
import { collapseLaplacianPyramid, laplacianPyramid, maxPyramidLevels } from '../../filters/pyramid.js';
import type { Fuser, FuserOptions } from '../types.js';
import { checkOptionKeys, checkPair, intOption, maxAbs, toUnitPlane, type InputPlane } from './options.js';

export interface LpOptions {
  /** Detail levels, integer 1..8, default 4; clamped to `floor(log2(min(width, height)))` (at least 1). */
  readonly levels?: number;
}

export const LP_DEFAULTS = Object.freeze({ levels: 4 });

/** Levels actually used for a `width x height` image when `levels` are asked for. */
export function lpEffectiveLevels(levels: number, width: number, height: number): number {
  return Math.max(1, Math.min(levels, maxPyramidLevels(width, height)));
}

/**
 * Fuse two planes by Laplacian pyramid fusion.
 *
 * @param ir infrared / functional plane in [0, 1], width x height >= 1 x 1.
 * @param vis visible luminance / MRI plane, same size.
 * @param options `{ levels }` (default 4).
 * @returns new float32 plane in [0, 1].
 * @throws IsfuseError (usage) for a bad or unknown option; (input) for mismatched or empty planes.
 * @example const f = lpFuse(ir, vis, { levels: 5 });
 */
export function lpFuse(ir: InputPlane, vis: InputPlane, options?: LpOptions): Plane {
  const o = checkOptionKeys('lp', options, ['levels']);
  const levels = intOption('levels', o['levels'], 1, 8, LP_DEFAULTS.levels);
  const { width, height } = checkPair('lp', ir, vis);
  const L = lpEffectiveLevels(levels, width, height);
  const pa = laplacianPyramid(ir, L);
  const pb = laplacianPyramid(vis, L);
  for (let k = 0; k < L; k++) {
    const a = pa.details[k]!.data;
    const b = pb.details[k]!.data;
    for (let i = 0; i < a.length; i++) a[i] = maxAbs(a[i]!, b[i]!);
  }
  const ba = pa.base.data;
  const bb = pb.base.data;
  for (let i = 0; i < ba.length; i++) ba[i] = 0.5 * (ba[i]! + bb[i]!);
  const fused = collapseLaplacianPyramid(pa);
  return toUnitPlane(width, height, fused.data);
}

export const lp: Fuser = Object.freeze({
  name: 'lp',
  description: 'Laplacian pyramid fusion: max-abs detail coefficients, averaged base level',
  reference: 'P. J. Burt, E. H. Adelson, "The Laplacian Pyramid as a Compact Image Code", IEEE Trans. Communications 31(4), 1983',
  options: Object.freeze({
    levels: 'detail levels of the pyramid, integer 1..8 (default 4); clamped to floor(log2(min(width, height))), at least 1',
  }),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<Plane> {
    return lpFuse(ir, vis, options as LpOptions | undefined);
  },
});
