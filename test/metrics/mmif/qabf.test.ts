// Qabf (src/metrics/mmif/qabf.ts). Reference values: an independent naive implementation below (generic 2-D
// convolution with explicit kernel flip and zero padding, straight from docs/METRICS.md#vifb-qabf, #mmif-qabf),
// compared at 1e-12 relative; closed-form values derived from the definition.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Qabf, qabf } from '../../../src/metrics/mmif/qabf.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { assertRel, average, constant, randomPlane } from './helpers.js';

function conv2same(img: Plane64, k: number[][]): Float64Array {
  const { width: w, height: h, data } = img;
  const out = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      let s = 0;
      // true convolution: out(y,x) = sum k(i,j) img(y + 1 - i, x + 1 - j)
      for (let i = 0; i < 3; i++) {
        for (let j = 0; j < 3; j++) {
          const yy = y + 1 - i, xx = x + 1 - j;
          if (yy >= 0 && yy < h && xx >= 0 && xx < w) s += k[i]![j]! * data[yy * w + xx]!;
        }
      }
      out[y * w + x] = s;
    }
  }
  return out;
}

function naiveQabf(a: Plane64, b: Plane64, f: Plane64): number {
  const kx = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], ky = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]];
  const grad = (p: Plane64) => {
    const sx = conv2same(p, kx), sy = conv2same(p, ky);
    return { g: sx.map((v, i) => Math.hypot(v, sy[i]!)), al: sx.map((v, i) => (v === 0 ? Math.PI / 2 : Math.atan(sy[i]! / v))) };
  };
  const A = grad(a), B = grad(b), F = grad(f);
  const q = (X: typeof A, i: number) => {
    const gx = X.g[i]!, gf = F.g[i]!;
    const G = gx > gf ? gf / gx : gx === gf ? gf : gx / gf;
    const Al = 1 - Math.abs(X.al[i]! - F.al[i]!) / (Math.PI / 2);
    return (0.9994 / (1 + Math.exp(-15 * (G - 0.5)))) * (0.9879 / (1 + Math.exp(-22 * (Al - 0.8))));
  };
  let num = 0, den = 0;
  for (let i = 0; i < a.data.length; i++) {
    num += q(A, i) * A.g[i]! + q(B, i) * B.g[i]!;
    den += A.g[i]! + B.g[i]!;
  }
  return num / den;
}

test('Qabf: matches a naive implementation of the definition (random and smooth images)', () => {
  for (const smooth of [false, true]) {
    const a = randomPlane(23, 19, 50 + Number(smooth), smooth), b = randomPlane(23, 19, 52 + Number(smooth), smooth);
    const f = average(a, b);
    assertRel(qabf(a, b, f), naiveQabf(a, b, f), 1e-12, `smooth=${smooth}`);
  }
});

test('Qabf: F = A = B on a steep ramp gives 0.9994 * 0.9879 / (1 + e^-4.4) (quirk G = g_F with g_F >= 30)', () => {
  // f(x, y) = 10x + 3y: every Sobel magnitude is >= 30, so Qg = 0.9994 to double precision; A_XF = 1.
  const p = plane64(12, 9, Float64Array.from({ length: 108 }, (_, i) => 10 * (i % 12) + 3 * Math.floor(i / 12)));
  assertRel(qabf(p, p, p), (0.9994 * 0.9879) / (1 + Math.exp(-4.4)), 1e-14);
});

test('Qabf: the g_X == g_F quirk gives Qg = 0.9994 / (1 + exp(-15 (g_F - 0.5))) for small equal gradients', () => {
  // A 3x3 image with a single 1 in the centre: identical gradients in A, B, F, magnitudes 1..2
  const p = plane64(3, 3, Float64Array.from([0, 0, 0, 0, 1, 0, 0, 0, 0]));
  assertRel(qabf(p, p, p), naiveQabf(p, p, p), 1e-14);
  assert.ok(qabf(p, p, p) < (0.9994 * 0.9879) / (1 + Math.exp(-4.4)), 'small gradients must score below the steep-ramp value');
});

test('Qabf: symmetric in A and B; within [0, 1]', () => {
  const a = randomPlane(30, 20, 54, true), b = randomPlane(30, 20, 55, true), f = average(a, b);
  const v = qabf(a, b, f);
  assertRel(qabf(b, a, f), v, 1e-15);
  assert.ok(v >= 0 && v <= 1);
});

test('Qabf: sources without any Sobel response give 0/0 = NaN (docs/METRICS.md#edge-cases); a flat fused image gives a finite value', () => {
  // With zero padding only an all-zero image has no gradient anywhere; a non-zero constant has edges at the border.
  const f = randomPlane(8, 8, 56);
  assert.ok(Number.isNaN(qabf(constant(8, 8, 0), constant(8, 8, 0), f)));
  assert.ok(Number.isFinite(qabf(constant(8, 8, 3), constant(8, 8, 90), f)));
  const a = randomPlane(8, 8, 57);
  assert.ok(Number.isFinite(qabf(a, a, constant(8, 8, 0))));
});

test('Qabf: registered, higher is better', () => {
  assert.deepEqual([Qabf.name, Qabf.convention, Qabf.higherIsBetter], ['Qabf', 'mmif', true]);
});
