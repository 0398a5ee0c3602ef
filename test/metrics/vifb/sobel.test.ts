import { test } from 'node:test';
import assert from 'node:assert/strict';
import { sobel } from '../../../src/metrics/vifb/sobel.js';
import { constant, filter2Same, texture, toMat, type Mat } from './helpers.js';

// Reference: MATLAB filter2(K, X, 'same') with zero padding (helpers.ts), and an explicitly replicate-padded
// copy for imfilter(..., 'replicate'). Exact: integer inputs give integer responses.
const FLT1: Mat = [[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]]; // right minus left
const FLT2: Mat = [[-1, -2, -1], [0, 0, 0], [1, 2, 1]]; // below minus above

test('zero border: dx = filter2(flt1, X), dy = filter2(flt2, X) (the stencil Qabf and Qcv inline)', () => {
  const t = texture(13, 9, 1);
  const { dx, dy } = sobel(t, 'zero');
  assert.deepEqual(Array.from(dx), filter2Same(FLT1, toMat(t)).flat());
  assert.deepEqual(Array.from(dy), filter2Same(FLT2, toMat(t)).flat());
});

test('replicate border: same stencil on the edge-replicated image (the one Edge_intensity inlines)', () => {
  const t = texture(11, 7, 2);
  const m = toMat(t), h = m.length, w = m[0]!.length;
  const pad: Mat = Array.from({ length: h + 2 }, (_, i) => Array.from({ length: w + 2 }, (_, j) => m[Math.min(h - 1, Math.max(0, i - 1))]![Math.min(w - 1, Math.max(0, j - 1))]!));
  const ex = filter2Same(FLT1, pad).slice(1, h + 1).map((r) => r.slice(1, w + 1)).flat();
  const ey = filter2Same(FLT2, pad).slice(1, h + 1).map((r) => r.slice(1, w + 1)).flat();
  const { dx, dy } = sobel(t, 'replicate');
  assert.deepEqual(Array.from(dx), ex);
  assert.deepEqual(Array.from(dy), ey);
  const c = sobel(constant(5, 4, 9), 'replicate');
  assert.ok(c.dx.every((v) => v === 0) && c.dy.every((v) => v === 0));
});
