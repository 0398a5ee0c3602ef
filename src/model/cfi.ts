/**
 * CFI, the Causal Feature Integrator of ISFuse (DESIGN.md §1), one per encoder level.
 *
 * Given same-size features fv (visible / MRI encoder) and fi (infrared / functional encoder), [N,H,W,d]:
 *   Q_v, K_v, V_v = 1x1 convs of fv (q_v, k_v, v_v); Q_i, K_i, V_i = 1x1 convs of fi (q_i, k_i, v_i)
 *   cross = att(Q_v, K_i, V_i) + att(Q_i, K_v, V_v)        (pooled 8x8 cross-attention, layers.ts)
 *   local = fv + fi
 *   g     = sigmoid(conv1x1_{d/2->1}(CBL_{d->d/2,3}(cross)))  (gate.0 conv, gate.1 BN, gate.3 conv)
 *   fused = refine(g * cross + (1 - g) * local)            (refine.0 conv, refine.1 BN)
 * Returns (fused [N,H,W,d], g [N,H,W,1]).
 */
import * as tf from '@tensorflow/tfjs';
import { pooledCrossAttention } from './layers.js';
import { pooledAttentionPair } from './train-ops.js';
import type { LayerSource } from './source.js';

export interface CfiOutput {
  readonly fused: tf.Tensor4D;
  readonly gate: tf.Tensor4D;
}

/** Runs the CFI whose state-dict prefix is `prefix` (e.g. 'cfi3'). Inputs are not disposed. */
export function cfi(src: LayerSource, prefix: string, fv: tf.Tensor4D, fi: tf.Tensor4D, chunkRows = 0): CfiOutput {
  const cp = src.convParams;
  const cross = cp ? tf.tidy(() => pooledAttentionPair(fv, fi, {
    qv: cp(`${prefix}.q_v`), kv: cp(`${prefix}.k_v`), vv: cp(`${prefix}.v_v`),
    qi: cp(`${prefix}.q_i`), ki: cp(`${prefix}.k_i`), vi: cp(`${prefix}.v_i`),
  }, 8, chunkRows)) : tf.tidy(() => {
    const a = tf.tidy(() =>
      pooledCrossAttention(src.conv(fv, `${prefix}.q_v`), src.conv(fi, `${prefix}.k_i`), src.conv(fi, `${prefix}.v_i`), 8, chunkRows));
    const b = tf.tidy(() =>
      pooledCrossAttention(src.conv(fi, `${prefix}.q_i`), src.conv(fv, `${prefix}.k_v`), src.conv(fv, `${prefix}.v_v`), 8, chunkRows));
    return tf.add(a, b) as tf.Tensor4D;
  });
  const gate = tf.tidy(() => tf.sigmoid(src.conv(src.cbl(cross, `${prefix}.gate`, 0), `${prefix}.gate.3`)) as tf.Tensor4D);
  const fused = tf.tidy(() => {
    // g * cross + (1 - g) * local  ==  local + g * (cross - local)   (kept in the reference's form)
    const mixed = tf.add(tf.mul(gate, cross), tf.mul(tf.sub(1, gate), tf.add(fv, fi))) as tf.Tensor4D;
    return src.cbl(mixed, `${prefix}.refine`, 0);
  });
  cross.dispose();
  return { fused, gate };
}
