/**
 * The network's ops (model/network.ts) over TensorFlow.js tensors, NHWC. A {@link LayerSource} decides where
 * the convolutions come from:
 *
 * - {@link foldedSource}: inference with BatchNorm folded into constant convolution weights (built once);
 * - {@link variableSource}: from the live tf.Variables, in eval mode (BatchNorm on its running statistics,
 *   differentiable) or training mode (batch statistics, running statistics updated like PyTorch).
 */
import * as tf from '@tensorflow/tfjs';
import {
  conv2d, conv2dFused, leaky, maxPool2, oihwToHwio, pooledCrossAttention, resizeBilinear, ATTENTION_CHUNK_ROWS, BN_EPS, BN_MOMENTUM, type Conv,
} from './layers.js';
import type { NetworkOps } from './network.js';
import { cblTrain, pooledAttentionPair } from './train-ops.js';
import { ATTEND } from './webgpu/attention.js';

export interface LayerSource extends NetworkOps<tf.Tensor4D> {
  /** true: BatchNorm uses batch statistics (PyTorch `model.train()`). */
  readonly training: boolean;
}

/** Tokens per side of the CFI's pooled attention (8 x 8 = 64 keys). */
const ATTENTION_GRID = 8;

/**
 * The ops every TensorFlow.js source shares; `cbl`, `conv` and the attention's form differ by source.
 * `fusedAttention`: the six Q/K/V convolutions of a CFI for the fused form of train-ops.ts (K/V on pooled
 * tokens, Q folded into the logits); without it the plain composition of layers.ts runs.
 */
function tfjsOps(
  training: boolean,
  cbl: (x: tf.Tensor4D, prefix: string, i: number) => tf.Tensor4D,
  conv: (x: tf.Tensor4D, name: string) => tf.Tensor4D,
  fusedAttention: ((name: string) => Conv) | undefined,
  chunkRows: number,
): LayerSource {
  return {
    training,
    cbl,
    conv,
    maxPool2,
    add: (a, b) => tf.add(a, b),
    sigmoid: (x) => tf.sigmoid(x),
    resizeLike: (x, like) => resizeBilinear(x, like.shape[1], like.shape[2]),
    crossAttention: (prefix, fv, fi) => {
      if (fusedAttention) {
        const c = (p: string): Conv => fusedAttention(`${prefix}.${p}`);
        return pooledAttentionPair(fv, fi, { qv: c('q_v'), kv: c('k_v'), vv: c('v_v'), qi: c('q_i'), ki: c('k_i'), vi: c('v_i') }, ATTENTION_GRID, chunkRows);
      }
      const att = (q: tf.Tensor4D, k: tf.Tensor4D, v: tf.Tensor4D) => tf.tidy(() => pooledCrossAttention(q, k, v, ATTENTION_GRID, chunkRows));
      const a = tf.tidy(() => att(conv(fv, `${prefix}.q_v`), conv(fi, `${prefix}.k_i`), conv(fi, `${prefix}.v_i`)));
      const b = tf.tidy(() => att(conv(fi, `${prefix}.q_i`), conv(fv, `${prefix}.k_v`), conv(fv, `${prefix}.v_v`)));
      const sum = tf.add(a, b) as tf.Tensor4D;
      tf.dispose([a, b]);
      return sum;
    },
    // the reference's form g * cross + (1 - g) * local
    gateMix: (g, cross, fv, fi) => tf.add(tf.mul(g, cross), tf.mul(tf.sub(1, g), tf.add(fv, fi))),
    zeroGate: (like) => tf.zeros([like.shape[0], like.shape[1], like.shape[2], 1]),
    scope: <R>(fn: () => R): R => tf.tidy(fn as () => tf.TensorContainer) as R,
    release: (...xs) => tf.dispose(xs),
  };
}

export interface SourceOptions {
  /**
   * Query rows per attention block (0 = one block): lowers peak memory at large sizes, same result.
   * Default: 0 in training mode, {@link ATTENTION_CHUNK_ROWS} otherwise.
   */
  readonly chunkRows?: number;
}

/** Inference from pre-folded convolutions, keyed by the conv's module name (BN already folded in for CBLs). */
export function foldedSource(convs: ReadonlyMap<string, Conv>, opts: SourceOptions = {}): LayerSource {
  const get = (name: string): Conv => {
    const c = convs.get(name);
    if (!c) throw new Error(`internal: no folded convolution '${name}'`);
    return c;
  };
  // FusedConv2D where it is one pass (webgpu); on wasm it measured ~6% slower than conv, add and LeakyReLU
  // (inference at 240x320, alternated runs), so the CPU backends keep the plain ops
  const fused = tf.getBackend() === 'webgpu';
  return tfjsOps(
    false,
    (x, prefix, i) => (fused ? conv2dFused(x, get(`${prefix}.${i}`), true) : tf.tidy(() => leaky(conv2d(x, get(`${prefix}.${i}`))))),
    (x, name) => (fused ? conv2dFused(x, get(name), false) : conv2d(x, get(name))),
    // where the one-pass attention kernel exists (webgpu), the CFI takes it through the fused form
    tf.getKernel(ATTEND, tf.getBackend()) ? get : undefined,
    opts.chunkRows ?? ATTENTION_CHUNK_ROWS,
  );
}

export interface VariableSourceOptions extends SourceOptions {
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
  const v = (name: string): tf.Tensor1D => {
    const t = vars.get(name);
    if (!t) throw new Error(`internal: no variable '${name}'`);
    return t as tf.Tensor1D;
  };
  const convOf = (name: string): Conv => ({ filter: oihwToHwio(v(`${name}.weight`)), bias: v(`${name}.bias`) });
  const cbl = (x: tf.Tensor4D, prefix: string, i: number): tf.Tensor4D =>
    tf.tidy(() => {
      const conv = convOf(`${prefix}.${i}`);
      const bn = `${prefix}.${i + 1}`;
      const [gamma, beta, runningMean, runningVar] = ['weight', 'bias', 'running_mean', 'running_var'].map((k) => v(`${bn}.${k}`));
      if (!training) return leaky(tf.batchNorm(conv2d(x, conv), runningMean!, runningVar!, beta, gamma, BN_EPS));
      // fused conv + batch-statistics BatchNorm + LeakyReLU with its own gradient (train-ops.ts)
      const r = cblTrain(x, conv.filter, conv.bias, gamma!, beta!);
      if (update) {
        const n = x.shape[0] * x.shape[1] * x.shape[2];
        (vars.get(`${bn}.running_mean`)!).assign(tf.add(tf.mul(runningMean!, 1 - momentum), tf.mul(r.mean, momentum)));
        (vars.get(`${bn}.running_var`)!).assign(tf.add(tf.mul(runningVar!, 1 - momentum), tf.mul(r.variance, (momentum * n) / Math.max(1, n - 1))));
        counters.set(`${bn}.num_batches_tracked`, (counters.get(`${bn}.num_batches_tracked`) ?? 0) + 1);
      }
      tf.dispose([r.mean, r.variance]);
      return r.y;
    });
  // training: the CFI attention in its fused form (train-ops.ts); inference keeps the plain composition,
  // whose peak memory src/model/memory.ts estimates
  return tfjsOps(training, cbl, (x, name) => tf.tidy(() => conv2d(x, convOf(name))), training ? convOf : undefined, opts.chunkRows ?? (training ? 0 : ATTENTION_CHUNK_ROWS));
}
