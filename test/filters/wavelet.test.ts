import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dwt2, dwtCoeffLength, dwtMaxLevel, idwt2, waveletFilters, wavedec2, waverec2, type WaveletName } from '../../src/filters/wavelet.js';
import { decodeF32, loadFixture, makeInputs, maxAbsDiff } from '../fusion/classical/inputs.js';

interface Dwt2Case {
  width: number; height: number; seed: number; wavelet: WaveletName;
  bandWidth: number; bandHeight: number; ll: string; lh: string; hl: string; hh: string;
}

test('wavelet: filter banks are orthonormal and match PyWavelets (3e-13: its db2 table vs the closed form)', () => {
  const pywtDb2DecLo = [-0.12940952255126037, 0.2241438680420134, 0.8365163037378079, 0.48296291314453416];
  const db2 = waveletFilters('db2');
  for (let i = 0; i < 4; i++) assert.ok(Math.abs(db2.decLo[i]! - pywtDb2DecLo[i]!) < 1e-12);
  for (const name of ['haar', 'db2'] as const) {
    const f = waveletFilters(name);
    const dot = (a: Float64Array, b: Float64Array, shift: number) => a.reduce((s, v, i) => s + v * (b[i + shift] ?? 0), 0);
    assert.ok(Math.abs(dot(f.recLo, f.recLo, 0) - 1) < 1e-15);
    assert.ok(Math.abs(dot(f.recHi, f.recHi, 0) - 1) < 1e-15);
    assert.ok(Math.abs(dot(f.recLo, f.recHi, 0)) < 1e-15);
    if (name === 'db2') assert.ok(Math.abs(dot(f.recLo, f.recLo, 2)) < 1e-15);
  }
});

test('wavelet: coefficient lengths and max level follow PyWavelets', () => {
  assert.equal(dwtCoeffLength(37, 2), 19);
  assert.equal(dwtCoeffLength(37, 4), 20);
  assert.equal(dwtCoeffLength(1, 4), 2);
  // pywt.dwt_max_level(n, F) for a few n:
  assert.equal(dwtMaxLevel(480, 2), 8);
  assert.equal(dwtMaxLevel(480, 4), 7);
  assert.equal(dwtMaxLevel(23, 4), 2);
  assert.equal(dwtMaxLevel(2, 4), 0);
  assert.equal(dwtMaxLevel(1, 2), 0);
});

// Reference: pywt.dwt2(x, wavelet, mode='symmetric') (PyWavelets 1.1.1, float64), float32 in
// test/fixtures/fusion/dwt.json 'dwt2'; (cA, (cH, cV, cD)) = (ll, (lh, hl, hh)). Allowed 1e-6 (observed 0).
test('wavelet: one 2-D level equals pywt.dwt2 (symmetric), odd sizes and 1x1 included', () => {
  const cases = loadFixture('dwt')['dwt2'] as Dwt2Case[];
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const { ir } = makeInputs(c.width, c.height, c.seed);
    const b = dwt2(ir, waveletFilters(c.wavelet));
    for (const band of ['ll', 'lh', 'hl', 'hh'] as const) {
      assert.equal(b[band].width, c.bandWidth);
      assert.equal(b[band].height, c.bandHeight);
      assert.ok(maxAbsDiff(b[band].data, decodeF32(c[band])) <= 1e-6, `${c.wavelet} ${c.width}x${c.height} ${band}`);
    }
  }
});

test('wavelet: synthesis inverts analysis exactly (1e-12), one and several levels, any size', () => {
  for (const name of ['haar', 'db2'] as const) {
    const f = waveletFilters(name);
    for (const [w, h, L] of [[37, 23, 3], [64, 48, 5], [1, 1, 2], [2, 3, 3], [5, 1, 2]]) {
      const { vis } = makeInputs(w!, h!, 77);
      assert.ok(maxAbsDiff(idwt2(dwt2(vis, f), f, w!, h!).data, vis.data) < 1e-12);
      assert.ok(maxAbsDiff(waverec2(wavedec2(vis, f, L!), f).data, vis.data) < 1e-12, `${name} ${w}x${h} L${L}`);
    }
  }
});
