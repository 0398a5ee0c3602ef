import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Variance, varianceChannel } from '../../../src/metrics/vifb/variance.js';
import { constant, mapPlane, rel, texture } from './helpers.js';

// References: closed forms of the population standard deviation; tolerance 1e-14 relative.

test('population standard deviation: [0, 2] -> 1, [1, 2, 3, 4] -> sqrt(1.25); constant -> 0', () => {
  assert.equal(varianceChannel(plane64(2, 1, Float64Array.of(0, 2))), 1);
  assert.ok(rel(varianceChannel(plane64(2, 2, Float64Array.of(1, 2, 3, 4))), Math.sqrt(1.25)) < 1e-15);
  assert.equal(varianceChannel(constant(5, 5, 200)), 0);
});

test('invariant to adding a constant, scales with |c|, mean over channels', () => {
  const t = [texture(20, 10, 1), texture(20, 10, 2), texture(20, 10, 3)];
  const s = varianceChannel(t[0]!);
  assert.ok(rel(varianceChannel(mapPlane(t[0]!, (v) => v + 40)), s) < 1e-13);
  assert.ok(rel(varianceChannel(mapPlane(t[0]!, (v) => -3 * v)), 3 * s) < 1e-14);
  const want = (varianceChannel(t[0]!) + varianceChannel(t[1]!) + varianceChannel(t[2]!)) / 3;
  assert.ok(rel(Variance.compute({ vis: t, ir: [t[0]!], fused: t }), want) < 1e-15);
});
