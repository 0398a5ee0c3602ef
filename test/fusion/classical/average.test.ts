import { test } from 'node:test';
import assert from 'node:assert/strict';
import { average, averageFuse } from '../../../src/fusion/classical/average.js';
import { commonFuserTests } from './common.js';
import { makeInputs } from './inputs.js';

// Reference: numpy clip((ir + vis) / 2, 0, 1) (test/fixtures/fusion/average.json); exact in float32.
commonFuserTests({ fuser: average, pure: averageFuse, identityTolerance: 0, referenceTolerance: 0, optionSets: [{}] });

test('average: is the per-pixel mean, symmetric in its inputs', () => {
  const { ir, vis } = makeInputs(13, 7, 5);
  const out = averageFuse(ir, vis);
  const swapped = averageFuse(vis, ir);
  for (let i = 0; i < out.data.length; i++) {
    assert.equal(out.data[i], Math.fround((ir.data[i]! + vis.data[i]!) / 2));
    assert.equal(swapped.data[i], out.data[i]);
  }
});
