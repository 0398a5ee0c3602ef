import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import type { VifbInputs } from '../../../src/metrics/types.js';
import { normalize1, normalize1Into, qcbFilter, qcvFilter } from '../../../src/metrics/vifb/csf.js';
import { fft2d, filterPair, filterSpectrum } from '../../../src/metrics/vifb/fft.js';
import { quantizeMinMax } from '../../../src/metrics/vifb/mutinf.js';
import { Qabf, qabfChannel } from '../../../src/metrics/vifb/qabf.js';
import { Qcb, qcbChannel } from '../../../src/metrics/vifb/qcb.js';
import { Qcv, qcvChannel } from '../../../src/metrics/vifb/qcv.js';
import { clearSpectraCache, normalisedSpectra } from '../../../src/metrics/vifb/spectra.js';
import { constant, mapPlane, rel, rgbTriple, rng, texture } from './helpers.js';

// The shared-spectrum paths (./spectra.ts, used by Qcb and, from 64x64 up, Qcv) against the per-channel
// functions, which filter each image (or difference) on its own (./csf.ts filterImages).

test('filterSpectrum of fft2d(a + ib) is bit-identical to filterPair(a, b)', () => {
  const r = rng(3);
  for (const [w, h] of [[70, 64], [64, 67], [96, 80]] as const) {
    for (const filter of [qcbFilter(w, h), qcvFilter(w, h)]) {
      const a = new Float64Array(w * h).map(() => Math.round(255 * r())), b = new Float64Array(w * h).map(() => Math.round(255 * r()));
      const zr = a.slice(), zi = b.slice();
      fft2d(zr, zi, w, h);
      const or = new Float64Array(w * h), oi = new Float64Array(w * h);
      filterSpectrum(zr, zi, filter, or, oi);
      filterPair(a, b, filter);
      assert.deepEqual(or, a);
      assert.deepEqual(oi, b);
      filterSpectrum(zr, zi, filter, zr, zi); // in place
      assert.deepEqual(zr, a);
    }
  }
});

test('normalisedSpectra: kinds, reuse for the same planes and samples, recomputation after a change', () => {
  clearSpectraCache();
  const x = texture(64, 64, 1), y = texture(64, 64, 2), z = constant(64, 64, 0), c = constant(64, 64, 7), u = texture(64, 64, 3);
  const s = normalisedSpectra([x, z, y, c, u]);
  assert.deepEqual(s.map((e) => e.kind), ['ok', 'zero', 'ok', 'bad', 'ok']);
  assert.equal(s[0]!.re, s[2]!.re); // x and y share a transform
  assert.equal(s[2]!.second, true);
  assert.notEqual(s[4]!.re, s[0]!.re);
  assert.deepEqual(s[0]!.normalised, normalize1(x.data));
  assert.equal(normalisedSpectra([x, z, y, c, u]), s); // kept
  const before = s[0]!.normalised.slice();
  x.data[5] = 255 - x.data[5]!;
  const t = normalisedSpectra([x, z, y, c, u]);
  assert.notDeepEqual(t[0]!.normalised, before);
  assert.deepEqual(t[0]!.normalised, normalize1(x.data));
  clearSpectraCache();
});

test('normalize1Into and quantizeMinMax: the integer fast path equals the general path', () => {
  const r = rng(11);
  const ints = new Float64Array(5000).map(() => Math.floor(256 * r()));
  const narrow = ints.map((v) => 40 + (v % 30));
  // the same values plus a non-integer sample force the general path everywhere but there
  for (const x of [ints, narrow]) {
    const y = Float64Array.from([...x, 50.5]);
    const a = new Float64Array(x.length), b = new Float64Array(y.length);
    assert.equal(normalize1Into(x, a), 'ok');
    normalize1Into(y, b);
    // y has the same min and max as x (50.5 lies inside), so every shared sample maps alike
    assert.deepEqual(a, b.subarray(0, x.length));
    assert.deepEqual(quantizeMinMax(x), quantizeMinMax(y).subarray(0, x.length));
  }
  const nan = Float64Array.from([1, NaN, 3]), out = new Float64Array(3);
  assert.equal(normalize1Into(nan, out), 'bad');
  assert.deepEqual([...out], [0, NaN, 255]);
  assert.equal(normalize1Into(new Float64Array([0, -0, 0]), out), 'zero');
  assert.equal(normalize1Into(new Float64Array([9, 9, 9]), out), 'bad');
  assert.ok(out.every((v) => Number.isNaN(v)));
  assert.deepEqual([...quantizeMinMax(Float64Array.from([2, 4, 3]))], [0, 255, 128]);
  assert.deepEqual([...quantizeMinMax(Float64Array.from([2, NaN, 4, 3]))], [0, 0, 255, 128]);
});

/** Qcv from the per-channel function (each difference filtered on its own). */
function qcvPerChannel(t: VifbInputs): number {
  let s = 0;
  for (let k = 0; k < 3; k++) s += qcvChannel(t.vis[k]!, t.ir.length === 1 ? t.ir[0]! : t.ir[k]!, t.fused[k]!);
  return s / 3;
}

test('Qcv on shared spectra equals the per-channel path (1e-12), with and without Qcb run first', () => {
  for (const [w, h, seed, irc] of [[64, 64, 1, 3], [97, 70, 2, 1], [80, 65, 3, 3]] as const) {
    const t = rgbTriple(w, h, seed, irc);
    const want = qcvPerChannel(t);
    clearSpectraCache();
    const alone = Qcv.compute(t);
    assert.ok(rel(alone, want) < 1e-12, `${w}x${h}: ${alone} vs ${want}`);
    clearSpectraCache();
    const qcb = Qcb.compute(t);
    assert.equal(Qcv.compute(t), alone); // reusing Qcb's transforms gives the same spectra
    // Qcb is unchanged by the sharing
    let s = 0;
    for (let k = 0; k < 3; k++) s += qcbChannel(t.vis[k]!, t.ir.length === 1 ? t.ir[0]! : t.ir[k]!, t.fused[k]!);
    assert.ok(rel(qcb, s / 3) < 1e-12);
  }
});

test('Qcv shared path keeps exact zeros and NaN: F = A = B -> 0; F = VI -> only the IR term; constant planes', () => {
  const x = texture(64, 64, 4);
  assert.equal(Qcv.compute({ vis: [x, x, x], ir: [x], fused: [x, x, x] }), 0);
  // F equal to VI after normalize1 (an increasing affine copy): d_A is exactly 0
  const t = rgbTriple(64, 64, 5, 1);
  const fused = t.vis.map((p) => mapPlane(p, (v) => 2 * v + 3));
  Qcb.compute({ ...t, fused });
  const got = Qcv.compute({ ...t, fused });
  const want = qcvPerChannel({ ...t, fused });
  assert.ok(rel(got, want) < 1e-12, `${got} vs ${want}`);
  // constant and all-zero planes as in the per-channel path
  const f = texture(64, 64, 7), a = texture(64, 64, 8);
  for (const [vis, ir] of [[constant(64, 64, 0), constant(64, 64, 0)], [a, constant(64, 64, 30)], [a, constant(64, 64, 0)], [constant(64, 64, 0), a]] as const) {
    const inputs = { vis: [vis, vis, vis], ir: [ir], fused: [f, f, f] };
    const v = Qcv.compute(inputs), w = qcvChannel(vis, ir, f);
    if (Number.isNaN(w)) assert.ok(Number.isNaN(v));
    else assert.ok(rel(v, w) < 1e-12, `${v} vs ${w}`);
  }
  const zf = { vis: [a, a, a], ir: [texture(64, 64, 9)], fused: [constant(64, 64, 0), constant(64, 64, 0), constant(64, 64, 0)] };
  assert.ok(rel(Qcv.compute(zf), qcvChannel(a, zf.ir[0]!, zf.fused[0]!)) < 1e-12);
});

test('a plane changed between Qcb and Qcv is transformed again', () => {
  const t = rgbTriple(64, 64, 12, 1);
  Qcb.compute(t);
  t.fused[1]!.data.fill(17, 0, 2000);
  const want = qcvPerChannel(t);
  assert.ok(rel(Qcv.compute(t), want) < 1e-12);
});

test('Qabf with reused buffers: repeatable, and equal to the per-channel function', () => {
  const t = rgbTriple(40, 33, 13, 1);
  const per = [0, 1, 2].map((k) => qabfChannel(t.vis[k]!, t.ir[0]!, t.fused[k]!));
  const v = Qabf.compute(t);
  assert.ok(rel(v, (per[0]! + per[1]! + per[2]!) / 3) < 1e-14);
  Qabf.compute(rgbTriple(33, 40, 14));
  assert.equal(Qabf.compute(t), v);
  assert.equal(Qabf.compute({ vis: t.vis, ir: t.ir, fused: t.fused.map((p) => plane64(p.width, p.height, p.data.slice())) }), v);
});
