/**
 * Hole masks of the intervention-stable training (docs/TRAINING.md#hole-masks). 1 = kept, 0 = hidden.
 *
 * Per sample: a uniform number of holes in 1..6; each hole is, with probability 0.7, a 16 x 16 square lying
 * wholly inside the crop (top-left corner uniform over the (H-15) x (W-15) valid positions), otherwise a
 * disk of radius 8 (the pixels with (x-cx)^2 + (y-cy)^2 <= 64) whose integer centre is at least 8 px from
 * every border (cx uniform in [8, W-9], cy in [8, H-9]), so it too lies wholly inside. Crops must be at
 * least 17 x 17.
 *
 * Complementary masks: m_v and m_i are drawn independently; at every pixel hidden in both, a fair coin
 * (one draw per such pixel, row-major) un-holes it in m_v (heads) or in m_i (tails), so no pixel is hidden
 * in both.
 *
 * All draws come from one {@link Rng}, in a fixed order (see {@link drawInterventionMasks}).
 */
import type { Rng } from '../core/random.js';

export const HOLE_SQUARE = 16;
export const HOLE_RADIUS = 8;
export const HOLE_P_SQUARE = 0.7;
export const HOLES_MIN = 1;
export const HOLES_MAX = 6;
/** Smallest crop side that holds both hole shapes. */
export const MIN_MASK_SIZE = 2 * HOLE_RADIUS + 1;

/** One hole: a square (x, y = top-left corner) or a disk (x, y = centre). */
export interface Hole {
  readonly kind: 'square' | 'disk';
  readonly x: number;
  readonly y: number;
}

function checkSize(h: number, w: number): void {
  if (!Number.isInteger(h) || !Number.isInteger(w) || h < MIN_MASK_SIZE || w < MIN_MASK_SIZE) {
    throw new RangeError(`hole masks need crops of at least ${MIN_MASK_SIZE}x${MIN_MASK_SIZE}, got ${w}x${h}`);
  }
}

/** Draws the holes of one sample (1..6 of them). */
export function drawHoles(rng: Rng, h: number, w: number): Hole[] {
  checkSize(h, w);
  const count = HOLES_MIN + rng.int(HOLES_MAX - HOLES_MIN + 1);
  const out: Hole[] = [];
  for (let k = 0; k < count; k++) {
    if (rng.next() < HOLE_P_SQUARE) {
      out.push({ kind: 'square', x: rng.int(w - HOLE_SQUARE + 1), y: rng.int(h - HOLE_SQUARE + 1) });
    } else {
      out.push({ kind: 'disk', x: HOLE_RADIUS + rng.int(w - 2 * HOLE_RADIUS), y: HOLE_RADIUS + rng.int(h - 2 * HOLE_RADIUS) });
    }
  }
  return out;
}

/** Writes the mask of `holes` (1 kept, 0 hidden) into out[offset .. offset + h*w). */
export function rasterizeHoles(holes: readonly Hole[], h: number, w: number, out = new Float32Array(h * w), offset = 0): Float32Array {
  out.fill(1, offset, offset + h * w);
  const r2 = HOLE_RADIUS * HOLE_RADIUS;
  for (const hole of holes) {
    if (hole.kind === 'square') {
      for (let y = hole.y; y < hole.y + HOLE_SQUARE; y++) out.fill(0, offset + y * w + hole.x, offset + y * w + hole.x + HOLE_SQUARE);
    } else {
      for (let y = hole.y - HOLE_RADIUS; y <= hole.y + HOLE_RADIUS; y++) {
        for (let x = hole.x - HOLE_RADIUS; x <= hole.x + HOLE_RADIUS; x++) {
          const dx = x - hole.x, dy = y - hole.y;
          if (dx * dx + dy * dy <= r2) out[offset + y * w + x] = 0;
        }
      }
    }
  }
  return out;
}

/** Resolves pixels hidden in both masks with a fair coin per pixel (in place). */
export function makeComplementary(rng: Rng, mv: Float32Array, mi: Float32Array, from = 0, to = mv.length): void {
  for (let i = from; i < to; i++) {
    if (mv[i] === 0 && mi[i] === 0) {
      if (rng.bool(0.5)) mv[i] = 1;
      else mi[i] = 1;
    }
  }
}

/** The masks of one batch, each [N*H*W] row-major per sample. */
export interface InterventionMasks {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  /** complementary masking: visible and infrared masks (never 0 at the same pixel) */
  readonly compVi: Float32Array;
  readonly compIr: Float32Array;
  /** identical-region masking: one mask for both */
  readonly rand: Float32Array;
  /** the holes drawn (before the coin), for inspection: per sample */
  readonly holes: readonly { vi: Hole[]; ir: Hole[]; rand: Hole[] }[];
}

/**
 * Draws every mask of a batch. Order, per sample: holes of m_v, holes of m_i, the coins of their overlap,
 * holes of m. The masks are drawn whether or not an intervention is switched off, so that ablations see
 * the same random stream (crops, flips, masks) as the full method.
 */
export function drawInterventionMasks(rng: Rng, n: number, h: number, w: number): InterventionMasks {
  checkSize(h, w);
  const hw = h * w;
  const compVi = new Float32Array(n * hw), compIr = new Float32Array(n * hw), rand = new Float32Array(n * hw);
  const holes: { vi: Hole[]; ir: Hole[]; rand: Hole[] }[] = [];
  for (let s = 0; s < n; s++) {
    const vi = drawHoles(rng, h, w);
    rasterizeHoles(vi, h, w, compVi, s * hw);
    const ir = drawHoles(rng, h, w);
    rasterizeHoles(ir, h, w, compIr, s * hw);
    makeComplementary(rng, compVi, compIr, s * hw, (s + 1) * hw);
    const r = drawHoles(rng, h, w);
    rasterizeHoles(r, h, w, rand, s * hw);
    holes.push({ vi, ir, rand: r });
  }
  return { n, h, w, compVi, compIr, rand, holes };
}
