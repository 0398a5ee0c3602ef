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
 * The layout is model/network.ts; the protobuf is written by onnx-proto.ts.
 */
import { LEAKY_SLOPE } from './layers.js';
import { adaptivePoolMatrix, transpose2d } from './matrices.js';
import { foldedConvs, ISFUSE_DIM, type StateValues } from './isfuse.js';
import { isfuseNetwork, levelSizes, MIN_NETWORK_SIDE, type NetworkOps } from './network.js';
import { Graph, valueInfo } from './onnx-proto.js';

/**
 * Query positions per attention block in the graph: the [n, 64] logits block and its softmax stay at
 * 128 MiB each; images up to 724 x 724 run in one block (blocks cost ~5% at 480 x 640).
 */
export const ONNX_ATTENTION_ROWS = 524288;

/** A graph value with its shape [1, C, h, w] (the layout's resize and the attention need the sizes). */
interface Value {
  readonly name: string;
  readonly c: number;
  readonly h: number;
  readonly w: number;
}

/**
 * Builds the ONNX model (serialised ModelProto) of ISFuse for one input size from state-dict values.
 * Example: `const bytes = buildIsfuseOnnx(values, 480, 640); await ort.InferenceSession.create(bytes)`.
 */
export function buildIsfuseOnnx(values: StateValues, height: number, width: number, opts: { attentionRows?: number; dim?: number } = {}): Uint8Array {
  const dim = opts.dim ?? ISFUSE_DIM;
  const rowsPerBlock = opts.attentionRows ?? ONNX_ATTENTION_ROWS;
  if (height < MIN_NETWORK_SIDE || width < MIN_NETWORK_SIDE) throw new Error(`ISFuse needs images of at least 4x4 pixels, got ${width}x${height}`);
  const convs = foldedConvs(values, dim);
  const g = new Graph();
  const C = dim;
  const T = 64; // 8 x 8 tokens
  const like = (x: Value, name: string, c = x.c): Value => ({ name, c, h: x.h, w: x.w });
  const folded = (name: string) => {
    const c = convs.get(name);
    if (!c) throw new Error(`internal: no folded convolution '${name}'`);
    return c;
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
  const attend = (f: string, hw: number, prefix: string, q: string, k: string, v: string, pooled: string): string => {
    const kp = tokenConv(pooled, `${prefix}.${k}`, 1 / Math.sqrt(C)); // [C,64], scaled
    const vp = tokenConv(pooled, `${prefix}.${v}`); // [C,64]
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

  // the layout's ops; the attention in the arranged form of the file comment
  const ops: NetworkOps<Value> = {
    cbl: (x, prefix, i) => {
      const y = convOp(x, `${prefix}.${i}`);
      return like(y, g.op('LeakyRelu', [y.name], { alpha: { float: LEAKY_SLOPE } }));
    },
    conv: convOp,
    maxPool2: (x) => ({ name: g.op('MaxPool', [x.name], { kernel_shape: [2, 2], strides: [2, 2] }), c: x.c, h: Math.floor(x.h / 2), w: Math.floor(x.w / 2) }),
    add: (a, b) => like(a, g.op('Add', [a.name, b.name])),
    sigmoid: (x) => like(x, g.op('Sigmoid', [x.name])),
    resizeLike: (x, to) => ({
      name: g.op('Resize', [x.name, '', '', g.ints('sizes', [1, x.c, to.h, to.w])], { mode: 'linear', coordinate_transformation_mode: 'half_pixel' }),
      c: x.c, h: to.h, w: to.w,
    }),
    crossAttention: (prefix, fv, fi) => {
      const hw = fv.h * fv.w;
      const a = attend(reshape(fv.name, [C, hw]), hw, prefix, 'q_v', 'k_i', 'v_i', pool8(fi));
      const b = attend(reshape(fi.name, [C, hw]), hw, prefix, 'q_i', 'k_v', 'v_v', pool8(fv));
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

  const [[h1, w1], [h2, w2], [h3, w3]] = levelSizes(height, width);
  g.inputs.push(valueInfo('vi', [1, 1, height, width]), valueInfo('ir', [1, 1, height, width]));
  const input = (name: string): Value => ({ name, c: 1, h: height, w: width });
  const out = isfuseNetwork(ops, input('vi'), input('ir'));
  g.op('Identity', [out.fused.name], {}, 'fused');
  out.gates.forEach((gate, i) => g.op('Identity', [gate.name], {}, `g${i + 3}`));
  g.outputs.push(
    valueInfo('fused', [1, 1, h1, w1]), valueInfo('g3', [1, 1, h3, w3]), valueInfo('g4', [1, 1, h2, w2]), valueInfo('g5', [1, 1, h1, w1]),
  );
  return g.model(`isfuse_${height}x${width}`);
}
