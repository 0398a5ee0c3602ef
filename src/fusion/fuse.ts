/**
 * The fusion pipeline of the library `fuse()` and the CLI: decode -> size check / resample -> intensity planes
 * in [0, 1] (the colour source split into Y and its Cr/Cb, OpenCV-exact) -> a registered {@link Fuser} -> fused
 * Y to 8 bits -> chroma re-attached. The steps after decoding are pipeline.ts's `fuseRasters`, which the web app
 * runs on the rasters the browser decoded.
 */
import sharp from 'sharp';
import { invalidParameter, usageError } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';
import { allInOrder } from '../core/promises.js';
import { decodeImage } from '../io/decode.js';
import { checkColorFrom, checkRange16, checkRaster, fuseRasters, type ColorFrom, type FuseResult, type Range16 } from './pipeline.js';
import { defaultMethod, getMethod } from './registry.js';
import type { FuserOptions } from './types.js';

export type { ColorFrom, FuseResult, Range16 };

export type ResizeMode = 'none' | 'vis-to-ir' | 'ir-to-vis';

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
  checkColorFrom(options.colorFrom ?? 'auto');
  const resize = options.resize ?? 'none';
  if (!['none', 'vis-to-ir', 'ir-to-vis'].includes(resize)) throw invalidParameter('resize', "'none', 'vis-to-ir' or 'ir-to-vis'", resize);
  checkRange16(options.range16 ?? 'minmax');
  const method = getMethod(options.method ?? defaultMethod());
  const warn = options.onWarning ?? (() => {});
  const dopts = { maxPixels: options.maxPixels, onWarning: warn };
  const irName = typeof ir === 'string' ? ir : 'ir image';
  const visName = typeof vis === 'string' ? vis : 'visible image';
  let [irImg, visImg] = await allInOrder([
    typeof ir === 'string' ? decodeImage(ir, dopts) : checkRaster(ir, irName),
    typeof vis === 'string' ? decodeImage(vis, dopts) : checkRaster(vis, visName),
  ]);

  // different sizes without --resize: fuseRasters refuses them, naming both
  if (resize !== 'none' && (irImg.width !== visImg.width || irImg.height !== visImg.height)) {
    if (resize === 'vis-to-ir') visImg = await resample(visImg, irImg.width, irImg.height);
    else irImg = await resample(irImg, visImg.width, visImg.height);
  }

  const files = typeof ir === 'string' || typeof vis === 'string';
  return fuseRasters(irImg, visImg, method, options, { ir: irName, vis: visName, files });
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
