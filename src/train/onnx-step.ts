/**
 * The whole training step (DESIGN.md §3: five passes, L_f + 0.1 L_inv ± 0.05 L_nec, and its gradient with
 * respect to every trainable parameter) as one ONNX graph, run by onnxruntime-node on the CPU (issue 6).
 *
 * Why: on this project's CPUs the TensorFlow.js wasm backend runs 3x3 convolutions at ~10 GFLOP/s in
 * training (one thread, 128-bit SIMD) while onnxruntime's MLAS runs them at ~65 GFLOP/s (measured in
 * docs/PERFORMANCE.md). onnxruntime-node has no autodiff (its training API is a separate build), so the
 * backward pass is written out here as graph nodes: a small tape records, for each forward op, how to send
 * its output gradient to its inputs; the gradients of the loss are written in closed form.
 *
 * What equals what: the graph computes the same function and gradient as train/step.ts's TensorFlow.js step
 * (joint plan) with the same inputs; test/train/onnx-step.test.ts checks the losses, every parameter gradient
 * and the BatchNorm statistics against it. Differences in float32 rounding only, plus one convention: the
 * gradient of |x| at exactly x = 0 is 0 here (PyTorch's, the reference's) where TensorFlow.js uses -1.
 *
 * Layout NCHW. Graph inputs: `vi`, `ir`, `m_comp_vi`, `m_comp_ir`, `m_rand` [N,1,H,W] and every trainable
 * parameter (`p:<state-dict name>`, reference OIHW shapes). Outputs: loss terms (`loss:<key>`, scalars),
 * gradients (`grad:<name>`), BatchNorm batch statistics per pass (`stat:<pass>:<bn>:mean|var`, the mean
 * with the conv bias, the biased variance, as train-ops.ts's cblTrain returns them).
 *
 * Per op, the backward formulas (x input, y output, gy = dL/dy):
 * - conv: dx = conv(gy, W flipped and transposed); dW[co,ci,ky,kx] = sum_n,p gy[n,co,p] x_pad[n,ci,p+(ky,kx)]
 *   as one [N,Ci,HW] x [N,HW,Co] product per tap (measured fastest in onnxruntime, ahead of the 'valid
 *   convolution' form that wins on tfjs-wasm); db = sum gy.
 * - CBL (conv -> batch-statistics BatchNorm -> LeakyReLU), as cblTrain: the conv bias cancels in the
 *   normalisation (gradient exactly 0, added to the mean for the running statistics); with d = z - mean,
 *   istd = 1/sqrt(var + eps), a = gamma istd, dv = gy * (y > 0 ? 1 : 0.01), M = N H W:
 *   dgamma = istd sum(dv d), dbeta = sum dv, dz = a dv - a istd dgamma d / M - a dbeta / M.
 * - max-pool 2x2: MaxUnpool of gy at the forward's argmax indices (first maximum on ties, as PyTorch).
 * - adaptive 8x8 pool and bilinear resize: products with constant matrices, so their transposes.
 * - attention (one direction; F the query map [N,C,P], pk the pooled key tokens [N,C,T]): see attend().
 */
import { totalmem } from 'node:os';
import * as tf from '@tensorflow/tfjs';
import { loadOnnxRuntime } from '../model/backend.js';
import { Graph, valueInfo } from '../model/onnx-proto.js';
import { adaptivePoolMatrix, bilinearMatrix, BN_EPS, LEAKY_SLOPE } from '../model/layers.js';
import { ISFUSE_DIM, stateDictSpec, type IsfuseParams } from '../model/isfuse.js';
import { BN_MOMENTUM } from '../model/layers.js';
import { activePasses, type PassName, type TrainConfig } from './interventions.js';
import { ENTROPY_CLAMP, GATE_TARGET, LAPLACIAN_KERNEL, LOSS_WEIGHTS } from './losses.js';
import type { InterventionMasks } from './masks.js';
import { lossTerms, namedTrainables, type Adam, type LossTerms } from './step.js';

type Shape = readonly number[];

/**
 * Reverse-mode differentiation over the graph builder: forward helpers emit nodes and register a backward
 * closure; {@link Tape.backward} runs the closures in reverse order, each reading the summed gradient of its
 * output and adding contributions to its inputs' gradients.
 */
class Tape {
  readonly g = new Graph();
  private readonly shapes = new Map<string, Shape>();
  private readonly contrib = new Map<string, string[]>();
  private readonly back: { out: string; fn: (gy: string) => void }[] = [];
  /** tensors that depend on a parameter (only these get gradients) */
  private readonly needs = new Set<string>();

  shape(t: string): Shape {
    const s = this.shapes.get(t);
    if (!s) throw new Error(`internal: no shape for '${t}'`);
    return s;
  }
  /** A node with one output of a known shape. */
  op(type: string, inputs: readonly string[], shape: Shape, attrs: Parameters<Graph['op']>[2] = {}, output?: string): string {
    const out = this.g.op(type, inputs, attrs, output);
    this.shapes.set(out, shape);
    return out;
  }
  input(name: string, shape: Shape, differentiable: boolean): string {
    this.g.inputs.push(valueInfo(name, shape));
    this.shapes.set(name, shape);
    if (differentiable) this.needs.add(name);
    return name;
  }
  output(name: string, t: string): void {
    this.g.op('Identity', [t], {}, name);
    this.g.outputs.push(valueInfo(name, this.shape(t)));
  }
  const(name: string, shape: Shape, data: Float32Array): string {
    const n = this.g.const(name, shape, data);
    this.shapes.set(n, shape);
    return n;
  }
  scalar(v: number): string {
    return this.const('s', [], Float32Array.of(v));
  }
  ints(values: readonly number[]): string {
    return this.g.ints('i', values);
  }
  needsGrad(t: string): boolean {
    return this.needs.has(t);
  }
  /** Registers `fn` to run in the backward pass with the gradient of `out`, if any input needs one. */
  record(out: string, inputs: readonly string[], fn: (gy: string) => void): void {
    if (!inputs.some((i) => this.needs.has(i))) return;
    this.needs.add(out);
    this.back.push({ out, fn });
  }
  /** Adds a gradient contribution to `t` (ignored when t does not depend on a parameter). */
  acc(t: string, grad: string): void {
    if (!this.needs.has(t)) return;
    const list = this.contrib.get(t);
    if (list) list.push(grad);
    else this.contrib.set(t, [grad]);
  }
  /** The summed gradient of `t`, or undefined when nothing flowed into it. */
  grad(t: string): string | undefined {
    const list = this.contrib.get(t);
    if (!list || list.length === 0) return undefined;
    if (list.length > 1) {
      const s = this.op('Sum', list, this.shape(t));
      this.contrib.set(t, [s]);
      return s;
    }
    return list[0];
  }
  backward(): void {
    for (let i = this.back.length - 1; i >= 0; i--) {
      const { out, fn } = this.back[i]!;
      const gy = this.grad(out);
      if (gy) fn(gy);
    }
  }

  // ------------------------------------------------------------ small differentiable ops

  reshape(x: string, shape: Shape): string {
    const y = this.op('Reshape', [x, this.ints(shape)], shape);
    const xs = this.shape(x);
    this.record(y, [x], (gy) => this.acc(x, this.op('Reshape', [gy, this.ints(xs)], xs)));
    return y;
  }
  add(a: string, b: string): string {
    const y = this.op('Add', [a, b], this.shape(a));
    this.record(y, [a, b], (gy) => {
      this.acc(a, gy);
      this.acc(b, gy);
    });
    return y;
  }
  sigmoid(x: string): string {
    const y = this.op('Sigmoid', [x], this.shape(x));
    this.record(y, [x], (gy) => {
      const s = this.shape(x);
      this.acc(x, this.op('Mul', [gy, this.op('Mul', [y, this.op('Sub', [this.scalar(1), y], s)], s)], s));
    });
    return y;
  }
  /** Product with constant matrices: [H,h] . x[N,C,h,w] . [w,W] (bilinear resize, adaptive pooling). */
  sandwich(x: string, left: { m: Float32Array; rows: number; cols: number }, right: { m: Float32Array; rows: number; cols: number }): string {
    const [n, c] = this.shape(x);
    const L = this.const('L', [left.rows, left.cols], left.m);
    const R = this.const('R', [right.rows, right.cols], right.m);
    const a = this.op('MatMul', [x, R], [n!, c!, left.cols, right.cols]);
    const y = this.op('MatMul', [L, a], [n!, c!, left.rows, right.cols]);
    this.record(y, [x], (gy) => {
      const LT = this.const('LT', [left.cols, left.rows], transpose2d(left.m, left.rows, left.cols));
      const RT = this.const('RT', [right.cols, right.rows], transpose2d(right.m, right.rows, right.cols));
      const b = this.op('MatMul', [LT, gy], [n!, c!, left.cols, right.cols]);
      this.acc(x, this.op('MatMul', [b, RT], this.shape(x)));
    });
    return y;
  }
  /** Bilinear resize, half-pixel centres (layers.ts bilinearMatrix), as two matrix products. */
  resize(x: string, height: number, width: number): string {
    const [, , h, w] = this.shape(x);
    if (h === height && w === width) return x;
    return this.sandwich(x, { m: bilinearMatrix(h!, height), rows: height, cols: h! }, { m: transpose2d(bilinearMatrix(w!, width), width, w!), rows: w!, cols: width });
  }
}

function transpose2d(a: Float32Array, rows: number, cols: number): Float32Array {
  const t = new Float32Array(a.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) t[c * rows + r] = a[r * cols + c]!;
  return t;
}

/**
 * Which part of the step a graph computes. 'joint': the whole step, every pass alive at once. The sequential
 * plan (train/step.ts explains it; here to bound onnxruntime's memory) splits it into 'base-forward' (the base
 * pass forward only: output `y`), one graph per intervened pass (input `y_base` held constant; outputs that
 * pass's loss terms and gradients plus `grad:y_base`, the gradient sent to the base output), and 'base' (the
 * base pass with L_f and the summed gradient `g_base` of the intervened passes fed into its output).
 */
export type TrainGraphPart = 'joint' | 'base-forward' | 'base' | Exclude<PassName, 'base'>;

/** What the graph of one (batch, height, width, config, part) gives back, besides the tensors. */
export interface TrainGraph {
  readonly bytes: Uint8Array;
  /** the graph's inputs other than the parameters, e.g. 'vi', 'ir', 'm_rand', 'y_base' */
  readonly inputs: readonly string[];
  /** trainable parameters the graph takes (all of them) */
  readonly params: readonly string[];
  /** parameters with a gradient output (CBL conv biases have none: theirs is exactly 0) */
  readonly grads: readonly string[];
  /** the CBL conv biases, whose gradient is exactly 0 */
  readonly zeroGrads: readonly string[];
  /**
   * per pass, in running order: the BatchNorm module names whose statistics it outputs, with the number of
   * values each statistic is taken over (N h w at that BatchNorm's level; PyTorch's unbiased running
   * variance uses it)
   */
  readonly stats: readonly { pass: PassName; bns: readonly { name: string; count: number }[] }[];
  /** the loss outputs, e.g. 'f.ir', 'f.grad', 'comp.stability', 'novi' (sums such as L_f: stepTerms) */
  readonly losses: readonly string[];
}

/**
 * Builds the training-step graph (or one part of it) for batch n of h x w crops under `cfg` (ablations and
 * signs). Example: `buildTrainGraph(8, 128, 128, DEFAULT_TRAIN_CONFIG)`.
 */
export function buildTrainGraph(n: number, h: number, w: number, cfg: TrainConfig, part: TrainGraphPart = 'joint', dim = ISFUSE_DIM): TrainGraph {
  if (h < 4 || w < 4) throw new Error(`ISFuse needs crops of at least 4x4 pixels, got ${w}x${h}`);
  const t = new Tape();
  const C = dim;
  const spec = stateDictSpec(dim).filter((s) => s.used && ['conv_weight', 'conv_bias', 'bn_weight', 'bn_bias'].includes(s.role));
  const P = new Map<string, string>();
  for (const s of spec) P.set(s.name, t.input(`p:${s.name}`, s.shape, true));
  const param = (name: string): string => {
    const p = P.get(name);
    if (!p) throw new Error(`internal: no parameter '${name}'`);
    return p;
  };
  const img: Shape = [n, 1, h, w];
  const inputs: string[] = [];
  const imageInput = (name: string, differentiable = false): string => {
    inputs.push(name);
    return t.input(name, img, differentiable);
  };
  const vi = imageInput('vi');
  const ir = imageInput('ir');

  // ------------------------------------------------------------ convolutions

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

  let statsOut: { name: string; count: number }[] = [];
  const emitStats = part !== 'base-forward';
  const statNames = (pass: PassName) => (bn: string) => `stat:${pass}:${bn}`;
  let statName: (bn: string) => string = statNames('base');

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
    if (emitStats) {
      t.output(`${statName(bn)}:mean`, t.op('Add', [mu1, param(`${cName}.bias`)], [co!]));
      t.output(`${statName(bn)}:var`, var1);
      statsOut.push({ name: bn, count: m });
    }
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

  const cfi = (prefix: string, fv: string, fi: string): [string, string] => {
    const [nn, , hh, ww] = t.shape(fv) as number[];
    if (!cfg.cfi) {
      // the `local` ablation: gate 0 exactly, cross-attention and gate branch not computed (step.ts trainingSource)
      const gate = t.const('zero_gate', [nn!, 1, hh!, ww!], new Float32Array(nn! * hh! * ww!));
      return [cbl(t.add(fv, fi), `${prefix}.refine`, 0), gate];
    }
    const pv = pool8(fv);
    const pi = pool8(fi);
    const cross = t.add(attend(fv, pi, `${prefix}.q_v`, `${prefix}.k_i`, `${prefix}.v_i`), attend(fi, pv, `${prefix}.q_i`, `${prefix}.k_v`, `${prefix}.v_v`));
    const gate = t.sigmoid(conv(cbl(cross, `${prefix}.gate`, 0), `${prefix}.gate.3`));
    return [cbl(mix(gate, cross, fv, fi), `${prefix}.refine`, 0), gate];
  };

  const encoder = (x: string, p: string): [string, string, string] => {
    const x1 = cbl(cbl(x, `${p}.module1`, 0), `${p}.module1`, 3);
    const x2 = cbl(cbl(maxPool(x1), `${p}.module2`, 0), `${p}.module2`, 3);
    const x3 = cbl(cbl(maxPool(x2), `${p}.module3`, 0), `${p}.module3`, 3);
    return [x1, x2, x3];
  };

  /** The network (model/isfuse.ts forwardWith) in training mode: fused [N,1,h,w] and the gates g3, g4, g5. */
  const network = (v: string, i: string): { fused: string; gates: [string, string, string] } => {
    const [v1, v2, v3] = encoder(v, 'encoder_vis');
    const [i1, i2, i3] = encoder(i, 'encoder_ir');
    const [x3, g3] = cfi('cfi3', v3, i3);
    const [f4, g4] = cfi('cfi4', v2, i2);
    const [, , h2, w2] = t.shape(v2) as number[];
    const x4 = cbl(cbl(t.add(t.resize(x3, h2!, w2!), f4), 'adjust_channels4', 0), 'adjust_channels4', 3);
    const [f5, g5] = cfi('cfi5', v1, i1);
    const x5 = cbl(cbl(t.add(t.resize(x4, h, w), f5), 'adjust_channels5', 0), 'adjust_channels5', 3);
    return { fused: t.sigmoid(conv(x5, 'final_decoder.0')), gates: [g3, g4, g5] };
  };

  // ------------------------------------------------------------ the five passes

  const allPasses = activePasses(cfg);
  const passes: PassName[] = part === 'joint' ? allPasses : part === 'base' || part === 'base-forward' ? ['base'] : [part];
  if (!allPasses.includes(passes[0]!)) throw new Error(`internal: pass '${part}' is switched off in this configuration`);
  const zeros = t.op('Sub', [vi, vi], img);
  const passInput = (pass: PassName): [string, string] => {
    switch (pass) {
      case 'base': return [vi, ir];
      case 'comp': return [t.op('Mul', [vi, imageInput('m_comp_vi')], img), t.op('Mul', [ir, imageInput('m_comp_ir')], img)];
      case 'rand': {
        const m = imageInput('m_rand');
        return [t.op('Mul', [vi, m], img), t.op('Mul', [ir, m], img)];
      }
      case 'novi': return [zeros, ir];
      case 'noir': return [vi, zeros];
    }
  };
  const stats: { pass: PassName; bns: { name: string; count: number }[] }[] = [];
  const outs = new Map<PassName, { fused: string; gates: [string, string, string] }>();
  for (const pass of passes) {
    statsOut = [];
    statName = statNames(pass);
    const [a, b] = passInput(pass);
    outs.set(pass, network(a, b));
    if (emitStats) stats.push({ pass, bns: statsOut });
  }
  const common = { params: spec.map((s) => s.name), inputs, stats };
  if (part === 'base-forward') {
    t.output('y', outs.get('base')!.fused);
    return { bytes: t.g.model(`isfuse_train_${part}_${n}x${h}x${w}`), ...common, grads: [], zeroGrads: [], losses: [] };
  }

  // ------------------------------------------------------------ losses and their gradients (closed form)

  const numel = n * h * w;
  const losses: string[] = [];
  const loss = (key: string, v: string): void => {
    t.output(`loss:${key}`, v);
    losses.push(key);
  };
  const meanAll = (x: string): string => t.op('ReduceMean', [x], [], { keepdims: 0 });
  const mulS = (x: string, v: number): string => t.op('Mul', [x, t.scalar(v)], t.shape(x));
  // the base output: computed here, or (an intervened pass of the sequential plan) a constant input whose
  // gradient is an output
  const yb = outs.get('base')?.fused ?? imageInput('y_base', true);
  if (part === 'base') t.acc(yb, imageInput('g_base'));
  if (outs.has('base')) {
    // L_f = L1(y, ir) + L1(y, vi) + L1(|Lap y|, max(|Lap ir|, |Lap vi|))
    const lapKernel = t.const('lap', [1, 1, 3, 3], Float32Array.from(LAPLACIAN_KERNEL));
    const lap = (x: string): string => t.op('Conv', [x, lapKernel], img, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const dIr = t.op('Sub', [yb, ir], img);
    const dVi = t.op('Sub', [yb, vi], img);
    const lapY = lap(yb);
    const target = t.op('Max', [t.op('Abs', [lap(ir)], img), t.op('Abs', [lap(vi)], img)], img);
    const e = t.op('Sub', [t.op('Abs', [lapY], img), target], img);
    loss('f.ir', meanAll(t.op('Abs', [dIr], img)));
    loss('f.vi', meanAll(t.op('Abs', [dVi], img)));
    loss('f.grad', meanAll(t.op('Abs', [e], img)));
    const gLap = mulS(t.op('Mul', [t.op('Sign', [e], img), t.op('Sign', [lapY], img)], img), 1 / numel);
    t.acc(yb, mulS(t.op('Add', [t.op('Sign', [dIr], img), t.op('Sign', [dVi], img)], img), 1 / numel));
    t.acc(yb, lap(gLap)); // the Laplacian kernel is symmetric: its transposed convolution is itself
  }

  // L_inv: per masking pass, weight 0.1 / (number of masking passes of the configuration)
  const isMasking = (x: PassName): boolean => x === 'comp' || x === 'rand';
  const inv = allPasses.filter(isMasking);
  const sH = cfg.gateEntropy === 'maximise' ? -1 : 1;
  for (const pass of passes.filter(isMasking)) {
    const wInv = LOSS_WEIGHTS.inv / inv.length;
    const o = outs.get(pass)!;
    const [g3, g4, g5] = o.gates;
    const gm = mulS(t.op('Sum', [t.resize(g3, h, w), t.resize(g4, h, w), g5], img), 1 / 3);
    const diff = t.op('Sub', [o.fused, yb], img);
    const ad = t.op('Abs', [diff], img);
    loss(`${pass}.stability`, meanAll(t.op('Mul', [ad, gm], img)));
    const gmean = t.op('ReduceMean', [gm], [n, 1, 1, 1], { axes: [1, 2, 3], keepdims: 1 });
    const dev = t.op('Sub', [gmean, t.scalar(GATE_TARGET)], [n, 1, 1, 1]);
    loss(`${pass}.sparsity`, meanAll(t.op('Abs', [dev], [n, 1, 1, 1])));
    const pc = t.op('Clip', [gm, t.scalar(ENTROPY_CLAMP), t.scalar(1 - ENTROPY_CLAMP)], img);
    const q = t.op('Sub', [t.scalar(1), pc], img);
    const logP = t.op('Log', [pc], img), logQ = t.op('Log', [q], img);
    const ent = t.op('Neg', [t.op('Add', [t.op('Mul', [pc, logP], img), t.op('Mul', [q, logQ], img)], img)], img);
    loss(`${pass}.entropy`, meanAll(ent));
    // gradients: stability -> y_do, y_base, g; sparsity -> g; entropy (inside the clamp only) -> g
    const gy = mulS(t.op('Mul', [t.op('Sign', [diff], img), gm], img), wInv / numel);
    t.acc(o.fused, gy);
    t.acc(yb, t.op('Neg', [gy], img));
    const inRange = t.op('Cast', [t.op('And', [
      t.op('GreaterOrEqual', [gm, t.scalar(ENTROPY_CLAMP)], img), t.op('LessOrEqual', [gm, t.scalar(1 - ENTROPY_CLAMP)], img),
    ], img)], img, { to: 1 });
    const dEnt = mulS(t.op('Mul', [inRange, t.op('Sub', [logQ, logP], img)], img), (sH * wInv) / numel);
    const dSpar = mulS(t.op('Sign', [dev], [n, 1, 1, 1]), wInv / numel);
    const dg = t.op('Add', [t.op('Add', [mulS(ad, wInv / numel), dSpar], img), dEnt], img);
    // g = (R g3 + R g4 + g5) / 3, R the bilinear resize to h x w
    const dg3 = mulS(dg, 1 / 3);
    t.acc(g5, dg3);
    for (const g of [g3, g4]) {
      const [, , gh, gw] = t.shape(g) as number[];
      const Lt = t.const('RhT', [gh!, h], transpose2d(bilinearMatrix(gh!, h), h, gh!));
      const Rw = t.const('Rw', [w, gw!], bilinearMatrix(gw!, w));
      t.acc(g, t.op('MatMul', [Lt, t.op('MatMul', [dg3, Rw], [n, 1, h, gw!])], [n, 1, gh!, gw!]));
    }
  }
  // L_nec = L1(y, y_novi) + L1(y, y_noir), weight ±0.05
  const wNec = (cfg.necessity === 'minimise' ? 1 : -1) * LOSS_WEIGHTS.nec;
  for (const pass of passes.filter((x) => x === 'novi' || x === 'noir')) {
    const yo = outs.get(pass)!.fused;
    const diff = t.op('Sub', [yb, yo], img);
    loss(pass, meanAll(t.op('Abs', [diff], img)));
    const gy = mulS(t.op('Sign', [diff], img), wNec / numel);
    t.acc(yb, gy);
    t.acc(yo, t.op('Neg', [gy], img));
  }

  t.backward();
  if (!outs.has('base')) t.output('grad:y_base', t.grad(yb) ?? t.op('Sub', [yb, yb], img));
  const grads: string[] = [];
  const zeroGrads: string[] = [];
  const cblBias = /\.(\d+)\.bias$/;
  for (const s of spec) {
    const gname = t.grad(param(s.name));
    if (gname) {
      t.output(`grad:${s.name}`, gname);
      grads.push(s.name);
    } else if (s.role === 'conv_bias' && cblBias.test(s.name) && stats.some((x) => x.bns.some((b) => b.name === s.name.replace(cblBias, (_, i: string) => `.${Number(i) + 1}`)))) {
      zeroGrads.push(s.name);
    }
  }
  return { bytes: t.g.model(`isfuse_train_${part}_${n}x${h}x${w}`), ...common, grads, zeroGrads, losses };
}

type Session = Awaited<ReturnType<Awaited<ReturnType<typeof loadOnnxRuntime>>['InferenceSession']['create']>>;

/** A batch on the host: vi, ir [N*H*W] in [0,1] (row-major, one channel) and its masks. */
export interface HostStepBatch {
  readonly vi: Float32Array;
  readonly ir: Float32Array;
  readonly masks: InterventionMasks;
}

/** Raw results of one graph run. */
export interface OnnxStepResult {
  readonly losses: ReadonlyMap<string, number>;
  readonly grads: ReadonlyMap<string, Float32Array>;
  /** per pass in running order: BatchNorm name -> batch mean (with the conv bias), biased variance, count */
  readonly stats: readonly { pass: PassName; values: ReadonlyMap<string, { mean: Float32Array; variance: Float32Array; count: number }> }[];
}

const PARAM_SHAPES = new Map(stateDictSpec().map((s) => [s.name, s.shape]));

/** How the step's gradient is computed: one graph, or the sequential plan's parts ({@link TrainGraphPart}). */
export type OnnxPlan = 'joint' | 'sequential';

/**
 * The plan for a batch shape when the user leaves it to us: 'joint' (fastest) when its activations fit in
 * half of this machine's memory, else 'sequential'. The estimate is measured, not derived: 6.0 GiB peak
 * resident at batch 8, 128x128 (docs/PERFORMANCE.md), scaled by pixels per batch.
 */
export function autoOnnxPlan(n: number, h: number, w: number, totalBytes = totalmem()): OnnxPlan {
  const jointBytes = 6.0 * 2 ** 30 * ((n * h * w) / (8 * 128 * 128));
  return jointBytes <= totalBytes / 2 ? 'joint' : 'sequential';
}

/** The training step on onnxruntime: one graph (and session) per part and batch shape, built on first use. */
export class OnnxTrainer {
  private readonly sessions = new Map<string, Promise<{ session: Session; graph: TrainGraph }>>();

  /**
   * `threads`: onnxruntime intra-op threads (default 1). `plan`: 'joint' (default; fastest) holds the
   * activations of all five passes at once; 'sequential' one pass at a time, for several times less memory
   * and one extra forward pass of the base (each part's session then frees its buffers after every run).
   * `profilePrefix`: turn on onnxruntime's profiler, writing `<prefix>_<date>.json` per session
   * ({@link endProfiling} completes them).
   */
  constructor(readonly config: TrainConfig, readonly options: { threads?: number; plan?: OnnxPlan; profilePrefix?: string } = {}) {}

  get plan(): OnnxPlan {
    return this.options.plan ?? 'joint';
  }

  private session(part: TrainGraphPart, n: number, h: number, w: number): Promise<{ session: Session; graph: TrainGraph }> {
    const key = `${part}:${n}x${h}x${w}`;
    let s = this.sessions.get(key);
    if (!s) {
      s = (async () => {
        const ort = await loadOnnxRuntime();
        const graph = buildTrainGraph(n, h, w, this.config, part);
        const session = await ort.InferenceSession.create(graph.bytes, {
          intraOpNumThreads: this.options.threads ?? 1, graphOptimizationLevel: 'all', logSeverityLevel: 3,
          // the arena keeps each session's peak allocation for good: with several sessions that would add up
          ...(this.plan === 'sequential' ? { enableCpuMemArena: false } : {}),
          ...(this.options.profilePrefix ? { enableProfiling: true, profileFilePrefix: this.options.profilePrefix } : {}),
        });
        return { session, graph };
      })();
      this.sessions.set(key, s);
    }
    return s;
  }

  /** The graph description of the part holding the base pass, for a batch shape (builds it on first use). */
  async graph(n: number, h: number, w: number): Promise<TrainGraph> {
    return (await this.session(this.plan === 'joint' ? 'joint' : 'base', n, h, w)).graph;
  }

  /** Runs one part: its outputs by name. `extra`: the inputs y_base or g_base. */
  private async runPart(part: TrainGraphPart, values: (name: string) => Float32Array, batch: HostStepBatch, extra: Readonly<Record<string, Float32Array>> = {}) {
    const { n, h, w } = batch.masks;
    const ort = await loadOnnxRuntime();
    const { session, graph } = await this.session(part, n, h, w);
    const images: Record<string, Float32Array | undefined> = {
      vi: batch.vi, ir: batch.ir, m_comp_vi: batch.masks.compVi, m_comp_ir: batch.masks.compIr, m_rand: batch.masks.rand, ...extra,
    };
    const feeds: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const name of graph.inputs) {
      const data = images[name];
      if (!data) throw new Error(`internal: no value for the graph input '${name}'`);
      feeds[name] = new ort.Tensor('float32', data, [n, 1, h, w]);
    }
    for (const name of graph.params) feeds[`p:${name}`] = new ort.Tensor('float32', values(name), [...PARAM_SHAPES.get(name)!]);
    const out = await session.run(feeds);
    const data = (k: string): Float32Array => out[k]!.data as Float32Array;
    const result: OnnxStepResult = {
      losses: new Map(graph.losses.map((k) => [k, data(`loss:${k}`)[0]!])),
      grads: new Map(graph.grads.map((k) => [k, data(`grad:${k}`)])),
      stats: graph.stats.map(({ pass, bns }) => ({
        pass, values: new Map(bns.map(({ name, count }) => [name, { mean: data(`stat:${pass}:${name}:mean`), variance: data(`stat:${pass}:${name}:var`), count }])),
      })),
    };
    return { result, data };
  }

  /** Runs the step: losses, gradients and BatchNorm statistics for `values` (parameters by state-dict name). */
  async run(values: (name: string) => Float32Array, batch: HostStepBatch): Promise<OnnxStepResult> {
    if (this.plan === 'joint') return (await this.runPart('joint', values, batch)).result;
    // sequential: y from a forward-only base pass; each intervened pass alone, its gradient into y summed in
    // gBase; then the base pass with L_f and gBase. Statistics in the joint graph's order (base first).
    // The parameter values are read once for the six runs.
    const host = new Map<string, Float32Array>();
    const read = (name: string): Float32Array => host.get(name) ?? host.set(name, values(name)).get(name)!;
    const y = (await this.runPart('base-forward', read, batch)).data('y');
    const gBase = new Float32Array(y.length);
    const parts: OnnxStepResult[] = [];
    for (const pass of activePasses(this.config).filter((p) => p !== 'base')) {
      const { result, data } = await this.runPart(pass as Exclude<PassName, 'base'>, read, batch, { y_base: y });
      addInto(gBase, data('grad:y_base'));
      parts.push(result);
    }
    const base = (await this.runPart('base', read, batch, { g_base: gBase })).result;
    const grads = new Map<string, Float32Array>();
    for (const part of [base, ...parts]) {
      for (const [name, g] of part.grads) {
        const sum = grads.get(name);
        if (sum) addInto(sum, g);
        else grads.set(name, Float32Array.from(g));
      }
    }
    return {
      losses: new Map([base, ...parts].flatMap((r) => [...r.losses])),
      grads,
      stats: [base, ...parts].flatMap((r) => r.stats),
    };
  }

  /**
   * One full step on live parameters, as train/step.ts's trainStep: gradients, the Adam update, and the
   * BatchNorm running statistics (PyTorch's momentum rule, once per pass in running order). The
   * TensorFlow.js tensors around it live on whatever TensorFlow.js backend is active.
   */
  async step(p: IsfuseParams, opt: Adam, batch: HostStepBatch): Promise<LossTerms> {
    const vars = p.variables;
    const res = await this.run((name) => vars.get(name)!.dataSync() as Float32Array, batch);
    const graph = await this.graph(batch.masks.n, batch.masks.h, batch.masks.w);
    const grads = new Map<string, tf.Tensor>();
    for (const [name, g] of res.grads) grads.set(name, tf.tensor(g, vars.get(name)!.shape));
    for (const name of graph.zeroGrads) grads.set(name, tf.zerosLike(vars.get(name)!));
    try {
      opt.apply(namedTrainables(p), grads);
    } finally {
      tf.dispose([...grads.values()]);
    }
    for (const { values } of res.stats) {
      for (const [bn, s] of values) {
        // the same float32 operations as model/source.ts
        tf.tidy(() => {
          const rm = vars.get(`${bn}.running_mean`)!, rv = vars.get(`${bn}.running_var`)!;
          rm.assign(tf.add(tf.mul(rm, 1 - BN_MOMENTUM), tf.mul(tf.tensor1d(s.mean), BN_MOMENTUM)));
          rv.assign(tf.add(tf.mul(rv, 1 - BN_MOMENTUM), tf.mul(tf.tensor1d(s.variance), (BN_MOMENTUM * s.count) / Math.max(1, s.count - 1))));
        });
        const key = `${bn}.num_batches_tracked`;
        p.numBatchesTracked.set(key, (p.numBatchesTracked.get(key) ?? 0) + 1);
      }
    }
    return stepTerms(res.losses, this.config);
  }

  /** Stops the profiler of every session (when on): the files `<profilePrefix>_<date>.json` are then complete. */
  async endProfiling(): Promise<void> {
    if (!this.options.profilePrefix) return;
    for (const s of this.sessions.values()) (await s).session.endProfiling();
  }

  async dispose(): Promise<void> {
    for (const s of this.sessions.values()) await (await s).session.release();
    this.sessions.clear();
  }
}

function addInto(sum: Float32Array, x: Float32Array): void {
  for (let i = 0; i < sum.length; i++) sum[i]! += x[i]!;
}

/** LossTerms from the graph's loss outputs (f and the per-pass totals are sums of outputs). */
export function stepTerms(losses: ReadonlyMap<string, number>, cfg: TrainConfig): LossTerms {
  const sH = cfg.gateEntropy === 'maximise' ? -1 : 1;
  const get = (k: string): number => losses.get(k) ?? 0;
  return lossTerms((k) => {
    if (k === 'f') return get('f.ir') + get('f.vi') + get('f.grad');
    const m = /^(comp|rand)\.total$/.exec(k);
    if (m) return get(`${m[1]}.stability`) + get(`${m[1]}.sparsity`) + sH * get(`${m[1]}.entropy`);
    return get(k);
  }, cfg, activePasses(cfg));
}
