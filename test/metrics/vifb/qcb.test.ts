import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qcb, qcbChannel, qcbContrasts, qcbFromContrast } from '../../../src/metrics/vifb/qcb.js';
import { disableQcbWasm } from '../../../src/metrics/vifb/qcb-wasm.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { constant, csfNaive, filter2Same, mapPlane, mean2, normalize1Naive, rel, rgbTriple, texture, toMat, zip, type Mat } from './helpers.js';

// Reference: a literal transcription of metricsQcb.m (normalize1, direct 2-D DFT with explicit fftshift /
// ifftshift and freqspace grid, full 31x31 unnormalised Gaussians with filter2 'same', MATLAB's mask arithmetic).
// Tolerance 1e-10 relative: the FFT and separable Gaussian sums only change rounding (~1e-15 of the image scale),
// and the contrast ratio C = |Y2/Y4 - 1| can amplify that where Y4 is small.

function gauss2(sigma: number): Mat {
  const g: Mat = [];
  for (let y = -15; y <= 15; y++) {
    const row: number[] = [];
    for (let x = -15; x <= 15; x++) row.push(Math.exp(-(x * x + y * y) / (2 * sigma * sigma)) / (2 * Math.PI * sigma * sigma));
    g.push(row);
  }
  return g;
}

function qcbNaive(a: Plane64, b: Plane64, f: Plane64): number {
  const S = (r: number) => Math.exp(-((r / 15.387) ** 2)) - 0.7622 * Math.exp(-((r / 1.3456) ** 2));
  const G1 = gauss2(2), G2 = gauss2(4);
  const cp = (p: Plane64) => {
    const xt = csfNaive(normalize1Naive(toMat(p)), 30, S);
    const c = zip(filter2Same(G1, xt), filter2Same(G2, xt), (u, v) => Math.abs(u / v - 1));
    return c.map((r) => r.map((v) => v ** 3 / (v ** 2 + 0.0001)));
  };
  const c1 = cp(a), c2 = cp(b), cf = cp(f);
  const q = (cx: Mat) => zip(cx, cf, (x, y) => { const m = x < y ? 1 : 0; return (x / y) * m + (y / x) * (1 - m); });
  const q1 = q(c1), q2 = q(c2);
  const Q = c1.map((r, i) => r.map((x, j) => {
    const y = c2[i]![j]!;
    return ((x * x) / (x * x + y * y)) * q1[i]![j]! + ((y * y) / (x * x + y * y)) * q2[i]![j]!;
  }));
  return mean2(Q);
}

test('matches a literal transcription of metricsQcb.m (odd and even sizes)', () => {
  for (const [w, h, seed] of [[21, 17, 1], [16, 22, 2]] as const) {
    const t = rgbTriple(w, h, seed);
    const got = qcbChannel(t.vis[0]!, t.ir[0]!, t.fused[0]!), want = qcbNaive(t.vis[0]!, t.ir[0]!, t.fused[0]!);
    assert.ok(rel(got, want) < 1e-10, `${w}x${h}: ${got} vs ${want}`);
  }
});

test('Qcb(x, x, x) = 1; symmetric in the sources; within 0..1', () => {
  const x = texture(24, 18, 3);
  assert.ok(Math.abs(qcbChannel(x, x, x) - 1) < 1e-14);
  const t = rgbTriple(24, 18, 4);
  const v = Qcb.compute(t);
  assert.ok(rel(v, Qcb.compute({ vis: t.ir, ir: t.vis, fused: t.fused })) < 1e-14);
  assert.ok(v > 0 && v < 1);
});

test('invariant to increasing affine changes of any image (normalize1 removes them)', () => {
  const t = rgbTriple(20, 20, 5);
  const f = t.fused.map((p) => mapPlane(p, (v) => 2 * v + 7));
  assert.equal(Qcb.compute({ ...t, fused: f }), Qcb.compute(t));
});

test('constant images (docs/METRICS.md#edge-cases): constant non-zero -> NaN (0/0 in normalize1); all-zero -> NaN; no throw', () => {
  const a = texture(16, 16, 6), f = texture(16, 16, 7);
  assert.ok(Number.isNaN(qcbChannel(a, constant(16, 16, 90), f)));
  assert.ok(Number.isNaN(qcbChannel(a, constant(16, 16, 0), f)));
});

test('per-channel mean; 1-plane infrared reused per channel equals three copies', () => {
  const g = rgbTriple(18, 16, 8, 1);
  const ir = g.ir[0]!;
  const per = [0, 1, 2].map((k) => qcbChannel(g.vis[k]!, ir, g.fused[k]!));
  assert.ok(rel(Qcb.compute(g), (per[0]! + per[1]! + per[2]!) / 3) < 1e-14);
  assert.ok(rel(Qcb.compute(g), Qcb.compute({ ...g, ir: [ir, ir, ir] })) < 1e-14);
});

test('the FFT path (Gaussians in the frequency domain + exact border band) equals direct separable filtering', () => {
  // Reference: the direct path (./qcb.ts maskedContrast, itself checked against the naive transcription above).
  // Tolerance: 1e-12 of the largest C' per pixel (C = |Y2/Y4 - 1| cancels where Y2 ~ Y4, so a per-pixel relative
  // bound would be meaningless there), and 1e-12 relative on the metric.
  for (const [w, h, seed] of [[64, 64, 1], [97, 70, 2]] as const) {
    const t = rgbTriple(w, h, seed);
    const planes = [t.vis[0]!, t.ir[0]!, t.fused[0]!];
    const fft = qcbContrasts(planes, 'fft'), direct = qcbContrasts(planes, 'direct');
    for (let k = 0; k < 3; k++) {
      let worst = 0, top = 0;
      for (let i = 0; i < w * h; i++) {
        worst = Math.max(worst, Math.abs(fft[k]![i]! - direct[k]![i]!));
        top = Math.max(top, Math.abs(direct[k]![i]!));
      }
      assert.ok(worst <= 1e-12 * top, `${w}x${h} plane ${k}: ${worst} vs max ${top}`);
    }
    const q = (c: Float64Array[]) => qcbFromContrast(c[0]!, c[1]!, c[2]!);
    assert.ok(rel(q(fft), q(direct)) < 1e-12, `${w}x${h}: ${q(fft)} vs ${q(direct)}`);
  }
  assert.throws(() => qcbContrasts([texture(40, 80, 1)], 'fft'), RangeError);
});

test('the SIMD path (separable sums on WebAssembly SIMD, qcb-wasm.ts, the default) equals direct filtering bit for bit', () => {
  // Reference: the direct JavaScript path; the kernels perform its float64 operations in its order. Sizes: odd and
  // even widths (spare columns of the 8-wide blocks), smaller than the 31x31 window, 640x480.
  for (const [w, h, seed] of [[20, 17, 3], [64, 64, 1], [97, 70, 2], [9, 40, 4], [640, 480, 5]] as const) {
    const t = rgbTriple(w, h, seed);
    const planes = [t.vis[0]!, t.ir[0]!, t.fused[0]!, t.vis[1]!];
    const simd = qcbContrasts(planes, 'simd'), direct = qcbContrasts(planes, 'direct');
    assert.deepEqual(qcbContrasts(planes), simd);
    simd.forEach((c, k) => assert.deepEqual(c, direct[k], `${w}x${h} plane ${k}`));
    // without the kernels: the direct path below 64x64 (same values), else the FFT path (1e-12, as above)
    const v = Qcb.compute(t);
    disableQcbWasm(true);
    try {
      const js = Qcb.compute(t);
      assert.ok(w < 64 || h < 64 ? Object.is(js, v) : rel(js, v) < 1e-12, `${w}x${h}: ${js} without the kernels, ${v} with`);
    } finally {
      disableQcbWasm(false);
    }
  }
});
