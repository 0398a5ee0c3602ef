/**
 * The ISFuse network (DESIGN.md §1; "Multi-Modal Image Fusion via Intervention-Stable Feature Learning",
 * arXiv 2603.23272) in TensorFlow.js.
 *
 *   encoder_vis(vi), encoder_ir(ir): level 1 = module1 (CBL 1->d, CBL d->d) at H x W,
 *     maxpool 2x2 (floor) -> module2 (2 CBL) at H/2, maxpool -> module3 (2 CBL) at H/4
 *   x3 = cfi3(v3, i3)
 *   x4 = adjust_channels4(up(x3 -> size of level 2) + cfi4(v2, i2))
 *   x5 = adjust_channels5(up(x4 -> size of level 1) + cfi5(v1, i1))
 *   out = sigmoid(final_decoder.0(x5))          (up = bilinear, half-pixel centres)
 *
 * Parameters are tf.Variables keyed by the reference PyTorch state-dict names (docs/WEIGHTS.md lists them):
 * 192,388 parameters are used by the forward pass; the state dict also carries three blocks the reference
 * module defines but never calls (adjust_channels3, module4, module5): 231,780 parameters in all, plus the
 * BatchNorm buffers. Results equal the PyTorch reference in eval mode to float32 precision
 * (test/model/isfuse.test.ts checks 1e-4 on every fixture size).
 */
import * as tf from '@tensorflow/tfjs';
import { cfi } from './cfi.js';
import { ATTENTION_CHUNK_ROWS, foldBatchNormExact, maxPool2, resizeBilinear, type Conv } from './layers.js';
import { foldedSource, variableSource, type LayerSource, type VariableSourceOptions } from './source.js';
import { mulberry32 } from '../data/random.js';

/** Channel width d of the reference model. */
export const ISFUSE_DIM = 32;

export type TensorRole = 'conv_weight' | 'conv_bias' | 'bn_weight' | 'bn_bias' | 'running_mean' | 'running_var' | 'num_batches_tracked';

/** One entry of the reference state dict. */
export interface TensorSpec {
  readonly name: string;
  readonly shape: readonly number[];
  readonly role: TensorRole;
  /** false for the three blocks the reference defines but never calls (adjust_channels3, module4, module5). */
  readonly used: boolean;
}

/** Prefixes of the reference's unused blocks. */
export const UNUSED_PREFIXES = ['adjust_channels3.', 'module4.', 'module5.'] as const;

/**
 * The reference state dict, in PyTorch's `state_dict()` order: 233 tensors.
 * Example: `stateDictSpec().find(s => s.name === 'cfi4.gate.1.running_mean')` -> shape [16], role running_mean.
 */
export function stateDictSpec(dim = ISFUSE_DIM): TensorSpec[] {
  const out: TensorSpec[] = [];
  const conv = (name: string, o: number, i: number, k: number, used: boolean): void => {
    out.push({ name: `${name}.weight`, shape: [o, i, k, k], role: 'conv_weight', used });
    out.push({ name: `${name}.bias`, shape: [o], role: 'conv_bias', used });
  };
  const bn = (name: string, c: number, used: boolean): void => {
    out.push({ name: `${name}.weight`, shape: [c], role: 'bn_weight', used });
    out.push({ name: `${name}.bias`, shape: [c], role: 'bn_bias', used });
    out.push({ name: `${name}.running_mean`, shape: [c], role: 'running_mean', used });
    out.push({ name: `${name}.running_var`, shape: [c], role: 'running_var', used });
    out.push({ name: `${name}.num_batches_tracked`, shape: [], role: 'num_batches_tracked', used });
  };
  /** Sequential of CBLs: indices 3j (conv), 3j+1 (BN), 3j+2 (LeakyReLU, no tensors). */
  const cbls = (prefix: string, blocks: [number, number, number][], used: boolean): void => {
    blocks.forEach(([i, o, k], j) => {
      conv(`${prefix}.${3 * j}`, o, i, k, used);
      bn(`${prefix}.${3 * j + 1}`, o, used);
    });
  };
  const d = dim;
  for (const enc of ['encoder_ir', 'encoder_vis']) {
    cbls(`${enc}.module1`, [[1, d, 3], [d, d, 3]], true);
    cbls(`${enc}.module2`, [[d, d, 3], [d, d, 3]], true);
    cbls(`${enc}.module3`, [[d, d, 3], [d, d, 3]], true);
  }
  cbls('adjust_channels3', [[2 * d, d, 1]], false);
  cbls('adjust_channels4', [[d, d, 3], [d, d, 3]], true);
  cbls('adjust_channels5', [[d, d, 3], [d, d, 3]], true);
  cbls('module4', [[d, d, 3], [d, d, 3]], false);
  cbls('module5', [[d, d, 3], [d, d, 3]], false);
  conv('final_decoder.0', 1, d, 3, true);
  for (const c of ['cfi3', 'cfi4', 'cfi5']) {
    for (const p of ['q_v', 'k_v', 'v_v', 'q_i', 'k_i', 'v_i']) conv(`${c}.${p}`, d, d, 1, true);
    cbls(`${c}.gate`, [[d, d / 2, 3]], true);
    conv(`${c}.gate.3`, 1, d / 2, 1, true);
    cbls(`${c}.refine`, [[d, d, 3]], true);
  }
  return out;
}

/** Number of values of a shape. */
export function numel(shape: readonly number[]): number {
  return shape.reduce((a, b) => a * b, 1);
}

/** Parameter counts: { used: 192388, all: 231780 } for d = 32 (BatchNorm buffers excluded). */
export function parameterCounts(dim = ISFUSE_DIM): { used: number; all: number } {
  let used = 0;
  let all = 0;
  for (const s of stateDictSpec(dim)) {
    if (s.role === 'running_mean' || s.role === 'running_var' || s.role === 'num_batches_tracked') continue;
    all += numel(s.shape);
    if (s.used) used += numel(s.shape);
  }
  return { used, all };
}

/**
 * The network's state: every float tensor of the reference state dict as a tf.Variable (trainable: the used
 * conv/BN weights and biases; not trainable: running statistics and the unused blocks), plus the
 * num_batches_tracked counters. Dispose with {@link disposeParams}.
 */
export interface IsfuseParams {
  readonly dim: number;
  readonly variables: Map<string, tf.Variable>;
  readonly numBatchesTracked: Map<string, number>;
}

/** Host-side values for one state-dict entry (float tensors as Float32Array, counters as numbers). */
export type StateValues = ReadonlyMap<string, Float32Array | number>;

function isTrainable(s: TensorSpec): boolean {
  return s.used && (s.role === 'conv_weight' || s.role === 'conv_bias' || s.role === 'bn_weight' || s.role === 'bn_bias');
}

/**
 * Creates the variables from host values (a loaded state dict). Every entry of {@link stateDictSpec} must be
 * present with the right number of values (weights.ts validates files before this).
 */
export function paramsFromValues(values: StateValues, dim = ISFUSE_DIM): IsfuseParams {
  const variables = new Map<string, tf.Variable>();
  const numBatchesTracked = new Map<string, number>();
  for (const s of stateDictSpec(dim)) {
    const v = values.get(s.name);
    if (s.role === 'num_batches_tracked') {
      numBatchesTracked.set(s.name, typeof v === 'number' ? v : 0);
      continue;
    }
    if (!(v instanceof Float32Array) || v.length !== numel(s.shape)) throw new Error(`internal: bad values for '${s.name}'`);
    variables.set(s.name, tf.variable(tf.tensor(v, [...s.shape], 'float32'), isTrainable(s)));
  }
  return { dim, variables, numBatchesTracked };
}

/** Host values of the current state (for saving). */
export function paramsToValues(p: IsfuseParams): Map<string, Float32Array | number> {
  const out = new Map<string, Float32Array | number>();
  for (const s of stateDictSpec(p.dim)) {
    if (s.role === 'num_batches_tracked') out.set(s.name, p.numBatchesTracked.get(s.name) ?? 0);
    else out.set(s.name, p.variables.get(s.name)!.dataSync() as Float32Array);
  }
  return out;
}

/**
 * PyTorch's default initialisation: conv weight and bias ~ U(-1/sqrt(fan_in), 1/sqrt(fan_in))
 * (kaiming_uniform with a = sqrt(5)), BatchNorm weight 1, bias 0, running_mean 0, running_var 1, counter 0.
 */
export function initParams(seed = 0, dim = ISFUSE_DIM): IsfuseParams {
  return paramsFromValues(initStateValues(seed, dim), dim);
}

/** The values of {@link initParams} on the host (no TensorFlow.js needed). */
export function initStateValues(seed = 0, dim = ISFUSE_DIM): Map<string, Float32Array | number> {
  const rnd = mulberry32(seed);
  const values = new Map<string, Float32Array | number>();
  const fanIn = new Map<string, number>();
  for (const s of stateDictSpec(dim)) {
    const n = numel(s.shape);
    switch (s.role) {
      case 'conv_weight': {
        const f = s.shape[1] * s.shape[2] * s.shape[3];
        fanIn.set(s.name.slice(0, -'.weight'.length), f);
        const b = 1 / Math.sqrt(f);
        values.set(s.name, Float32Array.from({ length: n }, () => (2 * rnd() - 1) * b));
        break;
      }
      case 'conv_bias': {
        const b = 1 / Math.sqrt(fanIn.get(s.name.slice(0, -'.bias'.length))!);
        values.set(s.name, Float32Array.from({ length: n }, () => (2 * rnd() - 1) * b));
        break;
      }
      case 'bn_weight':
      case 'running_var':
        values.set(s.name, new Float32Array(n).fill(1));
        break;
      case 'bn_bias':
      case 'running_mean':
        values.set(s.name, new Float32Array(n));
        break;
      case 'num_batches_tracked':
        values.set(s.name, 0);
    }
  }
  return values;
}

/** The trainable variables (used conv and BatchNorm weights/biases: 192,388 values), for an optimizer. */
export function trainableVariables(p: IsfuseParams): tf.Variable[] {
  return stateDictSpec(p.dim).filter(isTrainable).map((s) => p.variables.get(s.name)!);
}

export function disposeParams(p: IsfuseParams): void {
  for (const v of p.variables.values()) v.dispose();
  p.variables.clear();
}

/** Output of a forward pass: fused [N,H,W,1] in [0,1] and the gates [g3 (H/4), g4 (H/2), g5 (H)], each [N,h,w,1]. */
export interface IsfuseOutput {
  readonly fused: tf.Tensor4D;
  readonly gates: readonly [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D];
}

export interface ForwardOptions {
  /**
   * Query rows per attention block (0 = one block). Lowers peak memory at large sizes; the result is the
   * same. Default: 0 in training mode, {@link ATTENTION_CHUNK_ROWS} otherwise.
   */
  readonly chunkRows?: number;
}

function encoder(src: LayerSource, prefix: string, x: tf.Tensor4D): [tf.Tensor4D, tf.Tensor4D, tf.Tensor4D] {
  const x1 = tf.tidy(() => src.cbl(src.cbl(x, `${prefix}.module1`, 0), `${prefix}.module1`, 3));
  const x2 = tf.tidy(() => src.cbl(src.cbl(maxPool2(x1), `${prefix}.module2`, 0), `${prefix}.module2`, 3));
  const x3 = tf.tidy(() => src.cbl(src.cbl(maxPool2(x2), `${prefix}.module3`, 0), `${prefix}.module3`, 3));
  return [x1, x2, x3];
}

function checkInputs(vi: tf.Tensor4D, ir: tf.Tensor4D): void {
  const [n, h, w, c] = vi.shape;
  if (c !== 1 || ir.shape[3] !== 1 || ir.shape[0] !== n || ir.shape[1] !== h || ir.shape[2] !== w) {
    throw new Error(`ISFuse expects vi and ir as [N,H,W,1] of the same shape, got [${vi.shape}] and [${ir.shape}]`);
  }
  if (h < 4 || w < 4) throw new Error(`ISFuse needs images of at least 4x4 pixels (two 2x2 poolings), got ${w}x${h}`);
}

/**
 * The forward pass from any {@link LayerSource}. vi (visible luminance / MRI) and ir (infrared / functional),
 * [N,H,W,1] in [0,1], any H, W >= 4. Intermediate tensors are released as soon as they are no longer needed;
 * the inputs are not disposed; the caller owns the outputs.
 */
export function forwardWith(src: LayerSource, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: ForwardOptions = {}): IsfuseOutput {
  checkInputs(vi, ir);
  const chunk = opts.chunkRows ?? (src.training ? 0 : ATTENTION_CHUNK_ROWS);
  const [v1, v2, v3] = encoder(src, 'encoder_vis', vi);
  const [i1, i2, i3] = encoder(src, 'encoder_ir', ir);
  const c3 = cfi(src, 'cfi3', v3, i3, chunk);
  tf.dispose([v3, i3]);
  const c4 = cfi(src, 'cfi4', v2, i2, chunk);
  const x4 = tf.tidy(() => {
    const up = resizeBilinear(c3.fused, v2.shape[1], v2.shape[2]);
    const a = src.cbl(tf.add(up, c4.fused) as tf.Tensor4D, 'adjust_channels4', 0);
    return src.cbl(a, 'adjust_channels4', 3);
  });
  tf.dispose([v2, i2, c3.fused, c4.fused]);
  const c5 = cfi(src, 'cfi5', v1, i1, chunk);
  tf.dispose([v1, i1]);
  const fused = tf.tidy(() => {
    const up = resizeBilinear(x4, c5.fused.shape[1], c5.fused.shape[2]);
    const a = src.cbl(tf.add(up, c5.fused) as tf.Tensor4D, 'adjust_channels5', 0);
    const x5 = src.cbl(a, 'adjust_channels5', 3);
    return tf.sigmoid(src.conv(x5, 'final_decoder.0')) as tf.Tensor4D;
  });
  tf.dispose([x4, c5.fused]);
  return { fused, gates: [c3.gate, c4.gate, c5.gate] };
}

/**
 * Forward pass from the live variables: eval mode (default) or training mode (`{ training: true }`:
 * BatchNorm on batch statistics; running statistics and num_batches_tracked updated as PyTorch does unless
 * `updateStats: false`). Differentiable: use inside tf.variableGrads / optimizer.minimize.
 */
export function forward(
  p: IsfuseParams, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: VariableSourceOptions & ForwardOptions = {},
): IsfuseOutput {
  return forwardWith(variableSource(p.variables, p.numBatchesTracked, opts), vi, ir, opts);
}

/**
 * An inference-ready network: BatchNorm folded (in float64) into constant HWIO convolutions once.
 * Build with {@link prepareInference}; run with {@link infer}; release with `dispose()`.
 */
export interface IsfuseInference {
  readonly convs: ReadonlyMap<string, Conv>;
  dispose(): void;
}

/** Names of the used convolutions and, for each, its BatchNorm (or null for plain convs). */
export function usedConvs(dim = ISFUSE_DIM): { conv: string; bn: string | null }[] {
  const spec = stateDictSpec(dim);
  const names = new Set(spec.map((s) => s.name));
  const out: { conv: string; bn: string | null }[] = [];
  for (const s of spec) {
    if (!s.used || s.role !== 'conv_weight') continue;
    const conv = s.name.slice(0, -'.weight'.length);
    const m = /^(.*)\.(\d+)$/.exec(conv);
    const bn = m ? `${m[1]}.${Number(m[2]) + 1}` : null;
    out.push({ conv, bn: bn && names.has(`${bn}.running_var`) ? bn : null });
  }
  return out;
}

/**
 * Folded convolution values on the host: HWIO filter (O fastest) and bias, keyed by conv module name.
 * Shared by the TensorFlow.js inference path and the ONNX graph builder.
 */
export function foldedValues(values: StateValues, dim = ISFUSE_DIM): Map<string, { shape: [number, number, number, number]; filter: Float32Array; bias: Float32Array }> {
  const spec = new Map(stateDictSpec(dim).map((s) => [s.name, s]));
  const f32 = (name: string): Float32Array => {
    const v = values.get(name);
    if (!(v instanceof Float32Array)) throw new Error(`internal: no values for '${name}'`);
    return v;
  };
  const out = new Map<string, { shape: [number, number, number, number]; filter: Float32Array; bias: Float32Array }>();
  for (const { conv, bn } of usedConvs(dim)) {
    const [o, i, kh, kw] = spec.get(`${conv}.weight`)!.shape;
    const w = f32(`${conv}.weight`);
    const hwio = new Float32Array(w.length); // OIHW -> HWIO
    for (let a = 0; a < o; a++) for (let b = 0; b < i; b++) for (let y = 0; y < kh; y++) for (let x = 0; x < kw; x++) {
      hwio[((y * kw + x) * i + b) * o + a] = w[((a * i + b) * kh + y) * kw + x];
    }
    const bias = f32(`${conv}.bias`);
    const folded = bn
      ? foldBatchNormExact(hwio, bias, f32(`${bn}.weight`), f32(`${bn}.bias`), f32(`${bn}.running_mean`), f32(`${bn}.running_var`))
      : { filter: hwio, bias: Float32Array.from(bias) };
    out.set(conv, { shape: [kh, kw, i, o], ...folded });
  }
  return out;
}

/** Builds the inference network from host values (a loaded state dict) or from live parameters. */
export function prepareInference(source: StateValues | IsfuseParams, dim = ISFUSE_DIM): IsfuseInference {
  const values = source instanceof Map ? source : paramsToValues(source as IsfuseParams);
  const convs = new Map<string, Conv>();
  for (const [name, f] of foldedValues(values as StateValues, dim)) {
    convs.set(name, { filter: tf.tensor4d(f.filter, f.shape), bias: tf.tensor1d(f.bias) });
  }
  return {
    convs,
    dispose: () => {
      for (const c of convs.values()) tf.dispose([c.filter, c.bias]);
      convs.clear();
    },
  };
}

/** Inference (eval mode, folded BatchNorm). See {@link forwardWith} for shapes; the caller owns the outputs. */
export function infer(net: IsfuseInference, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: ForwardOptions = {}): IsfuseOutput {
  return forwardWith(foldedSource(net.convs), vi, ir, opts);
}
