/**
 * Loading images for the metrics: file or decoded raster -> the planes a convention's metrics take.
 *
 * - mmif (docs/METRICS.md#mmif-inputs): every image becomes one gray float64 plane of integer values 0..255 through
 *   {@link grayMmif} (OpenCV's float32 BGR2GRAY, then round half to even; 1-channel files keep their values;
 *   16-bit files are reduced to 8 bits first, as `cv2.imread` does).
 * - vifb: {@link loadVifb}, one plane per stored channel (`vifbPlanes` in `./vifb/`).
 *
 * File decoding (sharp) lives here, not beside the metrics, so that the metrics and their registry load without it
 * (in a browser, say).
 */
import { decodeImage, type DecodeOptions } from '../io/decode.js';
import { grayMmif } from '../io/color.js';
import type { RasterImage } from '../core/image.js';
import { plane64 } from '../core/image.js';
import type { Plane64 } from './types.js';
import { vifbPlanes } from './vifb/index.js';

/** A path to an image file, or an image already decoded. */
export type ImageSource = string | RasterImage;

/** The mmif gray plane of a decoded image. */
export function mmifPlane(img: RasterImage): Plane64 {
  return plane64(img.width, img.height, grayMmif(img));
}

/**
 * Reads an image file as the mmif convention does: decode (EXIF orientation applied, alpha dropped), then the
 * OpenCV gray conversion. Throws an input error naming the file when it cannot be read.
 *
 * @example const ir = await loadMmif('MSRS/test/ir/00001D.png'); // ir.data: Float64Array of 0..255 integers
 */
export async function loadMmif(path: string, options?: DecodeOptions): Promise<Plane64> {
  return mmifPlane(await decodeImage(path, options));
}

/** Decodes `src` if it is a path; returns it unchanged if it is already a raster. */
export async function toRaster(src: ImageSource, options?: DecodeOptions): Promise<RasterImage> {
  return typeof src === 'string' ? decodeImage(src, options) : src;
}

/**
 * Reads an image file for the vifb metrics: decode (libjpeg-turbo for JPEG, as VIFB's `imread`; EXIF orientation
 * applied; alpha dropped), then one plane per stored channel ({@link vifbPlanes}).
 * Throws an input error naming the file when it cannot be read.
 *
 * @example const vis = await loadVifb('VIFB/input/VI/carLight.jpg'); // 3 planes
 */
export async function loadVifb(path: string, options?: DecodeOptions): Promise<Plane64[]> {
  const img = await decodeImage(path, options);
  if (img.bitDepth === 16) options?.onWarning?.(`${path}: 16-bit image reduced to 8 bits (round(v / 257)) for the vifb metrics`);
  return vifbPlanes(img);
}
