// io/encode.ts: every output format is written as its extension says (magic bytes checked), losslessly except
// JPEG; any other name is refused before anything is written; atomic writes leave no temporary file.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsfuseError } from '../../src/core/errors.js';
import type { RasterImage } from '../../src/core/image.js';
import { decodeImage } from '../../src/io/decode.js';
import { encodeImage, writeImage } from '../../src/io/encode.js';

const dir = mkdtempSync(join(tmpdir(), 'isfuse-encode-'));
const W = 7, H = 5;
const rgb: RasterImage = { width: W, height: H, channels: 3, bitDepth: 8, data: Uint8Array.from({ length: W * H * 3 }, (_, i) => (i * 29 + 7) % 256) };
const gray: RasterImage = { width: W, height: H, channels: 1, bitDepth: 8, data: Uint8Array.from({ length: W * H }, (_, i) => (i * 17) % 256) };
const gray16: RasterImage = { width: W, height: H, channels: 1, bitDepth: 16, data: Uint16Array.from({ length: W * H }, (_, i) => i * 1801) };

/** The format the file's first bytes say. */
function magic(path: string): string {
  const b = readFileSync(path);
  if (b.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]))) return 'png';
  if (b[0] === 0xff && b[1] === 0xd8) return 'jpeg';
  if (b.subarray(0, 4).toString('latin1') === 'II*\0' || b.subarray(0, 4).toString('latin1') === 'MM\0*') return 'tiff';
  if (b.subarray(0, 4).toString('latin1') === 'RIFF' && b.subarray(8, 12).toString('latin1') === 'WEBP') return 'webp';
  return 'unknown';
}

test('writeImage writes the format the extension names; PNG, TIFF and WebP hold the pixels exactly', async () => {
  for (const [name, format] of [['a.png', 'png'], ['a.PNG', 'png'], ['a.jpg', 'jpeg'], ['a.jpeg', 'jpeg'], ['a.tif', 'tiff'], ['a.tiff', 'tiff'], ['a.webp', 'webp']] as const) {
    for (const img of [rgb, gray]) {
      const p = join(dir, `${img.channels}-${name}`);
      await writeImage(p, img);
      assert.equal(magic(p), format, name);
      if (format === 'jpeg') continue;
      const back = await decodeImage(p);
      assert.deepEqual([back.width, back.height, back.bitDepth], [W, H, 8], name);
      // WebP has no gray: a gray image comes back as three equal channels.
      const samples = back.channels === img.channels ? back.data : (back.data as Uint8Array).filter((_, i) => i % 3 === 0);
      assert.deepEqual(Array.from(samples), Array.from(img.data), `${name}: lossless`);
    }
  }
  const t16 = join(dir, 'g16.tif');
  await writeImage(t16, gray16);
  const back = await decodeImage(t16);
  assert.equal(back.bitDepth, 16);
  assert.deepEqual(Array.from(back.data), Array.from(gray16.data));
  assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), [], 'no temporary file left');
});

test('writeImage refuses a name that is no output format, or disagrees with the format asked for, writing nothing', async () => {
  const before = readdirSync(dir).sort();
  for (const name of ['f.xyz', 'f', 'f.bmp', 'f.gif']) {
    await assert.rejects(writeImage(join(dir, name), rgb), (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && /isfuse writes \.png, \.jpg\/\.jpeg, \.tif\/\.tiff, \.webp/.test(e.message));
  }
  await assert.rejects(writeImage(join(dir, 'f.png'), rgb, { format: 'jpeg' }), (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && /never writes one format under another's name/.test(e.message));
  assert.deepEqual(readdirSync(dir).sort(), before);
});

test('encodeImage: 16-bit samples go to PNG or TIFF, not to JPEG or WebP; an unknown format is a usage error', async () => {
  await assert.rejects(encodeImage(gray16, { format: 'jpeg' }), /JPEG cannot hold 16-bit samples; write PNG or TIFF instead/);
  await assert.rejects(encodeImage(gray16, { format: 'webp' }), /WEBP cannot hold 16-bit samples/);
  await assert.rejects(encodeImage(rgb, { format: 'gif' as never }), (e: unknown) => e instanceof IsfuseError && e.kind === 'usage');
});
