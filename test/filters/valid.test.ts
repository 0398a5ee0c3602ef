// Separable 'valid' filtering (src/filters/valid.ts) and its WebAssembly SIMD kernels
// (src/filters/valid-wasm.ts). Reference values: a direct 2-D double loop written below from the
// definition (tolerance 1e-13 relative to the data scale), and the JavaScript fallback, which must be
// bit-identical to the SIMD path (same operations in the same order).
import { test, after } from 'node:test';
import assert from 'node:assert/strict';
import type { Plane64 } from '../../src/core/image.js';
import { gaussian1d } from '../../src/filters/gaussian.js';
import { boxSumValid, filterValid } from '../../src/filters/valid.js';
import { disableWasmFilter, wasmFilterAvailable } from '../../src/filters/valid-wasm.js';
import { rng } from '../metrics/mmif/helpers.js';

function randomPlane(w: number, h: number, seed: number, integer = true): Plane64 {
  const r = rng(seed);
  return { width: w, height: h, data: Float64Array.from({ length: w * h }, () => (integer ? Math.floor(r() * 256) : r() * 255)) };
}

function naive(src: Plane64, k: Float64Array, step: number): Plane64 {
  const n = k.length, ow = Math.ceil((src.width - n + 1) / step), oh = Math.ceil((src.height - n + 1) / step);
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) {
    let s = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += k[i]! * k[j]! * src.data[(y * step + i) * src.width + x * step + j]!;
    out[y * ow + x] = s;
  }
  return { width: ow, height: oh, data: out };
}

after(() => disableWasmFilter(false));

test('filter: WebAssembly SIMD kernels are available on Node 20', () => {
  assert.equal(wasmFilterAvailable(), true);
});

test('filterValid: matches a direct 2-D sum for Gaussian windows 17/9/5/3, strides 1 and 2, odd sizes', () => {
  for (const [w, h] of [[37, 29], [17, 17], [50, 23]] as const) {
    const src = randomPlane(w, h, w * h);
    for (const n of [17, 9, 5, 3]) {
      if (n > w || n > h) continue;
      for (const step of [1, 2]) {
        const k = gaussian1d(n, n / 5);
        const got = filterValid(src, k, step), want = naive(src, k, step);
        assert.deepEqual([got.width, got.height], [want.width, want.height]);
        for (let i = 0; i < want.data.length; i++) {
          assert.ok(Math.abs(got.data[i]! - want.data[i]!) <= 255 * 1e-13, `${w}x${h} n=${n} step=${step} i=${i}: ${got.data[i]} vs ${want.data[i]}`);
        }
      }
    }
  }
});

test('filterValid / boxSumValid: the SIMD path and the JavaScript fallback are bit-identical', () => {
  const src = randomPlane(61, 43, 7, false);
  const k = gaussian1d(9, 1.8);
  const simd = [filterValid(src, k), filterValid(src, k, 2), boxSumValid(src, 7), boxSumValid(randomPlane(61, 43, 8), 7, true)];
  disableWasmFilter(true);
  try {
    assert.equal(wasmFilterAvailable(), false);
    const js = [filterValid(src, k), filterValid(src, k, 2), boxSumValid(src, 7), boxSumValid(randomPlane(61, 43, 8), 7, true)];
    for (let c = 0; c < simd.length; c++) assert.deepEqual(simd[c], js[c], `case ${c}`);
  } finally {
    disableWasmFilter(false);
  }
});

test('boxSumValid: exact integer sums (7x7 windows of 0..255 squares)', () => {
  const src = randomPlane(20, 15, 9);
  const sq = { ...src, data: src.data.map((v) => v * v) };
  const got = boxSumValid(sq, 7, true);
  const want = naive(sq, new Float64Array(7).fill(1), 1);
  assert.deepEqual(got, want);
});

test('filterValid: a window larger than the image is a RangeError', () => {
  assert.throws(() => filterValid(randomPlane(8, 20, 1), gaussian1d(9, 1.8)), RangeError);
});
