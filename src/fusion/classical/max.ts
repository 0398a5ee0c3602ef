/**
 * Maximum fusion: `F(x, y) = max(ir(x, y), vis(x, y))`.
 *
 * Keeps the brighter source at every pixel (hot targets from infrared, lit scene from visible).
 * Any size >= 1 x 1; no options. Identical inputs return that input exactly.
 */
import type { Plane } from '../../core/image.js';
import type { Fuser, FuserOptions } from '../types.js';
import { checkOptionKeys, checkPair, toUnitPlane, type InputPlane } from './options.js';

/**
 * Per-pixel maximum of two planes.
 *
 * @param ir infrared / functional plane, values in [0, 1], width x height >= 1 x 1.
 * @param vis visible luminance / MRI plane, same size.
 * @returns new float32 plane in [0, 1] (clamped).
 * @throws IsfuseError (input) on mismatched or empty planes; (usage) on any option.
 * @example const f = maxFuse(ir, vis);
 */
export function maxFuse(ir: InputPlane, vis: InputPlane, options?: Record<string, never>): Plane {
  checkOptionKeys('max', options, []);
  const { width, height } = checkPair('max', ir, vis);
  const a = ir.data;
  const b = vis.data;
  const out = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! > b[i]! ? a[i]! : b[i]!;
  return toUnitPlane(width, height, out);
}

export const max: Fuser = Object.freeze({
  name: 'max',
  description: 'Per-pixel maximum of the two sources',
  options: Object.freeze({}),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<Plane> {
    return maxFuse(ir, vis, options as Record<string, never> | undefined);
  },
});
