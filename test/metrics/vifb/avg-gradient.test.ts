import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Avg_gradient, avgGradientChannel } from '../../../src/metrics/vifb/avg-gradient.js';
import { constant, mapPlane, rel, texture } from './helpers.js';

// References: hand computations from docs/METRICS.md#vifb-avg-gradient (MATLAB `gradient`: central differences inside,
// one-sided at the borders); exact up to float64 rounding, tolerance 1e-14 relative.

test('linear image: gradient is exact everywhere, AG = N sqrt((a^2 + b^2) / 2) / ((H-1)(W-1))', () => {
  const w = 5, h = 4;
  const f = plane64(w, h, Float64Array.from({ length: w * h }, (_, i) => 3 * (i % w) + 2 * Math.floor(i / w)));
  const want = (w * h * Math.sqrt((9 + 4) / 2)) / ((h - 1) * (w - 1));
  assert.ok(rel(avgGradientChannel(f), want) < 1e-14);
});

test('borders use one-sided differences: a quadratic row [0, 1, 4, 9] has gradients [1, 2, 4, 5]', () => {
  const f = plane64(4, 2, Float64Array.of(0, 1, 4, 9, 0, 1, 4, 9));
  const want = (2 * [1, 2, 4, 5].reduce((s, g) => s + Math.sqrt((g * g) / 2), 0)) / (1 * 3);
  assert.ok(rel(avgGradientChannel(f), want) < 1e-14);
});

test('constant image gives 0; invariant to adding a constant; scales linearly', () => {
  assert.equal(avgGradientChannel(constant(7, 6, 93)), 0);
  const t = texture(23, 17, 1);
  const g = avgGradientChannel(t);
  assert.ok(g > 0);
  assert.ok(rel(avgGradientChannel(mapPlane(t, (v) => v + 17)), g) < 1e-13);
  assert.ok(rel(avgGradientChannel(mapPlane(t, (v) => 2 * v)), 2 * g) < 1e-15);
});

test('metric: mean over channels of the fused image; the sources are not used', () => {
  const f = [texture(20, 15, 1), texture(20, 15, 2), texture(20, 15, 3)];
  const want = (avgGradientChannel(f[0]!) + avgGradientChannel(f[1]!) + avgGradientChannel(f[2]!)) / 3;
  const a = Avg_gradient.compute({ vis: f, ir: [f[0]!], fused: f });
  const b = Avg_gradient.compute({ vis: [0, 1, 2].map(() => constant(20, 15, 5)), ir: [constant(20, 15, 9)], fused: f });
  assert.ok(rel(a, want) < 1e-15);
  assert.equal(a, b);
});

test('a 1-pixel-high image divides by (H-1)(W-1) = 0 as MATLAB does (Infinity / NaN, no throw)', () => {
  assert.equal(avgGradientChannel(plane64(3, 1, Float64Array.of(1, 2, 4))), Infinity);
  assert.ok(Number.isNaN(avgGradientChannel(constant(1, 1, 4))));
});
