/**
 * Test helpers for the mmif metric tests: seeded random planes and small constructors. Not a test file.
 */
import { plane64 } from '../../../src/core/image.js';
import type { Plane64 } from '../../../src/metrics/types.js';

/** mulberry32: a small deterministic PRNG in [0, 1) (the project's own, src/core/random.ts). */
import { mulberry32 as rng } from '../../../src/core/random.js';
export { rng };

/** A w x h plane of random integers 0..255 (seeded), optionally smoothed so it has structure like a photo. */
export function randomPlane(w: number, h: number, seed: number, smooth = false): Plane64 {
  const r = rng(seed);
  const d = new Float64Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = Math.floor(r() * 256);
  if (!smooth) return plane64(w, h, d);
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0, n = 0;
      for (let dy = -2; dy <= 2; dy++) {
        for (let dx = -2; dx <= 2; dx++) {
          const yy = y + dy, xx = x + dx;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) {
            s += d[yy * w + xx]!;
            n++;
          }
        }
      }
      out[y * w + x] = Math.round(s / n);
    }
  }
  return plane64(w, h, out);
}

/** A plane from rows of numbers. */
export function fromRows(rows: number[][]): Plane64 {
  const h = rows.length, w = rows[0]!.length;
  return plane64(w, h, Float64Array.from(rows.flat()));
}

/** A constant plane. */
export function constant(w: number, h: number, v: number): Plane64 {
  return plane64(w, h, new Float64Array(w * h).fill(v));
}

/** Element-wise map of a plane. */
export function mapPlane(p: Plane64, f: (v: number, i: number) => number): Plane64 {
  return plane64(p.width, p.height, p.data.map(f));
}

/** Transpose of a plane. */
export function transpose(p: Plane64): Plane64 {
  const out = new Float64Array(p.data.length);
  for (let y = 0; y < p.height; y++) for (let x = 0; x < p.width; x++) out[x * p.height + y] = p.data[y * p.width + x]!;
  return plane64(p.height, p.width, out);
}

/** Per-pixel rounded average, the "fused image" of many tests. */
export function average(a: Plane64, b: Plane64): Plane64 {
  return mapPlane(a, (v, i) => Math.floor((v + b.data[i]! + 1) / 2));
}

/** |a - b| / |b| (0 when both are 0). */
export function relErr(a: number, b: number): number {
  return a === b ? 0 : Math.abs(a - b) / Math.abs(b);
}

/** Asserts |actual - expected| <= tol * |expected| with a readable message. */
export function assertRel(actual: number, expected: number, tol: number, what = 'value'): void {
  const e = relErr(actual, expected);
  if (!(e <= tol)) throw new Error(`${what}: expected ${expected} within ${tol} relative but received ${actual} (relative error ${e.toExponential(2)})`);
}
