// SCD (src/metrics/mmif/scd.ts). Reference values derived from the definition (docs/METRICS.md#mmif-scd); tolerance
// 1e-12.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SCD, scd } from '../../../src/metrics/mmif/scd.js';
import { plane64 } from '../../../src/core/image.js';
import { assertRel, average, constant, fromRows, randomPlane } from './helpers.js';

test('SCD: F = A + B gives r(A, A) + r(B, B) = 2', () => {
  const a = randomPlane(15, 10, 18), b = randomPlane(15, 10, 19);
  const f = plane64(15, 10, a.data.map((v, i) => v + b.data[i]!));
  assertRel(scd(a, b, f), 2, 1e-12);
});

test('SCD: hand example', () => {
  // A = [1,2,3], B = [3,1,2], F = [2,2,2]: F - B = [-1,1,0], F - A = [1,0,-1]
  // r([1,2,3],[-1,1,0]) = 1/sqrt(2*2) = 0.5; r([3,1,2],[1,0,-1]) = 1/sqrt(2*2) = 0.5
  assertRel(scd(fromRows([[1, 2, 3]]), fromRows([[3, 1, 2]]), fromRows([[2, 2, 2]])), 1, 1e-15);
});

test('SCD: symmetric in A and B; within [-2, 2]', () => {
  const a = randomPlane(22, 13, 20, true), b = randomPlane(22, 13, 21, true), f = average(a, b);
  const v = scd(a, b, f);
  assertRel(scd(b, a, f), v, 1e-15);
  assert.ok(v >= -2 && v <= 2);
});

test('SCD: a constant source gives NaN (0/0, docs/METRICS.md#edge-cases)', () => {
  const b = randomPlane(6, 6, 22);
  assert.ok(Number.isNaN(scd(constant(6, 6, 40), b, average(constant(6, 6, 40), b))));
});

test('SCD: registered, higher is better', () => {
  assert.equal(SCD.higherIsBetter, true);
});
