/**
 * The ISFuse network's state and its TensorFlow.js forward pass (docs/NETWORK.md; "Multi-Modal Image Fusion
 * via Intervention-Stable Feature Learning", arXiv 2603.23272). The layout itself is model/network.ts.
 *
 * Parameters are tf.Variables keyed by the reference PyTorch state-dict names (docs/WEIGHTS.md lists them):
 * 192,388 parameters are used by the forward pass; the state dict also carries three blocks the reference
 * module defines but never calls (adjust_channels3, module4, module5): 231,780 parameters in all, plus the
 * BatchNorm buffers. Results equal the PyTorch reference in eval mode to float32 precision
 * (test/model/isfuse.test.ts checks 1e-4 on every fixture size). {@link foldedConvs} is the one BatchNorm
 * fold, shared by every inference engine.
 */
import * as tf from '@tensorflow/tfjs';
import { oihwToHwio, BN_EPS, type Conv } from './layers.js';
import { isfuseNetwork, MIN_NETWORK_SIDE, type LayoutOptions, type NetworkOutput } from './network.js';
import { foldedSource, variableSource, type LayerSource, type SourceOptions, type VariableSourceOptions } from './source.js';
import { mulberry32 } from '../core/random.js';

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
export type IsfuseOutput = NetworkOutput<tf.Tensor4D>;

export type ForwardOptions = SourceOptions & LayoutOptions;

function checkInputs(vi: tf.Tensor4D, ir: tf.Tensor4D): void {
  const [n, h, w, c] = vi.shape;
  if (c !== 1 || ir.shape[3] !== 1 || ir.shape[0] !== n || ir.shape[1] !== h || ir.shape[2] !== w) {
    throw new Error(`ISFuse expects vi and ir as [N,H,W,1] of the same shape, got [${vi.shape}] and [${ir.shape}]`);
  }
  if (h < MIN_NETWORK_SIDE || w < MIN_NETWORK_SIDE) throw new Error(`ISFuse needs images of at least 4x4 pixels (two 2x2 poolings), got ${w}x${h}`);
}

/**
 * The forward pass (model/network.ts) over a TensorFlow.js {@link LayerSource}. vi (visible luminance / MRI)
 * and ir (infrared / functional), [N,H,W,1] in [0,1], any H, W >= 4. The inputs are not disposed; the
 * caller owns the outputs.
 */
export function forwardWith(src: LayerSource, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: LayoutOptions = {}): IsfuseOutput {
  checkInputs(vi, ir);
  return isfuseNetwork(src, vi, ir, opts);
}

/**
 * Forward pass from the live variables: eval mode (default) or training mode (`{ training: true }`:
 * BatchNorm on batch statistics; running statistics and num_batches_tracked updated as PyTorch does unless
 * `updateStats: false`). Differentiable: use inside tf.variableGrads / optimizer.minimize.
 */
export function forward(p: IsfuseParams, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: VariableSourceOptions & LayoutOptions = {}): IsfuseOutput {
  return forwardWith(variableSource(p.variables, p.numBatchesTracked, opts), vi, ir, opts);
}

/**
 * An inference-ready network: BatchNorm folded into constant HWIO convolutions once.
 * Build with {@link prepareInference}; run with {@link infer}; release with `dispose()`.
 */
export interface IsfuseInference {
  readonly convs: ReadonlyMap<string, Conv>;
  dispose(): void;
}

/** Names of the used convolutions and, for each, its BatchNorm (or null for plain convs). */
function usedConvs(dim = ISFUSE_DIM): { conv: string; bn: string | null }[] {
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

/** A used convolution with its eval-mode BatchNorm folded in: OIHW weight, bias [O]. */
export interface FoldedConv {
  readonly shape: readonly [number, number, number, number];
  readonly weight: Float32Array;
  readonly bias: Float32Array;
}

/**
 * Every used convolution with its BatchNorm (if any) folded in, keyed by conv module name: the one fold of
 * isfuse, for every inference engine. w' = w s, b' = (b - running_mean) s + beta, s = gamma / sqrt(running_var
 * + eps) per output channel, computed in float64 and rounded once to float32.
 */
export function foldedConvs(values: StateValues, dim = ISFUSE_DIM): Map<string, FoldedConv> {
  const spec = new Map(stateDictSpec(dim).map((s) => [s.name, s]));
  const f32 = (name: string): Float32Array => {
    const v = values.get(name);
    if (!(v instanceof Float32Array)) throw new Error(`internal: no values for '${name}'`);
    return v;
  };
  const out = new Map<string, FoldedConv>();
  for (const { conv, bn } of usedConvs(dim)) {
    const shape = spec.get(`${conv}.weight`)!.shape as [number, number, number, number];
    const w = f32(`${conv}.weight`);
    const b = f32(`${conv}.bias`);
    const o = shape[0];
    const per = w.length / o;
    const weight = new Float32Array(w.length);
    const bias = new Float32Array(o);
    for (let c = 0; c < o; c++) {
      let scale = 1;
      let shift = b[c]!;
      if (bn) {
        scale = f32(`${bn}.weight`)[c]! / Math.sqrt(f32(`${bn}.running_var`)[c]! + BN_EPS);
        shift = (b[c]! - f32(`${bn}.running_mean`)[c]!) * scale + f32(`${bn}.bias`)[c]!;
      }
      for (let j = 0; j < per; j++) weight[c * per + j] = w[c * per + j]! * scale;
      bias[c] = shift;
    }
    out.set(conv, { shape, weight, bias });
  }
  return out;
}

/** Builds the inference network from host values (a loaded state dict) or from live parameters. */
export function prepareInference(source: StateValues | IsfuseParams, dim = ISFUSE_DIM): IsfuseInference {
  const values = source instanceof Map ? source : paramsToValues(source as IsfuseParams);
  const convs = new Map<string, Conv>();
  for (const [name, f] of foldedConvs(values as StateValues, dim)) {
    const [o, i, kh, kw] = f.shape;
    convs.set(name, { filter: tf.tidy(() => oihwToHwio(tf.tensor4d(f.weight, [o, i, kh, kw]))), bias: tf.tensor1d(f.bias) });
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
export function infer(net: IsfuseInference, vi: tf.Tensor4D, ir: tf.Tensor4D, opts: SourceOptions = {}): IsfuseOutput {
  return forwardWith(foldedSource(net.convs, opts), vi, ir);
}
