import { test } from 'node:test';
import assert from 'node:assert/strict';
import { gff, gffFuse } from '../../../src/fusion/classical/gff.js';
import { averageFuse } from '../../../src/fusion/classical/average.js';
import { plane } from '../../../src/core/image.js';
import { commonFuserTests, isKind } from './common.js';
import { makeInputs, maxAbsDiff } from './inputs.js';

// Identity: saliency ties send every binary weight to vis; the guided filter returns constant maps exactly
// (1 and 0), so F = B + D = I up to the 1e-12 of the authors' normalisation and float32 rounding.
// Reference: an independent NumPy/SciPy transcription of the authors' GFF.m (scipy.ndimage 'nearest' filters,
// He's guided filter with cumulative sums), test/fixtures/fusion/gff.json: default parameters (windows both
// larger and smaller than the image), other parameters, weights 'paper', 2x3, 1x1. Observed max error 0
// (same float32), allowed 1e-6.
commonFuserTests({
  fuser: gff,
  pure: gffFuse,
  identityTolerance: 1e-6,
  referenceTolerance: 1e-6,
  optionSets: [{}, { weights: 'paper' }, { r1: 3, eps1: 0.01, r2: 1, eps2: 1e-4 }],
});

test('gff: both sources contribute; differs from the average', () => {
  const { ir, vis } = makeInputs(96, 100, 42);
  const out = gffFuse(ir, vis);
  assert.ok(maxAbsDiff(out.data, averageFuse(ir, vis).data) > 0.05);
  assert.ok(maxAbsDiff(out.data, ir.data) > 0.05 && maxAbsDiff(out.data, vis.data) > 0.05);
});

test('gff: a flat source gives way to a textured one; a tie goes to vis', () => {
  const { ir: textured } = makeInputs(40, 30, 9);
  const flat = plane(40, 30, new Float32Array(40 * 30).fill(0.5));
  // The textured source wins every saliency contest: its binary map is 1 everywhere, which the guided
  // filters keep exactly, so both of its layers get weight 1 and the output is that source.
  const out = gffFuse(flat, textured);
  assert.ok(maxAbsDiff(out.data, textured.data) < 1e-6);
  const out2 = gffFuse(textured, flat);
  assert.ok(maxAbsDiff(out2.data, textured.data) < 1e-6);
  // Two flat sources: saliency 0 everywhere, a tie, the authors' first image (vis) takes all the weight.
  const a = plane(5, 4, new Float32Array(20).fill(0.2));
  const b = plane(5, 4, new Float32Array(20).fill(0.7));
  const tie = gffFuse(a, b);
  assert.ok(maxAbsDiff(tie.data, b.data) < 1e-6);
});

test('gff: invalid options give the toolkit messages', () => {
  const { ir, vis } = makeInputs(8, 8, 1);
  assert.throws(() => gffFuse(ir, vis, { r1: 'x' as never }), isKind('usage', /^Expected an integer between 1 and 1000 for r1 but received 'x'$/));
  assert.throws(() => gffFuse(ir, vis, { r2: 0 }), isKind('usage', /for r2 but received 0$/));
  assert.throws(() => gffFuse(ir, vis, { eps1: -1 }), isKind('usage', /^Expected a positive finite number for eps1 but received -1$/));
  assert.throws(() => gffFuse(ir, vis, { eps2: Number.POSITIVE_INFINITY }), isKind('usage', /for eps2/));
  assert.throws(() => gffFuse(ir, vis, { weights: 'uint8' as never }), isKind('usage', /^Expected one of 'authors', 'paper' for weights but received 'uint8'$/));
  assert.deepEqual(gffFuse(ir, vis, { eps2: '1e-4' as never, r1: '9' as never }).data, gffFuse(ir, vis, { eps2: 1e-4, r1: 9 }).data);
  assert.throws(() => gffFuse(ir, vis, { r: 3 } as never), isKind('usage', /^Unknown option 'r' for gff\. Valid options: r1, eps1, r2, eps2, weights$/));
});
