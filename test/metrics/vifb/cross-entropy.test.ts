import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Cross_entropy, crossEntropyChannel } from '../../../src/metrics/vifb/cross-entropy.js';
import { constant, rel, rgbTriple } from './helpers.js';

// References: hand computations of docs/METRICS.md#vifb-cross-entropy on 4-pixel images; tolerance 1e-15 relative.
const p = (...v: number[]) => plane64(v.length, 1, Float64Array.from(v));

test('hand example: KL(vis, F) with P = (1/2, 1/2), Q = (1/4, 3/4); ir = F adds 0; CE = KL / 2', () => {
  const vis = p(0, 0, 1, 1), f = p(0, 1, 1, 1);
  const kl = 0.5 * Math.log2(0.5 / 0.25) + 0.5 * Math.log2(0.5 / 0.75);
  assert.ok(rel(crossEntropyChannel(vis, f, f), kl / 2) < 1e-15);
});

test('bins empty in the fused histogram are skipped, so the value stays finite', () => {
  // vis uses levels 0 and 2; fused has no level 2: only bin 0 counts, P = Q = 1/2 -> 0
  assert.equal(crossEntropyChannel(p(0, 0, 2, 2), p(0, 0, 2, 2), p(0, 0, 1, 1)), 0);
  assert.ok(Number.isFinite(crossEntropyChannel(p(5, 5, 5, 5), p(9, 9, 9, 9), p(0, 1, 2, 3))));
});

test('0 when all three histograms agree (e.g. identical images, or constant images)', () => {
  const t = rgbTriple(17, 13, 3);
  assert.equal(Cross_entropy.compute({ vis: t.vis, ir: t.vis, fused: t.vis }), 0);
  assert.equal(crossEntropyChannel(constant(4, 4, 7), constant(4, 4, 7), constant(4, 4, 7)), 0);
});

test('symmetric in the two sources; a 1-plane infrared equals three copies of it', () => {
  const t = rgbTriple(21, 14, 5);
  const sw = Cross_entropy.compute({ vis: t.ir, ir: t.vis, fused: t.fused });
  assert.equal(Cross_entropy.compute(t), sw);
  const g = rgbTriple(21, 14, 6, 1);
  const ir = g.ir[0]!;
  assert.equal(Cross_entropy.compute(g), Cross_entropy.compute({ ...g, ir: [ir, ir, ir] }));
});
