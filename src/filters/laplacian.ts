/**
 * 3 x 3 Laplacian with edge replication: the kernel `[0 1 0; 1 -4 1; 0 1 0]` (MATLAB
 * `fspecial('laplacian', 0)`), as GFF's reference code applies it: `imfilter(I, L, 'replicate')`.
 */
import { plane64, type Plane, type Plane64 } from '../core/image.js';

/**
 * `out(x,y) = I(x-1,y) + I(x+1,y) + I(x,y-1) + I(x,y+1) - 4 I(x,y)`, out-of-image neighbours replaced by
 * the nearest edge sample.
 *
 * @param src plane, width x height >= 1 x 1.
 * @returns a new float64 plane (signed; 0 on constant regions).
 */
export function laplacian3x3Replicate(src: Plane<Float64Array | Float32Array>): Plane64 {
  const { width: w, height: h, data } = src;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    const o = y * w;
    const up = (y > 0 ? y - 1 : 0) * w;
    const dn = (y < h - 1 ? y + 1 : h - 1) * w;
    for (let x = 0; x < w; x++) {
      const l = x > 0 ? x - 1 : 0;
      const rr = x < w - 1 ? x + 1 : w - 1;
      out[o + x] = data[o + l]! + data[o + rr]! + data[up + x]! + data[dn + x]! - 4 * data[o + x]!;
    }
  }
  return plane64(w, h, out);
}
