// AG (src/metrics/mmif/ag.ts). Reference values hand-derived from docs/METRICS.md#mmif-ag; tolerance 1e-15 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AG, ag } from '../../../src/metrics/mmif/ag.js';
import { plane64 } from '../../../src/core/image.js';
import { assertRel, constant, fromRows, mapPlane, randomPlane, transpose } from './helpers.js';

test('AG: a horizontal ramp of slope 1 has gx = 1 everywhere (borders one-sided), gy = 0: AG = sqrt(1/2)', () => {
  const ramp = plane64(5, 3, Float64Array.from({ length: 15 }, (_, i) => i % 5));
  assertRel(ag(ramp), Math.SQRT1_2, 1e-15);
});

test('AG: hand example [[0,0],[0,4]] (one-sided differences everywhere in a 2x2 image)', () => {
  // gx = [[0,0],[4,4]], gy = [[0,4],[0,4]]: s = [0, sqrt(8), sqrt(8), sqrt(16)] -> mean (2 sqrt 8 + 4) / 4
  assertRel(ag(fromRows([[0, 0], [0, 4]])), (2 * Math.sqrt(8) + 4) / 4, 1e-15);
});

test('AG: constant image gives 0; invariant to adding a constant and to transposition', () => {
  assert.equal(ag(constant(4, 4, 9)), 0);
  const p = randomPlane(21, 13, 8);
  const a = ag(p);
  assertRel(ag(mapPlane(p, (v) => v + 100)), a, 1e-12, 'shifted');
  assertRel(ag(transpose(p)), a, 1e-12, 'transposed');
});

test('AG: registered as a fused-only, higher-is-better metric', () => {
  assert.deepEqual([AG.name, AG.higherIsBetter, [...AG.uses]], ['AG', true, ['fused']]);
});
