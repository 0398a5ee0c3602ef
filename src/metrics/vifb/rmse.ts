/**
 * Rmse — VIFB's "root mean squared error", vifb convention. Lower is better.
 *
 * Definition (docs/METRICS.md#vifb-rmse): VIFB's helper `mse(X, F) = sqrt( sum (X - F)^2 ) / N` (root of the *sum*,
 * divided by N: the true RMSE divided by sqrt(N)); per channel k
 * `Rmse_k = (d(VI_k, F_k) + d(IR_k, F_k)) / 2`; result = mean over channels. Typical values 0.03..0.2.
 * Symmetric in the two sources; 0 iff F equals both sources; invariant to adding one constant to all three.
 *
 * Paper (as cited by VIFB): P. Jagalingam, A. V. Hegde, "A review of quality metrics for fused image",
 * Aquatic Procedia 4, 133-142, 2015.
 *
 * Reference implementation reproduced: `metrics/metricsRmse.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: exact sums for integer inputs; golden values to 1e-9 relative (observed: exact on the 12 golden cases).
 * Quirk reproduced: `sqrt(SSE) / N` instead of `sqrt(SSE / N)`.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';

/** VIFB's `mse` helper: `sqrt(sum((x - f)^2)) / N`. */
export function vifbRootSse(x: Plane64, f: Plane64): number {
  const a = x.data, b = f.data;
  let s = 0;
  for (let i = 0; i < a.length; i++) {
    const d = a[i]! - b[i]!;
    s += d * d;
  }
  return Math.sqrt(s) / a.length;
}

/** Rmse of one channel: sources `a` (visible), `b` (infrared), fused `f`. */
export function rmseChannel(a: Plane64, b: Plane64, f: Plane64): number {
  return (vifbRootSse(a, f) + vifbRootSse(b, f)) / 2;
}

export const Rmse: VifbMetric = {
  name: 'Rmse',
  convention: 'vifb',
  higherIsBetter: false,
  description: "VIFB's RMSE: mean over the two sources of sqrt(SSE)/N, per channel",
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => channelMean('Rmse', inputs, (t) => rmseChannel(t.vis, t.ir, t.fused)),
};
