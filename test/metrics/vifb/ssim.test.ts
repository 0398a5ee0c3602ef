import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ssim, ssimChannel, ssimPair } from '../../../src/metrics/vifb/ssim.js';
import { disableWasmFilter } from '../../../src/filters/valid-wasm.js';
import { disableSsimWasm } from '../../../src/metrics/vifb/ssim-wasm.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { constant, filter2Valid, mapPlane, mean2, rel, rgbTriple, texture, toMat, zip, type Mat } from './helpers.js';

// References: (1) the MATLAB code's computation with the full 2-D window (fspecial('gaussian', 11, 1.5), i.e.
// exp(-(x^2+y^2)/4.5) normalised) and filter2(..., 'valid'), tolerance 1e-12 relative (the separable
// implementation only changes rounding); (2) SSIM(x, x) = 1 exactly up to rounding.

function ssimNaive(a: Plane64, b: Plane64): number {
  const w: Mat = [];
  for (let y = -5; y <= 5; y++) {
    const row: number[] = [];
    for (let x = -5; x <= 5; x++) row.push(Math.exp(-(x * x + y * y) / (2 * 1.5 * 1.5)));
    w.push(row);
  }
  const s = w.flat().reduce((p, v) => p + v, 0);
  const win = w.map((r) => r.map((v) => v / s));
  const A = toMat(a), B = toMat(b);
  const ua = filter2Valid(win, A), ub = filter2Valid(win, B);
  const saa = zip(filter2Valid(win, zip(A, A, (x, y) => x * y)), ua, (e, m) => e - m * m);
  const sbb = zip(filter2Valid(win, zip(B, B, (x, y) => x * y)), ub, (e, m) => e - m * m);
  const sab = zip(filter2Valid(win, zip(A, B, (x, y) => x * y)), zip(ua, ub, (x, y) => x * y), (e, m) => e - m);
  const C1 = (0.01 * 255) ** 2, C2 = (0.03 * 255) ** 2;
  const map = ua.map((r, i) =>
    r.map((x, j) => {
      const y = ub[i]![j]!;
      return ((2 * x * y + C1) * (2 * sab[i]![j]! + C2)) / ((x * x + y * y + C1) * (saa[i]![j]! + sbb[i]![j]! + C2));
    }),
  );
  return mean2(map);
}

test('matches the full-window filter2("valid") computation of metricsSsim.m', () => {
  for (const [w, h, seed] of [[23, 17, 1], [11, 14, 2]] as const) {
    const t = rgbTriple(w, h, seed);
    const got = ssimChannel(t.vis[0]!, t.ir[0]!, t.fused[0]!);
    const want = ssimNaive(t.vis[0]!, t.fused[0]!) + ssimNaive(t.ir[0]!, t.fused[0]!);
    assert.ok(rel(got, want) < 1e-12, `${w}x${h}: ${got} vs ${want}`);
  }
});

test('SSIM(x, x) = 1, so Ssim(x, x, x) = 2 (a sum, not a mean); constant identical images too', () => {
  const t = texture(20, 20, 3);
  assert.ok(Math.abs(ssimChannel(t, t, t) - 2) < 1e-14);
  assert.ok(Math.abs(ssimPair(constant(12, 12, 50), constant(12, 12, 50)) - 1) < 1e-15);
});

test('symmetric in the sources and in (a, b); at most 2', () => {
  const t = rgbTriple(18, 15, 4);
  const v = Ssim.compute(t);
  assert.equal(v, Ssim.compute({ vis: t.ir, ir: t.vis, fused: t.fused }));
  assert.ok(rel(ssimPair(t.vis[1]!, t.fused[1]!), ssimPair(t.fused[1]!, t.vis[1]!)) < 1e-14);
  assert.ok(v < 2 && v > -2);
});

test('images smaller than 11x11 have an empty SSIM map: NaN (MATLAB mean of empty), no throw', () => {
  const t = rgbTriple(10, 30, 5);
  assert.ok(Number.isNaN(Ssim.compute(t)));
  assert.ok(Number.isNaN(ssimPair(texture(30, 10, 1), texture(30, 10, 2))));
});

test('1-plane infrared reused per channel equals three copies', () => {
  const g = rgbTriple(14, 13, 6, 1);
  const ir = g.ir[0]!;
  assert.equal(Ssim.compute(g), Ssim.compute({ ...g, ir: [ir, ir, ir] }));
});

test('the WebAssembly SIMD filtering and the JavaScript fallback give bit-identical SSIM', () => {
  const t = rgbTriple(37, 29, 5);
  const simd = ssimPair(t.vis[0]!, t.fused[0]!);
  disableWasmFilter(true);
  try {
    assert.equal(ssimPair(t.vis[0]!, t.fused[0]!), simd);
  } finally {
    disableWasmFilter(false);
  }
});

test('Ssim on its own SIMD kernels (ssim-wasm.ts) is bit-identical to the JavaScript path, with and without SIMD filtering', () => {
  // Odd and even sizes (spare lanes), the 11x11 minimum, 1- and 3-channel infrared, non-integer samples.
  const cases = [rgbTriple(37, 29, 5), rgbTriple(11, 11, 6, 1), rgbTriple(24, 13, 7)];
  cases.push({ ...cases[0]!, fused: cases[0]!.fused.map((p) => mapPlane(p, (v) => v / 7 + 0.5)) });
  const simd = cases.map((t) => Ssim.compute(t));
  disableSsimWasm(true);
  try {
    cases.forEach((t, i) => assert.ok(Object.is(Ssim.compute(t), simd[i]), `case ${i}`));
    disableWasmFilter(true);
    cases.forEach((t, i) => assert.ok(Object.is(Ssim.compute(t), simd[i]), `case ${i}, JavaScript filter`));
  } finally {
    disableWasmFilter(false);
    disableSsimWasm(false);
  }
});
