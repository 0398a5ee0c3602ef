/**
 * Colour conversions, bit-exact with OpenCV on 8-bit data.
 *
 * - {@link rgbToYCrCb} / {@link yCrCbToRgb}: OpenCV's COLOR_RGB2YCrCb / COLOR_YCrCb2RGB for CV_8U
 *   (BT.601 full range, chroma offset 128), reproduced with OpenCV's 14-bit fixed-point coefficients and
 *   its rounding (`CV_DESCALE(x, 14) = (x + 8192) >> 14`, then saturate to 0..255).
 *   Checked against python3-opencv on all 2^24 RGB values by tools/make_color_fixtures.py.
 * - {@link grayMmif}: the gray read of the mmif convention (docs/METRICS.md#mmif-inputs): `cv2.cvtColor(BGR2GRAY)` on a
 *   float32 image, then numpy's round half to even. OpenCV 4.6's vectorised path evaluates
 *   `fma(R, 0.299f, fma(G, 0.587f, B * 0.114f))` in float32; that order (not the plain sum the specification gives,
 *   which differs in the last bit on ~25% of arbitrary RGB triples and after rounding on a few) matched cv2
 *   on all 2^24 RGB values (tools/make_color_fixtures.py). On gray files (R = G = B) both orders agree.
 */
import type { RasterImage } from '../core/image.js';
import { maxValue } from '../core/image.js';

const SHIFT = 14;
const HALF = 1 << (SHIFT - 1);
// RGB -> Y, Cr, Cb (0.299, 0.587, 0.114, 0.713, 0.564 scaled by 2^14, as OpenCV rounds them).
const R2Y = 4899, G2Y = 9617, B2Y = 1868, CR = 11682, CB = 9241;
// Cr, Cb -> R, G, B (1.403, -0.714, -0.344, 1.773 scaled by 2^14).
const CR2R = 22987, CR2G = -11698, CB2G = -5636, CB2B = 29049;
const DELTA = 128 << SHIFT;

const sat8 = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : v);

export interface YCrCb8 {
  readonly width: number;
  readonly height: number;
  readonly y: Uint8Array;
  readonly cr: Uint8Array;
  readonly cb: Uint8Array;
}

/** OpenCV COLOR_RGB2YCrCb on interleaved 8-bit RGB. */
export function rgbToYCrCb(rgb: Uint8Array, width: number, height: number): YCrCb8 {
  const n = width * height;
  if (rgb.length !== n * 3) throw new RangeError(`rgbToYCrCb: expected ${n * 3} samples, got ${rgb.length}`);
  const y = new Uint8Array(n), cr = new Uint8Array(n), cb = new Uint8Array(n);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = rgb[j]!, g = rgb[j + 1]!, b = rgb[j + 2]!;
    const yy = (r * R2Y + g * G2Y + b * B2Y + HALF) >> SHIFT;
    y[i] = sat8(yy);
    cr[i] = sat8(((r - yy) * CR + DELTA + HALF) >> SHIFT);
    cb[i] = sat8(((b - yy) * CB + DELTA + HALF) >> SHIFT);
  }
  return { width, height, y, cr, cb };
}

/** OpenCV COLOR_YCrCb2RGB on 8-bit planes; returns interleaved RGB. */
export function yCrCbToRgb(y: Uint8Array, cr: Uint8Array, cb: Uint8Array): Uint8Array {
  const n = y.length;
  if (cr.length !== n || cb.length !== n) throw new RangeError('yCrCbToRgb: planes differ in length');
  const out = new Uint8Array(n * 3);
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const yy = y[i]!, dr = cr[i]! - 128, db = cb[i]! - 128;
    out[j] = sat8(yy + ((dr * CR2R + HALF) >> SHIFT));
    out[j + 1] = sat8(yy + ((db * CB2G + dr * CR2G + HALF) >> SHIFT));
    out[j + 2] = sat8(yy + ((db * CB2B + HALF) >> SHIFT));
  }
  return out;
}

/** numpy's np.round: halves to even. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return r - x === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

const F114 = Math.fround(0.114), F587 = Math.fround(0.587), F299 = Math.fround(0.299);

/**
 * The mmif convention's gray read: 0..255 integer values as float64. 1-channel images return their values;
 * 3-channel images use OpenCV's float32 BGR2GRAY then round half to even. Needs 8-bit input (the reference
 * reads every file with cv2.imread, which reduces 16-bit files to 8 bits): 16-bit samples are shifted right by 8.
 */
export function grayMmif(img: RasterImage): Float64Array {
  const n = img.width * img.height;
  const out = new Float64Array(n);
  const d = img.data;
  const shift = img.bitDepth === 16 ? 256 : 1;
  if (img.channels === 1) {
    for (let i = 0; i < n; i++) out[i] = Math.floor(d[i]! / shift);
    return out;
  }
  const fr = Math.fround;
  for (let i = 0, j = 0; i < n; i++, j += 3) {
    const r = Math.floor(d[j]! / shift), g = Math.floor(d[j + 1]! / shift), b = Math.floor(d[j + 2]! / shift);
    // A float32 fma as one float64 operation rounded once: the product of two float32 values is exact in
    // float64; the check over all 2^24 inputs covers the addition's rounding.
    const v = fr(r * F299 + fr(g * F587 + fr(b * F114)));
    out[i] = roundHalfEven(v);
  }
  return out;
}

/** Luminance `0.299R + 0.587G + 0.114B` in [0, 1] as float32, without rounding (any bit depth). */
export function luminance(img: RasterImage): Float32Array {
  const n = img.width * img.height;
  const out = new Float32Array(n);
  const scale = 1 / maxValue(img);
  const d = img.data;
  if (img.channels === 1) {
    for (let i = 0; i < n; i++) out[i] = d[i]! * scale;
    return out;
  }
  for (let i = 0, j = 0; i < n; i++, j += 3) out[i] = (0.299 * d[j]! + 0.587 * d[j + 1]! + 0.114 * d[j + 2]!) * scale;
  return out;
}
