import { test } from 'node:test';
import assert from 'node:assert/strict';
import { dwt, dwtEffectiveLevels, dwtFuse } from '../../../src/fusion/classical/dwt.js';
import { averageFuse } from '../../../src/fusion/classical/average.js';
import type { WaveletName } from '../../../src/filters/wavelet.js';
import { commonFuserTests, isKind } from './common.js';
import { loadFixture, makeInputs, maxAbsDiff } from './inputs.js';

// Identity: symmetric-extension DWT inverted exactly (float64), identical inputs come back to float32 rounding.
// Reference: the same algorithm on pywt.wavedec2 / pywt.waverec2 (PyWavelets 1.1.1, mode 'symmetric', float64),
// test/fixtures/fusion/dwt.json; observed max error 0, allowed 1e-6. (PyWavelets' db2 table differs from the
// closed form (1 +- sqrt 3)/(4 sqrt 2) used here by ~3e-13: far below the tolerance.)
commonFuserTests({
  fuser: dwt,
  pure: dwtFuse,
  identityTolerance: 1e-6,
  referenceTolerance: 1e-6,
  optionSets: [{}, { wavelet: 'db2' }, { wavelet: 'haar', levels: 8 }, { wavelet: 'db2', levels: 1 }],
});

test('dwt: levels clamp to pywt.dwt_max_level(min side, F), at least 1, as the fixture recorded', () => {
  assert.equal(dwtEffectiveLevels(3, 'haar', 640, 480), 3);
  assert.equal(dwtEffectiveLevels(8, 'haar', 640, 480), 8);
  assert.equal(dwtEffectiveLevels(8, 'db2', 640, 480), 7); // floor(log2(480 / 3))
  assert.equal(dwtEffectiveLevels(3, 'db2', 37, 23), 2);
  assert.equal(dwtEffectiveLevels(3, 'db2', 2, 3), 1);
  for (const c of loadFixture('dwt').cases) {
    const o = c.options as { wavelet: WaveletName; levels: number };
    assert.equal(dwtEffectiveLevels(o.levels, o.wavelet, c.width, c.height), c.effectiveLevels);
  }
});

test('dwt: keeps the stronger detail of each source; haar and db2 differ', () => {
  const { ir, vis } = makeInputs(64, 48, 33);
  const h = dwtFuse(ir, vis);
  const d = dwtFuse(ir, vis, { wavelet: 'db2' });
  assert.ok(maxAbsDiff(h.data, averageFuse(ir, vis).data) > 0.05);
  assert.ok(maxAbsDiff(h.data, d.data) > 0.01);
});

test('dwt: invalid options give the toolkit messages', () => {
  const { ir, vis } = makeInputs(8, 8, 1);
  assert.throws(() => dwtFuse(ir, vis, { levels: 'x' as never }), isKind('usage', /^Expected an integer between 1 and 8 for levels but received 'x'$/));
  assert.throws(() => dwtFuse(ir, vis, { levels: 0 }), isKind('usage', /for levels but received 0$/));
  assert.throws(() => dwtFuse(ir, vis, { wavelet: 'db4' as never }), isKind('usage', /^Expected one of 'haar', 'db2' for wavelet but received 'db4'$/));
  assert.throws(() => dwtFuse(ir, vis, { mode: 'zero' } as never), isKind('usage', /^Unknown option 'mode' for dwt\. Valid options: wavelet, levels$/));
});
