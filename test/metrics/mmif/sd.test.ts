// SD (src/metrics/mmif/sd.ts). Reference values hand-derived from the definition (population std,
// docs/METRICS.md#mmif-sd); tolerance 1e-12 relative unless stated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SD, sd } from '../../../src/metrics/mmif/sd.js';
import { assertRel, constant, fromRows, mapPlane, randomPlane } from './helpers.js';

test('SD: hand examples (population, ddof = 0)', () => {
  assertRel(sd(fromRows([[0, 2]])), 1, 1e-15); // mean 1, deviations +-1
  assertRel(sd(fromRows([[1, 2], [3, 4]])), Math.sqrt(1.25), 1e-15); // mean 2.5: (2.25+0.25+0.25+2.25)/4
});

test('SD: a constant image has SD 0', () => {
  assert.equal(sd(constant(8, 3, 77)), 0);
});

test('SD: invariant to adding a constant, scales with a positive factor', () => {
  const p = randomPlane(40, 30, 5);
  const s = sd(p);
  assertRel(sd(mapPlane(p, (v) => v + 37)), s, 1e-12, 'shifted');
  assertRel(sd(mapPlane(p, (v) => v * 0.5)), s * 0.5, 1e-12, 'scaled');
  assert.ok(s >= 0 && s <= 127.5, `SD ${s} outside [0, 127.5]`);
});

test('SD: registered as a fused-only, higher-is-better metric', () => {
  assert.deepEqual([SD.name, SD.higherIsBetter, [...SD.uses]], ['SD', true, ['fused']]);
});
