/**
 * The ISFuse network as an ONNX graph (opset 17), for fast CPU inference with onnxruntime (docs/ENGINES.md#engines).
 *
 * One graph per image size: the adaptive-pool bin matrices and the resize sizes are constants of the
 * graph. Inputs `vi`, `ir`: [1,1,H,W] float32 in [0,1]; outputs `fused` [1,1,H,W], `g3` [1,1,H/4,W/4],
 * `g4` [1,1,H/2,W/2], `g5` [1,1,H,W] (floor sizes, as the network's max-pooling).
 *
 * The graph computes the reference network exactly in real arithmetic (float32 rounding differs by ~1e-7);
 * it is arranged for speed:
 * - BatchNorm folded into the convolutions (float64 fold, rounded once);
 * - in each attention, the key/value 1x1 convolutions run on the 8x8-pooled features instead of the full
 *   map (adaptive average pooling is linear with bins of weight sum 1, so pool(W f + b) = W pool(f) + b),
 *   the 1/sqrt(d) scale is folded into the keys, and the query 1x1 convolution is folded into the logits:
 *   q.k = f^T (W_q^T K) + b_q^T K, one [HW, d] x [d, 64] product per direction;
 * - the [HW, 64] attention logits are computed in blocks of query rows (bounded memory at any size).
 *
 * Tiled inference (model/tiles.ts, docs/PERFORMANCE.md#memory-bounded-inference-tiles) uses two more graphs
 * built from the same layout and ops: {@link buildIsfuseEncoderOnnx} (the encoders of one tile and the 8x8
 * pooling of its core, a partial sum of the global tokens) and {@link buildIsfuseOnnx} with `tileCore`
 * (the whole network on one tile with the CFIs' pooled tokens and the decoder's resize taps as graph inputs,
 * outputs cut to the tile's core).
 *
 * The layout is model/network.ts; the protobuf is written by onnx-proto.ts.
 */
import { LEAKY_SLOPE } from './layers.js';
import { adaptivePoolMatrix, transpose2d } from './matrices.js';
import { foldedConvs, ISFUSE_DIM, type StateValues } from './isfuse.js';
import { CFI_PREFIXES, isfuseEncoders, isfuseNetwork, MIN_NETWORK_SIDE, type NetworkOps } from './network.js';
import { Graph, valueInfo } from './onnx-proto.js';
import { coreAtLevel, poolInputNames, tapInputNames, tokenInputName, type TapAxes, type TileCore } from './tiles.js';

/**
 * Query positions per attention block in the graph: the [n, 64] logits block and its softmax stay at
 * 128 MiB each; images up to 724 x 724 run in one block (blocks cost ~5% at 480 x 640).
 */
export const ONNX_ATTENTION_ROWS = 524288;

/**
 * A graph value with its shape [1, C, h, w] and its scale (1, 2, 4: level 1, 2, 3; the layout's resize
 * and the attention need the sizes, the tile graphs the level).
 */
interface Value {
  readonly name: string;
  readonly c: number;
  readonly h: number;
  readonly w: number;
  readonly scale: number;
}

export interface OnnxGraphOptions {
  /** Query rows per attention block (default {@link ONNX_ATTENTION_ROWS}). */
  readonly attentionRows?: number;
  readonly dim?: number;
  /**
   * Build the graph of one tile of a larger image (model/tiles.ts): height x width is the tile, `tileCore`
   * the part of it whose outputs are kept. The CFIs' pooled tokens are inputs (`cfi3.pooled_v`, ...: [C, 64],
   * the 8x8 pooling of the whole image's features, from {@link buildIsfuseEncoderOnnx}'s partial sums), and
   * so are the bilinear resize taps of the decoder on the axes `tileTaps` names (`up2.rows0`, ...: the whole
   * image's interpolation in tile coordinates, from tiles.ts's resizeTaps); fused and gates come out cut to
   * the core at their level.
   */
  readonly tileCore?: TileCore;
  /**
   * Tile graphs: which axes of the decoder's resizes to level 1 and to level 2 take the image's taps
   * (tiles.ts tapAxes: those where the image's ratio is not 1/2); the others are onnxruntime's Resize, which
   * is exact in the core there. Default: taps on every axis.
   */
  readonly tileTaps?: readonly [TapAxes, TapAxes];
}

function checkSize(height: number, width: number): void {
  if (height < MIN_NETWORK_SIDE || width < MIN_NETWORK_SIDE) throw new Error(`ISFuse needs images of at least 4x4 pixels, got ${width}x${height}`);
}

/** The layout's ops as graph nodes (the attention in the arranged form of the file comment), and helpers. */
function graphOps(g: Graph, values: StateValues, opts: OnnxGraphOptions) {
  const dim = opts.dim ?? ISFUSE_DIM;
  const rowsPerBlock = opts.attentionRows ?? ONNX_ATTENTION_ROWS;
  const tiled = opts.tileCore !== undefined;
  const convs = foldedConvs(values, dim);
  const C = dim;
  const T = 64; // 8 x 8 tokens
  const like = (x: Value, name: string, c = x.c): Value => ({ name, c, h: x.h, w: x.w, scale: x.scale });
  const folded = (name: string) => {
    const c = convs.get(name);
    if (!c) throw new Error(`internal: no folded convolution '${name}'`);
    return c;
  };
  const declared = new Set<string>();
  /** A graph input, declared on first use. */
  const input = (name: string, dims: number[], type: 'float' | 'int64' = 'float'): string => {
    if (!declared.has(name)) {
      declared.add(name);
      g.inputs.push(valueInfo(name, dims, type));
    }
    return name;
  };

  const convOp = (x: Value, name: string): Value => {
    const c = folded(name);
    const k = c.shape[2];
    const p = Math.floor(k / 2);
    const y = g.op('Conv', [x.name, g.const(`${name}.w`, c.shape, c.weight), g.const(`${name}.b`, [c.shape[0]], c.bias)], {
      kernel_shape: [k, k], pads: [p, p, p, p], strides: [1, 1],
    });
    return like(x, y, c.shape[0]);
  };
  const reshape = (x: string, shape: number[]): string => g.op('Reshape', [x, g.ints('shape', shape)]);

  /** [1,C,h,w] -> adaptive 8x8 average -> [C,64] (token t = 8 i + j). */
  const pool8 = (x: Value): string => {
    const pwT = g.const('poolW', [x.w, 8], transpose2d(adaptivePoolMatrix(x.w, 8), 8, x.w));
    const ph = g.const('poolH', [8, x.h], adaptivePoolMatrix(x.h, 8));
    const a = g.op('MatMul', [x.name, pwT]); // [1,C,h,8]
    const b = g.op('MatMul', [ph, a]); // [1,C,8,8]
    return reshape(b, [C, T]);
  };
  /** The pooled tokens [C,64] of the CFI's fv ('v') or fi ('i') side: pooled here, or a tile graph's input. */
  const pooled = (prefix: string, side: 'v' | 'i', f: Value): string => (tiled ? input(tokenInputName(prefix, side), [C, T]) : pool8(f));

  /** A 1x1 conv applied to pooled tokens [C,64]: W [C,C] @ P + b [C,1] (scaled). */
  const tokenConv = (p: string, name: string, scale = 1): string => {
    const c = folded(name);
    const w = g.const(`${name}.w2d`, [C, C], c.weight.map((v) => v * scale));
    const b = g.const(`${name}.bcol`, [C, 1], c.bias.map((v) => v * scale));
    return g.op('Add', [g.op('MatMul', [w, p]), b]);
  };

  /**
   * One attention direction, queries from f [C,HW] (the NCHW map, no transpose materialised), keys/values
   * from pooled tokens [C,64]: logits [HW,64] = Gemm(f^T, W_q^T K) + b_q^T K; softmax over the last axis;
   * out [C,HW] = Gemm(V, A^T). Gemm's transA/transB flags let the GEMM kernel read the transposes in place.
   */
  const attend = (f: string, hw: number, prefix: string, q: string, k: string, v: string, tokens: string): string => {
    const kp = tokenConv(tokens, `${prefix}.${k}`, 1 / Math.sqrt(C)); // [C,64], scaled
    const vp = tokenConv(tokens, `${prefix}.${v}`); // [C,64]
    const qc = folded(`${prefix}.${q}`);
    const wqT = g.const(`${prefix}.${q}.wT`, [C, C], transpose2d(qc.weight, C, C)); // [Cin, Cout]
    const bq = g.const(`${prefix}.${q}.brow`, [1, C], qc.bias);
    const m = g.op('MatMul', [wqT, kp]); // [Cin,64]
    const cvec = g.op('MatMul', [bq, kp]); // [1,64]
    const block = (cols: string): string => {
      const logits = g.op('Gemm', [cols, m, cvec], { transA: 1 }); // [n,64]
      const att = g.op('Softmax', [logits], { axis: -1 });
      return g.op('Gemm', [vp, att], { transB: 1 }); // [C,n]
    };
    if (hw <= rowsPerBlock) return block(f);
    const parts: string[] = [];
    for (let s = 0; s < hw; s += rowsPerBlock) {
      const e = Math.min(hw, s + rowsPerBlock);
      parts.push(block(g.op('Slice', [f, g.ints('starts', [s]), g.ints('ends', [e]), g.ints('axes', [1])])));
    }
    return g.op('Concat', parts, { axis: 1 });
  };

  /** onnxruntime's bilinear Resize (half-pixel centres) of x to h x w: the untiled graph's resize. */
  const resize = (x: string, c: number, h: number, w: number): string =>
    g.op('Resize', [x, '', '', g.ints('sizes', [1, c, h, w])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });

  /**
   * Tile graphs: the bilinear resize of x to the size of `to`, one axis after the other (columns first, on
   * the coarse rows). On an axis where the image's resize ratio is 1/2 (`tileTaps` false), the tile's own
   * Resize places the samples as the image's does and clamps only inside the halo. On the others (an odd
   * finer size: the image's ratio floor(m/2)/m is not 1/2 and its sample positions drift by up to half a pixel
   * across the image), the image's taps (two indices and weights per output row or column, graph inputs
   * `up<level>.*` from tiles.ts) give y = x[i0] w0 + x[i1] w1. A Resize along one axis keeps the other
   * exactly (scale 1: weights 1 and 0).
   */
  const tapResize = (x: Value, to: Value): Value => {
    const level = Math.log2(to.scale) + 1;
    const taps = opts.tileTaps?.[level - 1] ?? { rows: true, cols: true };
    if (!taps.rows && !taps.cols) return { name: resize(x.name, x.c, to.h, to.w), c: x.c, h: to.h, w: to.w, scale: to.scale };
    const n = tapInputNames(level);
    const gather = (v: string, i0: string, i1: string, w0: string, w1: string, ax: number): string =>
      g.op('Add', [g.op('Mul', [g.op('Gather', [v, i0], { axis: ax }), w0]), g.op('Mul', [g.op('Gather', [v, i1], { axis: ax }), w1])]);
    const cols = taps.cols
      ? gather(x.name, input(n.cols0, [to.w], 'int64'), input(n.cols1, [to.w], 'int64'), input(n.colsW0, [to.w]), input(n.colsW1, [to.w]), 3)
      : resize(x.name, x.c, x.h, to.w); // [1,C,x.h,to.w]
    const rows = taps.rows
      ? gather(cols, input(n.rows0, [to.h], 'int64'), input(n.rows1, [to.h], 'int64'), input(n.rowsW0, [to.h, 1]), input(n.rowsW1, [to.h, 1]), 2)
      : resize(cols, x.c, to.h, to.w);
    return { name: rows, c: x.c, h: to.h, w: to.w, scale: to.scale };
  };

  const ops: NetworkOps<Value> = {
    cbl: (x, prefix, i) => {
      const y = convOp(x, `${prefix}.${i}`);
      return like(y, g.op('LeakyRelu', [y.name], { alpha: { float: LEAKY_SLOPE } }));
    },
    conv: convOp,
    maxPool2: (x) => ({
      name: g.op('MaxPool', [x.name], { kernel_shape: [2, 2], strides: [2, 2] }), c: x.c, h: Math.floor(x.h / 2), w: Math.floor(x.w / 2), scale: 2 * x.scale,
    }),
    add: (a, b) => like(a, g.op('Add', [a.name, b.name])),
    sigmoid: (x) => like(x, g.op('Sigmoid', [x.name])),
    resizeLike: (x, to) => (tiled ? tapResize(x, to) : { name: resize(x.name, x.c, to.h, to.w), c: x.c, h: to.h, w: to.w, scale: to.scale }),
    crossAttention: (prefix, fv, fi) => {
      const hw = fv.h * fv.w;
      const a = attend(reshape(fv.name, [C, hw]), hw, prefix, 'q_v', 'k_i', 'v_i', pooled(prefix, 'i', fi));
      const b = attend(reshape(fi.name, [C, hw]), hw, prefix, 'q_i', 'k_v', 'v_v', pooled(prefix, 'v', fv));
      return like(fv, reshape(g.op('Add', [a, b]), [1, C, fv.h, fv.w]));
    },
    // g * cross + (1 - g) * local == local + g * (cross - local)
    gateMix: (gate, cross, fv, fi) => {
      const local = g.op('Add', [fv.name, fi.name]);
      return like(fv, g.op('Add', [local, g.op('Mul', [gate.name, g.op('Sub', [cross.name, local])])]));
    },
    zeroGate: () => {
      throw new Error('internal: the inference graph always has the CFI');
    },
    scope: (fn) => fn(),
    release: () => {},
  };
  return { ops, C, input };
}

/** The part [top, bottom) x [left, right) of a [1, c, h, w] value (the value itself when that is all of it). */
function crop(g: Graph, x: Value, c: TileCore): string {
  if (c.top === 0 && c.left === 0 && c.bottom === x.h && c.right === x.w) return x.name;
  return g.op('Slice', [x.name, g.ints('starts', [c.top, c.left]), g.ints('ends', [c.bottom, c.right]), g.ints('axes', [2, 3])]);
}

/**
 * Builds the ONNX model (serialised ModelProto) of ISFuse for one input size from state-dict values.
 * Example: `const bytes = buildIsfuseOnnx(values, 480, 640); await ort.InferenceSession.create(bytes)`.
 * With `opts.tileCore`: the graph of one height x width tile (see {@link OnnxGraphOptions.tileCore}).
 */
export function buildIsfuseOnnx(values: StateValues, height: number, width: number, opts: OnnxGraphOptions = {}): Uint8Array {
  checkSize(height, width);
  const g = new Graph();
  const { ops, input } = graphOps(g, values, opts);
  const image = (name: string): Value => ({ name: input(name, [1, 1, height, width]), c: 1, h: height, w: width, scale: 1 });
  const out = isfuseNetwork(ops, image('vi'), image('ir'));
  const tile = opts.tileCore;
  const gates = out.gates.map((gate, i) => ({ name: `g${i + 3}`, v: gate, level: 3 - i }));
  for (const o of [{ name: 'fused', v: out.fused, level: 1 }, ...gates]) {
    const core = tile ? coreAtLevel(tile, o.level) : { top: 0, bottom: o.v.h, left: 0, right: o.v.w };
    g.op('Identity', [crop(g, o.v, core)], {}, o.name);
    g.outputs.push(valueInfo(o.name, [1, 1, core.bottom - core.top, core.right - core.left]));
  }
  return g.model(tile ? `isfuse_tile_${height}x${width}` : `isfuse_${height}x${width}`);
}

/**
 * Phase 1 of the tiled inference (model/tiles.ts): the two encoders (the layout's {@link isfuseEncoders})
 * on one height x width tile, and each level's features over the tile's core multiplied by the whole
 * image's adaptive 8x8 pooling matrices restricted to the core's rows and columns (inputs `pool<level>.rows`
 * [8, core rows], `pool<level>.cols` [core columns, 8]). Outputs `cfi3.pooled_v`, ... ([1, C, 8, 8]; named
 * after the CFI that reads that level) summed over all tiles are the tokens of the untiled network's pooling.
 */
export function buildIsfuseEncoderOnnx(values: StateValues, height: number, width: number, core: TileCore, opts: Pick<OnnxGraphOptions, 'dim'> = {}): Uint8Array {
  checkSize(height, width);
  const g = new Graph();
  const { ops, C, input } = graphOps(g, values, { dim: opts.dim, tileCore: core });
  const image = (name: string): Value => ({ name: input(name, [1, 1, height, width]), c: 1, h: height, w: width, scale: 1 });
  const { vis, ir } = isfuseEncoders(ops, image('vi'), image('ir'));
  for (let level = 1; level <= 3; level++) {
    const c = coreAtLevel(core, level);
    const names = poolInputNames(level);
    const rows = input(names.rows, [8, c.bottom - c.top]);
    const cols = input(names.cols, [c.right - c.left, 8]);
    for (const [side, f] of [['v', vis[level - 1]!], ['i', ir[level - 1]!]] as const) {
      const out = tokenInputName(CFI_PREFIXES[level - 1]!, side);
      g.op('MatMul', [rows, g.op('MatMul', [crop(g, f, c), cols])], {}, out); // [8,hc] x ([1,C,hc,wc] x [wc,8]) = [1,C,8,8]
      g.outputs.push(valueInfo(out, [1, C, 8, 8]));
    }
  }
  return g.model(`isfuse_encoder_tile_${height}x${width}`);
}
