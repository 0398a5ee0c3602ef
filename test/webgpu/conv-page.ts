// Browser side of test/webgpu/kernels.test.ts: runs one convolution case on the cpu backend (the reference:
// TensorFlow.js's stock kernels) and on webgpu with isfuse's kernels, and reports the differences.
import * as tf from '@tensorflow/tfjs';
import { installWebGpuConvKernels, uninstallWebGpuConvKernels } from '../../src/model/webgpu/conv3x3.js';
import { convFilterGradient, convInputGradient } from '../../src/model/conv-gradient.js';
import { recordPrograms, startPage, values } from './page-util.js';

export interface ConvCase {
  n: number;
  h: number;
  w: number;
  ci: number;
  co: number;
  k: number;
  stride: number;
  /** 'same' | 'valid' | 1 (explicit one-pixel border) */
  pad: 'same' | 'valid' | 1;
  /** run with the stock webgpu kernels instead of isfuse's (a control) */
  stock?: boolean;
}

export interface Diff {
  /** max |webgpu - cpu| / max(1, max |cpu|) */
  rel: number;
  shape: number[];
}

export interface ConvResult {
  forward: Diff;
  /** FusedConv2D: + bias, and + bias then LeakyReLU(0.01) */
  fusedBias: Diff;
  fusedLeaky: Diff;
  /** the kernels Conv2DBackpropInput / Conv2DBackpropFilter called directly */
  dx: Diff;
  dw: Diff;
  /** tf.grads of sum(conv2d(x, w) * r): the registered Conv2D gradient */
  gradX: Diff;
  gradW: Diff;
  /** the training code's gradient helpers (src/model/conv-gradient.ts), stride 1 cases only */
  helperDx?: Diff;
  helperDw?: Diff;
  /** the webgpu programs this case ran (shader keys), to tell isfuse's kernels from the stock ones */
  programs: string[];
}

const explicitPad = (c: ConvCase) => (c.pad === 1 ? ([[0, 0], [1, 1], [1, 1], [0, 0]] as [[number, number], [number, number], [number, number], [number, number]]) : c.pad);

async function compute(c: ConvCase, backend: string) {
  await tf.setBackend(backend);
  await tf.ready();
  const pad = explicitPad(c);
  const x = tf.tensor4d(values(c.n * c.h * c.w * c.ci, 1), [c.n, c.h, c.w, c.ci]);
  const w = tf.tensor4d(values(c.k * c.k * c.ci * c.co, 2), [c.k, c.k, c.ci, c.co]);
  const y = tf.conv2d(x, w, c.stride, pad);
  const r = tf.tensor4d(values(y.size, 3), y.shape);
  const bias = tf.tensor1d(values(c.co, 4));
  const fusedBias = tf.fused.conv2d({ x, filter: w, bias, strides: c.stride, pad });
  const fusedLeaky = tf.fused.conv2d({ x, filter: w, bias, strides: c.stride, pad, activation: 'leakyrelu', leakyreluAlpha: 0.01 });
  const attrs = { strides: c.stride, pad, dataFormat: 'NHWC', dimRoundingMode: undefined };
  const dx = tf.engine().runKernel('Conv2DBackpropInput', { dy: r, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const dw = tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: r }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor;
  const [gx, gw] = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, c.stride, pad), r)))([x, w]);
  const out: Record<string, { data: Float32Array; shape: number[] }> = {};
  const keep = async (name: string, t: tf.Tensor) => {
    out[name] = { data: (await t.data()) as Float32Array, shape: t.shape };
  };
  await keep('forward', y);
  await keep('fusedBias', fusedBias);
  await keep('fusedLeaky', fusedLeaky);
  await keep('dx', dx);
  await keep('dw', dw);
  await keep('gradX', gx!);
  await keep('gradW', gw!);
  if (c.stride === 1 && c.pad !== 'valid') {
    const p = ((c.k - 1) / 2) as number;
    await keep('helperDx', convInputGradient(r, w, [p, p, p, p]));
    await keep('helperDw', convFilterGradient(x, r, c.k, c.k, [p, p, p, p]));
  }
  tf.disposeVariables();
  return out;
}

function diff(a: { data: Float32Array; shape: number[] }, ref: { data: Float32Array; shape: number[] }): Diff {
  if (a.shape.join() !== ref.shape.join()) return { rel: Infinity, shape: a.shape };
  let err = 0, scale = 1;
  for (let i = 0; i < ref.data.length; i++) {
    err = Math.max(err, Math.abs(a.data[i]! - ref.data[i]!));
    scale = Math.max(scale, Math.abs(ref.data[i]!));
  }
  return { rel: err / scale, shape: a.shape };
}

async function runConvCase(c: ConvCase): Promise<ConvResult> {
  const ref = await compute(c, 'cpu');
  if (c.stock) uninstallWebGpuConvKernels();
  else installWebGpuConvKernels();
  const programs = recordPrograms();
  const got = await compute(c, 'webgpu');
  const res: Record<string, unknown> = {};
  for (const k of Object.keys(ref)) res[k] = diff(got[k]!, ref[k]!);
  res.programs = [...programs].sort();
  return res as unknown as ConvResult;
}

startPage({ runConvCase });
