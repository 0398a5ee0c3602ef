import { test } from 'node:test';
import assert from 'node:assert/strict';
import { max, maxFuse } from '../../../src/fusion/classical/max.js';
import { commonFuserTests } from './common.js';
import { makeInputs } from './inputs.js';

// Reference: numpy clip(maximum(ir, vis), 0, 1) (test/fixtures/fusion/max.json); exact.
commonFuserTests({ fuser: max, pure: maxFuse, identityTolerance: 0, referenceTolerance: 0, optionSets: [{}] });

test('max: is the per-pixel maximum, symmetric in its inputs', () => {
  const { ir, vis } = makeInputs(13, 7, 6);
  const out = maxFuse(ir, vis);
  const swapped = maxFuse(vis, ir);
  let fromIr = 0;
  for (let i = 0; i < out.data.length; i++) {
    assert.equal(out.data[i], Math.max(ir.data[i]!, vis.data[i]!));
    assert.equal(swapped.data[i], out.data[i]);
    if (out.data[i] === ir.data[i] && ir.data[i] !== vis.data[i]) fromIr++;
  }
  assert.ok(fromIr > 0 && fromIr < out.data.length, 'both sources contribute');
});
