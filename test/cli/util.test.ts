// Small CLI helpers: the durations that progress lines show, the crop side's parser.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseCropSide } from '../../src/cli/util.js';

test('formatDuration: seconds, minutes, hours; unknown as ?', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(42.4), '42s');
  assert.equal(formatDuration(185), '3m05s');
  assert.equal(formatDuration(3725), '1h02m');
  assert.equal(formatDuration(7 * 3600 + 20 * 60 + 10), '7h20m');
  assert.equal(formatDuration(Infinity), '?');
  assert.equal(formatDuration(-3), '0s');
});

test('parseCropSide: 17 and up; smaller, fractional or non-numeric sides are usage errors naming --crop', () => {
  assert.equal(parseCropSide('17'), 17);
  assert.equal(parseCropSide('176'), 176);
  for (const bad of ['16', '0', '-20', '32.5', 'big', '']) {
    assert.throws(() => parseCropSide(bad), (e: Error) => /--crop/.test(e.message) && /at least 17/.test(e.message), bad);
  }
});
