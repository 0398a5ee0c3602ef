// CC (src/metrics/mmif/cc.ts). Reference values hand-derived from Pearson's r (docs/METRICS.md#mmif-cc); tolerance
// 1e-12.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CC, cc } from '../../../src/metrics/mmif/cc.js';
import { assertRel, average, constant, fromRows, mapPlane, randomPlane } from './helpers.js';

test('CC: F = A = B gives 1; F = 255 - A with B = A gives -1', () => {
  const a = randomPlane(12, 9, 11);
  assertRel(cc(a, a, a), 1, 1e-12);
  assertRel(cc(a, a, mapPlane(a, (v) => 255 - v)), -1, 1e-12);
});

test('CC: hand example', () => {
  // r([1,2,3],[1,2,4]) = 3 / sqrt(2 * 4.6667) = 0.98198..., r([3,2,1],[1,2,4]) = -0.98198...
  const f = fromRows([[1, 2, 4]]);
  const r = 3 / Math.sqrt(2 * (14 / 3));
  assertRel(cc(fromRows([[1, 2, 3]]), fromRows([[1, 2, 3]]), f), r, 1e-15);
  assert.ok(Math.abs(cc(fromRows([[1, 2, 3]]), fromRows([[3, 2, 1]]), f)) < 1e-15);
});

test('CC: symmetric in A and B; invariant to a positive affine change of F; within [-1, 1]', () => {
  const a = randomPlane(20, 14, 12, true), b = randomPlane(20, 14, 13, true), f = average(a, b);
  const v = cc(a, b, f);
  assert.equal(cc(b, a, f), v);
  assertRel(cc(a, b, mapPlane(f, (x) => 0.5 * x + 7)), v, 1e-12, 'affine');
  assert.ok(v >= -1 && v <= 1);
});

test('CC: a constant image gives NaN (0/0, as the reference; docs/METRICS.md#edge-cases)', () => {
  const a = randomPlane(6, 6, 14);
  assert.ok(Number.isNaN(cc(a, a, constant(6, 6, 5))));
});

test('CC: registered, higher is better', () => {
  assert.equal(CC.higherIsBetter, true);
});
