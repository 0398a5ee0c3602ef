// Decoding in the page, by the browser's own decoders, into the library's RasterImage: the samples the CLI's
// decoder (sharp) gives for 8-bit PNG, BMP and (where both use libjpeg-turbo's defaults) JPEG; no colour
// management (`colorSpaceConversion: 'none'`), no premultiplied alpha. The checks and messages are the CLI's
// (io/decode.ts): empty file, unreadable file, unsupported format, zero size, pixel limit, alpha dropped.
import { inputError } from '../src/core/errors.js';
import type { RasterImage } from '../src/core/image.js';
import { checkSize, DEFAULT_MAX_PIXELS, SUPPORTED_INPUT_FORMATS } from '../src/io/decode.js';

/** The format a file's first bytes name (what libvips sniffs too), or undefined. */
export function sniffFormat(b: Uint8Array): string | undefined {
  const at = (o: number, ...v: number[]) => v.every((x, i) => b[o + i] === x);
  if (at(0, 0x89, 0x50, 0x4e, 0x47)) return 'png';
  if (at(0, 0xff, 0xd8, 0xff)) return 'jpeg';
  if (at(0, 0x42, 0x4d)) return 'bmp';
  if (at(0, 0x52, 0x49, 0x46, 0x46) && at(8, 0x57, 0x45, 0x42, 0x50)) return 'webp';
  if (at(0, 0x49, 0x49, 0x2a, 0x00) || at(0, 0x4d, 0x4d, 0x00, 0x2a)) return 'tiff';
  if (at(0, 0x47, 0x49, 0x46, 0x38)) return 'gif';
  return undefined;
}

/** Decodes one file's bytes; `name` is used in messages. Gray files (R = G = B everywhere) come back with 1 channel. */
export async function decodeInPage(bytes: Uint8Array, name: string, onWarning: (m: string) => void = () => {}): Promise<RasterImage> {
  if (bytes.length === 0) throw inputError(`${name}: file is empty (0 bytes)`);
  const format = sniffFormat(bytes);
  if (!format) throw inputError(`${name}: not a readable image (unsupported format or corrupt file): no image signature in its first bytes`);
  if (!(SUPPORTED_INPUT_FORMATS as readonly string[]).includes(format)) {
    throw inputError(`${name}: unsupported format '${format}'; supported: ${SUPPORTED_INPUT_FORMATS.join(', ')}`);
  }
  if (format === 'tiff') throw inputError(`${name}: browsers cannot decode TIFF; fuse it with the isfuse command, or convert it to PNG`);
  if (format === 'png' && bytes.length > 24) {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    checkSize(name, v.getUint32(16), v.getUint32(20), DEFAULT_MAX_PIXELS); // IHDR: before any pixel is decoded
    if (bytes[24] === 16) {
      throw inputError(`${name}: a 16-bit PNG; browsers decode 8 bits per sample, which changes the result: fuse it with the isfuse command (--range16)`);
    }
  }
  let bitmap: ImageBitmap;
  try {
    bitmap = await createImageBitmap(new Blob([bytes as BlobPart]), { colorSpaceConversion: 'none', premultiplyAlpha: 'none', imageOrientation: 'from-image' });
  } catch (e) {
    throw inputError(`${name}: not a readable image (unsupported format or corrupt file): ${(e as Error).message}`, e);
  }
  const { width, height } = bitmap;
  checkSize(name, width, height, DEFAULT_MAX_PIXELS);
  const canvas = new OffscreenCanvas(width, height);
  const ctx = canvas.getContext('2d', { willReadFrequently: true, colorSpace: 'srgb' })!;
  ctx.drawImage(bitmap, 0, 0);
  bitmap.close();
  const rgba = ctx.getImageData(0, 0, width, height, { colorSpace: 'srgb' }).data;
  const n = width * height;
  let gray = true, alpha = false;
  for (let i = 0; i < n * 4; i += 4) {
    if (rgba[i] !== rgba[i + 1] || rgba[i] !== rgba[i + 2]) gray = false;
    if (rgba[i + 3] !== 255) alpha = true;
  }
  if (alpha) onWarning(`${name}: alpha channel dropped`);
  const channels = gray ? 1 : 3;
  const data = new Uint8Array(n * channels);
  for (let i = 0; i < n; i++) {
    if (gray) data[i] = rgba[i * 4]!;
    else for (let c = 0; c < 3; c++) data[i * 3 + c] = rgba[i * 4 + c]!;
  }
  return { width, height, channels, bitDepth: 8, data };
}
