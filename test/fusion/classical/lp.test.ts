import { test } from 'node:test';
import assert from 'node:assert/strict';
import { lp, lpEffectiveLevels, lpFuse } from '../../../src/fusion/classical/lp.js';
import { averageFuse } from '../../../src/fusion/classical/average.js';
import { commonFuserTests, isKind } from './common.js';
import { loadFixture, makeInputs, maxAbsDiff } from './inputs.js';

// Identity: the pyramid is collapsed exactly (float64), so identical inputs come back to float32 rounding.
// Reference: the same algorithm on cv2.pyrDown / cv2.pyrUp (OpenCV 4.6, float64, BORDER_REFLECT_101),
// test/fixtures/fusion/lp.json; observed max error 0 (both round to the same float32), allowed 1e-6.
commonFuserTests({
  fuser: lp,
  pure: lpFuse,
  identityTolerance: 1e-6,
  referenceTolerance: 1e-6,
  optionSets: [{}, { levels: 1 }, { levels: 8 }],
});

test('lp: levels clamp to floor(log2(min(width, height))), at least 1, as the fixture recorded', () => {
  assert.equal(lpEffectiveLevels(4, 640, 480), 4);
  assert.equal(lpEffectiveLevels(8, 640, 480), 8);
  assert.equal(lpEffectiveLevels(8, 37, 23), 4);
  assert.equal(lpEffectiveLevels(4, 2, 3), 1);
  assert.equal(lpEffectiveLevels(4, 1, 1), 1);
  for (const c of loadFixture('lp').cases) {
    assert.equal(lpEffectiveLevels(c.options['levels'] as number, c.width, c.height), c.effectiveLevels);
  }
  const { ir, vis } = makeInputs(2, 3, 8);
  assert.deepEqual(lpFuse(ir, vis, { levels: 8 }).data, lpFuse(ir, vis, { levels: 1 }).data);
});

test('lp: keeps the stronger detail of each source (differs from the average, is not one source)', () => {
  const { ir, vis } = makeInputs(64, 48, 6);
  const out = lpFuse(ir, vis);
  assert.ok(maxAbsDiff(out.data, averageFuse(ir, vis).data) > 0.05);
  assert.ok(maxAbsDiff(out.data, ir.data) > 0.05 && maxAbsDiff(out.data, vis.data) > 0.05);
});

test('lp: invalid levels give the toolkit message', () => {
  const { ir, vis } = makeInputs(8, 8, 1);
  assert.throws(() => lpFuse(ir, vis, { levels: 'x' as never }), isKind('usage', /^Expected an integer between 1 and 8 for levels but received 'x'$/));
  for (const bad of [0, 9, 2.5, -1, Number.NaN]) {
    assert.throws(() => lpFuse(ir, vis, { levels: bad }), isKind('usage', /^Expected an integer between 1 and 8 for levels but received /));
  }
  for (const bad of ['', ' ', '2.5', '0x3', '3 levels', null, true, [3]]) {
    assert.throws(() => lpFuse(ir, vis, { levels: bad as never }), isKind('usage', /for levels but received /));
  }
  // Numeric strings (CLI flags, web forms) are read as numbers.
  assert.deepEqual(lpFuse(ir, vis, { levels: '2' as never }).data, lpFuse(ir, vis, { levels: 2 }).data);
  assert.throws(() => lpFuse(ir, vis, { level: 3 } as never), isKind('usage', /^Unknown option 'level' for lp\. Valid options: levels$/));
});
