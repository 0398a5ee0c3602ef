/**
 * Test inputs and reference fixtures shared by the classical-fusion tests.
 *
 * `makeInputs` must stay identical to `make_inputs` in tools/make_fusion_fixtures.py, which computed the
 * reference outputs in test/fixtures/fusion/*.json from these same planes.
 */
import { readFileSync } from 'node:fs';
import { plane, type Plane } from '../../../src/core/image.js';

/** Deterministic pair: LCG noise (8 integer + 16 fractional bits) over a disk (ir) and a ramp (vis), / 255, float32. */
export function makeInputs(w: number, h: number, seed: number): { ir: Plane; vis: Plane } {
  let s = seed >>> 0;
  const next = (): number => {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    return (s >>> 24) + ((s >>> 8) & 0xffff) / 65536;
  };
  const cx = Math.floor((2 * w) / 5);
  const cy = Math.floor((3 * h) / 5);
  const r2 = Math.floor(Math.min(w, h) / 3) ** 2;
  const ir = new Float32Array(w * h);
  const vis = new Float32Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const nIr = next();
      const nVis = next();
      const inside = (x - cx) ** 2 + (y - cy) ** 2 <= r2;
      ir[y * w + x] = (inside ? 120 + (nIr % 128) : 40 + (nIr % 32)) / 255;
      vis[y * w + x] = (((x * 7 + y * 11) % 64) + (2 * x < w ? nVis % 128 : nVis % 32)) / 255;
    }
  }
  return { ir: plane(w, h, ir), vis: plane(w, h, vis) };
}

/** Decode a base64 little-endian float32 array. */
export function decodeF32(b64: string): Float32Array {
  const buf = Buffer.from(b64, 'base64');
  const out = new Float32Array(buf.length / 4);
  for (let i = 0; i < out.length; i++) out[i] = buf.readFloatLE(4 * i);
  return out;
}

export interface FixtureCase {
  width: number;
  height: number;
  seed: number;
  options: Record<string, unknown>;
  margin: number | null;
  effectiveLevels?: number;
  output: string;
}

export interface Fixture {
  generator: string;
  reference: string;
  cases: FixtureCase[];
  [extra: string]: unknown;
}

/** Read test/fixtures/fusion/<name>.json. */
export function loadFixture(name: string): Fixture {
  const url = new URL(`../../fixtures/fusion/${name}.json`, import.meta.url);
  return JSON.parse(readFileSync(url, 'utf8')) as Fixture;
}

/** Largest absolute difference of two equally long arrays. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new RangeError(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}

/** Smallest and largest value. */
export function range(a: ArrayLike<number>): [number, number] {
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < a.length; i++) {
    lo = Math.min(lo, a[i]!);
    hi = Math.max(hi, a[i]!);
  }
  return [lo, hi];
}
