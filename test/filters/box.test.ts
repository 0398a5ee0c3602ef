import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../src/core/image.js';
import { boxMeanClipped, boxMeanReplicate, boxSumClipped } from '../../src/filters/box.js';
import { replicateIndex } from '../../src/filters/border.js';

function randomPlane(w: number, h: number, seed: number) {
  let s = seed;
  const d = new Float64Array(w * h);
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    d[i] = s / 2 ** 32;
  }
  return plane64(w, h, d);
}

// Brute force: loop over each window. Tolerance 1e-12 (running sums vs direct sums, values in [0, 1]).
test('box: clipped-window sum and mean equal a direct loop, radius 0 to larger than the image', () => {
  for (const [w, h] of [[1, 1], [7, 5], [2, 9], [16, 3]]) {
    const p = randomPlane(w, h, w + 10 * h);
    for (const r of [0, 1, 2, 10]) {
      const sum = boxSumClipped(p, r).data;
      const mean = boxMeanClipped(p, r).data;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let s = 0;
          let n = 0;
          for (let v = Math.max(0, y - r); v <= Math.min(h - 1, y + r); v++) {
            for (let u = Math.max(0, x - r); u <= Math.min(w - 1, x + r); u++) {
              s += p.data[v * w + u]!;
              n++;
            }
          }
          assert.ok(Math.abs(sum[y * w + x]! - s) < 1e-12);
          assert.ok(Math.abs(mean[y * w + x]! - s / n) < 1e-12);
        }
      }
    }
  }
});

test('box: replicate-border mean equals a direct loop over the edge-extended image', () => {
  for (const [w, h] of [[1, 1], [7, 5], [3, 11]]) {
    const p = randomPlane(w, h, 3 * w + h);
    for (const r of [0, 1, 4, 15]) {
      const mean = boxMeanReplicate(p, r).data;
      for (let y = 0; y < h; y++) {
        for (let x = 0; x < w; x++) {
          let s = 0;
          for (let v = y - r; v <= y + r; v++) {
            for (let u = x - r; u <= x + r; u++) s += p.data[replicateIndex(v, h) * w + replicateIndex(u, w)]!;
          }
          assert.ok(Math.abs(mean[y * w + x]! - s / (2 * r + 1) ** 2) < 1e-12);
        }
      }
    }
  }
});

test('box: a constant plane stays exactly constant under the clipped-window mean', () => {
  const c = plane64(13, 9, new Float64Array(13 * 9).fill(0.3));
  for (const r of [1, 5, 45]) assert.ok(boxMeanClipped(c, r).data.every((v) => v === 0.3 || Math.abs(v - 0.3) < 1e-15));
  const one = plane64(13, 9, new Float64Array(13 * 9).fill(1));
  assert.ok(boxMeanClipped(one, 45).data.every((v) => v === 1));
});
