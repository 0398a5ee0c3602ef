/**
 * Test helpers for the vifb metrics: deterministic synthetic images, and deliberately naive re-implementations
 * written straight from docs/METRICS.md#vifb / the MATLAB code (direct DFT with explicit fftshift / ifftshift and
 * freqspace, full 2-D windows, explicit padding, MATLAB's per-pixel loops). They share no code with src/ beyond
 * the Plane type and the seeded PRNG, so agreement with them checks the fast paths (FFT plans, separable filters, packing two images
 * per FFT, tile bookkeeping) independently of the golden file. Only for small images (O(N^2) DFT).
 */
import { plane64 } from '../../../src/core/image.js';
import type { Plane64, VifbInputs } from '../../../src/metrics/types.js';

/** mulberry32: a small deterministic PRNG in [0, 1) (the project's own, src/core/random.ts). */
import { mulberry32 as rng } from '../../../src/core/random.js';
export { rng };

/** A structured 0..255 integer image: smooth blobs + edges + noise (no flat regions, so no 0/0 anywhere). */
export function texture(w: number, h: number, seed: number): Plane64 {
  const r = rng(seed);
  const fx = 0.05 + 0.3 * r(), fy = 0.05 + 0.3 * r(), ph = 6 * r(), cut = w * (0.3 + 0.4 * r());
  const d = new Float64Array(w * h);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const v = 110 + 60 * Math.sin(fx * x + ph) * Math.cos(fy * y) + (x > cut ? 40 : -20) + 25 * (r() - 0.5);
      d[y * w + x] = Math.max(0, Math.min(255, Math.round(v)));
    }
  }
  return plane64(w, h, d);
}

export function constant(w: number, h: number, v: number): Plane64 {
  return plane64(w, h, new Float64Array(w * h).fill(v));
}

/** Applies `f` to every sample (new plane). */
export function mapPlane(p: Plane64, f: (v: number, i: number) => number): Plane64 {
  return plane64(p.width, p.height, p.data.map(f));
}

/** VifbInputs of 3-channel visible, 1- or 3-channel infrared and 3-channel fused textures. */
export function rgbTriple(w: number, h: number, seed: number, irChannels: 1 | 3 = 3): VifbInputs {
  const vis = [0, 1, 2].map((k) => texture(w, h, seed + k));
  const ir = irChannels === 1 ? [texture(w, h, seed + 10)] : [0, 1, 2].map((k) => texture(w, h, seed + 10 + k));
  const fused = vis.map((v, k) => {
    const b = ir[irChannels === 1 ? 0 : k]!;
    return mapPlane(v, (x, i) => Math.floor((x + b.data[i]! + 1) / 2));
  });
  return { vis, ir, fused };
}

/** Relative difference |a - b| / |b| (absolute when b = 0). */
export function rel(a: number, b: number): number {
  return b === 0 ? Math.abs(a) : Math.abs(a - b) / Math.abs(b);
}

// ---------------------------------------------------------------------------------------------------------------
// Naive MATLAB-style building blocks (matrices as number[][] indexed [row][col]).

export type Mat = number[][];

export function toMat(p: Plane64): Mat {
  const m: Mat = [];
  for (let y = 0; y < p.height; y++) m.push(Array.from(p.data.subarray(y * p.width, (y + 1) * p.width)));
  return m;
}

/** Direct 2-D DFT (sign -1 forward, +1 inverse without scaling) of a complex matrix. */
export function dft2(re: Mat, im: Mat, sign: -1 | 1): [Mat, Mat] {
  const h = re.length, w = re[0]!.length;
  const rowsR: Mat = [], rowsI: Mat = [];
  for (let y = 0; y < h; y++) {
    const rr: number[] = [], ri: number[] = [];
    for (let u = 0; u < w; u++) {
      let sr = 0, si = 0;
      for (let x = 0; x < w; x++) {
        const a = (sign * 2 * Math.PI * ((u * x) % w)) / w;
        const c = Math.cos(a), s = Math.sin(a);
        sr += re[y]![x]! * c - im[y]![x]! * s;
        si += re[y]![x]! * s + im[y]![x]! * c;
      }
      rr.push(sr);
      ri.push(si);
    }
    rowsR.push(rr);
    rowsI.push(ri);
  }
  const outR: Mat = Array.from({ length: h }, () => new Array<number>(w).fill(0));
  const outI: Mat = Array.from({ length: h }, () => new Array<number>(w).fill(0));
  for (let u = 0; u < w; u++) {
    for (let v = 0; v < h; v++) {
      let sr = 0, si = 0;
      for (let y = 0; y < h; y++) {
        const a = (sign * 2 * Math.PI * ((v * y) % h)) / h;
        const c = Math.cos(a), s = Math.sin(a);
        sr += rowsR[y]![u]! * c - rowsI[y]![u]! * s;
        si += rowsR[y]![u]! * s + rowsI[y]![u]! * c;
      }
      outR[v]![u] = sr;
      outI[v]![u] = si;
    }
  }
  return [outR, outI];
}

/** MATLAB fftshift (both dimensions): out[i][j] = in[(i + ceil(h/2)) % h][(j + ceil(w/2)) % w]. */
export function fftshift(m: Mat): Mat {
  const h = m.length, w = m[0]!.length;
  return m.map((_, i) => m[0]!.map((__, j) => m[(i + Math.ceil(h / 2)) % h]![(j + Math.ceil(w / 2)) % w]!));
}

/** MATLAB ifftshift: out[i][j] = in[(i + floor(h/2)) % h][(j + floor(w/2)) % w]. */
export function ifftshift(m: Mat): Mat {
  const h = m.length, w = m[0]!.length;
  return m.map((_, i) => m[0]!.map((__, j) => m[(i + Math.floor(h / 2)) % h]![(j + Math.floor(w / 2)) % w]!));
}

/** `real(ifft2(ifftshift(fftshift(fft2(X)) .* R)))` with R from MATLAB's freqspace grid scaled by W/k, H/k. */
export function csfNaive(x: Mat, k: number, response: (r: number) => number): Mat {
  const h = x.length, w = x[0]!.length;
  const zero = x.map((row) => row.map(() => 0));
  const [fr, fi] = dft2(x, zero, -1);
  const sr = fftshift(fr), si = fftshift(fi);
  for (let i = 0; i < h; i++) {
    for (let j = 0; j < w; j++) {
      const u = (w / k) * ((j - Math.floor(w / 2)) * (2 / w));
      const v = (h / k) * ((i - Math.floor(h / 2)) * (2 / h));
      const s = response(Math.sqrt(u * u + v * v));
      sr[i]![j]! *= s;
      si[i]![j]! *= s;
    }
  }
  const [br] = dft2(ifftshift(sr), ifftshift(si), 1);
  return br.map((row) => row.map((v) => v / (w * h)));
}

/** MATLAB filter2(K, X, 'same') with zero padding (correlation), K of odd size. */
export function filter2Same(k: Mat, x: Mat): Mat {
  const h = x.length, w = x[0]!.length, kh = k.length, kw = k[0]!.length;
  const cy = (kh - 1) / 2, cx = (kw - 1) / 2;
  return x.map((row, i) =>
    row.map((_, j) => {
      let s = 0;
      for (let a = 0; a < kh; a++) {
        for (let b = 0; b < kw; b++) {
          const y = i + a - cy, xx = j + b - cx;
          if (y >= 0 && y < h && xx >= 0 && xx < w) s += k[a]![b]! * x[y]![xx]!;
        }
      }
      return s;
    }),
  );
}

/** MATLAB filter2(K, X, 'valid'). */
export function filter2Valid(k: Mat, x: Mat): Mat {
  const h = x.length, w = x[0]!.length, kh = k.length, kw = k[0]!.length;
  const out: Mat = [];
  for (let i = 0; i + kh <= h; i++) {
    const row: number[] = [];
    for (let j = 0; j + kw <= w; j++) {
      let s = 0;
      for (let a = 0; a < kh; a++) for (let b = 0; b < kw; b++) s += k[a]![b]! * x[i + a]![j + b]!;
      row.push(s);
    }
    out.push(row);
  }
  return out;
}

export function normalize1Naive(x: Mat): Mat {
  const flat = x.flat();
  const da = Math.max(...flat), xiao = Math.min(...flat);
  if (da === 0 && xiao === 0) return x.map((r) => [...r]);
  return x.map((r) => r.map((v) => Math.round(((v - xiao) / (da - xiao)) * 255)));
}

export const mean2 = (m: Mat): number => m.flat().reduce((s, v) => s + v, 0) / m.flat().length;
export const zip = (a: Mat, b: Mat, f: (x: number, y: number) => number): Mat => a.map((r, i) => r.map((v, j) => f(v, b[i]![j]!)));
