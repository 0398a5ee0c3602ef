// PSNR (src/metrics/mmif/psnr.ts). Reference values hand-derived from docs/METRICS.md#mmif-psnr; tolerance 1e-15
// relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PSNR, psnr } from '../../../src/metrics/mmif/psnr.js';
import { assertRel, average, constant, fromRows, randomPlane } from './helpers.js';

test('PSNR: the peak is max(F), not 255: hand example gives 10 log10(400 / 2)', () => {
  // F = [10, 20], A = F, B = [12, 18]: MSE = (0 + 4) / 2 = 2, max(F) = 20
  assertRel(psnr(fromRows([[10, 20]]), fromRows([[12, 18]]), fromRows([[10, 20]])), 10 * Math.log10(200), 1e-15);
});

test('PSNR: zero error gives +Infinity; an all-zero triple gives NaN (0/0, numpy semantics)', () => {
  const a = randomPlane(5, 5, 15);
  assert.equal(psnr(a, a, a), Infinity);
  assert.ok(Number.isNaN(psnr(constant(3, 3, 0), constant(3, 3, 0), constant(3, 3, 0))));
});

test('PSNR: symmetric in A and B', () => {
  const a = randomPlane(16, 12, 16), b = randomPlane(16, 12, 17), f = average(a, b);
  assert.equal(psnr(a, b, f), psnr(b, a, f));
  assert.ok(Number.isFinite(psnr(a, b, f)));
});

test('PSNR: registered, higher is better', () => {
  assert.equal(PSNR.higherIsBetter, true);
});
