import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../src/core/image.js';
import { collapseLaplacianPyramid, laplacianPyramid, pyrDown, pyrUp } from '../../src/filters/pyramid.js';
import { decodeF32, loadFixture, makeInputs, maxAbsDiff } from '../fusion/classical/inputs.js';

interface PyrCase {
  width: number; height: number; seed: number;
  down: { width: number; height: number; data: string };
  up: { width: number; height: number; data: string };
}

// Reference: cv2.pyrDown(x) and cv2.pyrUp(cv2.pyrDown(x), dstsize=x.shape) in float64 (OpenCV 4.6),
// stored as float32 in test/fixtures/fusion/lp.json 'pyramid'; allowed 1e-6 (observed 0).
test('pyramid: pyrDown and exact-size pyrUp equal OpenCV on odd, even and 1-pixel sizes', () => {
  const cases = loadFixture('lp')['pyramid'] as PyrCase[];
  assert.ok(cases.length >= 4);
  for (const c of cases) {
    const { ir } = makeInputs(c.width, c.height, c.seed);
    const d = pyrDown(ir);
    assert.equal(d.width, c.down.width);
    assert.equal(d.height, c.down.height);
    assert.ok(maxAbsDiff(d.data, decodeF32(c.down.data)) <= 1e-6, `down ${c.width}x${c.height}`);
    const u = pyrUp(d, c.width, c.height);
    assert.ok(maxAbsDiff(u.data, decodeF32(c.up.data)) <= 1e-6, `up ${c.width}x${c.height}`);
  }
});

test('pyramid: a Laplacian pyramid collapses back to its image (1e-12)', () => {
  for (const [w, h, L] of [[37, 23, 4], [64, 48, 6], [1, 1, 2], [3, 2, 1]]) {
    const { vis } = makeInputs(w!, h!, 99);
    const pyr = laplacianPyramid(vis, L!);
    assert.equal(pyr.details.length, L);
    assert.equal(pyr.details[0]!.width, w);
    assert.ok(maxAbsDiff(collapseLaplacianPyramid(pyr).data, vis.data) < 1e-12);
  }
});

test('pyramid: pyrUp only expands to 2n - 1 or 2n', () => {
  const p = plane64(3, 3, new Float64Array(9));
  assert.throws(() => pyrUp(p, 7, 6), RangeError);
  assert.throws(() => pyrUp(p, 6, 4), RangeError);
  assert.equal(pyrUp(p, 5, 6).width, 5);
});
