/**
 * Cross_entropy (CE) — mean of the KL divergences of the sources' histograms from the fused image's, vifb
 * convention. Lower is better.
 *
 * Definition (docs/METRICS.md#vifb-cross-entropy), per channel k: `P = hist256(X) / N` for X in {VI_k, IR_k},
 * `Q = hist256(F_k) / N`, `KL(X, F) = sum over bins with P > 0 and Q > 0 of P log2(P / Q)` (bits);
 * `CE_k = (KL(VI_k, F_k) + KL(IR_k, F_k)) / 2`; result = mean over channels. Symmetric in the two sources;
 * 0 when every source histogram equals the fused one; can be negative (bins where Q = 0 are skipped).
 *
 * Paper: D. M. Bulanon, T. F. Burks, V. Alchanatis, "Image fusion of visible and thermal images for fruit
 * detection", Biosystems Engineering 103(1), 12-22, 2009.
 *
 * Reference implementation reproduced: `metrics/metricsCross_entropy.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: exact histograms; golden values to 1e-9 relative (observed max 9e-16 on the 12 golden cases).
 * Quirks reproduced: despite the name it is a KL divergence; bins where the fused histogram is empty are
 * skipped, so it is never infinite. Deviation: non-integer values are floored and values outside 0..255
 * clamped into the end bins (MATLAB's indexing would error); the loaders never produce them.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean, perPlane } from './channels.js';
import { histogramFloor256 } from './entropy.js';

function kl(p: Float64Array, q: Float64Array, n: number): number {
  let s = 0;
  for (let b = 0; b < 256; b++) {
    const pb = p[b]! / n, qb = q[b]! / n;
    if (pb !== 0 && qb !== 0) s += pb * Math.log2(pb / qb);
  }
  return s;
}

/** CE of one channel: sources `a` (visible) and `b` (infrared), fused `f`. */
export function crossEntropyChannel(a: Plane64, b: Plane64, f: Plane64): number {
  const n = f.data.length;
  const hf = histogramFloor256(f.data);
  return (kl(histogramFloor256(a.data), hf, n) + kl(histogramFloor256(b.data), hf, n)) / 2;
}

export const Cross_entropy: VifbMetric = {
  name: 'Cross_entropy',
  convention: 'vifb',
  higherIsBetter: false,
  description: 'Mean KL divergence (bits) of the source histograms from the fused histogram, per channel',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const hist = perPlane((p) => histogramFloor256(p.data));
    return channelMean('Cross_entropy', inputs, ({ vis, ir, fused }) => {
      const n = fused.data.length;
      const hf = hist(fused);
      return (kl(hist(vis), hf, n) + kl(hist(ir), hf, n)) / 2;
    });
  },
};
