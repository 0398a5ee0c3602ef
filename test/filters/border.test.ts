import { test } from 'node:test';
import assert from 'node:assert/strict';
import { reflect101Index, replicateIndex, symmetricIndex } from '../../src/filters/border.js';

const map = (f: (i: number, n: number) => number, n: number, from: number, to: number): number[] => {
  const out: number[] = [];
  for (let i = from; i <= to; i++) out.push(f(i, n));
  return out;
};

test('border: replicate, reflect101 and symmetric index maps, including repeated reflection', () => {
  // n = 4, indices -5..8: the tables in the module docs, extended (reflect101 and symmetric checked
  // against numpy.pad(np.arange(n), k, 'reflect' / 'symmetric')).
  assert.deepEqual(map(replicateIndex, 4, -3, 6), [0, 0, 0, 0, 1, 2, 3, 3, 3, 3]);
  assert.deepEqual(map(reflect101Index, 4, -5, 8), [1, 2, 3, 2, 1, 0, 1, 2, 3, 2, 1, 0, 1, 2]);
  assert.deepEqual(map(symmetricIndex, 4, -5, 8), [3, 3, 2, 1, 0, 0, 1, 2, 3, 3, 2, 1, 0, 0]);
  // n = 1 and n = 2 edge cases (OpenCV maps everything to 0 for reflect101 when n = 1).
  assert.deepEqual(map(reflect101Index, 1, -3, 3), [0, 0, 0, 0, 0, 0, 0]);
  assert.deepEqual(map(reflect101Index, 2, -3, 4), [1, 0, 1, 0, 1, 0, 1, 0]);
  assert.deepEqual(map(symmetricIndex, 1, -2, 2), [0, 0, 0, 0, 0]);
  assert.deepEqual(map(symmetricIndex, 2, -4, 5), [0, 1, 1, 0, 0, 1, 1, 0, 0, 1]);
});
