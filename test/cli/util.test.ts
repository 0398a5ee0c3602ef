// Small CLI helpers: the durations that progress lines show.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration } from '../../src/cli/util.js';

test('formatDuration: seconds, minutes, hours; unknown as ?', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(7 * 3600 + 20 * 60 + 10), '7h20m');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatDuration(-3), '0s');
});
