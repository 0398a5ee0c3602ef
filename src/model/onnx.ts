/**
 * The ISFuse network as an ONNX graph (opset 17), for fast CPU inference with onnxruntime (DESIGN.md §6).
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
 * The protobuf is written by onnx-proto.ts.
 */
import { adaptivePoolMatrix } from './layers.js';
import { ISFUSE_DIM, stateDictSpec, type StateValues } from './isfuse.js';
import { Graph, valueInfo } from './onnx-proto.js';

// ---------------------------------------------------------------- the network

/**
 * Query positions per attention block in the graph: the [n, 64] logits block and its softmax stay at
 * 128 MiB each; images up to 724 x 724 run in one block (blocks cost ~5% at 480 x 640).
 */
export const ONNX_ATTENTION_ROWS = 524288;

interface FoldedOihw {
  readonly shape: [number, number, number, number];
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/** Used convolutions with BatchNorm folded in (float64 fold), OIHW. */
function foldAll(values: StateValues, dim: number): Map<string, FoldedOihw> {
  const spec = stateDictSpec(dim);
  const names = new Set(spec.map((s) => s.name));
  const f32 = (n: string): Float32Array => {
    const v = values.get(n);
    if (!(v instanceof Float32Array)) throw new Error(`internal: no values for '${n}'`);
    return v;
  };
  const out = new Map<string, FoldedOihw>();
  for (const s of spec) {
    if (!s.used || s.role !== 'conv_weight') continue;
    const conv = s.name.slice(0, -'.weight'.length);
    const [o, i, kh, kw] = s.shape;
    const m = /^(.*)\.(\d+)$/.exec(conv);
    const bn = m && names.has(`${m[1]}.${Number(m[2]) + 1}.running_var`) ? `${m[1]}.${Number(m[2]) + 1}` : null;
    const w = f32(`${conv}.weight`);
    const b = f32(`${conv}.bias`);
    const weight = new Float32Array(w.length);
    const bias = new Float32Array(o);
    const per = i * kh * kw;
    for (let c = 0; c < o; c++) {
      let scale = 1;
      let shift = b[c];
      if (bn) {
        scale = f32(`${bn}.weight`)[c] / Math.sqrt(f32(`${bn}.running_var`)[c] + 1e-5);
        shift = (b[c] - f32(`${bn}.running_mean`)[c]) * scale + f32(`${bn}.bias`)[c];
      }
      for (let j = 0; j < per; j++) weight[c * per + j] = w[c * per + j] * scale;
      bias[c] = shift;
    }
    out.set(conv, { shape: [o, i, kh, kw], weight, bias });
  }
  return out;
}

function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c];
  return t;
}

/** Sizes of the three levels for an H x W input (max-pool floor). */
export function levelSizes(height: number, width: number): [[number, number], [number, number], [number, number]] {
  const h2 = Math.floor(height / 2);
  const w2 = Math.floor(width / 2);
  return [[height, width], [h2, w2], [Math.floor(h2 / 2), Math.floor(w2 / 2)]];
}

/**
 * Builds the ONNX model (serialised ModelProto) of ISFuse for one input size from state-dict values.
 * Example: `const bytes = buildIsfuseOnnx(values, 480, 640); await ort.InferenceSession.create(bytes)`.
 */
export function buildIsfuseOnnx(values: StateValues, height: number, width: number, opts: { attentionRows?: number; dim?: number } = {}): Uint8Array {
  const dim = opts.dim ?? ISFUSE_DIM;
  const rowsPerBlock = opts.attentionRows ?? ONNX_ATTENTION_ROWS;
  if (height < 4 || width < 4) throw new Error(`ISFuse needs images of at least 4x4 pixels, got ${width}x${height}`);
  const convs = foldAll(values, dim);
  const g = new Graph();
  const C = dim;
  const T = 64; // 8 x 8 tokens

  const conv = (x: string, name: string, opt: { scale?: number } = {}): string => {
    const c = convs.get(name)!;
    const s = opt.scale ?? 1;
    const w = s === 1 ? c.weight : c.weight.map((v) => v * s);
    const b = s === 1 ? c.bias : c.bias.map((v) => v * s);
    const k = c.shape[2];
    const p = Math.floor(k / 2);
    return g.op('Conv', [x, g.const(`${name}.w`, c.shape, w), g.const(`${name}.b`, [c.shape[0]], b)], {
      kernel_shape: [k, k], pads: [p, p, p, p], strides: [1, 1],
    });
  };
  const leaky = (x: string): string => g.op('LeakyRelu', [x], { alpha: { float: 0.01 } });
  const cbl = (x: string, prefix: string, i: number): string => leaky(conv(x, `${prefix}.${i}`));
  const pool2 = (x: string): string => g.op('MaxPool', [x], { kernel_shape: [2, 2], strides: [2, 2] });
  const reshape = (x: string, shape: number[]): string => g.op('Reshape', [x, g.ints('shape', shape)]);

  const encoder = (x: string, p: string): [string, string, string] => {
    const x1 = cbl(cbl(x, `${p}.module1`, 0), `${p}.module1`, 3);
    const x2 = cbl(cbl(pool2(x1), `${p}.module2`, 0), `${p}.module2`, 3);
    const x3 = cbl(cbl(pool2(x2), `${p}.module3`, 0), `${p}.module3`, 3);
    return [x1, x2, x3];
  };

  /** [1,C,h,w] -> adaptive 8x8 average -> [C,64] (token t = 8 i + j). */
  const pool8 = (x: string, h: number, w: number): string => {
    const pwT = g.const('poolW', [w, 8], transpose2d(adaptivePoolMatrix(w, 8), 8, w));
    const ph = g.const('poolH', [8, h], adaptivePoolMatrix(h, 8));
    const a = g.op('MatMul', [x, pwT]); // [1,C,h,8]
    const b = g.op('MatMul', [ph, a]); // [1,C,8,8]
    return reshape(b, [C, T]);
  };

  /** A 1x1 conv applied to pooled tokens [C,64]: W [C,C] @ P + b [C,1] (scaled). */
  const tokenConv = (p: string, name: string, scale = 1): string => {
    const c = convs.get(name)!;
    const w = g.const(`${name}.w2d`, [C, C], c.weight.map((v) => v * scale));
    const b = g.const(`${name}.bcol`, [C, 1], c.bias.map((v) => v * scale));
    return g.op('Add', [g.op('MatMul', [w, p]), b]);
  };

  /**
   * One attention direction, queries from f [C,HW] (the NCHW map, no transpose materialised), keys/values
   * from pooled tokens [C,64]: logits [HW,64] = Gemm(f^T, W_q^T K) + b_q^T K; softmax over the last axis;
   * out [C,HW] = Gemm(V, A^T). Gemm's transA/transB flags let the GEMM kernel read the transposes in place.
   */
  const attend = (f: string, hw: number, prefix: string, q: string, k: string, v: string, pooled: string): string => {
    const kp = tokenConv(pooled, `${prefix}.${k}`, 1 / Math.sqrt(C)); // [C,64], scaled
    const vp = tokenConv(pooled, `${prefix}.${v}`); // [C,64]
    const qc = convs.get(`${prefix}.${q}`)!;
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

  const cfi = (prefix: string, fv: string, fi: string, h: number, w: number): [string, string] => {
    const hw = h * w;
    const fv2 = reshape(fv, [C, hw]);
    const fi2 = reshape(fi, [C, hw]);
    const pv = pool8(fv, h, w);
    const pi = pool8(fi, h, w);
    const cross2 = g.op('Add', [attend(fv2, hw, prefix, 'q_v', 'k_i', 'v_i', pi), attend(fi2, hw, prefix, 'q_i', 'k_v', 'v_v', pv)]);
    const cross = reshape(cross2, [1, C, h, w]);
    const gate = g.op('Sigmoid', [conv(cbl(cross, `${prefix}.gate`, 0), `${prefix}.gate.3`)]);
    const local = g.op('Add', [fv, fi]);
    // g * cross + (1 - g) * local == local + g * (cross - local)
    const mixed = g.op('Add', [local, g.op('Mul', [gate, g.op('Sub', [cross, local])])]);
    return [cbl(mixed, `${prefix}.refine`, 0), gate];
  };

  const up = (x: string, h: number, w: number): string =>
    g.op('Resize', [x, '', '', g.ints('sizes', [1, C, h, w])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' });

  const [[h1, w1], [h2, w2], [h3, w3]] = levelSizes(height, width);
  g.inputs.push(valueInfo('vi', [1, 1, height, width]), valueInfo('ir', [1, 1, height, width]));
  const [v1, v2, v3] = encoder('vi', 'encoder_vis');
  const [i1, i2, i3] = encoder('ir', 'encoder_ir');
  const [x3, g3] = cfi('cfi3', v3, i3, h3, w3);
  const [f4, g4] = cfi('cfi4', v2, i2, h2, w2);
  const x4 = cbl(cbl(g.op('Add', [up(x3, h2, w2), f4]), 'adjust_channels4', 0), 'adjust_channels4', 3);
  const [f5, g5] = cfi('cfi5', v1, i1, h1, w1);
  const x5 = cbl(cbl(g.op('Add', [up(x4, h1, w1), f5]), 'adjust_channels5', 0), 'adjust_channels5', 3);
  g.op('Sigmoid', [conv(x5, 'final_decoder.0')], {}, 'fused');
  g.op('Identity', [g3], {}, 'g3');
  g.op('Identity', [g4], {}, 'g4');
  g.op('Identity', [g5], {}, 'g5');
  g.outputs.push(
    valueInfo('fused', [1, 1, h1, w1]), valueInfo('g3', [1, 1, h3, w3]), valueInfo('g4', [1, 1, h2, w2]), valueInfo('g5', [1, 1, h1, w1]),
  );
  return g.model(`isfuse_${height}x${width}`);
}
