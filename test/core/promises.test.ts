// allInOrder: concurrent like Promise.all, but the error reported is the first in argument order.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { allInOrder } from '../../src/core/promises.js';

const later = <T>(ms: number, v: T, fail = false): Promise<T> =>
  new Promise((ok, no) => setTimeout(() => (fail ? no(new Error(String(v))) : ok(v)), ms));

test('allInOrder: values in order; of two failures, the first argument\'s error even when it fails last', async () => {
  assert.deepEqual(await allInOrder([later(5, 'a'), later(1, 2)] as const), ['a', 2]);
  await assert.rejects(allInOrder([later(20, 'ir', true), later(1, 'vis', true)]), /^Error: ir$/);
  await assert.rejects(allInOrder([later(1, 'ok'), later(5, 'vis', true)]), /^Error: vis$/);
});
