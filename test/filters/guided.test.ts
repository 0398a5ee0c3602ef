import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../src/core/image.js';
import { guidedFilter } from '../../src/filters/guided.js';

function noise(w: number, h: number, seed: number) {
  let s = seed;
  const d = new Float64Array(w * h);
  for (let i = 0; i < d.length; i++) {
    s = (Math.imul(1664525, s) + 1013904223) >>> 0;
    d[i] = s / 2 ** 32;
  }
  return plane64(w, h, d);
}

/** Direct transcription of He et al.'s guidedfilter.m with explicit window loops (no running sums). */
function naiveGuided(I: Float64Array, p: Float64Array, w: number, h: number, r: number, eps: number): Float64Array {
  const mean = (f: (i: number) => number) => {
    const out = new Float64Array(w * h);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        let s = 0;
        let n = 0;
        for (let v = Math.max(0, y - r); v <= Math.min(h - 1, y + r); v++) {
          for (let u = Math.max(0, x - r); u <= Math.min(w - 1, x + r); u++) {
            s += f(v * w + u);
            n++;
          }
        }
        out[y * w + x] = s / n;
      }
    }
    return out;
  };
  const mI = mean((i) => I[i]!);
  const mP = mean((i) => p[i]!);
  const mIp = mean((i) => I[i]! * p[i]!);
  const mII = mean((i) => I[i]! * I[i]!);
  const a = new Float64Array(w * h);
  const b = new Float64Array(w * h);
  for (let i = 0; i < w * h; i++) {
    a[i] = (mIp[i]! - mI[i]! * mP[i]!) / (mII[i]! - mI[i]! * mI[i]! + eps);
    b[i] = mP[i]! - a[i]! * mI[i]!;
  }
  const ma = mean((i) => a[i]!);
  const mb = mean((i) => b[i]!);
  return I.map((v, i) => ma[i]! * v + mb[i]!);
}

test('guided: equals a direct-loop transcription of guidedfilter.m (1e-9; eps 1e-6 amplifies rounding)', () => {
  for (const [w, h, r, eps] of [[12, 9, 2, 1e-6], [12, 9, 7, 0.3], [5, 3, 45, 0.3], [1, 1, 3, 1e-6]] as const) {
    const I = noise(w, h, w * h);
    const p = noise(w, h, w * h + 1);
    const q = guidedFilter(I, p, r, eps).data;
    const e = naiveGuided(I.data, p.data, w, h, r, eps);
    for (let i = 0; i < q.length; i++) assert.ok(Math.abs(q[i]! - e[i]!) < 1e-9, `${w}x${h} r${r}: ${q[i]} vs ${e[i]}`);
  }
});

test('guided: constant input maps are returned exactly; small eps preserves guide edges', () => {
  const I = noise(20, 10, 5);
  for (const c of [0, 1, 0.25]) {
    const q = guidedFilter(I, plane64(20, 10, new Float64Array(200).fill(c)), 7, 1e-6).data;
    assert.ok(q.every((v) => v === c), `constant ${c}`);
  }
  // p = I with tiny eps: a ~ 1, b ~ 0, q ~ I (edge-preserving).
  const q = guidedFilter(I, I, 3, 1e-8).data;
  for (let i = 0; i < q.length; i++) assert.ok(Math.abs(q[i]! - I.data[i]!) < 1e-4);
});
