import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Edge_intensity, edgeIntensityChannel } from '../../../src/metrics/vifb/edge-intensity.js';
import { constant, filter2Same, mapPlane, rel, texture, toMat, type Mat } from './helpers.js';

// References: a hand computation and a naive imfilter(..., 'replicate') (explicit replicate padding, then a
// 'valid' 3x3 correlation); exact integers for integer inputs, tolerance 1e-14 relative on the mean.

test('step edge with replicate border: rows [0 0 10 10] give g = [0 40 40 0], EI = 20', () => {
  const f = plane64(4, 3, Float64Array.of(0, 0, 10, 10, 0, 0, 10, 10, 0, 0, 10, 10));
  assert.equal(edgeIntensityChannel(f), 20);
});

test('replicate border: a constant image gives 0 (zero padding would not)', () => {
  assert.equal(edgeIntensityChannel(constant(9, 8, 200)), 0);
});

test('matches a naive imfilter(F, fspecial("sobel"), "replicate") on a texture', () => {
  const t = texture(19, 13, 4);
  const m = toMat(t);
  const h = m.length, w = m[0]!.length;
  const pad: Mat = Array.from({ length: h + 2 }, (_, i) => Array.from({ length: w + 2 }, (_, j) => m[Math.min(h - 1, Math.max(0, i - 1))]![Math.min(w - 1, Math.max(0, j - 1))]!));
  const k: Mat = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]];
  const kt: Mat = [[1, 0, -1], [2, 0, -2], [1, 0, -1]];
  const gx = filter2Same(k, pad), gy = filter2Same(kt, pad);
  let s = 0;
  for (let i = 1; i <= h; i++) for (let j = 1; j <= w; j++) s += Math.sqrt(gx[i]![j]! ** 2 + gy[i]![j]! ** 2);
  assert.ok(rel(edgeIntensityChannel(t), s / (w * h)) < 1e-14);
});

test('invariant to adding a constant, scales linearly, mean over channels', () => {
  const f = [texture(16, 12, 1), texture(16, 12, 2), texture(16, 12, 3)];
  const e = f.map(edgeIntensityChannel);
  assert.ok(rel(edgeIntensityChannel(mapPlane(f[0]!, (v) => v + 11)), e[0]!) < 1e-14);
  assert.ok(rel(edgeIntensityChannel(mapPlane(f[0]!, (v) => 3 * v)), 3 * e[0]!) < 1e-14);
  assert.ok(rel(Edge_intensity.compute({ vis: f, ir: [f[0]!], fused: f }), (e[0]! + e[1]! + e[2]!) / 3) < 1e-15);
});
