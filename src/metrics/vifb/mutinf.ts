/**
 * Mutinf (MI) — mutual information between each source and the fused image after VIFB's min-max
 * re-quantisation, vifb convention. Higher is better.
 *
 * Definition (docs/METRICS.md#vifb-mutinf), per channel k: `MI_k = MI(VI_k, F_k) + MI(IR_k, F_k)`, result = mean over
 * channels. `MI(a, b)`: each image is independently stretched, `a' = (a - min) / (max - min)` (all zeros when
 * max = min), and re-quantised `q = round_half_away(255 a')` (the code's `int16()` cast) to 0..255; with the 256 x 256
 * joint histogram and the two marginals divided by N, `H = -sum p ln p` over non-empty cells (nats) and
 * `MI = H_a + H_b - H_ab`. Symmetric in the two sources; MI(x, x) = H(q(x)); a constant image contributes 0;
 * invariant to any increasing affine change of an image (the stretch removes it, up to rounding at exact ties).
 *
 * Paper: G. Qu, D. Zhang, P. Yan, "Information measure for performance of image fusion", Electronics Letters
 * 38(7), 313-315, 2002.
 *
 * Reference implementation reproduced: `metrics/metricsMutinf.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper).
 *
 * Tolerance: the quantisation uses the reference's operations in its order (so the same levels); golden values
 * to 1e-9 relative (observed max 8e-15 on the 12 golden cases).
 * Quirks reproduced: natural log (nats), unlike the bits of Entropy; the per-image stretch means this is not the
 * MI of the raw values (contrast with the mmif MI).
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean, perPlane } from './channels.js';
import { stretchRound } from './stretch.js';

/** VIFB's stretch and re-quantisation of `x` to integer levels 0..255 (see the module comment). */
export function quantizeMinMax(x: Float64Array): Uint8Array {
  // Fast path for integer samples 0..255 (what the loaders give): branch-free min / max, one table lookup per
  // sample; anything else (NaN, other values) takes the general loops below. Same results.
  let fmx = -Infinity, fmn = Infinity, bytes = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    fmx = Math.max(fmx, v);
    fmn = Math.min(fmn, v);
    if ((v & 255) !== v) bytes = false;
  }
  if (bytes && fmx === fmx && fmn === fmn) {
    const q = new Uint8Array(x.length);
    if (!(fmx !== fmn)) return q;
    stretchRound(x, fmn, fmx - fmn, q, true);
    return q;
  }
  let mx = -Infinity, mn = Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > mx) mx = v;
    if (v < mn) mn = v;
  }
  const q = new Uint8Array(x.length);
  if (!(mx !== mn)) return q;
  stretchRound(x, mn, mx - mn, q, false);
  return q;
}

/** `-sum p ln p` over non-zero counts, p = count / n. */
function entropyNats(counts: Float64Array | Uint32Array, n: number): number {
  let s = 0;
  // partial sums over 256 bins at a time limit the rounding error of the 65536-term joint sum
  for (let r = 0; r < counts.length; r += 256) {
    let rs = 0;
    for (let i = r; i < r + 256; i++) {
      const c = counts[i]!;
      if (c !== 0) {
        const p = c / n;
        rs -= p * Math.log(p);
      }
    }
    s += rs;
  }
  return s;
}

interface Quantized {
  readonly q: Uint8Array;
  /** marginal entropy (nats) */
  readonly h: number;
}

function quantized(p: Plane64): Quantized {
  const q = quantizeMinMax(p.data);
  // two interleaved histograms: consecutive equal levels do not wait on each other's increment
  const c0 = new Uint32Array(256), c1 = new Uint32Array(256);
  let i = 0;
  for (; i + 1 < q.length; i += 2) {
    c0[q[i]!]!++;
    c1[q[i + 1]!]!++;
  }
  if (i < q.length) c0[q[i]!]!++;
  for (let b = 0; b < 256; b++) c0[b]! += c1[b]!;
  return { q, h: entropyNats(c0, q.length) };
}

const joint = new Uint32Array(65536);

function mutinfQ(a: Quantized, b: Quantized): number {
  joint.fill(0);
  const qa = a.q, qb = b.q, n = qa.length;
  for (let i = 0; i < n; i++) joint[(qa[i]! << 8) | qb[i]!]!++;
  return a.h + b.h - entropyNats(joint, n);
}

/** VIFB's `mutinf(a, b)` (nats) of two same-size planes. */
export function mutinfPair(a: Plane64, b: Plane64): number {
  return mutinfQ(quantized(a), quantized(b));
}

/** MI of one channel: sources `a` (visible), `b` (infrared), fused `f`. */
export function mutinfChannel(a: Plane64, b: Plane64, f: Plane64): number {
  const qf = quantized(f);
  return mutinfQ(quantized(a), qf) + mutinfQ(quantized(b), qf);
}

export const Mutinf: VifbMetric = {
  name: 'Mutinf',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'MI(VI,F) + MI(IR,F) in nats after per-image min-max re-quantisation, mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const q = perPlane(quantized);
    return channelMean('Mutinf', inputs, ({ vis, ir, fused }) => mutinfQ(q(vis), q(fused)) + mutinfQ(q(ir), q(fused)));
  },
};
