// Pair discovery (ir/+vi/ and the medical names) and the Y / gray read, on small PNGs made here.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { findPairs, loadDataset } from '../../src/data/pairs.js';
import { rgbToYCrCb } from '../../src/io/color.js';

const W = 6, H = 5;
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 37) % 256);
const gray = Uint8Array.from({ length: W * H }, (_, i) => (i * 11) % 256);

async function writePng(path: string, data: Uint8Array, channels: 1 | 3): Promise<void> {
  await sharp(Buffer.from(data), { raw: { width: W, height: H, channels } }).png().toFile(path);
}

test('finds ir/vi pairs by stem, reads vi as OpenCV Y and ir as gray', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isfuse-pairs-'));
  try {
    await mkdir(join(dir, 'ir'));
    await mkdir(join(dir, 'vi'));
    await writePng(join(dir, 'vi', 'a.png'), rgb, 3);
    await writePng(join(dir, 'ir', 'a.png'), gray, 1);
    await writePng(join(dir, 'vi', 'lonely.png'), rgb, 3);
    const found = await findPairs(dir);
    assert.deepEqual(found.pairs.map((p) => p.stem), ['a']);
    assert.equal(found.unpaired.length, 1);
    const { images } = await loadDataset(dir);
    const y = rgbToYCrCb(rgb, W, H).y;
    assert.deepEqual(Array.from(images[0]!.vi), Array.from(y, (v) => Math.fround(v / 255)));
    assert.deepEqual(Array.from(images[0]!.ir), Array.from(gray, (v) => Math.fround(v / 255)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('medical layout: MRI is the vi side, PET the ir side; unknown layouts are an error', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'isfuse-pairs-'));
  try {
    await mkdir(join(dir, 'MRI'));
    await mkdir(join(dir, 'PET'));
    await writePng(join(dir, 'MRI', 'x.png'), gray, 1);
    await writePng(join(dir, 'PET', 'x.png'), rgb, 3);
    const found = await findPairs(dir);
    assert.deepEqual(found.layout, ['MRI', 'PET']);
    assert.match(found.pairs[0]!.vi, /MRI/);
    await assert.rejects(findPairs(join(dir, 'MRI')), /none of the expected sub-folder/);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});
