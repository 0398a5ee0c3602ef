/**
 * Exact tiled inference of ISFuse: memory bounded by the tile, not the image (docs/PERFORMANCE.md,
 * "Memory-bounded inference (tiles)"). Used by the onnxruntime runner (model/runner.ts) for large images.
 *
 * The network is local except for the CFIs' keys and values, which are 8x8 adaptive average poolings of
 * the WHOLE feature map of each level (docs/NETWORK.md#pooled-attention). Pooling is linear, so:
 * - phase 1: the encoders run tile by tile (halo {@link ENCODER_HALO}); each tile adds
 *   Ph[:, core rows] F_core Pw[:, core columns]^T of its core to the tokens of each level and modality
 *   (Ph, Pw: the whole image's pooling matrices, model/matrices.ts adaptivePoolMatrix; bins may overlap);
 *   the sums (float64 here) are the untiled network's pooled tokens;
 * - phase 2: the whole network runs tile by tile (halo {@link NETWORK_HALO}) with those tokens as graph
 *   inputs (and, on odd-sized axes, the image's bilinear resize taps); the core of the fused image and of
 *   the three gates is kept.
 * Both graphs come from the one layout (model/network.ts) through model/onnx.ts.
 *
 * Why this equals the untiled network (not an approximation):
 * - Tile edges inside the image are multiples of 4 pixels (cores start at multiples of 4, halos are multiples
 *   of 4), so the tile's two 2x2 max-poolings see the same pixel pairs as the image's. A tile that ends at the
 *   image's last row starts at an even offset, so it keeps the image's parity and its poolings drop the same
 *   odd last row: the tile's level sizes are floor(h/2), floor(h/4) of its own extent and line up with the
 *   image's levels shifted by start/2, start/4.
 * - At the image border, the tile's border is the image's: zero padding of the convolutions and clamping of
 *   the bilinear taps are the image's own. At a cut edge inside the image the tile's values are wrong in a
 *   band whose width the halo covers (derivation at NETWORK_HALO), and only the core is kept.
 * - The decoder's resize: where a finer level's size is odd, the image's resize ratio (floor(m/2)/m) is not
 *   1/2 and its sample positions drift by up to half a pixel across the image; on such an axis the tile
 *   takes the image's taps ({@link resizeTaps}, {@link tapAxes}). Elsewhere the tile's own 2x Resize is the
 *   image's, shifted.
 *
 * Only float32 rounding differs from the untiled graph: the token sums are taken in another order (float64
 * here), and on odd axes the resize is two Gather-weighted sums instead of onnxruntime's Resize.
 */
import { adaptivePoolMatrix } from './matrices.js';
import { levelSizes } from './network.js';

/** Tile geometry unit: cores and halos are multiples of 4 pixels (two 2x2 poolings). */
export const TILE_ALIGN = 4;

/**
 * Halo of phase 1 (encoders only), in image pixels. An encoder's level-3 output at a cut tile edge is wrong
 * in a band of: 2 rows at level 1 (two 3x3 convs), so 1 row after the pooling, 3 after level 2's two
 * convs, 2 after the second pooling, 4 after level 3's two convs: 4 level-3 rows = 16 image pixels (levels 1
 * and 2 are wrong in 2 and 3 rows of their own: 2 and 6 pixels). 16 is a multiple of 4.
 */
export const ENCODER_HALO = 16;

/**
 * Halo of phase 2 (the whole network), in image pixels. Width of the wrong band at a cut tile edge, in rows
 * of each level (a 3x3 conv adds 1; a 1x1 conv, a sigmoid, an add, the attention with global tokens add 0):
 * - encoders: level 1: 2, level 2: 3, level 3: 4 (as at ENCODER_HALO);
 * - cfi3 (level 3): gate CBL 3x3: 5 (g3), mix: 5, refine 3x3: 6 = x3;
 * - cfi4 (level 2): gate 4 (g4), refine 5;
 * - up(x3 -> level 2): output row o reads coarse rows floor(s), floor(s) + 1 with s = (o + 0.5)/2 - 0.5 - d,
 *   0 <= d < 1/2 (d > 0 when the finer level's size is odd: the image's ratio floor(m/2)/m < 1/2); with the
 *   first 6 coarse rows wrong, rows o < 2 * 6 + 2 = 14 may be wrong (at the far edge, 2 * 6 + 1);
 *   x4 = adjust_channels4(up + cfi4): max(14, 5) + 2 convs = 16 level-2 rows;
 * - cfi5 (level 1): gate 3 (g5), refine 4;
 * - up(x4 -> level 1): 2 * 16 + 2 = 34; adjust_channels5: 36; final_decoder 3x3: 37 image pixels.
 * Gates: g3 5 level-3 rows (20 pixels), g4 4 level-2 rows (8), g5 3. The largest, 37, rounded up to a
 * multiple of 4: 40. (test/model/tiles.test.ts derives 37 again by running the layout over band widths.)
 */
export const NETWORK_HALO = 40;

/**
 * Default core side of a tile (pixels, a multiple of 4): a phase-2 tile is at most 768 + 2 * 40 = 848 pixels
 * square (0.72 MP; onnxruntime's working set ~0.7 GB); the halo costs 22% more pixels per inner tile (34% at
 * 512, 17% at 1024). Measured at 2048x1536 (docs/PERFORMANCE.md#tiles, runs interleaved): 512: 12.4-13.1
 * s/MP, peak 0.76 GB; 768: 10.9-11.5 s/MP, 0.90 GB; 1024: 10.4-12.0 s/MP, 1.1-1.2 GB.
 */
export const DEFAULT_TILE_SIZE = 768;

/** One axis of a tile, in image pixels: the extent [start, end) computed, the core [coreStart, coreEnd) kept. */
export interface TileSpan {
  readonly start: number;
  readonly end: number;
  readonly coreStart: number;
  readonly coreEnd: number;
}

export interface Tile {
  readonly rows: TileSpan;
  readonly cols: TileSpan;
}

/** The kept part of a tile, in tile pixels at level 1: rows [top, bottom), columns [left, right). */
export interface TileCore {
  readonly top: number;
  readonly bottom: number;
  readonly left: number;
  readonly right: number;
}

/** Graph input names shared by model/onnx.ts (which declares them) and runTiled (which feeds them). */
export function tokenInputName(cfiPrefix: string, side: 'v' | 'i'): string {
  return `${cfiPrefix}.pooled_${side}`;
}
export function poolInputNames(level: number): { rows: string; cols: string } {
  return { rows: `pool${level}.rows`, cols: `pool${level}.cols` };
}
/** The taps of the decoder's resize to level `level` (2: x3 -> level 2, 1: x4 -> level 1). */
export function tapInputNames(level: number) {
  const p = `up${level}`;
  return {
    rows0: `${p}.rows0`, rows1: `${p}.rows1`, rowsW0: `${p}.rowsW0`, rowsW1: `${p}.rowsW1`,
    cols0: `${p}.cols0`, cols1: `${p}.cols1`, colsW0: `${p}.colsW0`, colsW1: `${p}.colsW1`,
  };
}

/** floor(x / 2^(level - 1)): a level-1 coordinate at level 1, 2, 3. */
function atLevel(x: number, level: number): number {
  return Math.floor(x / 2 ** (level - 1));
}

/** The core at level 1, 2 or 3 (the tile's own floor sizes; exact because tile edges are multiples of 4). */
export function coreAtLevel(core: TileCore, level: number): TileCore {
  return { top: atLevel(core.top, level), bottom: atLevel(core.bottom, level), left: atLevel(core.left, level), right: atLevel(core.right, level) };
}

/**
 * Splits [0, n) into cores of at most `tileSize` (a multiple of 4; evenly, each a multiple of 4 except the
 * last, which is at least 4 so that every level's core is non-empty) and extends each by `halo` (a multiple
 * of 4) inside [0, n).
 */
export function tileSpans(n: number, tileSize: number, halo: number): TileSpan[] {
  if (!(Number.isInteger(tileSize) && tileSize >= TILE_ALIGN && tileSize % TILE_ALIGN === 0)) throw new Error(`internal: tile size ${tileSize} is not a positive multiple of ${TILE_ALIGN}`);
  if (halo % TILE_ALIGN !== 0) throw new Error(`internal: halo ${halo} is not a multiple of ${TILE_ALIGN}`);
  const k = Math.ceil(n / tileSize);
  const c = Math.ceil(n / k / TILE_ALIGN) * TILE_ALIGN;
  const starts: number[] = [];
  for (let s = 0; s < n; s += c) starts.push(s);
  if (starts.length > 1 && n - starts[starts.length - 1]! < TILE_ALIGN) starts.pop();
  return starts.map((coreStart, i) => {
    const coreEnd = i + 1 < starts.length ? starts[i + 1]! : n;
    return { start: Math.max(0, coreStart - halo), end: Math.min(n, coreEnd + halo), coreStart, coreEnd };
  });
}

/** The tiles of an H x W image, row by row. */
export function planTiles(height: number, width: number, tileSize: number, halo: number): Tile[] {
  const cols = tileSpans(width, tileSize, halo);
  return tileSpans(height, tileSize, halo).flatMap((rows) => cols.map((c) => ({ rows, cols: c })));
}

/** Which axes of one of the decoder's resizes take the image's taps (graph inputs) instead of a plain Resize. */
export interface TapAxes {
  readonly rows: boolean;
  readonly cols: boolean;
}

/**
 * For an H x W image, the axes of the resizes to level 1 and to level 2 that need the image's taps: those
 * whose finer size m is odd (the image's ratio floor(m/2)/m is not 1/2). Where m is even, every tile's own 2x
 * Resize samples as the image's does (tile edges are even at the coarser level) and is used instead: it is
 * the untiled graph's op and much faster than Gather along the last axis.
 */
export function tapAxes(height: number, width: number): [TapAxes, TapAxes] {
  const [[h1, w1], [h2, w2]] = levelSizes(height, width);
  return [{ rows: h1 % 2 === 1, cols: w1 % 2 === 1 }, { rows: h2 % 2 === 1, cols: w2 % 2 === 1 }];
}

/**
 * What a tile's graph depends on: its size, its core in tile pixels and the image's tap axes (tiles with
 * equal keys share a graph).
 */
export interface TileShape {
  readonly height: number;
  readonly width: number;
  readonly core: TileCore;
  readonly taps: readonly [TapAxes, TapAxes];
  readonly key: string;
}

export function tileShape(t: Tile, taps: readonly [TapAxes, TapAxes]): TileShape {
  const height = t.rows.end - t.rows.start;
  const width = t.cols.end - t.cols.start;
  const core = { top: t.rows.coreStart - t.rows.start, bottom: t.rows.coreEnd - t.rows.start, left: t.cols.coreStart - t.cols.start, right: t.cols.coreEnd - t.cols.start };
  const bits = taps.map((a) => `${+a.rows}${+a.cols}`).join('');
  return { height, width, core, taps, key: `${height}x${width}:${core.top},${core.bottom},${core.left},${core.right}:${bits}` };
}

/**
 * One axis of the image's bilinear resize from a coarse level (size n) to the next finer one (size m),
 * as tile-local taps: for the tile's fine positions fineStart + o (o < fineCount), the two coarse taps
 * (same formula as matrices.ts bilinearMatrix: half-pixel centres, clamped at the image border), minus
 * coarseStart and clamped into the tile's coarse range [0, coarseCount) (clamped taps only occur in the halo).
 */
export function resizeTaps(n: number, m: number, fineStart: number, fineCount: number, coarseStart: number, coarseCount: number) {
  const i0 = new BigInt64Array(fineCount);
  const i1 = new BigInt64Array(fineCount);
  const w0 = new Float32Array(fineCount);
  const w1 = new Float32Array(fineCount);
  const scale = n / m;
  const local = (i: number): bigint => BigInt(Math.min(coarseCount - 1, Math.max(0, i - coarseStart)));
  for (let o = 0; o < fineCount; o++) {
    const src = Math.max(0, (fineStart + o + 0.5) * scale - 0.5);
    const a = Math.min(Math.floor(src), n - 1);
    const b = Math.min(a + 1, n - 1);
    const l = src - a;
    i0[o] = local(a);
    i1[o] = local(b);
    w0[o] = 1 - l;
    w1[o] = l;
  }
  return { i0, i1, w0, w1 };
}

/** A graph feed: float32 or int64 data with its shape. */
export interface Feed {
  readonly data: Float32Array | BigInt64Array;
  readonly dims: readonly number[];
}
export type Feeds = Record<string, Feed>;

/** Runs the two tile graphs (model/onnx.ts buildIsfuseEncoderOnnx, buildIsfuseOnnx with tileCore). */
export interface TileExecutor {
  encoder(shape: TileShape, feeds: Feeds): Promise<Record<string, Float32Array>>;
  network(shape: TileShape, feeds: Feeds): Promise<Record<string, Float32Array>>;
}

export interface TiledPair {
  readonly ir: Float32Array;
  readonly vi: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface TiledOptions {
  /** Core side of a tile (multiple of 4; default {@link DEFAULT_TILE_SIZE}). */
  readonly tileSize?: number;
  /** Also assemble g3, g4, g5 (at H/4, H/2, H). */
  readonly gates?: boolean;
}

/** rows [r0, r1) x columns [c0, c1) of a row-major plane of the given width, as a [1,1,h,w] feed. */
function window(src: Float32Array, width: number, r0: number, r1: number, c0: number, c1: number): Feed {
  const w = c1 - c0;
  const out = new Float32Array((r1 - r0) * w);
  for (let r = r0; r < r1; r++) out.set(src.subarray(r * width + c0, r * width + c1), (r - r0) * w);
  return { data: out, dims: [1, 1, r1 - r0, w] };
}

/** Copies a [h, w] block into a row-major plane of the given width at (r0, c0). */
function paste(dst: Float32Array, width: number, block: Float32Array, r0: number, c0: number, w: number): void {
  const h = block.length / w;
  for (let r = 0; r < h; r++) dst.set(block.subarray(r * w, (r + 1) * w), (r0 + r) * width + c0);
}

const LEVELS = [1, 2, 3] as const;

/**
 * The tiled forward pass: fused image (H*W) and, when asked, the gates g3, g4, g5 at their levels' sizes.
 * Memory: the input planes, the outputs, one tile's graph run and its inputs; nothing grows with the image.
 */
export async function runTiled(pair: TiledPair, exec: TileExecutor, opts: TiledOptions = {}): Promise<{ fused: Float32Array; gates?: [Float32Array, Float32Array, Float32Array] }> {
  const { height: H, width: W } = pair;
  const size = opts.tileSize ?? DEFAULT_TILE_SIZE;
  const sizes = levelSizes(H, W); // [h, w] of levels 1, 2, 3
  const taps = tapAxes(H, W);
  const poolMats = sizes.map(([h, w]) => ({ rows: adaptivePoolMatrix(h, 8), cols: adaptivePoolMatrix(w, 8), h, w }));

  // phase 1: the pooled tokens of every level and modality, summed over the tiles' cores
  const sums = new Map<string, Float64Array>();
  for (const t of planTiles(H, W, size, ENCODER_HALO)) {
    const shape = tileShape(t, taps);
    const { start: r0, end: r1 } = t.rows;
    const { start: c0, end: c1 } = t.cols;
    const feeds: Feeds = { vi: window(pair.vi, W, r0, r1, c0, c1), ir: window(pair.ir, W, r0, r1, c0, c1) };
    for (const level of LEVELS) {
      const pm = poolMats[level - 1]!;
      const rs = atLevel(t.rows.coreStart, level), re = atLevel(t.rows.coreEnd, level);
      const cs = atLevel(t.cols.coreStart, level), ce = atLevel(t.cols.coreEnd, level);
      const rows = new Float32Array(8 * (re - rs)); // [8, core rows]
      for (let i = 0; i < 8; i++) rows.set(pm.rows.subarray(i * pm.h + rs, i * pm.h + re), i * (re - rs));
      const cols = new Float32Array((ce - cs) * 8); // [core columns, 8]
      for (let j = cs; j < ce; j++) for (let i = 0; i < 8; i++) cols[(j - cs) * 8 + i] = pm.cols[i * pm.w + j]!;
      const names = poolInputNames(level);
      feeds[names.rows] = { data: rows, dims: [8, re - rs] };
      feeds[names.cols] = { data: cols, dims: [ce - cs, 8] };
    }
    const out = await exec.encoder(shape, feeds);
    for (const [name, part] of Object.entries(out)) {
      let s = sums.get(name);
      if (!s) sums.set(name, (s = new Float64Array(part.length)));
      for (let i = 0; i < part.length; i++) s[i] += part[i]!;
    }
  }
  const tokens: Feeds = {};
  for (const [name, s] of sums) tokens[name] = { data: Float32Array.from(s), dims: [s.length / 64, 64] };

  // phase 2: the network per tile, cores pasted
  const fused = new Float32Array(H * W);
  const gates = opts.gates ? LEVELS.map((l) => new Float32Array(sizes[l - 1]![0] * sizes[l - 1]![1])) : undefined; // g5, g4, g3
  for (const t of planTiles(H, W, size, NETWORK_HALO)) {
    const shape = tileShape(t, taps);
    const { start: r0, end: r1 } = t.rows;
    const { start: c0, end: c1 } = t.cols;
    const feeds: Feeds = { vi: window(pair.vi, W, r0, r1, c0, c1), ir: window(pair.ir, W, r0, r1, c0, c1), ...tokens };
    const tileSizes = levelSizes(r1 - r0, c1 - c0);
    for (const level of [1, 2] as const) {
      // up(level + 1 -> level): coarse level + 1, fine level
      const [[mh, mw], [nh, nw]] = [sizes[level - 1]!, sizes[level]!];
      const [[th, tw], [tnh, tnw]] = [tileSizes[level - 1]!, tileSizes[level]!];
      const rows = resizeTaps(nh, mh, atLevel(r0, level), th, atLevel(r0, level + 1), tnh);
      const cols = resizeTaps(nw, mw, atLevel(c0, level), tw, atLevel(c0, level + 1), tnw);
      const n = tapInputNames(level);
      if (taps[level - 1]!.rows) {
        Object.assign(feeds, {
          [n.rows0]: { data: rows.i0, dims: [th] }, [n.rows1]: { data: rows.i1, dims: [th] },
          [n.rowsW0]: { data: rows.w0, dims: [th, 1] }, [n.rowsW1]: { data: rows.w1, dims: [th, 1] },
        });
      }
      if (taps[level - 1]!.cols) {
        Object.assign(feeds, {
          [n.cols0]: { data: cols.i0, dims: [tw] }, [n.cols1]: { data: cols.i1, dims: [tw] },
          [n.colsW0]: { data: cols.w0, dims: [tw] }, [n.colsW1]: { data: cols.w1, dims: [tw] },
        });
      }
    }
    const out = await exec.network(shape, feeds);
    const place = (dst: Float32Array, level: number, block: Float32Array | undefined): void => {
      if (!block) throw new Error('internal: a tile graph output is missing');
      const cs = atLevel(t.cols.coreStart, level);
      paste(dst, sizes[level - 1]![1], block, atLevel(t.rows.coreStart, level), cs, atLevel(t.cols.coreEnd, level) - cs);
    };
    place(fused, 1, out.fused);
    if (gates) {
      place(gates[0]!, 1, out.g5);
      place(gates[1]!, 2, out.g4);
      place(gates[2]!, 3, out.g3);
    }
  }
  return { fused, gates: gates ? [gates[2]!, gates[1]!, gates[0]!] : undefined };
}
