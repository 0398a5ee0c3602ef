// SF (src/metrics/mmif/sf.ts). Reference values hand-derived from docs/METRICS.md#mmif-sf; tolerance 1e-15 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsfuseError } from '../../../src/core/errors.js';
import { SF, sf } from '../../../src/metrics/mmif/sf.js';
import { assertRel, constant, fromRows, mapPlane, randomPlane, transpose } from './helpers.js';

test('SF: hand example [[0,1],[2,3]] gives sqrt(1 + 4)', () => {
  // row differences 1, 1 -> mean 1; column differences 2, 2 -> mean 4
  assertRel(sf(fromRows([[0, 1], [2, 3]])), Math.sqrt(5), 1e-15);
});

test('SF: each direction is averaged over its own count (H(W-1) and (H-1)W)', () => {
  // 1 x 3 rows would be degenerate; use 2 x 3: row diffs all 1 (4 of them), column diffs all 3 (3 of them)
  assertRel(sf(fromRows([[0, 1, 2], [3, 4, 5]])), Math.sqrt(1 + 9), 1e-15);
});

test('SF: constant image gives 0; invariant to adding a constant and to transposition', () => {
  assert.equal(sf(constant(6, 4, 200)), 0);
  const p = randomPlane(23, 19, 7);
  const s = sf(p);
  assertRel(sf(mapPlane(p, (v) => v + 11)), s, 1e-12, 'shifted');
  assertRel(sf(transpose(p)), s, 1e-12, 'transposed');
  assertRel(sf(mapPlane(p, (v) => 2 * v)), 2 * s, 1e-12, 'scaled');
});

test('SF: images narrower than 2 pixels are an input error', () => {
  assert.throws(() => sf(fromRows([[1, 2, 3]])), (e: unknown) => e instanceof IsfuseError && e.kind === 'input' && /at least 2x2/.test(e.message));
});

test('SF: registered as a fused-only, higher-is-better metric', () => {
  assert.deepEqual([SF.name, SF.higherIsBetter, [...SF.uses]], ['SF', true, ['fused']]);
});
