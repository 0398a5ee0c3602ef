/**
 * Psnr — VIFB's peak signal-to-noise ratio, vifb convention. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-psnr), per channel k: `MES = (d(VI_k, F_k) + d(IR_k, F_k)) / 2` with VIFB's
 * `d(X, F) = sqrt(sum (X - F)^2) / N` (see ./rmse.ts), `PSNR_k = 20 log10(255 / sqrt(MES))` dB; result = mean of
 * the per-channel dB values. Typical values 55..65 dB. Symmetric in the two sources; +Infinity when F equals both
 * sources (MES = 0), and the mean over channels is then +Infinity too.
 *
 * Paper (as cited by VIFB): P. Jagalingam, A. V. Hegde, "A review of quality metrics for fused image",
 * Aquatic Procedia 4, 133-142, 2015.
 *
 * Reference implementation reproduced: `metrics/metricsPsnr.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: golden values to 1e-9 relative (observed max 4e-16 on the 12 golden cases).
 * Quirk reproduced: the "MSE" is `sqrt(SSE)/N`, not SSE/N, so values are ~45 dB above a textbook PSNR.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';
import { vifbRootSse } from './rmse.js';

/** PSNR (dB) of one channel: sources `a` (visible), `b` (infrared), fused `f`. */
export function psnrChannel(a: Plane64, b: Plane64, f: Plane64): number {
  const mes = (vifbRootSse(a, f) + vifbRootSse(b, f)) / 2;
  return 20 * Math.log10(255 / Math.sqrt(mes));
}

export const Psnr: VifbMetric = {
  name: 'Psnr',
  convention: 'vifb',
  higherIsBetter: true,
  description: "VIFB's PSNR: 20 log10(255 / sqrt(mean of sqrt(SSE)/N over the sources)), mean over channels (dB)",
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => channelMean('Psnr', inputs, (t) => psnrChannel(t.vis, t.ir, t.fused)),
};
