// VIF (src/metrics/mmif/vif.ts). Reference values: an independent naive implementation below (direct 2-D
// 'valid' convolution with the full 2-D Gaussian window, straight from docs/METRICS.md#mmif-vif), compared at 1e-9
// relative (the separable float64 filtering only changes rounding); identities derived from the definition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsfuseError } from '../../../src/core/errors.js';
import { plane64 } from '../../../src/core/image.js';
import { VIF, vif, vifp } from '../../../src/metrics/mmif/vif.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { assertRel, average, constant, randomPlane } from './helpers.js';

function window2d(n: number): Float64Array {
  const s = n / 5, m = (n - 1) / 2;
  const h = new Float64Array(n * n);
  let max = 0;
  for (let y = 0; y < n; y++) for (let x = 0; x < n; x++) max = Math.max(max, (h[y * n + x] = Math.exp(-((x - m) ** 2 + (y - m) ** 2) / (2 * s * s))));
  let sum = 0;
  for (let i = 0; i < h.length; i++) {
    if (h[i]! < 2.220446049250313e-16 * max) h[i] = 0;
    sum += h[i]!;
  }
  return h.map((v) => v / sum);
}

function conv2valid(img: Plane64, w: Float64Array, n: number): Plane64 {
  const ow = img.width - n + 1, oh = img.height - n + 1;
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) {
    for (let x = 0; x < ow; x++) {
      let s = 0;
      for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) s += w[i * n + j]! * img.data[(y + i) * img.width + x + j]!;
      out[y * ow + x] = s;
    }
  }
  return plane64(ow, oh, out);
}

const mul = (a: Plane64, b: Plane64) => plane64(a.width, a.height, a.data.map((v, i) => v * b.data[i]!));
const decimate = (a: Plane64) => {
  const ow = Math.ceil(a.width / 2), oh = Math.ceil(a.height / 2);
  const out = new Float64Array(ow * oh);
  for (let y = 0; y < oh; y++) for (let x = 0; x < ow; x++) out[y * ow + x] = a.data[2 * y * a.width + 2 * x]!;
  return plane64(ow, oh, out);
};

function naiveVifp(ref: Plane64, dist: Plane64): number {
  const eps = 1e-10;
  let num = 0, den = 0;
  for (let scale = 1; scale <= 4; scale++) {
    const n = 2 ** (5 - scale) + 1;
    const w = window2d(n);
    if (scale > 1) {
      ref = decimate(conv2valid(ref, w, n));
      dist = decimate(conv2valid(dist, w, n));
    }
    const mu1 = conv2valid(ref, w, n), mu2 = conv2valid(dist, w, n);
    const r2 = conv2valid(mul(ref, ref), w, n), d2 = conv2valid(mul(dist, dist), w, n), rd = conv2valid(mul(ref, dist), w, n);
    for (let i = 0; i < mu1.data.length; i++) {
      const m1 = mu1.data[i]!, m2 = mu2.data[i]!;
      let s1 = Math.max(r2.data[i]! - m1 * m1, 0);
      const s2 = Math.max(d2.data[i]! - m2 * m2, 0);
      const s12 = rd.data[i]! - m1 * m2;
      let g = s12 / (s1 + eps);
      let sv = s2 - g * s12;
      if (s1 < eps) [g, sv, s1] = [0, s2, 0];
      if (s2 < eps) [g, sv] = [0, 0];
      if (g < 0) [sv, g] = [s2, 0];
      if (sv <= eps) sv = eps;
      num += Math.log10(1 + (g * g * s1) / (sv + 2));
      den += Math.log10(1 + s1 / 2);
    }
  }
  const v = num / den;
  return Number.isNaN(v) ? 1 : v;
}

test('VIF: separable float64 filtering matches a direct 2-D implementation to 1e-9 relative', () => {
  const a = randomPlane(53, 47, 40, true), b = randomPlane(53, 47, 41, true), f = average(a, b);
  const [va, vb] = vifp([a, b], f);
  assertRel(va!, naiveVifp(a, f), 1e-9, 'VIFp(A,F)');
  assertRel(vb!, naiveVifp(b, f), 1e-9, 'VIFp(B,F)');
  assertRel(vif(a, b, f), naiveVifp(a, f) + naiveVifp(b, f), 1e-9, 'VIF');
});

test('VIF: odd sizes and the minimum size 41x41 are handled like the direct implementation', () => {
  const a = randomPlane(41, 44, 42, true), f = randomPlane(41, 44, 43, true);
  assertRel(vifp([a], f)[0]!, naiveVifp(a, f), 1e-9);
});

test('VIF: F = A = B gives 2 (VIFp(A, A) = 1 up to the 1e-10 stabilisers)', () => {
  const a = randomPlane(48, 48, 44, true);
  assertRel(vif(a, a, a), 2, 1e-8);
});

test('VIF: a constant reference gives VIFp = 1.0 (0/0 -> 1, docs/METRICS.md#edge-cases); all-constant triple gives 2', () => {
  const f = randomPlane(45, 45, 45, true);
  assert.equal(vifp([constant(45, 45, 128)], f)[0], 1);
  assert.equal(vif(constant(45, 45, 10), constant(45, 45, 200), constant(45, 45, 90)), 2);
});

test('VIF: symmetric in A and B; non-negative', () => {
  const a = randomPlane(50, 42, 46, true), b = randomPlane(50, 42, 47, true), f = average(a, b);
  const v = vif(a, b, f);
  assertRel(vif(b, a, f), v, 1e-15);
  assert.ok(v >= 0);
});

test('VIF: images smaller than 41x41 are an input error naming the size', () => {
  const p = randomPlane(40, 60, 48);
  assert.throws(() => vif(p, p, p), (e: unknown) => e instanceof IsfuseError && e.kind === 'input' && /41x41.*40x60/.test(e.message));
});

test("VIF: registered as 'VIF' (CDDFuse's 'VIFF' is an alias in the registry), higher is better", () => {
  assert.deepEqual([VIF.name, VIF.higherIsBetter], ['VIF', true]);
});
