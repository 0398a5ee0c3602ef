import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ensureMemory, Func, instantiate, op, simdAvailable, type ConstPool } from '../../../src/core/wasm-asm.js';
import { atanF64x2, expF64x2 } from '../../../src/metrics/common/wasm-math.js';
import { rng } from '../vifb/helpers.js';

// Reference: V8's own Math.exp / Math.atan (fdlibm). The SIMD versions transcribe fdlibm, so the doubles must be
// identical (Object.is: signed zeros and NaN included), on random arguments over the ranges Qabf uses and far
// beyond, and on the branch boundaries and special values.

/** A kernel applying `g` to n float64 (pairs) from `src` into `dst`. */
function mapper(name: string, g: (f: Func, x: number) => number, pool: ConstPool): Func {
  const f = new Func(name, 3, pool);
  f.whileNot([op.get(0), op.get(2), op.geU], () => {
    f.store(1, g(f, f.load(0)));
    f.inc(0, op.i32(16));
    f.inc(1, op.i32(16));
  });
  return f;
}

test('SIMD exp and atan return exactly Math.exp and Math.atan', () => {
  assert.equal(simdAvailable(), true);
  const K = instantiate((pool) => [mapper('exp', expF64x2, pool), mapper('atan', atanF64x2, pool)])!;
  assert.ok(K);
  const N = 1 << 17; // room for the inputs, then the outputs
  assert.ok(ensureMemory(K.memory, K.base + 16 * N + 32));
  const apply = (name: string, xs: Float64Array): Float64Array => {
    const mem = new Float64Array(K.memory.buffer), at = K.base / 8;
    mem.set(xs, at);
    K.exports[name]!(K.base, K.base + 8 * N, K.base + 8 * xs.length + (xs.length % 2) * 8);
    return mem.slice(at + N, at + N + xs.length);
  };
  const r = rng(21);
  const ranges = [1e-9, 0.3, 2, 8, 50, 800, 1e6];
  const xs = Float64Array.from({ length: 1 << 16 }, (_, i) => (r() - 0.5) * 2 * ranges[i % ranges.length]!);
  const fromHigh = (hi: number) => new Float64Array(new Uint32Array([0, hi]).buffer)[0]!;
  const special = [0, -0, 1, -1, 0.5, NaN, Infinity, -Infinity, 709.78, 709.8, -745.13, -745.14, -708.5, -740, 5e-324, 1e308,
    Math.LN2 / 2, (3 * Math.LN2) / 2, 2 ** -28, 2 ** -29, 2 ** 66, -(2 ** 66), 0.4375, 0.6875, 1.1875, 2.4375,
    fromHigh(0x3fd62e43), fromHigh(0x3fd62e42), fromHigh(0x3ff0a2b2), fromHigh(0x3e300000), fromHigh(0x3fdc0000), fromHigh(0x40038000)];
  const all = Float64Array.from([...xs, ...special, ...special.map((v) => -v), ...special.map((v) => v * (1 + 2 ** -52))]);
  for (const [name, ref] of [['exp', Math.exp], ['atan', Math.atan]] as const) {
    const got = apply(name, all);
    for (let i = 0; i < all.length; i++) assert.ok(Object.is(got[i], ref(all[i]!)), `${name}(${all[i]}) = ${got[i]}, Math: ${ref(all[i]!)}`);
  }
  // ratios of Sobel responses, Qabf's atan arguments
  const q: number[] = [];
  for (let a = -1020; a <= 1020; a += 7) for (let b = -1020; b <= 1020; b += 11) if (b !== 0) q.push((255 * a) / (-255 * b));
  const got = apply('atan', Float64Array.from(q));
  q.forEach((v, i) => assert.ok(Object.is(got[i], Math.atan(v)), `atan(${v})`));
});
