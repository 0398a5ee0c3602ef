/**
 * Decoding image files into {@link RasterImage}: PNG, JPEG, TIFF, WebP through sharp (libvips,
 * libjpeg-turbo decoding), BMP through fast-bmp (sharp has no BMP loader).
 *
 * What a decode guarantees: EXIF orientation applied; alpha dropped (with a warning); 1 channel for
 * gray files, 3 (RGB) otherwise; 8-bit samples, or 16-bit when the file stores 16 bits; the pixel limit
 * checked from the header before any pixel is decoded. Every failure is an {@link IsfuseError} naming the file.
 */
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { decode as decodeBmp } from 'fast-bmp';
import { inputError, invalidParameter } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';

/** Default pixel limit (width x height): 8192 x 8192. Raise it with `maxPixels` / `--max-pixels`. */
export const DEFAULT_MAX_PIXELS = 8192 * 8192;

export const SUPPORTED_INPUT_FORMATS = ['png', 'jpeg', 'bmp', 'tiff', 'webp'] as const;

export interface DecodeOptions {
  /** Largest accepted width x height; default {@link DEFAULT_MAX_PIXELS}. */
  maxPixels?: number;
  /** Called with non-fatal notes (alpha dropped, ...). Default: ignored. */
  onWarning?: (message: string) => void;
}

/** Reads and decodes one image file. */
export async function decodeImage(path: string, options: DecodeOptions = {}): Promise<RasterImage> {
  let buf: Buffer;
  try {
    buf = await readFile(path);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'file not found' : code === 'EISDIR' ? 'is a folder, not an image file' : code === 'EACCES' ? 'permission denied' : String((e as Error).message);
    throw inputError(`${path}: cannot read: ${why}`, e);
  }
  return decodeBuffer(buf, path, options);
}

/** Decodes an encoded image held in memory; `name` is used in messages. */
export async function decodeBuffer(buf: Uint8Array, name: string, options: DecodeOptions = {}): Promise<RasterImage> {
  const maxPixels = options.maxPixels ?? DEFAULT_MAX_PIXELS;
  if (!Number.isFinite(maxPixels) || maxPixels < 1) throw invalidParameter('maxPixels', 'a positive number', maxPixels);
  const warn = options.onWarning ?? (() => {});
  if (buf.length === 0) throw inputError(`${name}: file is empty (0 bytes)`);
  if (buf.length >= 2 && buf[0] === 0x42 && buf[1] === 0x4d) return decodeBmpBuffer(buf, name, maxPixels, warn);

  let meta: sharp.Metadata;
  try {
    meta = await sharp(buf, { limitInputPixels: false }).metadata();
  } catch (e) {
    throw inputError(`${name}: not a readable image (unsupported format or corrupt file): ${(e as Error).message}`, e);
  }
  const format = meta.format === 'jpg' ? 'jpeg' : meta.format;
  if (!format || !(SUPPORTED_INPUT_FORMATS as readonly string[]).includes(format)) {
    throw inputError(`${name}: unsupported format '${format ?? 'unknown'}'; supported: ${SUPPORTED_INPUT_FORMATS.join(', ')}`);
  }
  const width = meta.autoOrient?.width ?? meta.width ?? 0;
  const height = meta.autoOrient?.height ?? meta.height ?? 0;
  checkSize(name, width, height, maxPixels);

  const bands = meta.channels ?? 3;
  const hasAlpha = meta.hasAlpha === true;
  const colorBands = hasAlpha ? bands - 1 : bands;
  const gray = colorBands === 1;
  const sixteen = meta.depth === 'ushort' || meta.depth === 'short';
  if (hasAlpha) warn(`${name}: alpha channel dropped`);
  if (meta.depth && !['uchar', 'char', 'ushort', 'short'].includes(meta.depth)) {
    throw inputError(`${name}: unsupported sample type '${meta.depth}' (8- and 16-bit integer images are supported)`);
  }

  let pipeline = sharp(buf, { limitInputPixels: false, failOn: 'error' });
  if (meta.orientation !== undefined && meta.orientation !== 1) pipeline = pipeline.rotate();
  if (hasAlpha) pipeline = pipeline.removeAlpha();
  // libvips hands 1-band images out as 3 bands and 16-bit ones as 8-bit unless told the colourspace.
  pipeline = pipeline.toColourspace(gray ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb');
  let out: { data: Buffer; info: sharp.OutputInfo };
  try {
    out = await pipeline.raw(sixteen ? { depth: 'ushort' } : {}).toBuffer({ resolveWithObject: true });
  } catch (e) {
    throw inputError(`${name}: corrupt or truncated image: ${(e as Error).message}`, e);
  }
  const { info } = out;
  const channels = info.channels;
  if (channels !== 1 && channels !== 3) throw inputError(`${name}: decoded to ${channels} channels; expected 1 or 3`);
  const data = sixteen
    ? new Uint16Array(out.data.buffer.slice(out.data.byteOffset, out.data.byteOffset + out.data.byteLength))
    : new Uint8Array(out.data.buffer, out.data.byteOffset, out.data.byteLength);
  if (data.length !== info.width * info.height * channels) throw inputError(`${name}: decoder returned a wrong sample count`);
  return { width: info.width, height: info.height, channels, bitDepth: sixteen ? 16 : 8, data };
}

/** The size checks of every decode (the web app's too): zero size, and the pixel limit. */
export function checkSize(name: string, width: number, height: number, maxPixels: number): void {
  if (!(width > 0 && height > 0)) throw inputError(`${name}: image has zero size (${width}x${height})`);
  if (width * height > maxPixels) {
    throw inputError(
      `${name}: image is ${width}x${height} (${width * height} pixels), above the limit of ${maxPixels} pixels; raise it with --max-pixels (API: maxPixels)`,
    );
  }
}

function decodeBmpBuffer(buf: Uint8Array, name: string, maxPixels: number, warn: (m: string) => void): RasterImage {
  if (buf.length < 54) throw inputError(`${name}: truncated BMP header`);
  const view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  // fast-bmp reads the height as unsigned and would try to allocate a top-down (negative height) image.
  if (view.getInt32(22, true) < 0) throw inputError(`${name}: top-down BMP (negative height) is not supported`);
  checkSize(name, view.getInt32(18, true), view.getInt32(22, true), maxPixels);
  let bmp: ReturnType<typeof decodeBmp>;
  try {
    bmp = decodeBmp(buf);
  } catch (e) {
    throw inputError(`${name}: corrupt or unsupported BMP: ${(e as Error).message}`, e);
  }
  const { width, height } = bmp;
  const src = bmp.data as Uint8Array;
  const bands = bmp.channels;
  if (src.length < width * height * bands) throw inputError(`${name}: truncated BMP`);
  if (bands > (bmp.components ?? bands)) warn(`${name}: alpha channel dropped`);
  const n = width * height;
  if (bmp.bitsPerPixel === 1 || bmp.bitsPerPixel === 8) {
    // fast-bmp returns palette indices for 1- and 8-bit files; the palette is applied here.
    const palette = readBmpPalette(view, bmp.bitsPerPixel, name);
    const isGray = palette.every(([r, g, b]) => r === g && g === b);
    const channels: 1 | 3 = isGray ? 1 : 3;
    const data = new Uint8Array(n * channels);
    for (let i = 0; i < n; i++) {
      const entry = palette[src[i]!];
      if (!entry) throw inputError(`${name}: corrupt BMP: palette index ${src[i]} out of range`);
      if (isGray) data[i] = entry[0];
      else data.set(entry, i * 3);
    }
    return { width, height, channels, bitDepth: 8, data };
  }
  const data = new Uint8Array(n * 3);
  for (let i = 0; i < n; i++) for (let c = 0; c < 3; c++) data[i * 3 + c] = src[i * bands + c]!;
  return { width, height, channels: 3, bitDepth: 8, data };
}

function readBmpPalette(view: DataView, bitsPerPixel: number, name: string): [number, number, number][] {
  const headerSize = view.getUint32(14, true);
  const used = view.getUint32(46, true);
  const count = used > 0 ? used : 1 << bitsPerPixel;
  const start = 14 + headerSize;
  if (start + count * 4 > view.byteLength) throw inputError(`${name}: truncated BMP palette`);
  const out: [number, number, number][] = [];
  for (let i = 0; i < count; i++) {
    const o = start + i * 4;
    out.push([view.getUint8(o + 2), view.getUint8(o + 1), view.getUint8(o)]);
  }
  return out;
}
