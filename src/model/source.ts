/**
 * Where a forward pass takes its convolutions from. The network code (cfi.ts, isfuse.ts) only names the
 * reference state-dict modules; a {@link LayerSource} decides how those run:
 *
 * - {@link foldedSource}: inference with BatchNorm folded into constant convolution weights (built once);
 * - {@link variableSource}: from the live tf.Variables, in eval mode (BatchNorm folded on the fly,
 *   differentiable) or training mode (batch statistics, running statistics updated like PyTorch).
 */
import * as tf from '@tensorflow/tfjs';
import { conv2d, conv2dFused, foldBatchNorm, leaky, oihwToHwio, BN_MOMENTUM, type Conv } from './layers.js';
import { cblTrain } from './train-ops.js';
import { ATTEND } from './webgpu/attention.js';

export interface LayerSource {
  /** true: BatchNorm uses batch statistics (PyTorch `model.train()`). */
  readonly training: boolean;
  /**
   * CBL block of a Sequential: conv `${prefix}.${i}` -> BatchNorm `${prefix}.${i + 1}` -> LeakyReLU(0.01).
   */
  cbl(x: tf.Tensor4D, prefix: string, i: number): tf.Tensor4D;
  /** Plain convolution with bias named `name` (e.g. 'cfi3.q_v', 'final_decoder.0'). */
  conv(x: tf.Tensor4D, name: string): tf.Tensor4D;
  /**
   * The parameters of plain convolution `name` (HWIO filter, bias), when the source can give them: the CFI
   * then runs its attention in the fused form of train-ops.ts (K/V on pooled tokens, Q folded into the logits).
   * A source without it (e.g. a wrapper that replaces some convolutions) gets the plain composition.
   */
  convParams?(name: string): Conv;
}

/** Inference from pre-folded convolutions, keyed by the conv's module name (BN already folded in for CBLs). */
export function foldedSource(convs: ReadonlyMap<string, Conv>): LayerSource {
  const get = (name: string): Conv => {
    const c = convs.get(name);
    if (!c) throw new Error(`internal: no folded convolution '${name}'`);
    return c;
  };
  // FusedConv2D where it is one pass (webgpu); on wasm it measured ~6% slower than conv, add and LeakyReLU
  // (inference at 240x320, alternated runs), so the CPU backends keep the plain ops
  const fused = tf.getBackend() === 'webgpu';
  return {
    training: false,
    cbl: (x, prefix, i) => (fused ? conv2dFused(x, get(`${prefix}.${i}`), true) : tf.tidy(() => leaky(conv2d(x, get(`${prefix}.${i}`))))),
    conv: (x, name) => (fused ? conv2dFused(x, get(name), false) : conv2d(x, get(name))),
    // where the one-pass attention kernel exists (webgpu), the CFI takes it through its fused form
    ...(tf.getKernel(ATTEND, tf.getBackend()) ? { convParams: get } : {}),
  };
}

export interface VariableSourceOptions {
  /** Training mode (batch statistics). Default false. */
  readonly training?: boolean;
  /** In training mode, assign the updated running statistics and count the batch (as PyTorch does). Default true. */
  readonly updateStats?: boolean;
  /** BatchNorm momentum. Default 0.1. */
  readonly momentum?: number;
}

/**
 * Convolutions and BatchNorms read from `vars` (reference state-dict names, OIHW conv weights).
 * `counters` holds num_batches_tracked per BatchNorm and is incremented on every training-mode pass.
 */
export function variableSource(
  vars: ReadonlyMap<string, tf.Variable>, counters: Map<string, number>, opts: VariableSourceOptions = {},
): LayerSource {
  const training = opts.training ?? false;
  const update = opts.updateStats ?? true;
  const momentum = opts.momentum ?? BN_MOMENTUM;
  const v = (name: string): tf.Variable => {
    const t = vars.get(name);
    if (!t) throw new Error(`internal: no variable '${name}'`);
    return t;
  };
  const convOf = (name: string): Conv => ({ filter: oihwToHwio(v(`${name}.weight`)), bias: v(`${name}.bias`) as tf.Tensor1D });
  const bnOf = (name: string) => ({
    weight: v(`${name}.weight`) as tf.Tensor1D,
    bias: v(`${name}.bias`) as tf.Tensor1D,
    runningMean: v(`${name}.running_mean`) as tf.Tensor1D,
    runningVar: v(`${name}.running_var`) as tf.Tensor1D,
  });
  const src: LayerSource = {
    training,
    cbl: (x, prefix, i) =>
      tf.tidy(() => {
        const conv = convOf(`${prefix}.${i}`);
        const bnName = `${prefix}.${i + 1}`;
        const bn = bnOf(bnName);
        if (!training) return leaky(conv2d(x, foldBatchNorm(conv, bn)));
        // fused conv + batch-statistics BatchNorm + LeakyReLU with its own gradient (train-ops.ts)
        const r = cblTrain(x, conv.filter, conv.bias, bn.weight, bn.bias);
        if (update) {
          const n = x.shape[0] * x.shape[1] * x.shape[2];
          v(`${bnName}.running_mean`).assign(tf.add(tf.mul(bn.runningMean, 1 - momentum), tf.mul(r.mean, momentum)));
          v(`${bnName}.running_var`).assign(tf.add(tf.mul(bn.runningVar, 1 - momentum), tf.mul(r.variance, (momentum * n) / Math.max(1, n - 1))));
          counters.set(`${bnName}.num_batches_tracked`, (counters.get(`${bnName}.num_batches_tracked`) ?? 0) + 1);
        }
        tf.dispose([r.mean, r.variance]);
        return r.y;
      }),
    conv: (x, name) => tf.tidy(() => conv2d(x, convOf(name))),
  };
  // training: the CFI attention in its fused form (train-ops.ts); inference keeps the plain composition,
  // whose peak memory src/model/memory.ts estimates
  return training ? { ...src, convParams: convOf } : src;
}
