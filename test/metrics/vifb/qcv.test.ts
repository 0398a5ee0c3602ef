import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Qcv, qcvChannel } from '../../../src/metrics/vifb/qcv.js';
import type { Plane64 } from '../../../src/metrics/types.js';
import { constant, csfNaive, filter2Same, mapPlane, normalize1Naive, rel, rgbTriple, texture, toMat, zip, type Mat } from './helpers.js';

// Reference: a literal transcription of metricsQcv.m (normalize1, filter2 Sobel, blkproc with zero padding to
// multiples of 16, direct-DFT CSF filtering with explicit fftshift / freqspace). Tolerance 1e-11 relative
// (rounding of the FFT and of the summation order only).

function blk(m: Mat, fn: (block: number[]) => number): number[] {
  const h = m.length, w = m[0]!.length, out: number[] = [];
  for (let ty = 0; ty < Math.ceil(h / 16); ty++) {
    for (let tx = 0; tx < Math.ceil(w / 16); tx++) {
      const block: number[] = [];
      for (let i = 0; i < 16; i++) for (let j = 0; j < 16; j++) block.push(m[ty * 16 + i]?.[tx * 16 + j] ?? 0);
      out.push(fn(block));
    }
  }
  return out;
}

function qcvNaive(a: Plane64, b: Plane64, f: Plane64): number {
  const im1 = normalize1Naive(toMat(a)), im2 = normalize1Naive(toMat(b)), fu = normalize1Naive(toMat(f));
  const flt1 = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], flt2 = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]];
  const G = (x: Mat) => zip(filter2Same(flt1, x), filter2Same(flt2, x), (u, v) => Math.sqrt(u * u + v * v));
  const sum5 = (bl: number[]) => bl.reduce((s, v) => s + v ** 5, 0);
  const r1 = blk(G(im1), sum5), r2 = blk(G(im2), sum5);
  const theta = (r: number) => 2.6 * (0.0192 + 0.144 * r) * Math.exp(-((0.144 * r) ** 1.1));
  const ms = (bl: number[]) => bl.reduce((s, v) => s + v * v, 0) / bl.length;
  const d1 = blk(csfNaive(zip(im1, fu, (x, y) => x - y), 8, theta), ms);
  const d2 = blk(csfNaive(zip(im2, fu, (x, y) => x - y), 8, theta), ms);
  let num = 0, den = 0;
  for (let t = 0; t < r1.length; t++) {
    num += r1[t]! * d1[t]! + r2[t]! * d2[t]!;
    den += r1[t]! + r2[t]!;
  }
  return num / den;
}

test('matches a literal transcription of metricsQcv.m, including partial 16x16 tiles', () => {
  for (const [w, h, seed] of [[21, 18, 1], [16, 16, 2], [35, 9, 3]] as const) {
    const t = rgbTriple(w, h, seed);
    const got = qcvChannel(t.vis[0]!, t.ir[0]!, t.fused[0]!), want = qcvNaive(t.vis[0]!, t.ir[0]!, t.fused[0]!);
    assert.ok(rel(got, want) < 1e-11, `${w}x${h}: ${got} vs ${want}`);
  }
});

test('0 when F = A = B; non-negative; symmetric in the sources', () => {
  const x = texture(20, 20, 4);
  assert.ok(Math.abs(qcvChannel(x, x, x)) < 1e-20);
  const t = rgbTriple(20, 20, 5);
  const v = Qcv.compute(t);
  assert.ok(v > 0);
  assert.ok(rel(v, Qcv.compute({ vis: t.ir, ir: t.vis, fused: t.fused })) < 1e-14);
});

test('invariant to increasing affine changes of any image (normalize1 removes them)', () => {
  const t = rgbTriple(18, 17, 6);
  const vis = t.vis.map((p) => mapPlane(p, (v) => 2 * v + 1));
  assert.equal(Qcv.compute({ ...t, vis }), Qcv.compute(t));
});

test('constant images (docs/METRICS.md#edge-cases): both sources flat -> NaN; constant non-zero source -> NaN; no throw', () => {
  const f = texture(16, 16, 7);
  assert.ok(Number.isNaN(qcvChannel(constant(16, 16, 0), constant(16, 16, 0), f)));
  assert.ok(Number.isNaN(qcvChannel(texture(16, 16, 8), constant(16, 16, 30), f)));
  assert.ok(Number.isFinite(qcvChannel(texture(16, 16, 8), constant(16, 16, 0), f)));
});

test('per-channel mean; 1-plane infrared reused per channel equals three copies', () => {
  const g = rgbTriple(19, 16, 9, 1);
  const ir = g.ir[0]!;
  const per = [0, 1, 2].map((k) => qcvChannel(g.vis[k]!, ir, g.fused[k]!));
  assert.ok(rel(Qcv.compute(g), (per[0]! + per[1]! + per[2]!) / 3) < 1e-14);
  assert.ok(rel(Qcv.compute(g), Qcv.compute({ ...g, ir: [ir, ir, ir] })) < 1e-14);
});
