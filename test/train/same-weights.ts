// Shared by the resume tests: two weights files hold the same values, bit for bit.
import assert from 'node:assert/strict';
import { readIsfuseWeights } from '../../src/model/weights.js';

export async function assertSameWeights(pathA: string, pathB: string): Promise<Map<string, Float32Array | number>> {
  const [wa, wb] = await Promise.all([readIsfuseWeights(pathA), readIsfuseWeights(pathB)]);
  for (const [k, v] of wa) {
    const u = wb.get(k)!;
    if (typeof v === 'number') assert.equal(u, v, k);
    else assert.deepEqual(Buffer.from((u as Float32Array).buffer), Buffer.from(v.buffer), k);
  }
  return wa;
}
