import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Entropy, entropyChannel } from '../../../src/metrics/vifb/entropy.js';
import { constant, rel, texture } from './helpers.js';

// References: closed forms (uniform histograms over 2^k levels have exactly k bits); tolerance 1e-15 absolute.

test('constant image 0 bits; two equal halves 1 bit; 256 equally used levels 8 bits', () => {
  assert.equal(entropyChannel(constant(8, 8, 77)), 0);
  assert.equal(entropyChannel(plane64(4, 2, Float64Array.of(0, 0, 0, 0, 255, 255, 255, 255))), 1);
  assert.ok(Math.abs(entropyChannel(plane64(256, 2, Float64Array.from({ length: 512 }, (_, i) => i % 256))) - 8) < 1e-15);
});

test('values are floored into bins (MATLAB floor(h)+1 indexing): 1.7 and 1.2 share bin 1', () => {
  assert.equal(entropyChannel(plane64(2, 1, Float64Array.of(1.7, 1.2))), 0);
  assert.equal(entropyChannel(plane64(2, 1, Float64Array.of(1.7, 2.2))), 1);
});

test('invariant to pixel permutations and bounded by 8; mean over channels', () => {
  const t = texture(30, 20, 9);
  const rev = plane64(30, 20, t.data.slice().reverse());
  assert.equal(entropyChannel(rev), entropyChannel(t));
  assert.ok(entropyChannel(t) > 0 && entropyChannel(t) <= 8);
  const f = [t, constant(30, 20, 1), plane64(30, 20, Float64Array.from({ length: 600 }, (_, i) => i % 2))];
  assert.ok(rel(Entropy.compute({ vis: f, ir: [t], fused: f }), (entropyChannel(t) + 0 + 1) / 3) < 1e-15);
});
