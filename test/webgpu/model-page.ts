// Browser side of test/webgpu/model.test.ts: the ISFuse forward pass and one training block (conv +
// batch-statistics BatchNorm + LeakyReLU with its hand-written gradient) on the cpu backend and on webgpu
// with isfuse's kernels. (The whole five-pass step is too slow for the software adapter: ~5 s per forward
// at 1x24x24, and Chromium drops the device during a step's minutes of queued work.)
import * as tf from '@tensorflow/tfjs';
import { installWebGpuKernels } from '../../src/webgpu.js';
import { disposeParams, forwardWith, infer, initParams, initStateValues, prepareInference } from '../../src/model/isfuse.js';
import { variableSource } from '../../src/model/source.js';
import { cblTrain, pooledAttentionPair } from '../../src/model/train-ops.js';
import { recordPrograms, startPage, values } from './page-util.js';

export type Engine = 'cpu' | 'webgpu';

export interface Arrays {
  [name: string]: { data: number[]; shape: number[] };
}

async function use(engine: Engine): Promise<Set<string>> {
  await tf.setBackend(engine);
  await tf.ready();
  if (engine === 'webgpu') installWebGpuKernels();
  return recordPrograms();
}

async function read(out: Arrays, name: string, t: tf.Tensor): Promise<void> {
  out[name] = { data: Array.from(await t.data()), shape: t.shape };
}

/** The network (random initial weights, seed 7) on an n x s x s pair, eval and training-mode BatchNorm. */
async function runForward(engine: Engine, n: number, s: number): Promise<{ arrays: Arrays; programs: string[] }> {
  const ran = await use(engine);
  const p = initParams(7);
  const vi = tf.tensor4d(values(n * s * s, 11, 0, 1), [n, s, s, 1]);
  const ir = tf.tensor4d(values(n * s * s, 12, 0, 1), [n, s, s, 1]);
  const arrays: Arrays = {};
  for (const training of [false, true]) {
    const out = forwardWith(variableSource(p.variables, p.numBatchesTracked, { training, updateStats: false }), vi, ir);
    const tag = training ? 'train' : 'eval';
    await read(arrays, `fused (${tag})`, out.fused);
    for (const [i, g] of out.gates.entries()) await read(arrays, `gate ${i + 3} (${tag})`, g);
    tf.dispose([out.fused, ...out.gates]);
  }
  // the inference path: folded BatchNorm, FusedConv2D, and on webgpu the one-pass attention
  const net = prepareInference(initStateValues(7));
  const out = infer(net, vi, ir);
  await read(arrays, 'fused (inference)', out.fused);
  tf.dispose([out.fused, ...out.gates]);
  net.dispose();
  tf.dispose([vi, ir]);
  disposeParams(p);
  return { arrays, programs: [...ran].sort() };
}

/** cblTrain on [n, s, s, ci] -> co: output, batch statistics and the gradients of sum(y * r). */
async function runBlock(engine: Engine, n: number, s: number, ci: number, co: number): Promise<{ arrays: Arrays; programs: string[] }> {
  const ran = await use(engine);
  const x = tf.tensor4d(values(n * s * s * ci, 21), [n, s, s, ci]);
  const w = tf.tensor4d(values(9 * ci * co, 22, -0.3, 0.3), [3, 3, ci, co]);
  const b = tf.tensor1d(values(co, 23));
  const g = tf.tensor1d(values(co, 24, 0.5, 1.5));
  const be = tf.tensor1d(values(co, 25));
  const r = tf.tensor4d(values(n * s * s * co, 26), [n, s, s, co]);
  const arrays: Arrays = {};
  let stats: tf.Tensor[] = [];
  const grads = tf.grads((...a: tf.Tensor[]) => {
    const out = cblTrain(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, a[2] as tf.Tensor1D, a[3] as tf.Tensor1D, a[4] as tf.Tensor1D);
    stats = [out.mean, out.variance];
    return tf.sum(tf.mul(out.y, r));
  })([x, w, b, g, be]);
  const y = cblTrain(x, w, b, g, be);
  await read(arrays, 'y', y.y);
  await read(arrays, 'batch mean', stats[0]!);
  await read(arrays, 'batch variance', stats[1]!);
  for (const [i, name] of ['dx', 'dfilter', 'dbias', 'dgamma', 'dbeta'].entries()) await read(arrays, name, grads[i]!);
  tf.dispose([x, w, b, g, be, r, y.y, y.mean, y.variance, ...stats, ...grads]);
  return { arrays, programs: [...ran].sort() };
}

/** The CFI's pooled attention pair on fv, fi [n, s, s, c]: output and the gradients of sum(out * r). */
async function runAttention(engine: Engine, n: number, s: number, c: number): Promise<{ arrays: Arrays; programs: string[] }> {
  const ran = await use(engine);
  const fv = tf.tensor4d(values(n * s * s * c, 31), [n, s, s, c]);
  const fi = tf.tensor4d(values(n * s * s * c, 32), [n, s, s, c]);
  const names = ['qv', 'kv', 'vv', 'qi', 'ki', 'vi'] as const;
  const params = names.flatMap((_, j) => [
    tf.tensor4d(values(c * c, 40 + j, -0.4, 0.4), [1, 1, c, c]),
    tf.tensor1d(values(c, 50 + j, -0.2, 0.2)),
  ]);
  const r = tf.tensor4d(values(n * s * s * c, 33), [n, s, s, c]);
  const f = (...a: tf.Tensor[]) => {
    const convs = Object.fromEntries(names.map((name, j) => [name, { filter: a[2 + 2 * j] as tf.Tensor4D, bias: a[3 + 2 * j] as tf.Tensor1D }]));
    return pooledAttentionPair(a[0] as tf.Tensor4D, a[1] as tf.Tensor4D, convs as Parameters<typeof pooledAttentionPair>[2]);
  };
  const arrays: Arrays = {};
  const out = f(fv, fi, ...params);
  await read(arrays, 'attention', out);
  const grads = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(f(...a), r)))([fv, fi, ...params]);
  for (const [i, g] of grads.entries()) await read(arrays, i < 2 ? ['dfv', 'dfi'][i]! : `d${names[(i - 2) >> 1]}.${i % 2 ? 'bias' : 'filter'}`, g);
  tf.dispose([fv, fi, r, out, ...params, ...grads]);
  return { arrays, programs: [...ran].sort() };
}

startPage({ runForward, runBlock, runAttention });
