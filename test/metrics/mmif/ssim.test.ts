// SSIM (src/metrics/mmif/ssim.ts). Reference values: an independent naive implementation below (direct 7x7
// window statistics per interior pixel, sample covariance, C1 = 4e-4, C2 = 3.6e-3, straight from
// docs/METRICS.md#mmif-ssim), compared at 1e-12 relative; identities derived from the definition. The float32 deviation
// of the published numbers is measured in golden-mmif.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsfuseError } from '../../../src/core/errors.js';
import { SSIM, ssim, ssimPair } from '../../../src/metrics/mmif/ssim.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { assertRel, average, constant, mapPlane, randomPlane } from './helpers.js';

function naiveSsim(x: Plane64, y: Plane64): number {
  const { width: w, height: h } = x;
  const C1 = 4e-4, C2 = 3.6e-3;
  let total = 0, count = 0;
  for (let cy = 3; cy < h - 3; cy++) {
    for (let cx = 3; cx < w - 3; cx++) {
      let sx = 0, sy = 0;
      for (let j = -3; j <= 3; j++) for (let i = -3; i <= 3; i++) {
        sx += x.data[(cy + j) * w + cx + i]!;
        sy += y.data[(cy + j) * w + cx + i]!;
      }
      const mx = sx / 49, my = sy / 49;
      let vx = 0, vy = 0, vxy = 0;
      for (let j = -3; j <= 3; j++) for (let i = -3; i <= 3; i++) {
        const dx = x.data[(cy + j) * w + cx + i]! - mx, dy = y.data[(cy + j) * w + cx + i]! - my;
        vx += dx * dx;
        vy += dy * dy;
        vxy += dx * dy;
      }
      vx /= 48;
      vy /= 48;
      vxy /= 48;
      total += ((2 * mx * my + C1) * (2 * vxy + C2)) / ((mx * mx + my * my + C1) * (vx + vy + C2));
      count++;
    }
  }
  return total / count;
}

test('SSIM: matches a naive per-window implementation (integer fast path and general float path)', () => {
  const a = randomPlane(24, 18, 60, true), b = randomPlane(24, 18, 61, true), f = average(a, b);
  assertRel(ssim(a, b, f), naiveSsim(f, a) + naiveSsim(f, b), 1e-12, 'integer');
  const g = (p: Plane64) => mapPlane(p, (v) => v * 0.37 + 0.1);
  assertRel(ssim(g(a), g(b), g(f)), naiveSsim(g(f), g(a)) + naiveSsim(g(f), g(b)), 1e-12, 'float');
});

test('SSIM: F = A = B gives 2; ssim(x, x) = 1', () => {
  const a = randomPlane(15, 11, 62, true);
  assertRel(ssim(a, a, a), 2, 1e-14);
  assertRel(ssimPair(a, a), 1, 1e-14);
});

test('SSIM: equal constant images give 1 (the map is 1 wherever both windows agree)', () => {
  assertRel(ssimPair(constant(9, 9, 100), constant(9, 9, 100)), 1, 1e-15);
});

test('SSIM: symmetric in A and B and in its two arguments; each ssim within [-1, 1]', () => {
  const a = randomPlane(20, 16, 63, true), b = randomPlane(20, 16, 64, true), f = average(a, b);
  assertRel(ssim(b, a, f), ssim(a, b, f), 1e-15);
  assertRel(ssimPair(a, f), ssimPair(f, a), 1e-14);
  const s = ssimPair(a, b);
  assert.ok(s >= -1 && s <= 1);
});

test('SSIM: images smaller than 7x7 are an input error', () => {
  const p = randomPlane(6, 9, 65);
  assert.throws(() => ssim(p, p, p), (e: unknown) => e instanceof IsfuseError && e.kind === 'input' && /7x7/.test(e.message));
});

test('SSIM: registered, higher is better', () => {
  assert.deepEqual([SSIM.name, SSIM.higherIsBetter], ['SSIM', true]);
});
