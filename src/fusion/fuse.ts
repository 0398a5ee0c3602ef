/**
 * The fusion pipeline every front end uses (library `fuse()`, CLI, web):
 * decode -> size check / resample -> intensity planes in [0, 1] (the colour source split into Y and
 * its Cr/Cb, OpenCV-exact) -> a registered {@link Fuser} -> fused Y to 8 bits -> chroma re-attached.
 */
import sharp from 'sharp';
import { inputError, invalidParameter, IsfuseError, usageError } from '../core/errors.js';
import { type Plane, type RasterImage, sizeOf } from '../core/image.js';
import { allInOrder } from '../core/promises.js';
import { rgbToYCrCb, yCrCbToRgb } from '../io/color.js';
import { decodeImage } from '../io/decode.js';
import { defaultMethod, getMethod } from './registry.js';
import type { FuserOptions } from './types.js';

export type ColorFrom = 'auto' | 'vis' | 'ir' | 'none';
export type ResizeMode = 'none' | 'vis-to-ir' | 'ir-to-vis';
/** How 16-bit samples map to [0, 1]: their own min..max, the full 0..65535 range, or a fixed [lo, hi]. */
export type Range16 = 'minmax' | 'full' | readonly [number, number];

export interface FuseOptions {
  /** Registered method name (see `listMethods()`); default: ISFuse when its model ships, else 'gff'. */
  method?: string;
  /** Method-specific options (e.g. `{ levels: 4 }` for 'lp', `{ weights, backend }` for 'isfuse'). */
  methodOptions?: FuserOptions;
  /**
   * Which input lends its colour (its Y is fused, its Cr/Cb re-attached). Default 'auto': the visible image
   * when it is in colour, else the infrared/functional image when it is (a colour PET or SPECT), else none.
   */
  colorFrom?: ColorFrom;
  /** Different sizes are an error unless one input is resampled to the other's size. Default 'none'. */
  resize?: ResizeMode;
  /** Mapping of 16-bit inputs (radiometric thermal) to [0, 1]. Default 'minmax'. */
  range16?: Range16;
  /** Min-max stretch the fused plane before quantising (some peers do; off by default). */
  stretch?: boolean;
  /** Pixel limit for decoding (see decodeImage). */
  maxPixels?: number;
  /** Non-fatal notes (alpha dropped, 16-bit colour reduced, ...). */
  onWarning?: (message: string) => void;
}

export interface FuseResult {
  /** The fused image, 8-bit, 3 channels when colour was re-attached, else 1. */
  readonly image: RasterImage;
  /** The fused intensity plane in [0, 1] before quantisation. */
  readonly fused: Plane;
  readonly method: string;
  /** The input whose colour was re-attached ('none' for gray output). */
  readonly colorFrom: 'vis' | 'ir' | 'none';
  /** Internal maps the method returned (ISFuse with `methodOptions.gates: true`: g3, g4, g5 at image size). */
  readonly gates?: readonly Plane[];
}

type Input = string | RasterImage;

/**
 * Fuses an infrared (or functional) image with a visible (or MRI) image.
 *
 * @param ir infrared / CT / PET / SPECT: a file path or a decoded {@link RasterImage}.
 * @param vis visible / MRI: a file path or a decoded raster.
 * @throws IsfuseError (kind 'input') for unreadable files or mismatched sizes; (kind 'usage') for bad options.
 * @example
 *   const { image } = await fuse('ir.png', 'vis.png', { method: 'gff' });
 *   await writeImage('fused.png', image);
 */
export async function fuse(ir: Input, vis: Input, options: FuseOptions = {}): Promise<FuseResult> {
  const colorFrom = options.colorFrom ?? 'auto';
  if (!['auto', 'vis', 'ir', 'none'].includes(colorFrom)) throw invalidParameter('colorFrom', "'auto', 'vis', 'ir' or 'none'", colorFrom);
  const resize = options.resize ?? 'none';
  if (!['none', 'vis-to-ir', 'ir-to-vis'].includes(resize)) throw invalidParameter('resize', "'none', 'vis-to-ir' or 'ir-to-vis'", resize);
  const range16 = checkRange16(options.range16 ?? 'minmax');
  const method = getMethod(options.method ?? defaultMethod());
  const warn = options.onWarning ?? (() => {});
  const dopts = { maxPixels: options.maxPixels, onWarning: warn };
  const irName = typeof ir === 'string' ? ir : 'ir image';
  const visName = typeof vis === 'string' ? vis : 'visible image';
  let [irImg, visImg] = await allInOrder([
    typeof ir === 'string' ? decodeImage(ir, dopts) : checkRaster(ir, irName),
    typeof vis === 'string' ? decodeImage(vis, dopts) : checkRaster(vis, visName),
  ]);

  if (irImg.width !== visImg.width || irImg.height !== visImg.height) {
    if (resize === 'none') {
      throw inputError(
        `sizes differ: ${irName} is ${sizeOf(irImg)}, ${visName} is ${sizeOf(visImg)}; register the pair, or resample one with --resize vis-to-ir|ir-to-vis (API: resize)`,
      );
    }
    if (resize === 'vis-to-ir') visImg = await resample(visImg, irImg.width, irImg.height);
    else irImg = await resample(irImg, visImg.width, visImg.height);
  }

  const auto = colorFrom === 'auto';
  const irSide = toPlane(irImg, colorFrom === 'ir' || auto, range16, irName, warn);
  const visSide = toPlane(visImg, colorFrom === 'vis' || auto, range16, visName, warn);
  const usedColor = visSide.chroma ? 'vis' : irSide.chroma ? 'ir' : 'none';
  const fused = await fuseNamed(method.fuse(irSide.y, visSide.y, options.methodOptions ?? {}), ir, vis, irName, visName);
  const y8 = quantise(fused, options.stretch === true);
  const chroma = visSide.chroma ?? irSide.chroma;
  const image: RasterImage = chroma
    ? { width: fused.width, height: fused.height, channels: 3, bitDepth: 8, data: yCrCbToRgb(y8, chroma.cr, chroma.cb) }
    : { width: fused.width, height: fused.height, channels: 1, bitDepth: 8, data: y8 };
  return { image, fused, method: method.name, colorFrom: usedColor, gates: fused.gates };
}

/**
 * A method sees planes, not files, so its input errors (e.g. the isfuse method's 4x4 minimum) cannot name them:
 * they are re-thrown here, still of kind 'input', prefixed with the file names when the inputs were files.
 */
async function fuseNamed<T>(work: Promise<T>, ir: Input, vis: Input, irName: string, visName: string): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (!(e instanceof IsfuseError) || e.kind !== 'input' || (typeof ir !== 'string' && typeof vis !== 'string')) throw e;
    if (e.message.includes(irName) || e.message.includes(visName)) throw e;
    throw inputError(`${irName} + ${visName}: ${e.message}`, e);
  }
}

function checkRaster(img: RasterImage, name: string): RasterImage {
  if (!img || !(img.width > 0 && img.height > 0)) throw inputError(`${name}: image has zero size`);
  if (img.data.length !== img.width * img.height * img.channels) throw inputError(`${name}: data length does not match ${sizeOf(img)}x${img.channels}`);
  return img;
}

function checkRange16(r: Range16): Range16 {
  if (r === 'minmax' || r === 'full') return r;
  if (Array.isArray(r) && r.length === 2 && r.every(Number.isFinite) && r[1] > r[0]) return r;
  throw invalidParameter('range16', "'minmax', 'full' or [lo, hi] with hi > lo", r);
}

interface Side {
  y: Plane;
  chroma?: { cr: Uint8Array; cb: Uint8Array };
}

/** Intensity plane in [0, 1]; the colour source also keeps its 8-bit Cr/Cb. */
function toPlane(img: RasterImage, colorSource: boolean, range16: Range16, name: string, warn: (m: string) => void): Side {
  const { width, height } = img;
  const n = width * height;
  if (img.bitDepth === 16) {
    const scaled = scale16(img, range16);
    if (img.channels === 1) return { y: { width, height, data: Float32Array.from(scaled, (v) => v / 255) } };
    if (colorSource) warn(`${name}: 16-bit colour reduced to 8 bits for the chroma`);
    return toPlane({ width, height, channels: 3, bitDepth: 8, data: Uint8Array.from(scaled, Math.round) }, colorSource, range16, name, warn);
  }
  if (img.channels === 1) return { y: { width, height, data: Float32Array.from(img.data as Uint8Array, (v) => v / 255) } };
  const ycc = rgbToYCrCb(img.data as Uint8Array, width, height);
  const y = new Float32Array(n);
  for (let i = 0; i < n; i++) y[i] = ycc.y[i]! / 255;
  const isColor = colorSource && !isGrayRgb(img.data as Uint8Array);
  return { y: { width, height, data: y }, chroma: isColor ? { cr: ycc.cr, cb: ycc.cb } : undefined };
}

/** 16-bit samples mapped to 0..255 floats by the chosen range. */
function scale16(img: RasterImage, range16: Range16): Float32Array {
  const d = img.data;
  let lo = 0, hi = 65535;
  if (range16 === 'minmax') {
    lo = Infinity; hi = -Infinity;
    for (let i = 0; i < d.length; i++) { const v = d[i]!; if (v < lo) lo = v; if (v > hi) hi = v; }
    if (hi === lo) hi = lo + 1;
  } else if (range16 !== 'full') [lo, hi] = range16;
  const k = 255 / (hi - lo);
  return Float32Array.from(d, (v) => Math.min(255, Math.max(0, (v - lo) * k)));
}

/** True when every pixel has R = G = B (a gray image stored as RGB, as TNO and MRI files are). */
function isGrayRgb(d: Uint8Array): boolean {
  for (let i = 0; i < d.length; i += 3) if (d[i] !== d[i + 1] || d[i] !== d[i + 2]) return false;
  return true;
}

/** clamp(0, 1), x255, round (halves up), optionally after a min-max stretch. */
function quantise(p: Plane, stretch: boolean): Uint8Array {
  const d = p.data;
  let lo = 0, scale = 255;
  if (stretch) {
    let mn = Infinity, mx = -Infinity;
    for (let i = 0; i < d.length; i++) { if (d[i]! < mn) mn = d[i]!; if (d[i]! > mx) mx = d[i]!; }
    if (mx > mn) { lo = mn; scale = 255 / (mx - mn); }
  }
  const out = new Uint8Array(d.length);
  for (let i = 0; i < d.length; i++) {
    const v = (d[i]! - lo) * scale;
    out[i] = v <= 0 || Number.isNaN(v) ? 0 : v >= 255 ? 255 : Math.round(v);
  }
  return out;
}

/** Resamples a raster (bicubic) to width x height, keeping channels and bit depth. */
export async function resample(img: RasterImage, width: number, height: number): Promise<RasterImage> {
  if (!(width > 0 && height > 0)) throw usageError(`cannot resample to ${width}x${height}`);
  const sixteen = img.bitDepth === 16;
  const cs = img.channels === 1 ? (sixteen ? 'grey16' : 'b-w') : sixteen ? 'rgb16' : 'srgb';
  let s = sharp(img.data, { raw: { width: img.width, height: img.height, channels: img.channels } });
  if (sixteen) s = s.pipelineColourspace(cs);
  const out = await s.resize(width, height, { fit: 'fill', kernel: 'cubic' }).toColourspace(cs).raw(sixteen ? { depth: 'ushort' } : {}).toBuffer();
  const data = sixteen ? new Uint16Array(out.buffer.slice(out.byteOffset, out.byteOffset + out.byteLength)) : new Uint8Array(out);
  return { width, height, channels: img.channels, bitDepth: img.bitDepth, data };
}
