/**
 * Encoding and writing images. Files are written atomically: to a temporary name in the target folder,
 * then renamed, so that no partial output is ever left behind; the temporary file is registered with
 * `core/cleanup.ts`, so an interrupted CLI removes it. The format is the one the file name's extension names
 * (`io/paths.ts` outputFormatOf: .png, .jpg/.jpeg, .tif/.tiff, .webp); any other name is refused, never
 * written as PNG.
 */
import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import sharp from 'sharp';
import { replaceFileAtomically } from '../core/cleanup.js';
import { inputError, invalidParameter, IsfuseError } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';
import { outputFormatOf, type OutputFormat } from './paths.js';

export type { OutputFormat } from './paths.js';

export interface EncodeOptions {
  /** Default: from the file extension (writeImage; it must agree with the extension), else png. */
  format?: OutputFormat;
  /** JPEG quality 1..100 (default 95). PNG, TIFF (deflate) and WebP (lossless) are lossless and ignore it. */
  quality?: number;
}

const FORMATS: readonly OutputFormat[] = ['png', 'jpeg', 'tiff', 'webp'];

/**
 * Encodes a raster to PNG, JPEG, TIFF or WebP bytes. 16-bit rasters stay 16-bit in PNG and TIFF; JPEG and WebP
 * need 8-bit. TIFF is deflate-compressed and WebP lossless, so both hold the pixels exactly, as PNG does.
 */
export async function encodeImage(img: RasterImage, options: EncodeOptions = {}): Promise<Buffer> {
  const format = options.format ?? 'png';
  if (!FORMATS.includes(format)) throw invalidParameter('format', "'png', 'jpeg', 'tiff' or 'webp'", format);
  const quality = options.quality ?? 95;
  if (!Number.isInteger(quality) || quality < 1 || quality > 100) throw invalidParameter('quality', 'an integer between 1 and 100', quality);
  const raw = { width: img.width, height: img.height, channels: img.channels };
  if (img.bitDepth === 16) {
    if (format === 'jpeg' || format === 'webp') throw inputError(`${format.toUpperCase()} cannot hold 16-bit samples; write PNG or TIFF instead`);
    // sharp infers 16-bit samples from the Uint16Array; the pipeline colourspace keeps them 16-bit.
    const cs = img.channels === 1 ? 'grey16' : 'rgb16';
    const s16 = sharp(img.data, { raw }).pipelineColourspace(cs).toColourspace(cs);
    return format === 'tiff' ? s16.tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer() : s16.png().toBuffer();
  }
  const s = sharp(img.data, { raw }).toColourspace(img.channels === 1 ? 'b-w' : 'srgb');
  switch (format) {
    case 'jpeg':
      return s.jpeg({ quality, chromaSubsampling: '4:4:4' }).toBuffer();
    case 'tiff':
      return s.tiff({ compression: 'deflate', predictor: 'horizontal' }).toBuffer();
    case 'webp':
      return s.webp({ lossless: true }).toBuffer();
    default:
      return s.png().toBuffer();
  }
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
    await access(dir, constants.W_OK);
  } catch {
    throw inputError(`${path}: output folder '${dir}' is not writable (permission denied)`);
  }
  try {
    if ((await stat(path)).isDirectory()) throw inputError(`${path}: is a folder; give a file name`);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
}

let serial = 0;

/** The temporary file of {@link writeFileAtomic}: `.NAME.<pid>.<ts>-<n>.tmp` (group 1: the writer's pid; for core/cleanup.ts removeStaleTemporaries). */
export const ATOMIC_TEMPORARY = /^\..+\.(\d+)\.\d+-\d+\.tmp$/;


/**
 * Writes bytes atomically: temporary file `.NAME.<pid>.<ts>-<n>.tmp` in the same folder, then rename. The
 * temporary file is registered with core/cleanup.ts (removed if the process is interrupted meanwhile) and
 * removed on failure.
 */
export async function writeFileAtomic(path: string, data: Uint8Array | string): Promise<void> {
  await checkWritable(path);
  const tmp = join(dirname(path), `.${basename(path)}.${process.pid}.${Date.now()}-${serial++}.tmp`);
  await replaceFileAtomically(path, tmp, data);
}

/**
 * Encodes (in the format the extension names; `options.format`, when given, must agree with it) and writes
 * atomically.
 * @throws IsfuseError (usage) for an extension that is not an output format or disagrees with `options.format`.
 */
export async function writeImage(path: string, img: RasterImage, options: EncodeOptions = {}): Promise<void> {
  const format = outputFormatOf(path, 'output', options.format);
  await checkWritable(path);
  await writeFileAtomic(path, await encodeFor(path, img, { ...options, format }));
}

/** encodeImage, with encoder failures (e.g. WebP's 16383-pixel side limit) as input errors naming the file. */
export async function encodeFor(path: string, img: RasterImage, options: EncodeOptions): Promise<Buffer> {
  try {
    return await encodeImage(img, options);
  } catch (e) {
    if (e instanceof IsfuseError) throw e.kind === 'input' ? inputError(`${path}: ${e.message}`, e) : e;
    throw inputError(`${path}: cannot encode as ${options.format ?? 'png'}: ${(e as Error).message}`, e);
  }
}
