import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync, readFileSync, mkdirSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { encode as encodeBmp } from 'fast-bmp';
import { decodeImage, decodeBuffer } from '../../src/io/decode.js';
import { encodeImage, writeImage } from '../../src/io/encode.js';
import { IsfuseError } from '../../src/core/errors.js';

const dir = mkdtempSync(join(tmpdir(), 'isfuse-io-'));
const W = 5, H = 3;
const gray = Uint8Array.from({ length: W * H }, (_, i) => (i * 17) % 256);
const rgb = Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29 + 7) % 256);

async function rejectsWith(p: Promise<unknown>, pattern: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof IsfuseError, `expected IsfuseError, got ${e}`);
    assert.match(e.message, pattern);
    return true;
  });
}

test('PNG 8-bit gray and RGB decode to the exact samples, gray as 1 channel', async () => {
  const g = await decodeBuffer(await sharp(gray, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').png().toBuffer(), 'g.png');
  assert.equal(g.channels, 1);
  assert.equal(g.bitDepth, 8);
  assert.deepEqual(g.data, gray);
  const c = await decodeBuffer(await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer(), 'c.png');
  assert.equal(c.channels, 3);
  assert.deepEqual(c.data, rgb);
});

test('16-bit PNG keeps 16 bits (gray and RGB), and 16-bit encode round-trips', async () => {
  const g16 = Uint16Array.from({ length: W * H }, (_, i) => i * 4001);
  const img = await decodeBuffer(await encodeImage({ width: W, height: H, channels: 1, bitDepth: 16, data: g16 }), 'g16.png');
  assert.equal(img.bitDepth, 16);
  assert.equal(img.channels, 1);
  assert.deepEqual(Array.from(img.data), Array.from(g16));
  const c16 = Uint16Array.from({ length: W * H * 3 }, (_, i) => (i * 2731) % 65536);
  const back = await decodeBuffer(await encodeImage({ width: W, height: H, channels: 3, bitDepth: 16, data: c16 }), 'c16.png');
  assert.deepEqual(Array.from(back.data), Array.from(c16));
});

test('lossless TIFF and WebP decode exactly; JPEG decodes to the right size and channels', async () => {
  const raw = { raw: { width: W, height: H, channels: 3 as const } };
  for (const [name, buf] of [
    ['c.tif', await sharp(rgb, raw).tiff({ compression: 'lzw' }).toBuffer()],
    ['c.webp', await sharp(rgb, raw).webp({ lossless: true }).toBuffer()],
  ] as const) {
    const img = await decodeBuffer(buf, name);
    assert.deepEqual(img.data, rgb, name);
  }
  const j = await decodeBuffer(await sharp(rgb, raw).jpeg().toBuffer(), 'c.jpg');
  assert.deepEqual([j.width, j.height, j.channels, j.bitDepth], [W, H, 3, 8]);
});

test('BMP: 24-bit colour and 8-bit gray-palette files decode exactly', async () => {
  const bmp24 = encodeBmp({ width: W, height: H, channels: 3, components: 3, bitsPerPixel: 24, data: rgb });
  assert.deepEqual((await decodeBuffer(bmp24, 'c.bmp')).data, rgb);
  const bmp8 = encodeBmp({ width: W, height: H, channels: 1, components: 1, bitsPerPixel: 8, data: gray });
  const g = await decodeBuffer(bmp8, 'g.bmp');
  assert.equal(g.channels, 1);
  assert.deepEqual(g.data, gray);
});

test('alpha is dropped with a warning', async () => {
  const rgba = Uint8Array.from({ length: W * H * 4 }, (_, i) => (i % 4 === 3 ? 128 : rgb[i - Math.floor(i / 4)]!));
  const warnings: string[] = [];
  const img = await decodeBuffer(await sharp(rgba, { raw: { width: W, height: H, channels: 4 } }).png().toBuffer(), 'a.png', { onWarning: (m) => warnings.push(m) });
  assert.equal(img.channels, 3);
  assert.deepEqual(img.data, rgb);
  assert.match(warnings.join(), /a\.png: alpha channel dropped/);
});

test('EXIF orientation is applied (orientation 6 = rotate 90 degrees clockwise)', async () => {
  const buf = await sharp(gray, { raw: { width: W, height: H, channels: 1 } }).toColourspace('b-w').jpeg({ quality: 100 }).withMetadata({ orientation: 6 }).toBuffer();
  const img = await decodeBuffer(buf, 'o.jpg');
  assert.deepEqual([img.width, img.height], [H, W]);
});

test('bad input: missing, folder, empty, corrupt, truncated, unsupported, over the pixel limit; each names the file', async () => {
  await rejectsWith(decodeImage(join(dir, 'nope.png')), /nope\.png: cannot read: file not found/);
  await rejectsWith(decodeImage(dir), /is a folder/);
  writeFileSync(join(dir, 'empty.png'), '');
  await rejectsWith(decodeImage(join(dir, 'empty.png')), /empty\.png: file is empty/);
  writeFileSync(join(dir, 'junk.png'), 'this is not an image at all');
  await rejectsWith(decodeImage(join(dir, 'junk.png')), /junk\.png: not a readable image/);
  const png = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).png().toBuffer();
  writeFileSync(join(dir, 'trunc.png'), png.subarray(0, png.length - 20));
  await rejectsWith(decodeImage(join(dir, 'trunc.png')), /trunc\.png: (corrupt or truncated|not a readable)/);
  const gif = await sharp(rgb, { raw: { width: W, height: H, channels: 3 } }).gif().toBuffer();
  writeFileSync(join(dir, 'x.gif'), gif);
  await rejectsWith(decodeImage(join(dir, 'x.gif')), /x\.gif: unsupported format 'gif'/);
  await rejectsWith(decodeBuffer(png, 'big.png', { maxPixels: 10 }), /big\.png: image is 5x3 \(15 pixels\), above the limit of 10 pixels; raise it with --max-pixels/);
  const bmp = encodeBmp({ width: W, height: H, channels: 3, components: 3, bitsPerPixel: 24, data: rgb });
  await rejectsWith(decodeBuffer(bmp.subarray(0, 60), 'short.bmp'), /short\.bmp: (truncated|corrupt)/);
});

test('writeImage writes atomically and refuses a missing folder without leaving files', async () => {
  const img = { width: W, height: H, channels: 1 as const, bitDepth: 8 as const, data: gray };
  const out = join(dir, 'w', 'out.png');
  await rejectsWith(writeImage(out, img), /output folder .* does not exist/);
  mkdirSync(join(dir, 'w'));
  await writeImage(out, img);
  assert.deepEqual((await decodeImage(out)).data, gray);
  assert.deepEqual(readdirSync(join(dir, 'w')), ['out.png']);
  await writeImage(join(dir, 'w', 'out.jpg'), img);
  assert.equal(readFileSync(join(dir, 'w', 'out.jpg'))[0], 0xff); // JPEG by extension
  await rejectsWith(encodeImage({ ...img, bitDepth: 16, data: new Uint16Array(W * H) }, { format: 'jpeg' }), /16-bit/);
});
