/**
 * Average fusion: `F(x, y) = (ir(x, y) + vis(x, y)) / 2`.
 *
 * The simplest baseline of the field: keeps half of each source's contrast. Any size >= 1 x 1; no options.
 * Identical inputs return that input exactly.
 */
import type { Plane } from '../../core/image.js';
import type { Fuser, FuserOptions } from '../types.js';
import { checkOptionKeys, checkPair, toUnitPlane, type InputPlane } from './options.js';

/**
 * Per-pixel mean of two planes.
 *
 * @param ir infrared / functional plane, values in [0, 1], width x height >= 1 x 1.
 * @param vis visible luminance / MRI plane, same size.
 * @returns new float32 plane in [0, 1] (clamped; inputs outside [0, 1] are not rejected).
 * @throws IsfuseError (input) on mismatched or empty planes; (usage) on any option.
 * @example const f = averageFuse(ir, vis);
 */
export function averageFuse(ir: InputPlane, vis: InputPlane, options?: Record<string, never>): Plane {
  checkOptionKeys('average', options, []);
  const { width, height } = checkPair('average', ir, vis);
  const a = ir.data;
  const b = vis.data;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = 0.5 * (a[i]! + b[i]!);
  return toUnitPlane(width, height, out);
}

export const average: Fuser = Object.freeze({
  name: 'average',
  description: 'Per-pixel mean of the two sources',
  options: Object.freeze({}),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<Plane> {
    return averageFuse(ir, vis, options as Record<string, never> | undefined);
  },
});
