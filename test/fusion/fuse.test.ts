import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fuse } from '../../src/fusion/fuse.js';
import { rgbToYCrCb, yCrCbToRgb } from '../../src/io/color.js';
import { syntheticPair } from '../../src/data/synthetic.js';
import type { RasterImage } from '../../src/core/image.js';
import { IsfuseError } from '../../src/core/errors.js';
import { writeImage } from '../../src/io/encode.js';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const { ir, vis } = syntheticPair({ width: 40, height: 30 });
const grayOf = (img: RasterImage): RasterImage => ({ ...img, channels: 1, data: rgbToYCrCb(img.data as Uint8Array, img.width, img.height).y });

test('colour: fusing the visible image with its own Y gives back Y + its chroma, via OpenCV-exact YCrCb', async () => {
  const y = grayOf(vis);
  const r = await fuse(y, vis, { method: 'average' });
  assert.equal(r.colorFrom, 'vis');
  assert.equal(r.image.channels, 3);
  const ycc = rgbToYCrCb(vis.data as Uint8Array, vis.width, vis.height);
  // Y in -> same Y out (x/255*255 rounds back), so the output is exactly YCrCb2RGB of the input's planes.
  assert.deepEqual(r.image.data, yCrCbToRgb(ycc.y, ycc.cr, ycc.cb));
});

test('gray inputs give gray output; --color-from none forces gray; a colour ir lends its colour under auto', async () => {
  const g = await fuse(ir, grayOf(vis), { method: 'max' });
  assert.equal(g.image.channels, 1);
  assert.equal(g.colorFrom, 'none');
  const n = await fuse(ir, vis, { method: 'max', colorFrom: 'none' });
  assert.equal(n.image.channels, 1);
  const pet = await fuse(vis, grayOf(vis), { method: 'average' });
  assert.equal(pet.colorFrom, 'ir');
  assert.equal(pet.image.channels, 3);
});

test('a gray image stored as RGB (R = G = B, like TNO and MRI files) gives gray output', async () => {
  const g = grayOf(vis);
  const rgbGray: RasterImage = { ...g, channels: 3, data: Uint8Array.from({ length: g.data.length * 3 }, (_, i) => g.data[Math.floor(i / 3)]!) };
  const r = await fuse(ir, rgbGray, { method: 'average' });
  assert.equal(r.image.channels, 1);
});

test('quantisation: clamp, x255, round; stretch maps min..max to 0..255', async () => {
  const a: RasterImage = { width: 3, height: 1, channels: 1, bitDepth: 8, data: Uint8Array.of(10, 20, 30) };
  const b: RasterImage = { width: 3, height: 1, channels: 1, bitDepth: 8, data: Uint8Array.of(11, 20, 30) };
  const r = await fuse(a, b, { method: 'average' });
  assert.deepEqual(Array.from(r.image.data), [11, 20, 30]); // 10.5 rounds up
  const s = await fuse(a, b, { method: 'average', stretch: true });
  assert.deepEqual(Array.from(s.image.data), [0, 124, 255]);
});

test('16-bit inputs: min-max (default), full range or a fixed range', async () => {
  const a: RasterImage = { width: 2, height: 1, channels: 1, bitDepth: 16, data: Uint16Array.of(1000, 3000) };
  const mm = await fuse(a, a, { method: 'average' });
  assert.deepEqual(Array.from(mm.image.data), [0, 255]);
  const full = await fuse(a, a, { method: 'average', range16: 'full' });
  assert.deepEqual(Array.from(full.image.data), [4, 12]);
  const fixed = await fuse(a, a, { method: 'average', range16: [0, 4000] });
  assert.deepEqual(Array.from(fixed.image.data), [64, 191]);
});

test('bad options are usage errors in the "Expected X for name but received Y" shape', async () => {
  await assert.rejects(fuse(ir, vis, { colorFrom: 'left' as never }), (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && /Expected 'auto', 'vis', 'ir' or 'none' for colorFrom but received 'left'/.test(e.message));
  await assert.rejects(fuse(ir, vis, { range16: [5, 1] }), /Expected .* for range16/);
});

test("a method's input error names the input files when they are files (the isfuse method's 4x4 minimum), kind 'input'", async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isfuse-tiny-'));
  const tiny: RasterImage = { width: 3, height: 3, channels: 1, bitDepth: 8, data: new Uint8Array(9).fill(99) };
  await writeImage(join(dir, 'a.png'), tiny);
  await writeImage(join(dir, 'b.png'), tiny);
  const named = (e: unknown) =>
    e instanceof IsfuseError && e.kind === 'input' && e.message === `${join(dir, 'a.png')} + ${join(dir, 'b.png')}: the isfuse method needs images of at least 4x4 pixels (two 2x2 poolings), got 3x3`;
  await assert.rejects(fuse(join(dir, 'a.png'), join(dir, 'b.png'), { method: 'isfuse' }), named);
  // Decoded rasters have no file names: the method's message as it is.
  await assert.rejects(fuse(tiny, tiny, { method: 'isfuse' }), (e: unknown) => e instanceof IsfuseError && e.kind === 'input' && /^the isfuse method needs images of at least 4x4/.test(e.message));
});
