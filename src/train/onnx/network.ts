/**
 * The network's ops (model/network.ts) as ONNX graph nodes in training mode, each with its backward rule
 * on the {@link Tape}. Layout NCHW; parameters are graph inputs in the reference OIHW shapes.
 *
 * Per op, the backward formulas (x input, y output, gy = dL/dy):
 * - conv: dx = conv(gy, W flipped and transposed); dW[co,ci,ky,kx] = sum_n,p gy[n,co,p] x_pad[n,ci,p+(ky,kx)]
 *   as one [N,Ci,HW] x [N,HW,Co] product per tap (measured fastest in onnxruntime, ahead of the 'valid
 *   convolution' form that wins on tfjs-wasm); db = sum gy.
 * - CBL (conv -> batch-statistics BatchNorm -> LeakyReLU), as model/train-ops.ts's cblTrain: the conv bias
 *   cancels in the normalisation (gradient exactly 0, added to the mean for the running statistics); with
 *   d = z - mean, istd = 1/sqrt(var + eps), a = gamma istd, dv = gy * (y > 0 ? 1 : 0.01), M = N H W:
 *   dgamma = istd sum(dv d), dbeta = sum dv, dz = a dv - a istd dgamma d / M - a dbeta / M.
 * - max-pool 2x2: MaxUnpool of gy at the forward's argmax indices (first maximum on ties, as PyTorch).
 * - adaptive 8x8 pool and bilinear resize: products with constant matrices, so their transposes.
 * - attention (one direction; F the query map [N,C,P], pk the pooled key tokens [N,C,T]): see attend().
 */
import { adaptivePoolMatrix, transpose2d } from '../../model/matrices.js';
import { BN_EPS, LEAKY_SLOPE } from '../../model/layers.js';
import type { NetworkOps } from '../../model/network.js';
import type { Shape, Tape } from './tape.js';

/** Receives a CBL's batch statistics as graph values: the mean with the conv bias, the biased variance, and N h w. */
export type StatsSink = (bn: string, mean: string, variance: string, count: number) => void;

/**
 * The training-mode ops over `t`. `param(name)`: the graph input of a parameter by state-dict name;
 * `onStats`: where each BatchNorm's batch statistics go (none: no statistics outputs).
 */
export function trainingGraphOps(t: Tape, param: (name: string) => string, dim: number, onStats?: StatsSink): NetworkOps<string> {
  const C = dim;
  const flipped = new Map<string, string>();
  /** W [Co,Ci,k,k] -> [Ci,Co,k,k] rotated by 180 degrees: the filter of the input gradient. */
  const flip = (wName: string): string => {
    let f = flipped.get(wName);
    if (f) return f;
    const [co, ci, k] = t.shape(param(wName)) as number[];
    const tr = t.op('Transpose', [param(wName)], [ci!, co!, k!, k!], { perm: [1, 0, 2, 3] });
    f = k === 1 ? tr : t.op('Slice', [tr, t.ints([-1, -1]), t.ints([-(k! + 1), -(k! + 1)]), t.ints([2, 3]), t.ints([-1, -1])], [ci!, co!, k!, k!]);
    flipped.set(wName, f);
    return f;
  };

  /** Input and filter gradients of a 'same' k x k convolution, from the gradient gz of its output. */
  const convBackward = (x: string, wName: string, gz: string): void => {
    const [nn, ci, hh, ww] = t.shape(x) as number[];
    const [co, , k] = t.shape(param(wName)) as number[];
    const pad = Math.floor(k! / 2);
    if (t.needsGrad(x)) {
      t.acc(x, t.op('Conv', [gz, flip(wName)], t.shape(x), { kernel_shape: [k!, k!], pads: [pad, pad, pad, pad] }));
    }
    const hw = hh! * ww!;
    const gzt = t.op('Transpose', [t.op('Reshape', [gz, t.ints([nn!, co!, hw])], [nn!, co!, hw])], [nn!, hw, co!], { perm: [0, 2, 1] });
    const xp = pad > 0 ? t.op('Pad', [x, t.ints([0, 0, pad, pad, 0, 0, pad, pad])], [nn!, ci!, hh! + 2 * pad, ww! + 2 * pad]) : x;
    const taps: string[] = [];
    for (let ky = 0; ky < k!; ky++) {
      for (let kx = 0; kx < k!; kx++) {
        const sl = k === 1 ? x : t.op('Slice', [xp, t.ints([ky, kx]), t.ints([ky + hh!, kx + ww!]), t.ints([2, 3])], [nn!, ci!, hh!, ww!]);
        const prod = t.op('MatMul', [t.op('Reshape', [sl, t.ints([nn!, ci!, hw])], [nn!, ci!, hw]), gzt], [nn!, ci!, co!]);
        const sum = t.op('ReduceSum', [prod, t.ints([0])], [ci!, co!], { keepdims: 0 });
        taps.push(t.op('Unsqueeze', [sum, t.ints([2])], [ci!, co!, 1]));
      }
    }
    const stacked = taps.length === 1 ? taps[0]! : t.op('Concat', taps, [ci!, co!, k! * k!], { axis: 2 });
    const dw = t.op('Transpose', [stacked], [co!, ci!, k! * k!], { perm: [1, 0, 2] });
    t.acc(param(wName), t.op('Reshape', [dw, t.ints([co!, ci!, k!, k!])], [co!, ci!, k!, k!]));
  };

  /** Plain convolution with bias (name = module, e.g. 'final_decoder.0'). */
  const conv = (x: string, name: string): string => {
    const wName = `${name}.weight`, bName = `${name}.bias`;
    const [co, , k] = t.shape(param(wName)) as number[];
    const [nn, , hh, ww] = t.shape(x) as number[];
    const pad = Math.floor(k! / 2);
    const y = t.op('Conv', [x, param(wName), param(bName)], [nn!, co!, hh!, ww!], { kernel_shape: [k!, k!], pads: [pad, pad, pad, pad] });
    t.record(y, [x, param(wName), param(bName)], (gy) => {
      convBackward(x, wName, gy);
      t.acc(param(bName), t.op('ReduceSum', [gy, t.ints([0, 2, 3])], [co!], { keepdims: 0 }));
    });
    return y;
  };

  /** CBL: conv `${prefix}.${i}` -> BatchNorm `${prefix}.${i+1}` (batch statistics) -> LeakyReLU(0.01). */
  const cbl = (x: string, prefix: string, i: number): string => {
    const cName = `${prefix}.${i}`, bn = `${prefix}.${i + 1}`;
    const wName = `${cName}.weight`;
    const [co, , k] = t.shape(param(wName)) as number[];
    const [nn, , hh, ww] = t.shape(x) as number[];
    const s: Shape = [nn!, co!, hh!, ww!];
    const cs: Shape = [1, co!, 1, 1];
    const m = nn! * hh! * ww!;
    const pad = Math.floor(k! / 2);
    const z = t.op('Conv', [x, param(wName)], s, { kernel_shape: [k!, k!], pads: [pad, pad, pad, pad] });
    const mu = t.op('ReduceMean', [z], cs, { axes: [0, 2, 3], keepdims: 1 });
    const d = t.op('Sub', [z, mu], s);
    const variance = t.op('Mul', [t.op('ReduceSumSquare', [d], cs, { axes: [0, 2, 3], keepdims: 1 }), t.scalar(1 / m)], cs);
    const mu1 = t.op('Reshape', [mu, t.ints([co!])], [co!]);
    const var1 = t.op('Reshape', [variance, t.ints([co!])], [co!]);
    const y0 = t.op('BatchNormalization', [z, param(`${bn}.weight`), param(`${bn}.bias`), mu1, var1], s, { epsilon: { float: BN_EPS } });
    const y = t.op('LeakyRelu', [y0], s, { alpha: { float: LEAKY_SLOPE } });
    onStats?.(bn, t.op('Add', [mu1, param(`${cName}.bias`)], [co!]), var1, m);
    t.record(y, [x, param(wName), param(`${bn}.weight`), param(`${bn}.bias`)], (gy) => {
      const istd = t.op('Reciprocal', [t.op('Sqrt', [t.op('Add', [variance, t.scalar(BN_EPS)], cs)], cs)], cs);
      const dv = t.op('Where', [t.op('Greater', [y, t.scalar(0)], s), gy, t.op('Mul', [gy, t.scalar(LEAKY_SLOPE)], s)], s);
      const sdv = t.op('ReduceSum', [dv, t.ints([0, 2, 3])], cs, { keepdims: 1 });
      const dgamma = t.op('Mul', [istd, t.op('ReduceSum', [t.op('Mul', [dv, d], s), t.ints([0, 2, 3])], cs, { keepdims: 1 })], cs);
      t.acc(param(`${bn}.weight`), t.op('Reshape', [dgamma, t.ints([co!])], [co!]));
      t.acc(param(`${bn}.bias`), t.op('Reshape', [sdv, t.ints([co!])], [co!]));
      const gammaR = t.op('Reshape', [param(`${bn}.weight`), t.ints(cs)], cs);
      const a = t.op('Mul', [gammaR, istd], cs);
      const k1 = t.op('Mul', [t.op('Mul', [a, istd], cs), t.op('Mul', [dgamma, t.scalar(-1 / m)], cs)], cs);
      const k0 = t.op('Mul', [a, t.op('Mul', [sdv, t.scalar(-1 / m)], cs)], cs);
      const dz = t.op('Add', [t.op('Add', [t.op('Mul', [dv, a], s), t.op('Mul', [d, k1], s)], s), k0], s);
      convBackward(x, wName, dz);
    });
    return y;
  };

  const maxPool = (x: string): string => {
    const [nn, c, hh, ww] = t.shape(x) as number[];
    const s: Shape = [nn!, c!, Math.floor(hh! / 2), Math.floor(ww! / 2)];
    const [y, idx] = t.g.opN('MaxPool', [x], 2, { kernel_shape: [2, 2], strides: [2, 2] });
    // the shapes of y (and of idx, unused elsewhere) for the tape
    const yy = t.op('Identity', [y!], s);
    t.record(yy, [x], (gy) => {
      t.acc(x, t.op('MaxUnpool', [gy, idx!, t.ints([nn!, c!, hh!, ww!])], t.shape(x), { kernel_shape: [2, 2], strides: [2, 2] }));
    });
    return yy;
  };

  /** Adaptive average pool to 8x8 tokens: [N,C,h,w] -> [N,C,64]. */
  const pool8 = (x: string): string => {
    const [nn, c, hh, ww] = t.shape(x) as number[];
    const p = t.sandwich(x, { m: adaptivePoolMatrix(hh!, 8), rows: 8, cols: hh! }, { m: transpose2d(adaptivePoolMatrix(ww!, 8), 8, ww!), rows: ww!, cols: 8 });
    return t.reshape(p, [nn!, c!, 64]);
  };

  /** A 1x1 conv's weight as a [Co, Ci] matrix and its bias as a [Co, 1] column (differentiable views). */
  const matCol = (name: string): [string, string] => [t.reshape(param(`${name}.weight`), [C, C]), t.reshape(param(`${name}.bias`), [C, 1])];

  /**
   * One attention direction att(conv_q(F), conv_k(fk), conv_v(fk)) with pk = pool8(fk) [N,C,T]:
   *   K = s (Wk pk + bk), V = Wv pk + bv          [N,C,T]   (pool and 1x1 conv commute; s = 1/sqrt(C))
   *   MT = K^T Wq [N,T,C], cT = K^T bq [N,T,1]    (the query conv folded into the logits)
   *   LT = MT F + cT [N,T,P]; A = softmax over T; O = V A [N,C,P]
   * Backward: dV = dO A^T, dA = V^T dO, dLT = A (dA - sum_T A dA), dMT = dLT F^T, dcT = sum_P dLT,
   *   dF = M dLT, then through the small products by the usual matrix rules.
   */
  const attend = (F: string, pk: string, q: string, k: string, v: string): string => {
    const [nn, , hh, ww] = t.shape(F) as number[];
    const p = hh! * ww!;
    const T = 64;
    const s = 1 / Math.sqrt(C);
    const N = nn!;
    const Fr = t.reshape(F, [N, C, p]);
    const [Wk, bk] = matCol(k), [Wv, bv] = matCol(v), [Wq, bq] = matCol(q);
    const K = t.op('Mul', [t.op('Add', [t.op('MatMul', [Wk, pk], [N, C, T]), bk], [N, C, T]), t.scalar(s)], [N, C, T]);
    const V = t.op('Add', [t.op('MatMul', [Wv, pk], [N, C, T]), bv], [N, C, T]);
    const Kt = t.op('Transpose', [K], [N, T, C], { perm: [0, 2, 1] });
    const MT = t.op('MatMul', [Kt, Wq], [N, T, C]);
    const cT = t.op('MatMul', [Kt, bq], [N, T, 1]);
    const LT = t.op('Add', [t.op('MatMul', [MT, Fr], [N, T, p]), cT], [N, T, p]);
    const A = t.op('Softmax', [LT], [N, T, p], { axis: 1 });
    const O = t.op('MatMul', [V, A], [N, C, p]);
    t.record(O, [Fr, pk, Wk, Wv, Wq, bk, bv, bq], (gO) => {
      const sumN = (x: string, shape: Shape): string => t.op('ReduceSum', [x, t.ints([0])], shape, { keepdims: 0 });
      const sumNT = (x: string): string => t.op('Reshape', [t.op('ReduceSum', [x, t.ints([0, 2])], [C], { keepdims: 0 }), t.ints([C, 1])], [C, 1]);
      const At = t.op('Transpose', [A], [N, p, T], { perm: [0, 2, 1] });
      const dV = t.op('MatMul', [gO, At], [N, C, T]);
      const Vt = t.op('Transpose', [V], [N, T, C], { perm: [0, 2, 1] });
      const dA = t.op('MatMul', [Vt, gO], [N, T, p]);
      const dot = t.op('ReduceSum', [t.op('Mul', [A, dA], [N, T, p]), t.ints([1])], [N, 1, p], { keepdims: 1 });
      const dLT = t.op('Mul', [A, t.op('Sub', [dA, dot], [N, T, p])], [N, T, p]);
      const Ft = t.op('Transpose', [Fr], [N, p, C], { perm: [0, 2, 1] });
      const dMT = t.op('MatMul', [dLT, Ft], [N, T, C]);
      const dcT = t.op('ReduceSum', [dLT, t.ints([2])], [N, T, 1], { keepdims: 1 });
      const M = t.op('Transpose', [MT], [N, C, T], { perm: [0, 2, 1] });
      t.acc(Fr, t.op('MatMul', [M, dLT], [N, C, p]));
      // MT = Kt Wq, cT = Kt bq
      t.acc(Wq, sumN(t.op('MatMul', [K, dMT], [N, C, C]), [C, C]));
      t.acc(bq, sumN(t.op('MatMul', [K, dcT], [N, C, 1]), [C, 1]));
      const WqT = t.op('Transpose', [Wq], [C, C], { perm: [1, 0] });
      const bqRow = t.op('Reshape', [bq, t.ints([1, C])], [1, C]);
      const dKt = t.op('Add', [t.op('MatMul', [dMT, WqT], [N, T, C]), t.op('MatMul', [dcT, bqRow], [N, T, C])], [N, T, C]);
      // K = s (Wk pk + bk): the gradient of the unscaled product is s dK
      const dKraw = t.op('Mul', [t.op('Transpose', [dKt], [N, C, T], { perm: [0, 2, 1] }), t.scalar(s)], [N, C, T]);
      const pkT = t.op('Transpose', [pk], [N, T, C], { perm: [0, 2, 1] });
      t.acc(Wk, sumN(t.op('MatMul', [dKraw, pkT], [N, C, C]), [C, C]));
      t.acc(bk, sumNT(dKraw));
      t.acc(Wv, sumN(t.op('MatMul', [dV, pkT], [N, C, C]), [C, C]));
      t.acc(bv, sumNT(dV));
      const WkT = t.op('Transpose', [Wk], [C, C], { perm: [1, 0] });
      const WvT = t.op('Transpose', [Wv], [C, C], { perm: [1, 0] });
      t.acc(pk, t.op('Add', [t.op('MatMul', [WkT, dKraw], [N, C, T]), t.op('MatMul', [WvT, dV], [N, C, T])], [N, C, T]));
    });
    return t.reshape(O, [N, C, hh!, ww!]);
  };

  /** g * cross + (1 - g) * local, local = fv + fi, computed as local + g (cross - local). */
  const mix = (gate: string, cross: string, fv: string, fi: string): string => {
    const s = t.shape(fv);
    const [nn, , hh, ww] = s as number[];
    const local = t.op('Add', [fv, fi], s);
    const diff = t.op('Sub', [cross, local], s);
    const y = t.op('Add', [local, t.op('Mul', [gate, diff], s)], s);
    t.record(y, [gate, cross, fv, fi], (gy) => {
      const dCross = t.op('Mul', [gy, gate], s);
      t.acc(cross, dCross);
      const dLocal = t.op('Sub', [gy, dCross], s);
      t.acc(fv, dLocal);
      t.acc(fi, dLocal);
      t.acc(gate, t.op('ReduceSum', [t.op('Mul', [gy, diff], s), t.ints([1])], [nn!, 1, hh!, ww!], { keepdims: 1 }));
    });
    return y;
  };

  return {
    cbl,
    conv,
    maxPool2: maxPool,
    add: (a, b) => t.add(a, b),
    sigmoid: (x) => t.sigmoid(x),
    resizeLike: (x, like) => {
      const [, , hh, ww] = t.shape(like) as number[];
      return t.resize(x, hh!, ww!);
    },
    crossAttention: (prefix, fv, fi) => {
      const pv = pool8(fv);
      const pi = pool8(fi);
      return t.add(attend(fv, pi, `${prefix}.q_v`, `${prefix}.k_i`, `${prefix}.v_i`), attend(fi, pv, `${prefix}.q_i`, `${prefix}.k_v`, `${prefix}.v_v`));
    },
    gateMix: mix,
    zeroGate: (like) => {
      const [nn, , hh, ww] = t.shape(like) as number[];
      return t.const('zero_gate', [nn!, 1, hh!, ww!], new Float32Array(nn! * hh! * ww!));
    },
    scope: (fn) => fn(),
    release: () => {},
  };
}
