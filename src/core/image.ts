/**
 * The two image types every layer shares.
 *
 * - {@link RasterImage}: an image as decoded from a file: interleaved integer samples, 1 or 3 channels
 *   (alpha is dropped at decode time), 8 or 16 bits.
 * - {@link Plane}: one channel as floats, row-major. Fusion works on planes in [0, 1];
 *   the metrics work on float64 planes holding 0..255 values.
 */
export interface RasterImage {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  /** 8 -> Uint8Array, 16 -> Uint16Array. */
  readonly bitDepth: 8 | 16;
  /** Interleaved samples, row-major: index = (y * width + x) * channels + c; RGB order. */
  readonly data: Uint8Array | Uint16Array;
}

export interface Plane<T extends Float32Array | Float64Array = Float32Array> {
  readonly width: number;
  readonly height: number;
  /** Row-major samples: index = y * width + x. */
  readonly data: T;
}

export function plane(width: number, height: number, data?: Float32Array): Plane {
  const d = data ?? new Float32Array(width * height);
  if (d.length !== width * height) throw new RangeError(`plane data has ${d.length} samples, expected ${width}x${height}`);
  return { width, height, data: d };
}

/** The float64 plane the filters and the metrics compute on. */
export type Plane64 = Plane<Float64Array>;

export function plane64(width: number, height: number, data?: Float64Array): Plane64 {
  const d = data ?? new Float64Array(width * height);
  if (d.length !== width * height) throw new RangeError(`plane data has ${d.length} samples, expected ${width}x${height}`);
  return { width, height, data: d };
}

/** Largest sample value of a raster's bit depth (255 or 65535). */
export function maxValue(img: Pick<RasterImage, 'bitDepth'>): number {
  return img.bitDepth === 16 ? 65535 : 255;
}

export function sizeOf(img: { width: number; height: number }): string {
  return `${img.width}x${img.height}`;
}
