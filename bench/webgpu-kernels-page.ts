// Browser side of bench/webgpu-kernels.ts: times one convolution kernel, isfuse's or the stock one, on the
// page's WebGPU adapter.
import * as tf from '@tensorflow/tfjs';
import { installWebGpuConvKernels, uninstallWebGpuConvKernels } from '../src/model/webgpu/conv3x3.js';
import { installWebGpuBatchNormKernels, uninstallWebGpuBatchNormKernels } from '../src/model/webgpu/batchnorm.js';
import { installWebGpuAttentionKernel, uninstallWebGpuAttentionKernel } from '../src/model/webgpu/attention.js';
import { cblTrain, pooledAttentionPair } from '../src/model/train-ops.js';
import { startPage, values } from '../test/webgpu/page-util.js';

/**
 * forward / dx / dw: one convolution kernel, isfuse's against the stock one. block: the training block
 * (cblTrain: conv + batch BatchNorm + LeakyReLU, forward and backward) with isfuse's convolutions in both
 * cases, its BatchNorm fused (isfuse) or composed of stock kernels. attention: the CFI's pooled attention pair
 * (forward and backward), one-pass kernel (isfuse) or the per-sample stock composition.
 */
export type KernelOp = 'forward' | 'dx' | 'dw' | 'block' | 'attention';

/**
 * Median ms per call of `op` at [n, s, s, c] -> c (3x3, 'same'): `calls` calls queued, then one read-back
 * waits for them; `runs` such batches after one warm-up (shader compilation).
 */
async function timeOp(op: KernelOp, n: number, s: number, c: number, ours: boolean, calls: number, runs: number): Promise<{ medianMs: number; runsMs: number[] }> {
  if (ours || op === 'block') installWebGpuConvKernels();
  else uninstallWebGpuConvKernels();
  if (ours) installWebGpuBatchNormKernels();
  else uninstallWebGpuBatchNormKernels();
  if (ours) installWebGpuAttentionKernel();
  else uninstallWebGpuAttentionKernel();
  const x = tf.tensor4d(values(n * s * s * c, 1), [n, s, s, c]);
  const w = tf.tensor4d(values(9 * c * c, 2), [3, 3, c, c]);
  const attrs = { strides: 1, pad: 'same', dataFormat: 'NHWC', dimRoundingMode: undefined } as const;
  const [g, be, b] = [tf.ones([c]) as tf.Tensor1D, tf.zeros([c]) as tf.Tensor1D, tf.zeros([c]) as tf.Tensor1D];
  const block = tf.grads((xi: tf.Tensor, wi: tf.Tensor) => {
    const r = cblTrain(xi as tf.Tensor4D, wi as tf.Tensor4D, b, g, be);
    tf.dispose([r.mean, r.variance]);
    return tf.sum(r.y);
  });
  const conv1 = { filter: tf.reshape(tf.slice(w, [0, 0, 0, 0], [1, 1, c, c]), [1, 1, c, c]) as tf.Tensor4D, bias: b };
  const convs = { qv: conv1, kv: conv1, vv: conv1, qi: conv1, ki: conv1, vi: conv1 };
  const attention = tf.grads((a: tf.Tensor, bb: tf.Tensor) => tf.sum(pooledAttentionPair(a as tf.Tensor4D, bb as tf.Tensor4D, convs)));
  const once = (): tf.Tensor =>
    op === 'attention'
      ? tf.tidy(() => tf.addN(attention([x, x]).map((t) => tf.sum(t))))
      : op === 'block'
      ? tf.tidy(() => tf.addN(block([x, w]).map((t) => tf.sum(t))))
      : op === 'forward'
      ? tf.conv2d(x, w, 1, 'same')
      : op === 'dx'
        ? (tf.engine().runKernel('Conv2DBackpropInput', { dy: x, filter: w }, { ...attrs, inputShape: x.shape } as unknown as tf.NamedAttrMap) as tf.Tensor)
        : (tf.engine().runKernel('Conv2DBackpropFilter', { x, dy: x }, { ...attrs, filterShape: w.shape } as unknown as tf.NamedAttrMap) as tf.Tensor);
  const batch = async (k: number): Promise<number> => {
    const t0 = performance.now();
    const outs: tf.Tensor[] = [];
    for (let i = 0; i < k; i++) outs.push(once());
    await tf.sum(outs[outs.length - 1]!).data();
    const ms = (performance.now() - t0) / k;
    tf.dispose(outs);
    return ms;
  };
  await batch(1);
  const runsMs: number[] = [];
  for (let r = 0; r < runs; r++) runsMs.push(await batch(calls));
  tf.dispose([x, w, g, be, b, conv1.filter]);
  const sorted = [...runsMs].sort((a, b) => a - b);
  return { medianMs: sorted[Math.floor(sorted.length / 2)]!, runsMs };
}

async function adapterInfo(): Promise<string> {
  const a = await (navigator as unknown as { gpu: { requestAdapter(): Promise<{ info?: Record<string, string> } | null> } }).gpu.requestAdapter();
  const i = a?.info ?? {};
  return [i.vendor, i.architecture, i.device, i.description].filter(Boolean).join(' ') || 'unknown adapter';
}

startPage({ timeOp, adapterInfo });
