/**
 * The corruptions of `isfuse bench robust` (docs/ROBUSTNESS.md#corruptions): one small function each, with its five
 * severities' parameters in one table ({@link CORRUPTIONS}); missing modalities have a single level.
 *
 * A corruption works as a camera or a link would: on the input's own samples (visible RGB or gray, infrared gray),
 * as floats in [0, 1], and its result is quantised back to 8 bits (round, clamp) before the normal fusion pipeline
 * reads it. 16-bit inputs are reduced to 8 bits first. Every random draw comes from an {@link Rng} seeded from
 * (seed, pair, corruption) ({@link corruptionSeed}): a cell is reproducible on its own, and the severities of one
 * pair share their draws (the same noise field, blur angle, shift direction, warp field; the holes of a severity
 * include those of the lower ones), so a severity changes only the magnitude and the curves over severity are smooth.
 */
import { unknownName, usageError } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';
import { Rng } from '../core/random.js';
import { gaussianBlurReplicate } from '../filters/gaussian.js';
import { filter2dReplicate, type Kernel2d } from '../filters/kernel2d.js';
import { decodeBuffer } from '../io/decode.js';
import { encodeImage } from '../io/encode.js';
import { HOLE_P_SQUARE, HOLE_RADIUS, HOLE_SQUARE, rasterizeHoles, type Hole } from '../train/masks.js';

/** An image as floats in [0, 1], interleaved like a {@link RasterImage} (1 or 3 channels). */
export interface Image01 {
  readonly width: number;
  readonly height: number;
  readonly channels: 1 | 3;
  readonly data: Float32Array;
}

/** Which input a corruption changes. */
export type Target = 'ir' | 'vis' | 'both';

export interface Corruption {
  readonly name: string;
  readonly target: Target;
  /** One line: what it does and what its parameter means. */
  readonly what: string;
  /** The paper or model it follows, where there is one. */
  readonly source?: string;
  /** The parameters of severities 1..5 as text (one entry: a corruption without severities). */
  readonly levels: readonly string[];
  /** Corrupts one input at severity 1..levels.length. */
  apply(img: Image01, severity: number, rng: Rng): Image01 | Promise<Image01>;
}

/** A corruption from its parameter table: `params[s - 1]` is severity s. */
function define<P>(c: {
  name: string;
  target: Target;
  what: string;
  source?: string;
  params: readonly P[];
  show: (p: P) => string;
  apply: (img: Image01, p: P, rng: Rng) => Image01 | Promise<Image01>;
}): Corruption {
  return {
    name: c.name,
    target: c.target,
    what: c.what,
    source: c.source,
    levels: c.params.map(c.show),
    apply: (img, severity, rng) => c.apply(img, c.params[severity - 1]!, rng),
  };
}

// ------------------------------------------------------------------------------------------------------------
// Building blocks

function like(img: Image01, data = new Float32Array(img.data.length)): Image01 {
  return { width: img.width, height: img.height, channels: img.channels, data };
}

function mapSamples(img: Image01, f: (v: number, i: number) => number): Image01 {
  const out = like(img);
  for (let i = 0; i < out.data.length; i++) out.data[i] = f(img.data[i]!, i);
  return out;
}

/** One standard normal draw (Box-Muller on two uniforms; u1 in (0, 1]). */
function normal(rng: Rng): number {
  const u1 = 1 - rng.next();
  return Math.sqrt(-2 * Math.log(u1)) * Math.cos(2 * Math.PI * rng.next());
}

/** A Poisson draw: inversion for small means, the normal approximation above 30 (where it is close). */
function poisson(rng: Rng, lambda: number): number {
  if (lambda <= 0) return 0;
  if (lambda > 30) return Math.max(0, Math.round(lambda + Math.sqrt(lambda) * normal(rng)));
  let k = 0, p = Math.exp(-lambda), s = p;
  const u = rng.next();
  while (u > s && k < 1000) {
    k++;
    p *= lambda / k;
    s += p;
  }
  return k;
}

/** Each channel as its own plane, filtered, interleaved back. */
function perChannel(img: Image01, f: (p: { width: number; height: number; data: Float32Array }) => ArrayLike<number>): Image01 {
  const { width, height, channels } = img;
  const n = width * height;
  const out = like(img);
  for (let c = 0; c < channels; c++) {
    const p = new Float32Array(n);
    for (let i = 0; i < n; i++) p[i] = img.data[i * channels + c]!;
    const r = f({ width, height, data: p });
    for (let i = 0; i < n; i++) out.data[i * channels + c] = r[i]!;
  }
  return out;
}

/**
 * Resamples every channel at source coordinates `at(x, y) -> [sx, sy]` (bilinear; outside the image the nearest
 * edge pixel): the content at (sx, sy) moves to (x, y).
 */
function warp(img: Image01, at: (x: number, y: number) => readonly [number, number]): Image01 {
  const { width: w, height: h, channels: ch } = img;
  const out = like(img);
  const clampX = (v: number): number => (v < 0 ? 0 : v > w - 1 ? w - 1 : v);
  const clampY = (v: number): number => (v < 0 ? 0 : v > h - 1 ? h - 1 : v);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const [sx0, sy0] = at(x, y);
      const sx = clampX(sx0), sy = clampY(sy0);
      const x0 = Math.floor(sx), y0 = Math.floor(sy);
      const x1 = Math.min(x0 + 1, w - 1), y1 = Math.min(y0 + 1, h - 1);
      const fx = sx - x0, fy = sy - y0;
      for (let c = 0; c < ch; c++) {
        const a = img.data[(y0 * w + x0) * ch + c]!, b = img.data[(y0 * w + x1) * ch + c]!;
        const d = img.data[(y1 * w + x0) * ch + c]!, e = img.data[(y1 * w + x1) * ch + c]!;
        out.data[(y * w + x) * ch + c] = (a * (1 - fx) + b * fx) * (1 - fy) + (d * (1 - fx) + e * fx) * fy;
      }
    }
  }
  return out;
}

/** A line kernel of `length` px at `angle` radians: the line's samples, each spread bilinearly, normalised. */
function motionKernel(length: number, angle: number): Kernel2d {
  const size = 2 * Math.ceil(length / 2) + 1;
  const c = (size - 1) / 2;
  const data = new Float64Array(size * size);
  const steps = 4 * length;
  for (let k = 0; k <= steps; k++) {
    const t = (k / steps - 0.5) * (length - 1);
    const x = c + t * Math.cos(angle), y = c + t * Math.sin(angle);
    const x0 = Math.floor(x), y0 = Math.floor(y), fx = x - x0, fy = y - y0;
    data[y0 * size + x0] += (1 - fx) * (1 - fy);
    if (fx > 0) data[y0 * size + x0 + 1] += fx * (1 - fy);
    if (fy > 0) data[(y0 + 1) * size + x0] += (1 - fx) * fy;
    if (fx > 0 && fy > 0) data[(y0 + 1) * size + x0 + 1] += fx * fy;
  }
  const sum = data.reduce((s, v) => s + v, 0);
  return { size, data: data.map((v) => v / sum) };
}

/** A disk kernel of `radius` px, each tap weighted by the disk's area in it (8x8 subsamples), normalised. */
function diskKernel(radius: number): Kernel2d {
  const size = 2 * Math.ceil(radius) + 1;
  const c = (size - 1) / 2;
  const data = new Float64Array(size * size);
  for (let j = 0; j < size; j++) {
    for (let i = 0; i < size; i++) {
      let inside = 0;
      for (let b = 0; b < 8; b++) for (let a = 0; a < 8; a++) if ((i - c - 0.5 + (a + 0.5) / 8) ** 2 + (j - c - 0.5 + (b + 0.5) / 8) ** 2 <= radius * radius) inside++;
      data[j * size + i] = inside;
    }
  }
  const sum = data.reduce((s, v) => s + v, 0);
  return { size, data: data.map((v) => v / sum) };
}

/** Shift of the content by whole pixels (edges replicated): `dx` right, `dy` down. */
export function translate(img: Image01, dx: number, dy: number): Image01 {
  return warp(img, (x, y) => [x - dx, y - dy]);
}

// ------------------------------------------------------------------------------------------------------------
// The table

const sensorNoise = (target: 'ir' | 'vis'): Corruption =>
  define({
    name: `noise-${target}`,
    target,
    what: 'sensor noise: Poisson shot noise (peak = photons at white) plus Gaussian read noise (sigma)',
    source: 'Poisson-Gaussian sensor model (Foi et al., TIP 2008); IR and VIS noise as in ControlFusion',
    params: [
      { peak: 1000, sigma: 0.01 },
      { peak: 300, sigma: 0.02 },
      { peak: 100, sigma: 0.04 },
      { peak: 40, sigma: 0.06 },
      { peak: 15, sigma: 0.09 },
    ],
    show: (p) => `peak ${p.peak}, sigma ${p.sigma}`,
    apply: (img, p, rng) => mapSamples(img, (v) => poisson(rng, v * p.peak) / p.peak + p.sigma * normal(rng)),
  });

const missing = (target: 'ir' | 'vis', value: number, name: string, what: string): Corruption =>
  define({ name, target, what, params: [value], show: (v) => `${Math.round(v * 255)}`, apply: (img, v) => mapSamples(img, () => v) });

const misregistered = 'misregistration (ir moved against vis)';

/**
 * Every corruption, in report order. Parameters per severity 1..5 (docs/ROBUSTNESS.md#corruptions says why each).
 */
export const CORRUPTIONS: readonly Corruption[] = [
  sensorNoise('ir'),
  sensorNoise('vis'),
  define({
    name: 'stripe-ir',
    target: 'ir',
    what: 'column stripe (fixed-pattern) noise: every column offset by a normal draw of SD sigma',
    source: 'uncooled microbolometer non-uniformity; IR stripe noise as in ControlFusion',
    params: [0.01, 0.02, 0.04, 0.06, 0.09],
    show: (s) => `sigma ${s}`,
    apply: (img, s, rng) => {
      const offsets = new Float32Array(img.width);
      for (let x = 0; x < img.width; x++) offsets[x] = s * normal(rng);
      return mapSamples(img, (v, i) => v + offsets[Math.floor(i / img.channels) % img.width]!);
    },
  }),
  define({
    name: 'contrast-ir',
    target: 'ir',
    what: 'low contrast: each channel pulled towards its mean, x -> m + c (x - m)',
    source: 'IR low contrast as in ControlFusion; ImageNet-C contrast',
    params: [0.6, 0.45, 0.3, 0.2, 0.12],
    show: (c) => `c ${c}`,
    apply: (img, c) => {
      const mean = new Float64Array(img.channels);
      img.data.forEach((v, i) => (mean[i % img.channels] += v));
      for (let k = 0; k < img.channels; k++) mean[k]! /= img.width * img.height;
      return mapSamples(img, (v, i) => mean[i % img.channels]! + c * (v - mean[i % img.channels]!));
    },
  }),
  define({
    name: 'low-light-vis',
    target: 'vis',
    what: 'low light: x -> gain * x^gamma (darker, shadows crushed)',
    source: 'the usual synthetic low-light model (gamma darkening with a gain)',
    params: [
      { gamma: 1.2, gain: 0.8 },
      { gamma: 1.5, gain: 0.6 },
      { gamma: 1.8, gain: 0.45 },
      { gamma: 2.2, gain: 0.3 },
      { gamma: 2.6, gain: 0.2 },
    ],
    show: (p) => `gamma ${p.gamma}, gain ${p.gain}`,
    apply: (img, p) => mapSamples(img, (v) => p.gain * Math.max(0, v) ** p.gamma),
  }),
  define({
    name: 'overexposure-vis',
    target: 'vis',
    what: 'over-exposure: x -> min(1, gain * x) (highlights clipped)',
    source: 'a clipped exposure gain (a camera exposing too long)',
    params: [1.4, 1.8, 2.3, 3, 4],
    show: (g) => `gain ${g}`,
    apply: (img, g) => mapSamples(img, (v) => g * v),
  }),
  define({
    name: 'motion-blur-vis',
    target: 'vis',
    what: 'linear motion blur of `length` px at a random angle',
    source: 'ImageNet-C motion blur; VIS blur as in ControlFusion',
    params: [3, 5, 9, 13, 19],
    show: (l) => `length ${l} px`,
    apply: (img, l, rng) => {
      const k = motionKernel(l, Math.PI * rng.next());
      return perChannel(img, (p) => filter2dReplicate(p, k).data);
    },
  }),
  define({
    name: 'defocus-vis',
    target: 'vis',
    what: 'defocus blur: a disk of `radius` px (area-weighted taps)',
    source: 'ImageNet-C defocus blur',
    params: [1, 2, 3, 4.5, 6],
    show: (r) => `radius ${r} px`,
    apply: (img, r) => {
      const k = diskKernel(r);
      return perChannel(img, (p) => filter2dReplicate(p, k).data);
    },
  }),
  define({
    name: 'haze-vis',
    target: 'vis',
    what: 'haze: x -> x t + A (1 - t), t = exp(-beta d), airlight A 0.9, depth d from 0.3 (bottom row) to 1 (top row)',
    source: 'atmospheric scattering model (Koschmieder; McCartney); VIS haze as in ControlFusion',
    params: [0.3, 0.6, 1, 1.5, 2.2],
    show: (b) => `beta ${b}`,
    apply: (img, beta) => {
      const row = img.width * img.channels;
      return mapSamples(img, (v, i) => {
        const y = Math.floor(i / row);
        const d = 0.3 + 0.7 * (1 - y / Math.max(1, img.height - 1));
        const t = Math.exp(-beta * d);
        return v * t + 0.9 * (1 - t);
      });
    },
  }),
  define({
    name: 'jpeg',
    target: 'both',
    what: 'JPEG compression of both inputs at `quality` (isfuse\'s JPEG encoder: libjpeg through sharp, 4:4:4 chroma)',
    source: 'ImageNet-C JPEG',
    params: [40, 25, 15, 10, 5],
    show: (q) => `quality ${q}`,
    apply: async (img, q) => {
      const decoded = await decodeBuffer(await encodeImage(toRaster8(img), { format: 'jpeg', quality: q }), `JPEG at quality ${q}`);
      if (decoded.channels !== img.channels) throw new Error(`jpeg: decoded ${decoded.channels} channels, expected ${img.channels}`);
      return toImage01(decoded);
    },
  }),
  occlusion('ir'),
  occlusion('vis'),
  missing('ir', 0, 'missing-ir', 'missing infrared: all zeros'),
  missing('vis', 0, 'missing-vis', 'missing visible: all zeros'),
  missing('ir', 128 / 255, 'gray-ir', 'missing infrared: constant mid-gray (128)'),
  missing('vis', 128 / 255, 'gray-vis', 'missing visible: constant mid-gray (128)'),
  define({
    name: 'shift-ir',
    target: 'ir',
    what: `${misregistered}: translation by t px along a random axis and sign (edges replicated)`,
    source: 'misregistration as in UMF-CMGR (Wang et al., IJCAI 2022)',
    params: [1, 2, 4, 8, 16],
    show: (t) => `${t} px`,
    apply: (img, t, rng) => {
      const { dx, dy } = shiftOf(t, rng);
      return translate(img, dx, dy);
    },
  }),
  define({
    name: 'rotate-scale-ir',
    target: 'ir',
    what: `${misregistered}: rotation by +-deg (random sign) and zoom by scale about the image centre (bilinear)`,
    source: 'misregistration as in UMF-CMGR (affine part)',
    params: [
      { deg: 0.5, scale: 1.01 },
      { deg: 1, scale: 1.02 },
      { deg: 2, scale: 1.03 },
      { deg: 3, scale: 1.05 },
      { deg: 4, scale: 1.07 },
    ],
    show: (p) => `${p.deg} deg, scale ${p.scale}`,
    apply: (img, p, rng) => {
      const a = (rng.bool() ? 1 : -1) * (p.deg * Math.PI) / 180;
      const cx = (img.width - 1) / 2, cy = (img.height - 1) / 2;
      const cos = Math.cos(a) / p.scale, sin = Math.sin(a) / p.scale;
      // The inverse map: output (x, y) reads the source at R(-a) (x - c) / scale + c.
      return warp(img, (x, y) => [cx + cos * (x - cx) + sin * (y - cy), cy - sin * (x - cx) + cos * (y - cy)]);
    },
  }),
  define({
    name: 'elastic-ir',
    target: 'ir',
    what: `${misregistered}: smooth random displacement field, largest displacement A px (control points every 48 px, Gaussian-smoothed, bilinear)`,
    source: 'elastic deformation (Simard et al., ICDAR 2003); non-rigid misregistration as in UMF-CMGR',
    params: [1, 2, 4, 6, 8],
    show: (a) => `max ${a} px`,
    apply: (img, a, rng) => {
      const f = elasticField(img.width, img.height, a, rng);
      return warp(img, (x, y) => [x - f.dx[y * img.width + x]!, y - f.dy[y * img.width + x]!]);
    },
  }),
];

/** The translation of `shift-ir` at `t` px: a random axis and sign. */
export function shiftOf(t: number, rng: Rng): { dx: number; dy: number } {
  const sign = rng.bool() ? 1 : -1;
  return rng.bool() ? { dx: sign * t, dy: 0 } : { dx: 0, dy: sign * t };
}

/** Control-point spacing of the elastic warp (px). */
const ELASTIC_SPACING = 48;

/**
 * A smooth displacement field (content at (x - dx, y - dy) moves to (x, y)) whose largest vector has length
 * `amplitude`: normal draws on a control grid every 48 px, smoothed (Gaussian, sigma 1 grid step), bilinear in between.
 */
export function elasticField(width: number, height: number, amplitude: number, rng: Rng): { dx: Float32Array; dy: Float32Array } {
  const gw = Math.ceil((width - 1) / ELASTIC_SPACING) + 1, gh = Math.ceil((height - 1) / ELASTIC_SPACING) + 1;
  const grid = (): Float64Array => {
    const g = new Float64Array(gw * gh);
    for (let i = 0; i < g.length; i++) g[i] = normal(rng);
    return gaussianBlurReplicate({ width: gw, height: gh, data: g }, 2, 1).data;
  };
  const gx = grid(), gy = grid();
  const dx = new Float32Array(width * height), dy = new Float32Array(width * height);
  let max = 0;
  for (let y = 0; y < height; y++) {
    const v = y / ELASTIC_SPACING, j = Math.min(Math.floor(v), gh - 2 < 0 ? 0 : gh - 2), fy = gh > 1 ? v - j : 0;
    for (let x = 0; x < width; x++) {
      const u = x / ELASTIC_SPACING, i = Math.min(Math.floor(u), gw - 2 < 0 ? 0 : gw - 2), fx = gw > 1 ? u - i : 0;
      const at = (g: Float64Array): number => {
        const i1 = Math.min(i + 1, gw - 1), j1 = Math.min(j + 1, gh - 1);
        return (g[j * gw + i]! * (1 - fx) + g[j * gw + i1]! * fx) * (1 - fy) + (g[j1 * gw + i]! * (1 - fx) + g[j1 * gw + i1]! * fx) * fy;
      };
      const k = y * width + x;
      dx[k] = at(gx);
      dy[k] = at(gy);
      max = Math.max(max, Math.hypot(dx[k]!, dy[k]!));
    }
  }
  const s = max > 0 ? amplitude / max : 0;
  for (let k = 0; k < dx.length; k++) {
    dx[k]! *= s;
    dy[k]! *= s;
  }
  return { dx, dy };
}

/**
 * Occlusion by the paper's hole masks (train/masks.ts: 16 px squares with probability 0.7, else disks of radius
 * 8 px), drawn at the scale they have in a 128 px training crop (holes scaled by s = max(1, round(short side / 128)))
 * and as many per 128 x 128 crop-equivalent as the severity says; hidden pixels become 0, as in training.
 */
function occlusion(target: 'ir' | 'vis'): Corruption {
  return define({
    name: `occlusion-${target}`,
    target,
    what: 'occlusion holes (the paper\'s hole masks at test time): `holes` per 128x128 crop at training scale, hidden pixels 0',
    source: 'ISFuse\'s hole masks (train/masks.ts), here at test time',
    params: [1, 2, 3, 4, 6],
    show: (n) => `${n} per crop`,
    apply: (img, perCrop, rng) => {
      const mask = holeMask(img.width, img.height, perCrop, rng);
      return mapSamples(img, (v, i) => v * mask[Math.floor(i / img.channels)]!);
    },
  });
}

/** The hole mask (1 kept, 0 hidden) of {@link occlusion} at full image size. */
export function holeMask(width: number, height: number, perCrop: number, rng: Rng): Float32Array {
  const s = Math.max(1, Math.round(Math.min(width, height) / 128));
  const w = Math.ceil(width / s), h = Math.ceil(height / s);
  if (w < HOLE_SQUARE || h < HOLE_SQUARE || w < 2 * HOLE_RADIUS + 1 || h < 2 * HOLE_RADIUS + 1) throw usageError(`occlusion needs images of at least 17x17 pixels, got ${width}x${height}`);
  const count = Math.max(perCrop, Math.round((perCrop * w * h) / (128 * 128)));
  const holes: Hole[] = [];
  for (let k = 0; k < count; k++) {
    if (rng.next() < HOLE_P_SQUARE) holes.push({ kind: 'square', x: rng.int(w - HOLE_SQUARE + 1), y: rng.int(h - HOLE_SQUARE + 1) });
    else holes.push({ kind: 'disk', x: HOLE_RADIUS + rng.int(w - 2 * HOLE_RADIUS), y: HOLE_RADIUS + rng.int(h - 2 * HOLE_RADIUS) });
  }
  const small = rasterizeHoles(holes, h, w);
  const out = new Float32Array(width * height);
  for (let y = 0; y < height; y++) for (let x = 0; x < width; x++) out[y * width + x] = small[Math.floor(y / s) * w + Math.floor(x / s)]!;
  return out;
}

// ------------------------------------------------------------------------------------------------------------
// Lookup, seeds, rasters

/** The corruption called `name`; a usage error listing the names when there is none. */
export function getCorruption(name: string): Corruption {
  const c = CORRUPTIONS.find((x) => x.name === name.trim().toLowerCase());
  if (!c) throw unknownName('corruption', name, CORRUPTIONS.map((x) => x.name));
  return c;
}

/** The severities a corruption is run at: the asked ones, or its single level when it has no severities. */
export function severitiesOf(c: Corruption, asked: readonly number[]): number[] {
  return c.levels.length === 1 ? [1] : asked.filter((s) => s >= 1 && s <= c.levels.length);
}

/** The seed of a pair's draws under a corruption (every severity): FNV-1a over "seed/pair/corruption". */
export function corruptionSeed(seed: number, pair: string, corruption: string): number {
  let h = 0x811c9dc5;
  for (const ch of `${seed}/${pair}/${corruption}`) {
    h ^= ch.codePointAt(0)!;
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** A raster's samples in [0, 1] (8-bit / 255; 16-bit / 65535). */
export function toImage01(img: RasterImage): Image01 {
  const k = 1 / (img.bitDepth === 16 ? 65535 : 255);
  const data = new Float32Array(img.data.length);
  for (let i = 0; i < data.length; i++) data[i] = img.data[i]! * k;
  return { width: img.width, height: img.height, channels: img.channels, data };
}

/** round(255 v), clamped to 0..255 (NaN -> 0). */
function quantise(img: Image01): Uint8Array {
  const out = new Uint8Array(img.data.length);
  for (let i = 0; i < out.length; i++) {
    const v = img.data[i]! * 255;
    out[i] = v > 0 ? (v < 255 ? Math.round(v) : 255) : 0;
  }
  return out;
}

/** The 8-bit raster of an image in [0, 1]. */
export function toRaster8(img: Image01): RasterImage {
  return { width: img.width, height: img.height, channels: img.channels, bitDepth: 8, data: quantise(img) };
}

/**
 * The pair under `corruption` at `severity` (1-based; 1 for single-level ones), as 8-bit rasters ready for `fuse`.
 * The infrared input is corrupted first, then the visible one, from one stream seeded by {@link corruptionSeed}.
 */
export async function corruptPair(
  pair: { readonly name: string; readonly ir: RasterImage; readonly vis: RasterImage },
  corruption: Corruption,
  severity: number,
  seed: number,
): Promise<{ ir: RasterImage; vis: RasterImage }> {
  if (!(Number.isInteger(severity) && severity >= 1 && severity <= corruption.levels.length)) {
    throw usageError(`corruption ${corruption.name} has severities 1..${corruption.levels.length}, not ${severity}`);
  }
  const rng = new Rng(corruptionSeed(seed, pair.name, corruption.name));
  const run = async (img: RasterImage, hit: boolean): Promise<RasterImage> => {
    const x = toImage01(img);
    return toRaster8(hit ? await corruption.apply(x, severity, rng) : x);
  };
  const ir = await run(pair.ir, corruption.target !== 'vis');
  const vis = await run(pair.vis, corruption.target !== 'ir');
  return { ir, vis };
}
