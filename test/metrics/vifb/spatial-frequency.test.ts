import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Spatial_frequency, spatialFrequencySideBySide } from '../../../src/metrics/vifb/spatial-frequency.js';
import { constant, mapPlane, rel, texture } from './helpers.js';

// Reference: a hand computation of docs/METRICS.md#vifb-spatial-frequency on X = [R | G | B] (seams included, sums
// divided by H*3W); exact for integers.
const p2 = (a: number, b: number, c: number, d: number) => plane64(2, 2, Float64Array.of(a, b, c, d));

test('side-by-side quirk: [R|G|B] = [[0 1 4 5 8 9], [2 3 6 7 10 11]] gives sqrt(42/12 + 24/12)', () => {
  const ch = [p2(0, 1, 2, 3), p2(4, 5, 6, 7), p2(8, 9, 10, 11)];
  assert.equal(spatialFrequencySideBySide(ch), Math.sqrt(42 / 12 + 24 / 12));
  // not the mean of per-channel SFs (each channel alone: sqrt(2/4 + 8/4))
  assert.notEqual(spatialFrequencySideBySide(ch), Math.sqrt(2 / 4 + 8 / 4));
  // channel order matters through the seams
  assert.notEqual(spatialFrequencySideBySide([ch[0]!, ch[2]!, ch[1]!]), spatialFrequencySideBySide(ch));
});

test('single channel: plain SF with both sums divided by H*W', () => {
  const f = plane64(3, 2, Float64Array.of(0, 1, 3, 0, 2, 5));
  const rf = (1 + 4 + 4 + 9) / 6, cf = (0 + 1 + 4) / 6;
  assert.equal(spatialFrequencySideBySide([f]), Math.sqrt(rf + cf));
});

test('constant channels with equal values give 0; invariant to adding a constant; scales linearly', () => {
  assert.equal(spatialFrequencySideBySide([constant(5, 4, 9), constant(5, 4, 9), constant(5, 4, 9)]), 0);
  const t = [texture(12, 9, 1), texture(12, 9, 2), texture(12, 9, 3)];
  const s = spatialFrequencySideBySide(t);
  assert.ok(rel(spatialFrequencySideBySide(t.map((c) => mapPlane(c, (v) => v + 3))), s) < 1e-15);
  assert.ok(rel(spatialFrequencySideBySide(t.map((c) => mapPlane(c, (v) => 2 * v))), 2 * s) < 1e-15);
  assert.equal(Spatial_frequency.compute({ vis: t, ir: [t[0]!], fused: t }), s);
});
