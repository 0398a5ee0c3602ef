/**
 * Entropy (EN) — Shannon entropy of the fused image, vifb convention. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-entropy), per channel k: `P = hist256(floor(F_k)) / N`,
 * `EN_k = -sum_{P(b) > 0} P(b) log2 P(b)` (bits, 0..8); result = mean over channels. Depends on F only.
 * Invariant to any permutation of pixels and to any one-to-one remapping of the 256 levels; 0 for a constant image.
 *
 * Paper: J. W. Roberts, J. A. van Aardt, F. B. Ahmed, "Assessment of image fusion procedures using entropy,
 * image quality, and multispectral classification", J. Appl. Remote Sens. 2(1) 023522, 2008.
 *
 * Reference implementation reproduced: `metrics/metricsEntropy.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: exact histogram; golden values to 1e-9 relative (observed max 7e-16 on the 12 golden cases).
 * Deviation: values outside 0..255 (which MATLAB's indexing would reject) are clamped into the end bins; NaN goes
 * to bin 0. The loaders never produce such values.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean } from './channels.js';

/** 256-bin counts of `floor(x)` clamped to 0..255. */
export function histogramFloor256(x: Float64Array): Float64Array {
  const h = new Float64Array(256);
  for (let i = 0; i < x.length; i++) {
    const v = Math.floor(x[i]!);
    h[v >= 0 ? (v <= 255 ? v : 255) : 0]!++;
  }
  return h;
}

/** Entropy in bits of one channel `f`. */
export function entropyChannel(f: Plane64): number {
  const h = histogramFloor256(f.data);
  const n = f.data.length;
  let s = 0;
  for (let b = 0; b < 256; b++) {
    if (h[b]! > 0) {
      const p = h[b]! / n;
      s += p * Math.log2(p);
    }
  }
  return s === 0 ? 0 : -s;
}

export const Entropy: VifbMetric = {
  name: 'Entropy',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Entropy of the fused image (bits, 256 bins, per channel)',
  uses: ['fused'],
  compute: (inputs) => channelMean('Entropy', inputs, (t) => entropyChannel(t.fused)),
};
