/**
 * Qabf — Xydeas-Petrović edge-preservation metric, vifb convention: how much of the sources' edge strength
 * and orientation the fused image keeps, weighted by the sources' edge strength. Higher is better, 0..~1.
 *
 * Definition (docs/METRICS.md#vifb-qabf), per channel k with A = VI_k, B = IR_k, F = F_k; result = mean over channels:
 * - every image is multiplied by 255 (the inputs are already 0..255, so 0..65025; the reference's
 *   `255*im2double(x)` on doubles);
 * - Sobel responses by true convolution with zero padding, same size:
 *   `Sx = conv2(X, [[-1,0,1],[-2,0,2],[-1,0,1]])` (left minus right), `Sy = conv2(X, [[1,2,1],[0,0,0],[-1,-2,-1]])`
 *   (below minus above); `g = sqrt(Sx^2 + Sy^2)`; `alpha = atan(Sy / Sx)`, `pi/2` where `Sx == 0`;
 * - for X in {A, B}: `G = g_F / g_X` if `g_X > g_F`, **`g_F` if `g_X == g_F`** (quirk), `g_X / g_F` otherwise;
 *   `Aa = 1 - |alpha_X - alpha_F| / (pi/2)`; `Q_XF = 0.9994 / (1 + exp(-15 (G - 0.5))) * 0.9879 / (1 + exp(-22 (Aa - 0.8)))`;
 * - `Qabf = sum(Q_AF g_A + Q_BF g_B) / sum(g_A + g_B)`.
 * Symmetric in A and B. Both sources without any Sobel response: 0/0 = NaN (docs/METRICS.md#edge-cases); with zero
 * padding that means all-zero sources (the border of a non-zero constant image is an edge).
 *
 * Paper: C. S. Xydeas, V. Petrović, "Objective image fusion performance measure", Electronics Letters 36(4),
 * 308-309, 2000 (VIFB's header cites it as "Military Technical Courier").
 *
 * Reference implementation reproduced: `metrics/metricsQabf.m` of xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade (per-channel wrapper; the reference's per-pixel loops vectorised).
 *
 * Computation: with WebAssembly SIMD (the default) the per-pixel work runs in ./qabf-wasm.ts (the same doubles:
 * its exp / atan are fdlibm's, as Math.exp / Math.atan) and only the sums stay here; else the loops below.
 *
 * Tolerance: Sobel responses and their squares are exact integers for integer inputs, so g and the comparisons
 * are bit-identical to the reference; atan/exp differ by at most an ulp. Golden values to 1e-9 relative
 * (observed max 8e-16 on the 12 golden cases).
 * Quirks reproduced: the `g_X == g_F -> G = g_F` branch; with the x255 scaling every non-zero equal gradient is
 * >= 255, so that branch yields exactly `Qg = 0.9994`; pixels with `g_X = 0` carry zero weight (their Q is
 * finite, so they add exactly 0 and are skipped). `atan`, not `atan2`; no wrap-around of the angle difference.
 */
import type { Plane64, VifbMetric } from '../types.js';
import { channelMean, channelTriples, distinctPlanes, perPlane } from './channels.js';
import { qabfWasm } from './qabf-wasm.js';
import { pad1 } from './sobel.js';

const HALF_PI = Math.PI / 2;
const TG = 0.9994, KG = -15, DG = 0.5;
const TA = 0.9879, KA = -22, DA = 0.8;

/** Edge strength `g` and orientation `alpha` of one plane, after the x255 scaling. */
export interface QabfGradients {
  readonly g: Float64Array;
  readonly alpha: Float64Array;
}

/** Sobel strength and orientation of `x` as the reference computes them (x255, conv2 'same'). */
export function qabfGradients(x: Plane64): QabfGradients {
  const n = x.width * x.height;
  return gradientsInto(x, pad1(x, 'zero'), new Float64Array(n), new Float64Array(n));
}

/** {@link qabfGradients} into given arrays; `p` holds `pad1(x, 'zero')`. */
function gradientsInto(x: Plane64, p: Float64Array, g: Float64Array, alpha: Float64Array): QabfGradients {
  const { width: w, height: h } = x;
  const wp = w + 2;
  for (let y = 0; y < h; y++) {
    let c = (y + 1) * wp + 1;
    const o = y * w;
    for (let j = 0; j < w; j++, c++) {
      const nw = p[c - wp - 1]!, n = p[c - wp]!, ne = p[c - wp + 1]!;
      const sw = p[c + wp - 1]!, s = p[c + wp]!, se = p[c + wp + 1]!;
      // ./sobel.ts stencil; conv2 flips the kernels: Sx = left - right = -dx, Sy = below - above = dy;
      // then the x255 scaling (exact for integer inputs: 255 * integer).
      const sx = -255 * (ne + 2 * p[c + 1]! + se - (nw + 2 * p[c - 1]! + sw));
      const sy = 255 * (sw + 2 * s + se - (nw + 2 * n + ne));
      g[o + j] = Math.sqrt(sx * sx + sy * sy);
      alpha[o + j] = sx === 0 ? HALF_PI : Math.atan(sy / sx);
    }
  }
  return { g, alpha };
}

// Buffers for Qabf.compute, reused from call to call (single-threaded): the zero-padded plane and, per distinct
// plane of an evaluation, its strength and orientation (freed by the next call).
let padBuf = new Float64Array(0), padW = 0, padH = 0;
let pool: Float64Array[] = [];
let poolN = 0;

function pooledGradients(x: Plane64, used: Float64Array[]): QabfGradients {
  const { width: w, height: h, data } = x;
  const n = w * h;
  if (poolN !== n) {
    pool = [];
    poolN = n;
  }
  if (padW !== w || padH !== h) {
    padBuf = new Float64Array((w + 2) * (h + 2)); // the zero frame is never written
    padW = w;
    padH = h;
  }
  for (let y = 0; y < h; y++) padBuf.set(data.subarray(y * w, y * w + w), (y + 1) * (w + 2) + 1);
  const g = pool.pop() ?? new Float64Array(n), alpha = pool.pop() ?? new Float64Array(n);
  used.push(g, alpha);
  return gradientsInto(x, padBuf, g, alpha);
}

/**
 * `sum(terms) / sum(gA + gB)` in the order of {@link qabfFromGradients} (blocks of 1024 pixels), from the
 * per-pixel terms `Q_AF gA + Q_BF gB` (zero terms included).
 */
function blockRatio(terms: Float64Array, ga: Float64Array, gb: Float64Array): number {
  let num = 0, den = 0;
  for (let i0 = 0; i0 < terms.length; i0 += 1024) {
    let bn = 0, bd = 0;
    const i1 = Math.min(i0 + 1024, terms.length);
    for (let i = i0; i < i1; i++) {
      bn += terms[i]!;
      bd += ga[i]! + gb[i]!;
    }
    num += bn;
    den += bd;
  }
  return num / den;
}

/**
 * Qabf on the WebAssembly SIMD kernels (./qabf-wasm.ts): every distinct plane's gradients once, then each channel's
 * per-pixel terms, summed here as {@link qabfFromGradients} does. Null without the kernels or their memory.
 */
function qabfSimd(triples: ReturnType<typeof channelTriples>): number | null {
  const { width: w, height: h } = triples[0]!.fused;
  const planes = distinctPlanes(triples);
  const k = qabfWasm(w, h, planes.length);
  if (!k) return null;
  planes.forEach((p, i) => k.gradients(i, p.data));
  const slot = (p: Plane64): number => planes.indexOf(p);
  let s = 0;
  for (const t of triples) {
    k.terms(slot(t.vis), slot(t.ir), slot(t.fused));
    // (the terms count where g is non-zero; the pixel's s is 0 + term, as in qabfFromGradients)
    s += blockRatio(k.out, k.g(slot(t.vis)), k.g(slot(t.ir)));
  }
  return s / triples.length;
}

/** Qabf from the gradients of A, B and F. */
export function qabfFromGradients(A: QabfGradients, B: QabfGradients, F: QabfGradients): number {
  const ga = A.g, gb = B.g, gf = F.g, aa = A.alpha, ab = B.alpha, af = F.alpha;
  let num = 0, den = 0;
  // partial sums over blocks of 1024 pixels limit the rounding error of the two long sums
  for (let i0 = 0; i0 < gf.length; i0 += 1024) {
    let bn = 0, bd = 0;
    const i1 = Math.min(i0 + 1024, gf.length);
    for (let i = i0; i < i1; i++) {
      const gA = ga[i]!, gB = gb[i]!, gF = gf[i]!;
      let s = 0;
      if (gA !== 0) {
        const G = gA > gF ? gF / gA : gA === gF ? gF : gA / gF;
        const Aa = 1 - Math.abs(aa[i]! - af[i]!) / HALF_PI;
        s += ((TG / (1 + Math.exp(KG * (G - DG)))) * (TA / (1 + Math.exp(KA * (Aa - DA))))) * gA;
      }
      if (gB !== 0) {
        const G = gB > gF ? gF / gB : gB === gF ? gF : gB / gF;
        const Aa = 1 - Math.abs(ab[i]! - af[i]!) / HALF_PI;
        s += ((TG / (1 + Math.exp(KG * (G - DG)))) * (TA / (1 + Math.exp(KA * (Aa - DA))))) * gB;
      }
      bn += s;
      bd += gA + gB;
    }
    num += bn;
    den += bd;
  }
  return num / den;
}

/** Qabf of one channel: sources `a` (visible), `b` (infrared), fused `f`. */
export function qabfChannel(a: Plane64, b: Plane64, f: Plane64): number {
  return qabfFromGradients(qabfGradients(a), qabfGradients(b), qabfGradients(f));
}

export const Qabf: VifbMetric = {
  name: 'Qabf',
  convention: 'vifb',
  higherIsBetter: true,
  description: 'Xydeas-Petrovic edge preservation (Sobel strength and orientation), mean over channels',
  uses: ['ir', 'vis', 'fused'],
  compute: (inputs) => {
    const fast = qabfSimd(channelTriples('Qabf', inputs));
    if (fast !== null) return fast;
    const used: Float64Array[] = [];
    const grad = perPlane((p: Plane64) => pooledGradients(p, used));
    try {
      return channelMean('Qabf', inputs, ({ vis, ir, fused }) => qabfFromGradients(grad(vis), grad(ir), grad(fused)));
    } finally {
      if (used.length > 0 && used[0]!.length === poolN) pool.push(...used);
    }
  },
};
