// MSE (src/metrics/mmif/mse.ts). Reference values hand-derived from docs/METRICS.md#mmif-mse; tolerance 1e-15 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MSE, mse } from '../../../src/metrics/mmif/mse.js';
import { assertRel, average, constant, fromRows, mapPlane, randomPlane } from './helpers.js';

test('MSE: hand example A = 0, B = 2, F = 1 gives (1 + 1) / 2 = 1', () => {
  assert.equal(mse(constant(3, 3, 0), constant(3, 3, 2), constant(3, 3, 1)), 1);
});

test('MSE: hand example on 1x2 images', () => {
  // A - F = [0, 0], B - F = [2, -2]: (0 + 4) / 2 = 2
  assertRel(mse(fromRows([[10, 20]]), fromRows([[12, 18]]), fromRows([[10, 20]])), 2, 1e-15);
});

test('MSE: 0 when F = A = B; symmetric in A and B; invariant to a common shift', () => {
  const a = randomPlane(17, 11, 9), b = randomPlane(17, 11, 10), f = average(a, b);
  assert.equal(mse(a, a, a), 0);
  assert.equal(mse(a, b, f), mse(b, a, f));
  const s = (p: typeof a) => mapPlane(p, (v) => v + 3);
  assertRel(mse(s(a), s(b), s(f)), mse(a, b, f), 1e-12, 'shifted');
});

test('MSE: lower is better', () => {
  assert.equal(MSE.higherIsBetter, false);
  assert.deepEqual([...MSE.uses], ['ir', 'vis', 'fused']);
});
