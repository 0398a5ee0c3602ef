/**
 * Random training crops and batches (docs/TRAINING.md#recipe).
 *
 * - Crops are S x S. By default both images are cropped at the same position (`alignment: 'aligned'`);
 *   `'independent'` draws a position for each modality, as the reference code does (its pairs are then
 *   misaligned; for comparisons only).
 * - Augmentation (on by default): horizontal flip, vertical flip and transpose, each with probability 0.5,
 *   the same flags for both images.
 * - Crops never exceed the image. An image smaller than S in either dimension is skipped
 *   (`small: 'skip'`, the default; the caller is told how many) or zero-padded at the bottom/right to S x S
 *   (`small: 'pad'`; the crop then covers the whole image in that dimension).
 * - Batches follow epochs: each epoch is a fresh permutation of the usable images; an epoch's last batch
 *   may be smaller (as PyTorch's DataLoader with drop_last=False). {@link EpochSampler} state is plain JSON
 *   so that a checkpoint restores it exactly.
 * Every random draw comes from the one {@link Rng}, in this order per batch: (permutation when an epoch
 * starts), then per sample: crop position(s), the three flip flags.
 */
import type { Rng } from '../core/random.js';
import type { PairImages } from './pairs.js';

export type CropAlignment = 'aligned' | 'independent';
export type SmallImagePolicy = 'skip' | 'pad';

export interface CropOptions {
  /** crop side S (pixels) */
  readonly size: number;
  readonly alignment?: CropAlignment;
  readonly augment?: boolean;
  readonly small?: SmallImagePolicy;
}

/** A batch on the host: vi and ir, each [N, S, S] row-major per sample, values in [0, 1]. */
export interface HostBatch {
  readonly n: number;
  readonly size: number;
  readonly vi: Float32Array;
  readonly ir: Float32Array;
  /** which image each sample came from */
  readonly indices: readonly number[];
}

/** Indices of the images usable at crop size S under `small` (all of them with 'pad'). */
export function usableImages(images: readonly PairImages[], size: number, small: SmallImagePolicy = 'skip'): number[] {
  return images.flatMap((im, k) => (small === 'pad' || (im.width >= size && im.height >= size) ? [k] : []));
}

/** Copies the S x S window at (x0, y0) of a plane (zero outside the image) into out[offset..]. */
function cropInto(src: Float32Array, w: number, h: number, x0: number, y0: number, s: number, out: Float32Array, offset: number): void {
  for (let y = 0; y < s; y++) {
    const sy = y0 + y;
    if (sy >= h) break; // rest stays 0 (padding)
    const len = Math.min(s, w - x0);
    out.set(src.subarray(sy * w + x0, sy * w + x0 + len), offset + y * s);
  }
}

/** Applies h-flip, v-flip, then transpose to one S x S sample in place. */
export function augmentInPlace(buf: Float32Array, offset: number, s: number, hflip: boolean, vflip: boolean, transpose: boolean): void {
  if (!hflip && !vflip && !transpose) return;
  const src = buf.slice(offset, offset + s * s);
  for (let y = 0; y < s; y++) {
    for (let x = 0; x < s; x++) {
      let sx = hflip ? s - 1 - x : x;
      let sy = vflip ? s - 1 - y : y;
      if (transpose) [sx, sy] = [sy, sx];
      // output (x, y) of transpose(flip(img)) reads flip(img) at (y, x)
      buf[offset + y * s + x] = src[sy * s + sx]!;
    }
  }
}

function position(rng: Rng, extent: number, s: number): number {
  return extent > s ? rng.int(extent - s + 1) : 0;
}

/** Crops one batch from `images[indices[k]]`. */
export function cropBatch(images: readonly PairImages[], indices: readonly number[], rng: Rng, opts: CropOptions): HostBatch {
  const s = opts.size;
  const n = indices.length;
  const vi = new Float32Array(n * s * s), ir = new Float32Array(n * s * s);
  const small = opts.small ?? 'skip';
  for (let k = 0; k < n; k++) {
    const im = images[indices[k]!]!;
    if (small === 'skip' && (im.width < s || im.height < s)) throw new RangeError(`image '${im.stem}' (${im.width}x${im.height}) is smaller than the ${s}x${s} crop`);
    const xv = position(rng, im.width, s), yv = position(rng, im.height, s);
    let xi = xv, yi = yv;
    if ((opts.alignment ?? 'aligned') === 'independent') {
      xi = position(rng, im.width, s);
      yi = position(rng, im.height, s);
    }
    cropInto(im.vi, im.width, im.height, xv, yv, s, vi, k * s * s);
    cropInto(im.ir, im.width, im.height, xi, yi, s, ir, k * s * s);
    if (opts.augment ?? true) {
      const h = rng.bool(), v = rng.bool(), t = rng.bool();
      augmentInPlace(vi, k * s * s, s, h, v, t);
      augmentInPlace(ir, k * s * s, s, h, v, t);
    }
  }
  return { n, size: s, vi, ir, indices };
}

/** JSON state of an {@link EpochSampler}. */
export interface SamplerState {
  readonly epoch: number;
  readonly order: readonly number[];
  readonly cursor: number;
}

/** Walks the usable images epoch by epoch in shuffled order, `batch` at a time. */
export class EpochSampler {
  private epoch = 0;
  private order: number[] = [];
  private cursor = 0;

  constructor(private readonly usable: readonly number[], private readonly batch: number) {
    if (usable.length === 0) throw new RangeError('no usable images');
    if (!Number.isInteger(batch) || batch < 1) throw new RangeError(`batch must be a positive integer, got ${batch}`);
  }

  /** Batches per epoch: ceil(usable / batch). */
  get stepsPerEpoch(): number {
    return Math.ceil(this.usable.length / this.batch);
  }

  /** Image indices of the next batch (a new epoch draws a permutation from rng). */
  next(rng: Rng): { epoch: number; indices: number[] } {
    if (this.cursor >= this.order.length) {
      if (this.order.length > 0) this.epoch += 1;
      this.order = rng.permutation(this.usable.length).map((k) => this.usable[k]!);
      this.cursor = 0;
    }
    const indices = this.order.slice(this.cursor, this.cursor + this.batch);
    this.cursor += indices.length;
    return { epoch: this.epoch, indices };
  }

  get state(): SamplerState {
    return { epoch: this.epoch, order: [...this.order], cursor: this.cursor };
  }

  restore(s: SamplerState): void {
    this.epoch = s.epoch;
    this.order = [...s.order];
    this.cursor = s.cursor;
  }
}
