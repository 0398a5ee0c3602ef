/**
 * Encoding and writing images. Files are written atomically: to a temporary name in the target folder,
 * then renamed, so that no partial output is ever left behind.
 */
import { rename, stat, unlink, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import sharp from 'sharp';
import { inputError, invalidParameter } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';

export type OutputFormat = 'png' | 'jpeg';

export interface EncodeOptions {
  /** Default: from the file extension (.jpg/.jpeg -> jpeg), else png. */
  format?: OutputFormat;
  /** JPEG quality 1..100 (default 95). */
  quality?: number;
}

/** The output format a path implies: .jpg/.jpeg -> jpeg, anything else -> png. */
export function formatForPath(path: string): OutputFormat {
  const ext = extname(path).toLowerCase();
  return ext === '.jpg' || ext === '.jpeg' ? 'jpeg' : 'png';
}

/** Encodes a raster to PNG or JPEG bytes. 16-bit rasters stay 16-bit in PNG; JPEG needs 8-bit. */
export async function encodeImage(img: RasterImage, options: EncodeOptions = {}): Promise<Buffer> {
  const format = options.format ?? 'png';
  if (format !== 'png' && format !== 'jpeg') throw invalidParameter('format', "'png' or 'jpeg'", format);
  const quality = options.quality ?? 95;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw invalidParameter('quality', 'an integer between 1 and 100', quality);
  const raw = { width: img.width, height: img.height, channels: img.channels };
  if (img.bitDepth === 16) {
    if (format === 'jpeg') throw inputError('JPEG cannot hold 16-bit samples; write PNG instead');
    // sharp infers 16-bit samples from the Uint16Array; the pipeline colourspace keeps them 16-bit.
    const cs = img.channels === 1 ? 'grey16' : 'rgb16';
    return sharp(img.data, { raw }).pipelineColourspace(cs).toColourspace(cs).png().toBuffer();
  }
  const s = sharp(img.data, { raw }).toColourspace(img.channels === 1 ? 'b-w' : 'srgb');
  return format === 'jpeg' ? s.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer() : s.png().toBuffer();
}

/** Fails early, with a clear message, if a file cannot be written at `path` (missing folder, folder in the way). */
export async function checkWritable(path: string): Promise<void> {
  const dir = dirname(path);
  let st;
  try {
    st = await stat(dir);
  } catch {
    throw inputError(`${path}: output folder '${dir}' does not exist`);
  }
  if (!st.isDirectory()) throw inputError(`${path}: '${dir}' is not a folder`);
  try {
    if ((await stat(path)).isDirectory()) throw inputError(`${path}: is a folder; give a file name`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

/** Writes bytes atomically: temporary file in the same folder, then rename. */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await checkWritable(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}.tmp`);
  try {
    await writeFile(tmp, data);
    await rename(tmp, path);
  } catch (e) {
    await unlink(tmp).catch(() => {});
    throw inputError(`${path}: cannot write: ${(e as Error).message}`, e);
  }
}

/** Encodes (format from options or the extension) and writes atomically. */
export async function writeImage(path: string, img: RasterImage, options: EncodeOptions = {}): Promise<void> {
  await checkWritable(path);
  const bytes = await encodeImage(img, { ...options, format: options.format ?? formatForPath(path) });
  await writeFileAtomic(path, bytes);
}
