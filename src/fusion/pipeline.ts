/**
 * The pixel part of the fusion pipeline, shared by `fuse()` (Node: files through sharp) and the web app (rasters
 * the browser decoded): size check -> intensity planes in [0, 1] (the colour source split into Y and its Cr/Cb,
 * OpenCV-exact) -> a {@link Fuser} -> fused Y to 8 bits -> chroma re-attached. No sharp and no files here, so it
 * bundles for a browser (web/).
 */
import { inputError, invalidParameter, IsfuseError } from '../core/errors.js';
import { type Plane, type RasterImage, sizeOf } from '../core/image.js';
import { rgbToYCrCb, yCrCbToRgb } from '../io/color.js';
import type { Fuser, FuserOptions } from './types.js';

export type ColorFrom = 'auto' | 'vis' | 'ir' | 'none';
/** How 16-bit samples map to [0, 1]: their own min..max, the full 0..65535 range, or a fixed [lo, hi]. */
export type Range16 = 'minmax' | 'full' | readonly [number, number];

/** The options of {@link fuseRasters} (a subset of `fuse()`'s FuseOptions, which documents them). */
export interface PipelineOptions {
  methodOptions?: FuserOptions;
  colorFrom?: ColorFrom;
  range16?: Range16;
  stretch?: boolean;
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

/** How the two inputs are named in messages; `files`: the names are file names (input errors get prefixed). */
export interface InputNames {
  readonly ir: string;
  readonly vis: string;
  readonly files: boolean;
}

/**
 * Fuses two decoded rasters with `method`. Sizes must match (`fuse()` resamples before, when asked).
 * @throws IsfuseError (input) for mismatched sizes or what the method refuses; (usage) for bad options.
 */
export async function fuseRasters(irImg: RasterImage, visImg: RasterImage, method: Fuser, options: PipelineOptions = {}, names: InputNames = { ir: 'ir image', vis: 'visible image', files: false }): Promise<FuseResult> {
  const colorFrom = checkColorFrom(options.colorFrom ?? 'auto');
  const range16 = checkRange16(options.range16 ?? 'minmax');
  const warn = options.onWarning ?? (() => {});
  checkRaster(irImg, names.ir);
  checkRaster(visImg, names.vis);
  if (irImg.width !== visImg.width || irImg.height !== visImg.height) {
    throw inputError(
      `sizes differ: ${names.ir} is ${sizeOf(irImg)}, ${names.vis} is ${sizeOf(visImg)}; register the pair, or resample one with --resize vis-to-ir|ir-to-vis (API: resize)`,
    );
  }
  const auto = colorFrom === 'auto';
  const irSide = toPlane(irImg, colorFrom === 'ir' || auto, range16, names.ir, warn);
  const visSide = toPlane(visImg, colorFrom === 'vis' || auto, range16, names.vis, warn);
  const usedColor = visSide.chroma ? 'vis' : irSide.chroma ? 'ir' : 'none';
  const fused = await fuseNamed(method.fuse(irSide.y, visSide.y, options.methodOptions ?? {}), names);
  const y8 = quantise(fused, options.stretch === true);
  const chroma = visSide.chroma ?? irSide.chroma;
  const image: RasterImage = chroma
    ? { width: fused.width, height: fused.height, channels: 3, bitDepth: 8, data: yCrCbToRgb(y8, chroma.cr, chroma.cb) }
    : { width: fused.width, height: fused.height, channels: 1, bitDepth: 8, data: y8 };
  return { image, fused, method: method.name, colorFrom: usedColor, gates: fused.gates };
}

export function checkColorFrom(c: ColorFrom): ColorFrom {
  if (!['auto', 'vis', 'ir', 'none'].includes(c)) throw invalidParameter('colorFrom', "'auto', 'vis', 'ir' or 'none'", c);
  return c;
}

/**
 * A method sees planes, not files, so its input errors (e.g. the isfuse method's 4x4 minimum) cannot name them:
 * they are re-thrown here, still of kind 'input', prefixed with the file names when the inputs were files.
 */
async function fuseNamed<T>(work: Promise<T>, names: InputNames): Promise<T> {
  try {
    return await work;
  } catch (e) {
    if (!(e instanceof IsfuseError) || e.kind !== 'input' || !names.files) throw e;
    if (e.message.includes(names.ir) || e.message.includes(names.vis)) throw e;
    throw inputError(`${names.ir} + ${names.vis}: ${e.message}`, e);
  }
}

export function checkRaster(img: RasterImage, name: string): RasterImage {
  if (!img || !(img.width > 0 && img.height > 0)) throw inputError(`${name}: image has zero size`);
  if (img.data.length !== img.width * img.height * img.channels) throw inputError(`${name}: data length does not match ${sizeOf(img)}x${img.channels}`);
  return img;
}

export function checkRange16(r: Range16): Range16 {
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
