/**
 * Reverse-mode differentiation over the ONNX graph builder, for the training step on onnxruntime (which has
 * no autodiff of its own: its training API is a separate build). Forward helpers emit nodes and register a
 * backward closure; {@link Tape.backward} runs the closures in reverse order, each reading the summed gradient
 * of its output and adding contributions to its inputs' gradients. Only values that depend on a
 * differentiable input get gradients.
 */
import { Graph, valueInfo } from '../../model/onnx-proto.js';
import { bilinearMatrix, transpose2d } from '../../model/matrices.js';
import type { LossOps } from '../objective.js';

export type Shape = readonly number[];

export class Tape {
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

  // ------------------------------------------------------------ the loss's ops (../objective.ts LossOps)

  /** a - b, same shapes */
  sub(a: string, b: string): string {
    const y = this.op('Sub', [a, b], this.shape(a));
    this.record(y, [a, b], (gy) => {
      this.acc(a, gy);
      if (this.needsGrad(b)) this.acc(b, this.op('Neg', [gy], this.shape(b)));
    });
    return y;
  }
  /** a * b elementwise, same shapes */
  mul(a: string, b: string): string {
    const s = this.shape(a);
    const y = this.op('Mul', [a, b], s);
    this.record(y, [a, b], (gy) => {
      if (this.needsGrad(a)) this.acc(a, this.op('Mul', [gy, b], s));
      if (this.needsGrad(b)) this.acc(b, this.op('Mul', [gy, a], s));
    });
    return y;
  }
  /** x * s */
  scale(x: string, s: number): string {
    const y = this.op('Mul', [x, this.scalar(s)], this.shape(x));
    this.record(y, [x], (gy) => this.acc(x, this.op('Mul', [gy, this.scalar(s)], this.shape(x))));
    return y;
  }
  /** x + c */
  shift(x: string, c: number): string {
    const y = this.op('Add', [x, this.scalar(c)], this.shape(x));
    this.record(y, [x], (gy) => this.acc(x, gy));
    return y;
  }
  /** |x|; gradient sign(x), 0 at 0 (PyTorch's) */
  abs(x: string): string {
    const s = this.shape(x);
    const y = this.op('Abs', [x], s);
    this.record(y, [x], (gy) => this.acc(x, this.op('Mul', [gy, this.op('Sign', [x], s)], s)));
    return y;
  }
  /** elementwise maximum; the gradient goes to `a` where a >= b (TensorFlow.js's maximum), else to `b` */
  max(a: string, b: string): string {
    const s = this.shape(a);
    const y = this.op('Max', [a, b], s);
    this.record(y, [a, b], (gy) => {
      const first = this.op('GreaterOrEqual', [a, b], s);
      const zero = this.scalar(0);
      if (this.needsGrad(a)) this.acc(a, this.op('Where', [first, gy, zero], s));
      if (this.needsGrad(b)) this.acc(b, this.op('Where', [first, zero, gy], s));
    });
    return y;
  }
  /** x clamped to [lo, hi]; the gradient passes where lo <= x <= hi (TensorFlow.js's clipByValue) */
  clip(x: string, lo: number, hi: number): string {
    const s = this.shape(x);
    const y = this.op('Clip', [x, this.scalar(lo), this.scalar(hi)], s);
    this.record(y, [x], (gy) => {
      const inside = this.op('And', [this.op('GreaterOrEqual', [x, this.scalar(lo)], s), this.op('LessOrEqual', [x, this.scalar(hi)], s)], s);
      this.acc(x, this.op('Where', [inside, gy, this.scalar(0)], s));
    });
    return y;
  }
  /** natural logarithm */
  log(x: string): string {
    const s = this.shape(x);
    const y = this.op('Log', [x], s);
    this.record(y, [x], (gy) => this.acc(x, this.op('Div', [gy, x], s)));
    return y;
  }
  /** mean over every element: a scalar */
  mean(x: string): string {
    const s = this.shape(x);
    const y = this.op('ReduceMean', [x], [], { keepdims: 0 });
    this.record(y, [x], (gy) => {
      const numel = s.reduce((a, b) => a * b, 1);
      this.acc(x, this.op('Expand', [this.op('Mul', [gy, this.scalar(1 / numel)], []), this.ints(s)], s));
    });
    return y;
  }
  /** mean over all axes but the first, keeping them: [N,C,H,W] -> [N,1,1,1] */
  meanPerSample(x: string): string {
    const s = this.shape(x);
    const axes = s.map((_, i) => i).slice(1);
    const ys = s.map((d, i) => (i === 0 ? d : 1));
    const y = this.op('ReduceMean', [x], ys, { axes, keepdims: 1 });
    this.record(y, [x], (gy) => {
      const count = s.slice(1).reduce((a, b) => a * b, 1);
      this.acc(x, this.op('Expand', [this.op('Mul', [gy, this.scalar(1 / count)], ys), this.ints(s)], s));
    });
    return y;
  }
  /** correlation of a [N,1,H,W] image with a constant 3x3 filter (row-major), zero padding, same size */
  filter3x3(x: string, kernel: readonly number[]): string {
    const s = this.shape(x);
    const conv = (v: string, k: readonly number[]): string =>
      this.op('Conv', [v, this.const('k3', [1, 1, 3, 3], Float32Array.from(k))], s, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const y = conv(x, kernel);
    // the input gradient of a correlation: the correlation with the filter rotated by 180 degrees
    this.record(y, [x], (gy) => this.acc(x, conv(gy, [...kernel].reverse())));
    return y;
  }
}

/** The loss ops ({@link LossOps}) over a tape: [N,1,H,W] images, [N,1,1,1] per-sample means, [] scalars. */
export function tapeLossOps(t: Tape): LossOps<string> {
  return {
    add: (a, b) => t.add(a, b),
    sub: (a, b) => t.sub(a, b),
    mul: (a, b) => t.mul(a, b),
    scale: (x, s) => t.scale(x, s),
    shift: (x, c) => t.shift(x, c),
    abs: (x) => t.abs(x),
    max: (a, b) => t.max(a, b),
    clip: (x, lo, hi) => t.clip(x, lo, hi),
    log: (x) => t.log(x),
    mean: (x) => t.mean(x),
    meanPerSample: (x) => t.meanPerSample(x),
    filter3x3: (x, k) => t.filter3x3(x, k),
    resize: (x, height, width) => t.resize(x, height, width),
    size: (x) => {
      const [n, , height, width] = t.shape(x);
      return { n: n!, height: height!, width: width! };
    },
  };
}
