import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../src/core/image.js';
import { gaussian1d, gaussianBlurReplicate } from '../../src/filters/gaussian.js';
import { laplacian3x3Replicate } from '../../src/filters/laplacian.js';
import { replicateIndex } from '../../src/filters/border.js';

function ramp(w: number, h: number) {
  const d = new Float64Array(w * h);
  for (let i = 0; i < d.length; i++) d[i] = ((i * 37) % 101) / 100;
  return plane64(w, h, d);
}

test('gaussian: 1-D kernel is normalised, symmetric, and MATLAB fspecial(gaussian, 11, 5) centre row', () => {
  const k = gaussian1d(11, 5);
  assert.equal(k.length, 11);
  assert.ok(Math.abs(k.reduce((a, b) => a + b, 0) - 1) < 1e-15);
  for (let i = 0; i < 11; i++) assert.equal(k[i], k[10 - i]);
  // fspecial's 2-D kernel is outer(k, k): its centre value, computed here in closed form.
  let s = 0;
  for (let t = -5; t <= 5; t++) s += Math.exp(-(t * t) / 50);
  assert.ok(Math.abs(k[5]! * k[5]! - 1 / (s * s)) < 1e-15);
});

test('gaussian: separable blur equals the direct 2-D correlation with the outer-product kernel (replicate)', () => {
  const p = ramp(9, 6);
  const r = 5;
  const k = gaussian1d(2 * r + 1, 5);
  const out = gaussianBlurReplicate(p, r, 5).data;
  for (let y = 0; y < 6; y++) {
    for (let x = 0; x < 9; x++) {
      let s = 0;
      for (let v = -r; v <= r; v++) for (let u = -r; u <= r; u++) s += k[v + r]! * k[u + r]! * p.data[replicateIndex(y + v, 6) * 9 + replicateIndex(x + u, 9)]!;
      assert.ok(Math.abs(out[y * 9 + x]! - s) < 1e-14);
    }
  }
});

test('laplacian: [0 1 0; 1 -4 1; 0 1 0] with replicate border, 0 on constants', () => {
  const p = ramp(5, 4);
  const out = laplacian3x3Replicate(p).data;
  const at = (x: number, y: number) => p.data[replicateIndex(y, 4) * 5 + replicateIndex(x, 5)]!;
  for (let y = 0; y < 4; y++) {
    for (let x = 0; x < 5; x++) {
      const e = at(x - 1, y) + at(x + 1, y) + at(x, y - 1) + at(x, y + 1) - 4 * at(x, y);
      assert.ok(Math.abs(out[y * 5 + x]! - e) < 1e-15);
    }
  }
  assert.ok(laplacian3x3Replicate(plane64(3, 3, new Float64Array(9).fill(0.4))).data.every((v) => Math.abs(v) < 1e-15));
  assert.deepEqual(Array.from(laplacian3x3Replicate(plane64(1, 1, new Float64Array([0.7]))).data), [0]);
});
