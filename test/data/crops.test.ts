// Seeded PRNG, aligned/independent crops, shared flips, small-image policy, epoch sampling.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/random.js';
import { EpochSampler, augmentInPlace, cropBatch, usableImages } from '../../src/data/crops.js';
import type { PairImages } from '../../src/data/pairs.js';

/** vi(x, y) = a unique code of the position; ir = 1 - vi, so an aligned crop has ir = 1 - vi everywhere. */
function image(stem: string, w: number, h: number): PairImages {
  const vi = Float32Array.from({ length: w * h }, (_, i) => (i + 1) / (w * h + 1));
  return { stem, width: w, height: h, vi, ir: vi.map((v) => 1 - v) };
}

test('Rng: state save/restore continues the same stream', () => {
  const a = new Rng(123);
  for (let i = 0; i < 10; i++) a.u32();
  const b = Rng.fromState(a.state);
  assert.deepEqual(Array.from({ length: 50 }, () => a.u32()), Array.from({ length: 50 }, () => b.u32()));
  assert.notDeepEqual(new Rng(1).state, new Rng(2).state);
});

test('aligned crops: same window for both, flips shared; windows inside the image', () => {
  const im = image('a', 40, 30);
  const rng = new Rng(4);
  for (let k = 0; k < 50; k++) {
    const b = cropBatch([im], [0, 0], rng, { size: 16 });
    for (let i = 0; i < b.vi.length; i++) assert.ok(Math.abs(b.ir[i]! - (1 - b.vi[i]!)) < 1e-6);
    // every crop value comes from the image (nothing padded)
    for (const v of b.vi) assert.ok(v > 0);
  }
});

test('independent crops (the reference behaviour) misalign the pair', () => {
  const im = image('a', 64, 64);
  const b = cropBatch([im], [0, 0, 0, 0], new Rng(4), { size: 16, alignment: 'independent', augment: false });
  let differ = 0;
  for (let i = 0; i < b.vi.length; i++) if (Math.abs(b.ir[i]! - (1 - b.vi[i]!)) > 1e-6) differ++;
  assert.ok(differ > b.vi.length / 2);
});

test('augmentation: h-flip, v-flip, transpose', () => {
  const base = Float32Array.from([1, 2, 3, 4]); // [[1,2],[3,4]]
  const t = (h: boolean, v: boolean, tr: boolean): number[] => {
    const b = Float32Array.from(base);
    augmentInPlace(b, 0, 2, h, v, tr);
    return Array.from(b);
  };
  assert.deepEqual(t(true, false, false), [2, 1, 4, 3]);
  assert.deepEqual(t(false, true, false), [3, 4, 1, 2]);
  assert.deepEqual(t(false, false, true), [1, 3, 2, 4]);
});

test('small images: skipped by default, zero-padded with small=pad', () => {
  const imgs = [image('big', 32, 32), image('small', 20, 12)];
  assert.deepEqual(usableImages(imgs, 16), [0]);
  assert.deepEqual(usableImages(imgs, 16, 'pad'), [0, 1]);
  const b = cropBatch(imgs, [1], new Rng(1), { size: 16, small: 'pad', augment: false });
  assert.equal(b.vi[15 * 16 + 0], 0); // row 15 is below the 12-row image
  assert.ok(b.vi[0]! > 0);
  assert.throws(() => cropBatch(imgs, [1], new Rng(1), { size: 16 }), /smaller than/);
});

test('epoch sampler: each usable image once per epoch, last batch smaller, state restores', () => {
  const s = new EpochSampler([0, 1, 2, 3, 4], 2);
  const rng = new Rng(3);
  const seen: number[] = [];
  const sizes: number[] = [];
  for (let k = 0; k < 3; k++) {
    const b = s.next(rng);
    assert.equal(b.epoch, 0);
    seen.push(...b.indices);
    sizes.push(b.indices.length);
  }
  assert.deepEqual([...seen].sort(), [0, 1, 2, 3, 4]);
  assert.deepEqual(sizes, [2, 2, 1]);
  const saved = s.state, rs = rng.state;
  const next = s.next(rng);
  assert.equal(next.epoch, 1);
  const s2 = new EpochSampler([0, 1, 2, 3, 4], 2);
  s2.restore(saved);
  assert.deepEqual(s2.next(Rng.fromState(rs)), next);
});
