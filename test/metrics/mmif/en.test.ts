// EN (src/metrics/mmif/en.ts). Reference values are hand-derived from the definition (docs/METRICS.md#mmif-en);
// tolerance 1e-12 relative unless stated. Real-data agreement is in golden-mmif.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EN, en } from '../../../src/metrics/mmif/en.js';
import { plane64 } from '../../../src/core/image.js';
import { assertRel, constant, fromRows, randomPlane, rng } from './helpers.js';

test('EN: a constant image has entropy 0 (docs/METRICS.md#edge-cases)', () => {
  assert.equal(en(constant(9, 7, 123)), 0);
});

test('EN: two equally frequent values give exactly 1 bit', () => {
  assertRel(en(fromRows([[0, 255], [255, 0]])), 1, 1e-15);
});

test('EN: all 256 values once each give 8 bits (the maximum)', () => {
  const p = plane64(16, 16, Float64Array.from({ length: 256 }, (_, i) => i));
  assertRel(en(p), 8, 1e-12);
});

test('EN: hand example with probabilities 1/2, 1/4, 1/4 gives 1.5 bits', () => {
  assertRel(en(fromRows([[7, 7], [9, 200]])), 1.5, 1e-15);
});

test('EN: invariant to permuting pixels; within 0..8 bits', () => {
  const p = randomPlane(31, 17, 1);
  const r = rng(2);
  const shuffled = Float64Array.from(p.data);
  for (let i = shuffled.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [shuffled[i], shuffled[j]] = [shuffled[j]!, shuffled[i]!];
  }
  const e = en(p);
  assert.equal(en(plane64(31, 17, shuffled)), e);
  assert.ok(e > 0 && e <= 8, `EN ${e} outside (0, 8]`);
});

test('EN: non-integer values are rounded half to even like numpy (0.5 -> 0, 1.5 -> 2, 2.5 -> 2)', () => {
  // bins: {0.5->0, 1.5->2, 2.5->2, 3.2->3} = {0: 1, 2: 2, 3: 1} -> 1.5 bits
  assertRel(en(fromRows([[0.5, 1.5], [2.5, 3.2]])), 1.5, 1e-15);
});

test('EN: metric definition is registered for the fused image only, higher is better', () => {
  assert.deepEqual([EN.name, EN.convention, EN.higherIsBetter, [...EN.uses]], ['EN', 'mmif', true, ['fused']]);
  const f = randomPlane(5, 5, 3);
  assert.equal(EN.compute({ ir: constant(5, 5, 0), vis: constant(5, 5, 0), fused: f }), en(f));
});
