/**
 * Correlation with a small non-separable 2-D kernel (a motion-blur line, a defocus disk), edge replicated, the
 * output the size of the input. Separable kernels have faster paths (gaussian.ts, valid.ts).
 */
import type { Plane, Plane64 } from '../core/image.js';
import { replicateIndex } from './border.js';

/** A `size` x `size` kernel (odd size), row-major, centred. */
export interface Kernel2d {
  readonly size: number;
  readonly data: Float64Array;
}

/**
 * out(y, x) = sum over the kernel's non-zero taps of k(j, i) * src(y + j - c, x + i - c), c = (size - 1) / 2,
 * coordinates outside the image replaced by the nearest edge pixel.
 * @example filter2dReplicate(plane, { size: 3, data: new Float64Array(9).fill(1 / 9) }) // 3x3 mean
 */
export function filter2dReplicate(src: Plane<Float32Array | Float64Array>, k: Kernel2d): Plane64 {
  const { width: w, height: h, data } = src;
  if (!(k.size % 2 === 1 && k.data.length === k.size * k.size)) throw new RangeError(`filter2dReplicate: expected an odd square kernel, got ${k.data.length} taps for size ${k.size}`);
  const c = (k.size - 1) / 2;
  const taps: { dy: number; dx: number; v: number }[] = [];
  for (let j = 0; j < k.size; j++) for (let i = 0; i < k.size; i++) if (k.data[j * k.size + i] !== 0) taps.push({ dy: j - c, dx: i - c, v: k.data[j * k.size + i]! });
  const out = new Float64Array(w * h);
  // Column indices per tap offset, replicated at the borders, computed once.
  const cols = new Map<number, Int32Array>();
  for (const t of taps) if (!cols.has(t.dx)) cols.set(t.dx, Int32Array.from({ length: w }, (_, x) => replicateIndex(x + t.dx, w)));
  for (const t of taps) {
    const col = cols.get(t.dx)!;
    for (let y = 0; y < h; y++) {
      const row = replicateIndex(y + t.dy, h) * w;
      const o = y * w;
      for (let x = 0; x < w; x++) out[o + x] += t.v * data[row + col[x]!]!;
    }
  }
  return { width: w, height: h, data: out };
}
