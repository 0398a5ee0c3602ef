import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qabf, qabfChannel } from '../../../src/metrics/vifb/qabf.js';
import { disableQabfWasm } from '../../../src/metrics/vifb/qabf-wasm.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { constant, mapPlane, rel, rgbTriple, texture, toMat, type Mat } from './helpers.js';

// References: (1) a literal transcription of metricsQabf.m's loops (x255 scaling, conv2 'same' by explicit
// kernel flipping and zero padding, per-pixel branches), tolerance 1e-12 relative (only summation order differs);
// (2) the closed form for F = A = B, to 1e-14 (a ratio of two sums of ~250 terms).

function conv2Same(x: Mat, k: Mat): Mat {
  const h = x.length, w = x[0]!.length;
  return x.map((row, i) =>
    row.map((_, j) => {
      let s = 0;
      for (let a = -1; a <= 1; a++) {
        for (let b = -1; b <= 1; b++) {
          const y = i - a, xx = j - b; // convolution: X(i - a, j - b) K(a, b)
          if (y >= 0 && y < h && xx >= 0 && xx < w) s += x[y]![xx]! * k[a + 1]![b + 1]!;
        }
      }
      return s;
    }),
  );
}

function qabfNaive(A: Plane64, B: Plane64, F: Plane64): number {
  const h1 = [[1, 2, 1], [0, 0, 0], [-1, -2, -1]], h3 = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]];
  const grad = (p: Plane64) => {
    const x = toMat(p).map((r) => r.map((v) => 255 * v));
    const sx = conv2Same(x, h3), sy = conv2Same(x, h1);
    const g = sx.map((r, i) => r.map((v, j) => Math.sqrt(v * v + sy[i]![j]! ** 2)));
    const a = sx.map((r, i) => r.map((v, j) => (v === 0 ? Math.PI / 2 : Math.atan(sy[i]![j]! / v))));
    return { g, a };
  };
  const gA = grad(A), gB = grad(B), gF = grad(F);
  const q = (gx: Mat, ax: Mat, i: number, j: number) => {
    const x = gx[i]![j]!, f = gF.g[i]![j]!;
    const G = x > f ? f / x : x === f ? f : x / f;
    const AA = 1 - Math.abs(ax[i]![j]! - gF.a[i]![j]!) / (Math.PI / 2);
    return (0.9994 / (1 + Math.exp(-15 * (G - 0.5)))) * (0.9879 / (1 + Math.exp(-22 * (AA - 0.8))));
  };
  let num = 0, den = 0;
  for (let i = 0; i < A.height; i++) {
    for (let j = 0; j < A.width; j++) {
      num += q(gA.g, gA.a, i, j) * gA.g[i]![j]! + q(gB.g, gB.a, i, j) * gB.g[i]![j]!;
      den += gA.g[i]![j]! + gB.g[i]![j]!;
    }
  }
  return num / den;
}

test('matches a literal transcription of metricsQabf.m', () => {
  for (const [w, h, seed] of [[17, 13, 1], [12, 20, 2]] as const) {
    const t = rgbTriple(w, h, seed);
    for (let k = 0; k < 3; k++) {
      const got = qabfChannel(t.vis[k]!, t.ir[k]!, t.fused[k]!), want = qabfNaive(t.vis[k]!, t.ir[k]!, t.fused[k]!);
      assert.ok(rel(got, want) < 1e-12, `${w}x${h} channel ${k}: ${got} vs ${want}`);
    }
  }
});

test('F = A = B: every weighted pixel hits the g_X == g_F quirk (Qg = 0.9994 exactly) and Aa = 1', () => {
  const t = texture(19, 14, 3);
  const want = 0.9994 * (0.9879 / (1 + Math.exp(-22 * (1 - 0.8))));
  assert.ok(rel(qabfChannel(t, t, t), want) < 1e-14);
});

test('symmetric in the sources; bounded by 0..1; invariant to scaling all images by 2', () => {
  const t = rgbTriple(16, 16, 4);
  const v = Qabf.compute(t);
  assert.equal(v, Qabf.compute({ vis: t.ir, ir: t.vis, fused: t.fused }));
  assert.ok(v > 0 && v < 1);
  const dbl = (ps: readonly Plane64[]) => ps.map((p) => mapPlane(p, (x) => 2 * x));
  assert.ok(rel(Qabf.compute({ vis: dbl(t.vis), ir: dbl(t.ir), fused: dbl(t.fused) }), v) < 1e-14);
});

test('both sources without any Sobel response (all zero): 0/0 = NaN (docs/METRICS.md#edge-cases); no throw', () => {
  const f = texture(10, 10, 5);
  assert.ok(Number.isNaN(qabfChannel(constant(10, 10, 0), constant(10, 10, 0), f)));
  assert.ok(Number.isFinite(qabfChannel(constant(10, 10, 0), f, f)));
  // zero padding turns the border of a non-zero constant image into an edge, so this one is finite
  assert.ok(Number.isFinite(qabfChannel(constant(10, 10, 7), constant(10, 10, 7), f)));
});

test('1-plane infrared reused per channel equals three copies', () => {
  const g = rgbTriple(14, 11, 6, 1);
  const ir = g.ir[0]!;
  assert.equal(Qabf.compute(g), Qabf.compute({ ...g, ir: [ir, ir, ir] }));
});

test('the WebAssembly SIMD kernels (qabf-wasm.ts) give bit-identical Qabf to the JavaScript loops', () => {
  // Reference: the JavaScript path (checked above against the transcription of metricsQabf.m). Cases: textures with
  // odd and even widths, 1- and 3-channel infrared, flat regions (g = 0, and g_X == g_F), non-integer samples.
  const cases = [rgbTriple(37, 29, 21), rgbTriple(64, 48, 22, 1), rgbTriple(1, 9, 23)];
  const flat = rgbTriple(20, 17, 24, 1);
  cases.push({ ...flat, vis: flat.vis.map((p) => mapPlane(p, (v, i) => (i % 5 < 2 ? 90 : v))), fused: flat.vis.map((p) => mapPlane(p, (v, i) => (i % 3 === 0 ? 90 : v))) });
  cases.push({ ...flat, fused: flat.fused.map((p) => mapPlane(p, (v) => v / 3 + 0.25)) });
  const simd = cases.map((t) => Qabf.compute(t));
  disableQabfWasm(true);
  try {
    cases.forEach((t, i) => assert.ok(Object.is(Qabf.compute(t), simd[i]), `case ${i}`));
  } finally {
    disableQabfWasm(false);
  }
});
