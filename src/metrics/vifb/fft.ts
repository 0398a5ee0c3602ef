/**
 * Complex discrete Fourier transforms of any length in float64, and 2-D filtering of real images by real,
 * even frequency responses: what VIFB's Qcb and Qcv need (MATLAB `fft2` / `ifft2` on whole images such as
 * 630x460 or 575x475, then a contrast-sensitivity filter).
 *
 * Why hand-written: no well-kept npm package does float64 FFTs of arbitrary size. `fft.js` (radix 4),
 * `fft-js` and `ml-fft` take powers of two only; `kissfft-js`, `kissfft-wasm` and `@echogarden/pffft-wasm`
 * are float32 builds (PFFFT also restricts sizes to multiples of 16 or 32 with factors 2, 3, 5);
 * `ndarray-fft` handles any size but has been unmaintained since 2015 and brings in ndarray and a pool.
 *
 * Algorithm: Stockham autosort (out of place, no bit reversal), decimation in frequency, mixed radix:
 * hand-written radix-8, -4, -2, -3 and -5 butterflies, a generic odd-radix butterfly for primes up to
 * {@link MAX_DIRECT_PRIME}, and Bluestein's chirp-z transform (through a smooth length >= 2n - 1) for
 * lengths with a larger prime factor. Plans (factors, twiddles, chirps) are built once per length and cached.
 * Twiddles are computed directly as `cos` / `sin` of `2 pi (j p mod n) / n`, not by recurrence, so the
 * transforms are accurate to a few ulps times log n (tested against a direct DFT and numpy.fft).
 *
 * Layout, "batched along axis 0": a length-n transform over `batch` contiguous lanes; element t of lane b is
 * at index `t * batch + b`. With `batch = width` this transforms every column of a row-major image at once,
 * and the innermost loops run over contiguous memory. The 2-D transforms work strip by strip: a strip of 32
 * columns (or of 32 rows, transposed on the way in) is copied into a small buffer, transformed there with every
 * stage in cache, and copied back, so each direction reads and writes the image once.
 * Real and imaginary parts are separate `Float64Array`s. The inverse transform uses the identity
 * `ifft(x) = swap(fft(swap(x))) / n` (swap = exchange real and imaginary parts), which with split arrays is free.
 *
 * The 2-D functions run on WebAssembly SIMD (./fft-wasm.ts, same stages and operations, bit-identical, ~2x faster)
 * when both lengths factor into radices 2, 3, 4, 5 and 8; the JavaScript passes here are the fallback.
 */

import { fftWasm, WASM_RADICES, type StageLike } from './fft-wasm.js';

/** Largest prime factor done with a direct odd-radix butterfly; larger primes go through Bluestein. */
export const MAX_DIRECT_PRIME = 61;

interface Stage {
  /** radix */
  readonly r: number;
  /** sub-transform length after this stage (n_cur / r) */
  readonly m: number;
  /** twiddles exp(-2 pi i j p / (r m)) for p = 0..m-1, j = 1..r-1: cos at 2*(p*(r-1)+j-1), sin after it */
  readonly tw: Float64Array;
  /** generic odd radix only: cos / sin (2 pi j k / r) for j, k = 0..r-1 at j*r+k */
  readonly cr?: Float64Array;
  readonly sr?: Float64Array;
}

interface Bluestein {
  /** convolution length (>= 2n - 1, 2-3-5 smooth) */
  readonly len: number;
  /** chirp exp(-i pi t^2 / n), t = 0..n-1 */
  readonly wr: Float64Array;
  readonly wi: Float64Array;
  /** FFT of the conjugate chirp, wrapped circularly, divided by len */
  readonly br: Float64Array;
  readonly bi: Float64Array;
}

/** A cached plan for complex DFTs of one length; obtain it with {@link fftPlan}. */
export interface FftPlan {
  readonly n: number;
  /** Radices of the direct (Stockham) path, empty for Bluestein lengths and n = 1. */
  readonly radices: readonly number[];
  /** true when the length has a prime factor above {@link MAX_DIRECT_PRIME}. */
  readonly bluestein: boolean;
}

interface Plan extends FftPlan {
  readonly stages: readonly Stage[];
  readonly blue?: Bluestein;
}

const plans = new Map<number, Plan>();

/** The (cached) plan for length `n` (a positive integer). */
export function fftPlan(n: number): FftPlan {
  return getPlan(n);
}

function getPlan(n: number): Plan {
  let p = plans.get(n);
  if (!p) {
    if (!Number.isInteger(n) || n < 1) throw new RangeError(`FFT length must be a positive integer, got ${n}`);
    p = buildPlan(n);
    plans.set(n, p);
  }
  return p;
}

/** Radices in stage order: 8s first (but 16 = 4 x 4 rather than 8 x 2), then 4s, one 2, odd primes ascending. */
function factorize(n: number): number[] {
  const f: number[] = [];
  let m = n;
  while (m % 8 === 0 && m !== 16) {
    f.push(8);
    m /= 8;
  }
  while (m % 4 === 0) {
    f.push(4);
    m /= 4;
  }
  if (m % 2 === 0) {
    f.push(2);
    m /= 2;
  }
  for (let d = 3; d * d <= m; d += 2) {
    while (m % d === 0) {
      f.push(d);
      m /= d;
    }
  }
  if (m > 1) f.push(m);
  return f;
}

function buildPlan(n: number): Plan {
  const radices = factorize(n);
  if (radices.some((r) => r > MAX_DIRECT_PRIME)) {
    let len = 2 * n - 1;
    while (!isSmooth(len)) len++;
    const wr = new Float64Array(n), wi = new Float64Array(n);
    const twoN = 2 * n;
    for (let t = 0; t < n; t++) {
      // t^2 mod 2n keeps the angle small (exact: t^2 < 2^53 for every practical n).
      const a = (Math.PI * ((t * t) % twoN)) / n;
      wr[t] = Math.cos(a);
      wi[t] = -Math.sin(a);
    }
    const br = new Float64Array(len), bi = new Float64Array(len);
    br[0] = wr[0]!;
    bi[0] = -wi[0]!;
    for (let t = 1; t < n; t++) {
      br[t] = br[len - t] = wr[t]!;
      bi[t] = bi[len - t] = -wi[t]!;
    }
    fftAxis0(br, bi, 1, false);
    for (let k = 0; k < len; k++) {
      br[k]! /= len;
      bi[k]! /= len;
    }
    return { n, radices: [], bluestein: true, stages: [], blue: { len, wr, wi, br, bi } };
  }
  const stages: Stage[] = [];
  let cur = n;
  for (const r of radices) {
    const m = cur / r;
    const tw = new Float64Array(2 * m * (r - 1));
    for (let p = 0; p < m; p++) {
      for (let j = 1; j < r; j++) {
        const a = (2 * Math.PI * ((j * p) % cur)) / cur;
        const o = 2 * (p * (r - 1) + j - 1);
        tw[o] = Math.cos(a);
        tw[o + 1] = -Math.sin(a);
      }
    }
    if (r > 5 && r !== 8) {
      const cr = new Float64Array(r * r), sr = new Float64Array(r * r);
      for (let j = 0; j < r; j++) {
        for (let k = 0; k < r; k++) {
          const a = (2 * Math.PI * ((j * k) % r)) / r;
          cr[j * r + k] = Math.cos(a);
          sr[j * r + k] = Math.sin(a);
        }
      }
      stages.push({ r, m, tw, cr, sr });
    } else stages.push({ r, m, tw });
    cur = m;
  }
  return { n, radices, bluestein: false, stages };
}

function isSmooth(n: number): boolean {
  for (const p of [2, 3, 5]) while (n % p === 0) n /= p;
  return n === 1;
}

// Work buffers, grown on demand and reused (JavaScript is single-threaded; no transform re-enters another
// that shares a buffer: Bluestein uses its own pair below).
let workRe = new Float64Array(0);
let workIm = new Float64Array(0);
let blueRe = new Float64Array(0);
let blueIm = new Float64Array(0);

function work(size: number): void {
  if (workRe.length < size) {
    workRe = new Float64Array(size);
    workIm = new Float64Array(size);
  }
}

/**
 * In-place DFT of length `n = re.length / batch` along axis 0 over `batch` contiguous lanes (see the module
 * comment): forward `X[k] = sum_t x[t] exp(-2 pi i t k / n)`; with `inverse` the conjugate kernel, unnormalised
 * (divide by n yourself). `re.length` must be a multiple of `batch`.
 *
 * @example // four columns of a 3x4 image
 * fftAxis0(re, im, 4);
 */
export function fftAxis0(re: Float64Array, im: Float64Array, batch: number, inverse = false): void {
  if (inverse) {
    fftAxis0(im, re, batch, false);
    return;
  }
  const total = re.length;
  if (im.length !== total || batch < 1 || total % batch !== 0) throw new RangeError('fftAxis0: bad array lengths');
  const n = total / batch;
  const plan = getPlan(n);
  if (plan.blue) {
    bluestein(plan.blue, n, re, im, batch);
    return;
  }
  if (plan.stages.length === 0) return;
  work(total);
  // Work arrays may be longer than `total`; stages only touch the first `total` entries.
  let xr: Float64Array = re, xi: Float64Array = im, yr: Float64Array = workRe, yi: Float64Array = workIm;
  let s = batch;
  for (const st of plan.stages) {
    switch (st.r) {
      case 8:
        radix8(st, s, xr, xi, yr, yi);
        break;
      case 4:
        radix4(st, s, xr, xi, yr, yi);
        break;
      case 2:
        radix2(st, s, xr, xi, yr, yi);
        break;
      case 3:
        radix3(st, s, xr, xi, yr, yi);
        break;
      case 5:
        radix5(st, s, xr, xi, yr, yi);
        break;
      default:
        radixOdd(st, s, xr, xi, yr, yi);
    }
    s *= st.r;
    const tr = xr, ti = xi;
    xr = yr;
    xi = yi;
    yr = tr;
    yi = ti;
  }
  if (xr !== re) {
    re.set(xr.subarray(0, total));
    im.set(xi.subarray(0, total));
  }
}

function radix2(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, tw } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const w1r = tw[2 * p]!, w1i = tw[2 * p + 1]!;
    const xb = s * p, yb = 2 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = xb + q, i1 = i0 + sm;
      const a0r = xr[i0]!, a0i = xi[i0]!, a1r = xr[i1]!, a1i = xi[i1]!;
      const o = yb + q;
      yr[o] = a0r + a1r;
      yi[o] = a0i + a1i;
      const dr = a0r - a1r, di = a0i - a1i;
      yr[o + s] = dr * w1r - di * w1i;
      yi[o + s] = dr * w1i + di * w1r;
    }
  }
}

function radix4(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, tw } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 6 * p;
    const w1r = tw[t]!, w1i = tw[t + 1]!, w2r = tw[t + 2]!, w2i = tw[t + 3]!, w3r = tw[t + 4]!, w3i = tw[t + 5]!;
    const xb = s * p, yb = 4 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = xb + q, i1 = i0 + sm, i2 = i1 + sm, i3 = i2 + sm;
      const a0r = xr[i0]!, a0i = xi[i0]!, a1r = xr[i1]!, a1i = xi[i1]!;
      const a2r = xr[i2]!, a2i = xi[i2]!, a3r = xr[i3]!, a3i = xi[i3]!;
      const t0r = a0r + a2r, t0i = a0i + a2i, t1r = a0r - a2r, t1i = a0i - a2i;
      const t2r = a1r + a3r, t2i = a1i + a3i, t3r = a1r - a3r, t3i = a1i - a3i;
      const o = yb + q;
      yr[o] = t0r + t2r;
      yi[o] = t0i + t2i;
      // y1 = t1 - i t3, y2 = t0 - t2, y3 = t1 + i t3, each times its twiddle
      const y1r = t1r + t3i, y1i = t1i - t3r;
      const y2r = t0r - t2r, y2i = t0i - t2i;
      const y3r = t1r - t3i, y3i = t1i + t3r;
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
      yr[o + 3 * s] = y3r * w3r - y3i * w3i;
      yi[o + 3 * s] = y3r * w3i + y3i * w3r;
    }
  }
}

const R2 = Math.SQRT1_2;

function radix8(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, tw } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 14 * p;
    const w1r = tw[t]!, w1i = tw[t + 1]!, w2r = tw[t + 2]!, w2i = tw[t + 3]!, w3r = tw[t + 4]!, w3i = tw[t + 5]!;
    const w4r = tw[t + 6]!, w4i = tw[t + 7]!, w5r = tw[t + 8]!, w5i = tw[t + 9]!, w6r = tw[t + 10]!, w6i = tw[t + 11]!;
    const w7r = tw[t + 12]!, w7i = tw[t + 13]!;
    const xb = s * p, yb = 8 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = xb + q;
      const a0r = xr[i0]!, a0i = xi[i0]!, a1r = xr[i0 + sm]!, a1i = xi[i0 + sm]!;
      const a2r = xr[i0 + 2 * sm]!, a2i = xi[i0 + 2 * sm]!, a3r = xr[i0 + 3 * sm]!, a3i = xi[i0 + 3 * sm]!;
      const a4r = xr[i0 + 4 * sm]!, a4i = xi[i0 + 4 * sm]!, a5r = xr[i0 + 5 * sm]!, a5i = xi[i0 + 5 * sm]!;
      const a6r = xr[i0 + 6 * sm]!, a6i = xi[i0 + 6 * sm]!, a7r = xr[i0 + 7 * sm]!, a7i = xi[i0 + 7 * sm]!;
      // even half: radix 4 on a0, a2, a4, a6
      const p0r = a0r + a4r, p0i = a0i + a4i, p1r = a0r - a4r, p1i = a0i - a4i;
      const p2r = a2r + a6r, p2i = a2i + a6i, p3r = a2r - a6r, p3i = a2i - a6i;
      const e0r = p0r + p2r, e0i = p0i + p2i, e2r = p0r - p2r, e2i = p0i - p2i;
      const e1r = p1r + p3i, e1i = p1i - p3r, e3r = p1r - p3i, e3i = p1i + p3r;
      // odd half: radix 4 on a1, a3, a5, a7
      const q0r = a1r + a5r, q0i = a1i + a5i, q1r = a1r - a5r, q1i = a1i - a5i;
      const q2r = a3r + a7r, q2i = a3i + a7i, q3r = a3r - a7r, q3i = a3i - a7i;
      const o0r = q0r + q2r, o0i = q0i + q2i, o2r = q0r - q2r, o2i = q0i - q2i;
      const o1r = q1r + q3i, o1i = q1i - q3r, o3r = q1r - q3i, o3i = q1i + q3r;
      // times W8^j: W8 = (1 - i)/sqrt2, W8^2 = -i, W8^3 = -(1 + i)/sqrt2
      const u1r = R2 * (o1r + o1i), u1i = R2 * (o1i - o1r);
      const u2r = o2i, u2i = -o2r;
      const u3r = R2 * (o3i - o3r), u3i = -R2 * (o3r + o3i);
      const o = yb + q;
      yr[o] = e0r + o0r;
      yi[o] = e0i + o0i;
      let vr = e1r + u1r, vi = e1i + u1i;
      yr[o + s] = vr * w1r - vi * w1i;
      yi[o + s] = vr * w1i + vi * w1r;
      vr = e2r + u2r;
      vi = e2i + u2i;
      yr[o + 2 * s] = vr * w2r - vi * w2i;
      yi[o + 2 * s] = vr * w2i + vi * w2r;
      vr = e3r + u3r;
      vi = e3i + u3i;
      yr[o + 3 * s] = vr * w3r - vi * w3i;
      yi[o + 3 * s] = vr * w3i + vi * w3r;
      vr = e0r - o0r;
      vi = e0i - o0i;
      yr[o + 4 * s] = vr * w4r - vi * w4i;
      yi[o + 4 * s] = vr * w4i + vi * w4r;
      vr = e1r - u1r;
      vi = e1i - u1i;
      yr[o + 5 * s] = vr * w5r - vi * w5i;
      yi[o + 5 * s] = vr * w5i + vi * w5r;
      vr = e2r - u2r;
      vi = e2i - u2i;
      yr[o + 6 * s] = vr * w6r - vi * w6i;
      yi[o + 6 * s] = vr * w6i + vi * w6r;
      vr = e3r - u3r;
      vi = e3i - u3i;
      yr[o + 7 * s] = vr * w7r - vi * w7i;
      yi[o + 7 * s] = vr * w7i + vi * w7r;
    }
  }
}

const SIN60 = Math.sqrt(3) / 2;

function radix3(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, tw } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 4 * p;
    const w1r = tw[t]!, w1i = tw[t + 1]!, w2r = tw[t + 2]!, w2i = tw[t + 3]!;
    const xb = s * p, yb = 3 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = xb + q, i1 = i0 + sm, i2 = i1 + sm;
      const a0r = xr[i0]!, a0i = xi[i0]!, a1r = xr[i1]!, a1i = xi[i1]!, a2r = xr[i2]!, a2i = xi[i2]!;
      const t1r = a1r + a2r, t1i = a1i + a2i;
      const t2r = a0r - 0.5 * t1r, t2i = a0i - 0.5 * t1i;
      const t3r = SIN60 * (a1r - a2r), t3i = SIN60 * (a1i - a2i);
      const o = yb + q;
      yr[o] = a0r + t1r;
      yi[o] = a0i + t1i;
      const y1r = t2r + t3i, y1i = t2i - t3r;
      const y2r = t2r - t3i, y2i = t2i + t3r;
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
    }
  }
}

const C1_5 = Math.cos((2 * Math.PI) / 5), C2_5 = Math.cos((4 * Math.PI) / 5);
const S1_5 = Math.sin((2 * Math.PI) / 5), S2_5 = Math.sin((4 * Math.PI) / 5);

function radix5(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { m, tw } = st;
  const sm = s * m;
  for (let p = 0; p < m; p++) {
    const t = 8 * p;
    const w1r = tw[t]!, w1i = tw[t + 1]!, w2r = tw[t + 2]!, w2i = tw[t + 3]!;
    const w3r = tw[t + 4]!, w3i = tw[t + 5]!, w4r = tw[t + 6]!, w4i = tw[t + 7]!;
    const xb = s * p, yb = 5 * s * p;
    for (let q = 0; q < s; q++) {
      const i0 = xb + q, i1 = i0 + sm, i2 = i1 + sm, i3 = i2 + sm, i4 = i3 + sm;
      const a0r = xr[i0]!, a0i = xi[i0]!;
      const a1r = xr[i1]!, a1i = xi[i1]!, a2r = xr[i2]!, a2i = xi[i2]!;
      const a3r = xr[i3]!, a3i = xi[i3]!, a4r = xr[i4]!, a4i = xi[i4]!;
      const b1r = a1r + a4r, b1i = a1i + a4i, b2r = a2r + a3r, b2i = a2i + a3i;
      const d1r = a1r - a4r, d1i = a1i - a4i, d2r = a2r - a3r, d2i = a2i - a3i;
      // y1 = a0 + c1 b1 + c2 b2 - i (s1 d1 + s2 d2); y4 = conj part with +i
      // y2 = a0 + c2 b1 + c1 b2 - i (s2 d1 - s1 d2); y3 = with +i
      const e1r = a0r + C1_5 * b1r + C2_5 * b2r, e1i = a0i + C1_5 * b1i + C2_5 * b2i;
      const e2r = a0r + C2_5 * b1r + C1_5 * b2r, e2i = a0i + C2_5 * b1i + C1_5 * b2i;
      const f1r = S1_5 * d1r + S2_5 * d2r, f1i = S1_5 * d1i + S2_5 * d2i;
      const f2r = S2_5 * d1r - S1_5 * d2r, f2i = S2_5 * d1i - S1_5 * d2i;
      const o = yb + q;
      yr[o] = a0r + b1r + b2r;
      yi[o] = a0i + b1i + b2i;
      // -i f = (f.i, -f.r); +i f = (-f.i, f.r)
      const y1r = e1r + f1i, y1i = e1i - f1r;
      const y4r = e1r - f1i, y4i = e1i + f1r;
      const y2r = e2r + f2i, y2i = e2i - f2r;
      const y3r = e2r - f2i, y3i = e2i + f2r;
      yr[o + s] = y1r * w1r - y1i * w1i;
      yi[o + s] = y1r * w1i + y1i * w1r;
      yr[o + 2 * s] = y2r * w2r - y2i * w2i;
      yi[o + 2 * s] = y2r * w2i + y2i * w2r;
      yr[o + 3 * s] = y3r * w3r - y3i * w3i;
      yi[o + 3 * s] = y3r * w3i + y3i * w3r;
      yr[o + 4 * s] = y4r * w4r - y4i * w4i;
      yi[o + 4 * s] = y4r * w4i + y4i * w4r;
    }
  }
}

/** Generic odd prime radix r (7 <= r <= MAX_DIRECT_PRIME), pairing a_k with a_{r-k}: ~r^2/2 multiplies. */
function radixOdd(st: Stage, s: number, xr: Float64Array, xi: Float64Array, yr: Float64Array, yi: Float64Array): void {
  const { r, m, tw } = st;
  const cr = st.cr!, sr = st.sr!;
  const h = (r - 1) / 2;
  const sm = s * m;
  const br = new Float64Array(h + 1), bi = new Float64Array(h + 1), dr = new Float64Array(h + 1), di = new Float64Array(h + 1);
  for (let p = 0; p < m; p++) {
    const xb = s * p, yb = r * s * p;
    const twb = 2 * p * (r - 1);
    for (let q = 0; q < s; q++) {
      const i0 = xb + q;
      const a0r = xr[i0]!, a0i = xi[i0]!;
      let y0r = a0r, y0i = a0i;
      for (let k = 1; k <= h; k++) {
        const ik = i0 + k * sm, irk = i0 + (r - k) * sm;
        const pr = xr[ik]!, pi = xi[ik]!, qr = xr[irk]!, qi = xi[irk]!;
        br[k] = pr + qr;
        bi[k] = pi + qi;
        dr[k] = pr - qr;
        di[k] = pi - qi;
        y0r += br[k]!;
        y0i += bi[k]!;
      }
      const o = yb + q;
      yr[o] = y0r;
      yi[o] = y0i;
      for (let j = 1; j <= h; j++) {
        let er = a0r, ei = a0i, fr = 0, fi = 0;
        const row = j * r;
        for (let k = 1; k <= h; k++) {
          const c = cr[row + k]!, sn = sr[row + k]!;
          er += c * br[k]!;
          ei += c * bi[k]!;
          fr += sn * dr[k]!;
          fi += sn * di[k]!;
        }
        // y_j = e - i f, y_{r-j} = e + i f
        const ujr = er + fi, uji = ei - fr, vjr = er - fi, vji = ei + fr;
        const t1 = twb + 2 * (j - 1), t2 = twb + 2 * (r - j - 1);
        const w1r = tw[t1]!, w1i = tw[t1 + 1]!, w2r = tw[t2]!, w2i = tw[t2 + 1]!;
        yr[o + j * s] = ujr * w1r - uji * w1i;
        yi[o + j * s] = ujr * w1i + uji * w1r;
        yr[o + (r - j) * s] = vjr * w2r - vji * w2i;
        yi[o + (r - j) * s] = vjr * w2i + vji * w2r;
      }
    }
  }
}

/** Bluestein: X[k] = w[k] * sum_t (x[t] w[t]) conj(w[k - t]), a circular convolution of length `len`. */
function bluestein(bp: Bluestein, n: number, re: Float64Array, im: Float64Array, batch: number): void {
  const { len, wr, wi, br, bi } = bp;
  // Lanes in chunks so that the scratch stays near 4 MiB per array.
  const chunk = Math.max(1, Math.min(batch, Math.floor((1 << 19) / len)));
  if (blueRe.length < len * chunk) {
    blueRe = new Float64Array(len * chunk);
    blueIm = new Float64Array(len * chunk);
  }
  for (let b0 = 0; b0 < batch; b0 += chunk) {
    const c = Math.min(chunk, batch - b0);
    const ar = blueRe.subarray(0, len * c), ai = blueIm.subarray(0, len * c);
    ar.fill(0);
    ai.fill(0);
    for (let t = 0; t < n; t++) {
      const cr = wr[t]!, ci = wi[t]!;
      const src = t * batch + b0, dst = t * c;
      for (let b = 0; b < c; b++) {
        const xr = re[src + b]!, xi = im[src + b]!;
        ar[dst + b] = xr * cr - xi * ci;
        ai[dst + b] = xr * ci + xi * cr;
      }
    }
    fftAxis0(ar, ai, c, false);
    for (let k = 0; k < len; k++) {
      const fr = br[k]!, fi = bi[k]!;
      const o = k * c;
      for (let b = 0; b < c; b++) {
        const xr = ar[o + b]!, xi = ai[o + b]!;
        ar[o + b] = xr * fr - xi * fi;
        ai[o + b] = xr * fi + xi * fr;
      }
    }
    fftAxis0(ar, ai, c, true);
    for (let k = 0; k < n; k++) {
      const cr = wr[k]!, ci = wi[k]!;
      const src = k * c, dst = k * batch + b0;
      for (let b = 0; b < c; b++) {
        const xr = ar[src + b]!, xi = ai[src + b]!;
        re[dst + b] = xr * cr - xi * ci;
        im[dst + b] = xr * ci + xi * cr;
      }
    }
  }
}

// Chunk buffers for the 2-D passes: a strip of CHUNK_LANES columns (or rows) is copied into a small
// contiguous buffer, transformed there (all stages in cache), and copied back. One read and one write of
// the image per pass instead of one per radix stage.
let cRe = new Float64Array(0);
let cIm = new Float64Array(0);
/** Strip width (lanes per chunk); 16..64 measured within noise of each other on 640x480. */
const CHUNK_LANES = 32;

function chunkBuf(size: number): void {
  if (cRe.length < size) {
    cRe = new Float64Array(size);
    cIm = new Float64Array(size);
  }
}

/** Transforms every column of a height x width image along axis 0 (in place), strip by strip. */
function columnsPass(re: Float64Array, im: Float64Array, width: number, height: number, inverse: boolean): void {
  const C = Math.min(CHUNK_LANES, width);
  chunkBuf(C * height);
  for (let x0 = 0; x0 < width; x0 += C) {
    const c = Math.min(C, width - x0);
    const br = cRe.subarray(0, c * height), bi = cIm.subarray(0, c * height);
    for (let y = 0; y < height; y++) {
      const src = y * width + x0, dst = y * c;
      for (let b = 0; b < c; b++) {
        br[dst + b] = re[src + b]!;
        bi[dst + b] = im[src + b]!;
      }
    }
    fftAxis0(br, bi, c, inverse);
    for (let y = 0; y < height; y++) {
      const dst = y * width + x0, src = y * c;
      for (let b = 0; b < c; b++) {
        re[dst + b] = br[src + b]!;
        im[dst + b] = bi[src + b]!;
      }
    }
  }
}

/**
 * Transforms every row of a height x width image (in place), strip by strip: a strip of rows is transposed
 * into the chunk buffer, transformed along axis 0, optionally multiplied by `filter` (transposed layout,
 * see {@link FrequencyFilter}) and transformed back, then transposed back.
 */
function rowsPass(re: Float64Array, im: Float64Array, width: number, height: number, inverse: boolean, filter?: Float64Array): void {
  const C = Math.min(CHUNK_LANES, height);
  chunkBuf(C * width);
  for (let y0 = 0; y0 < height; y0 += C) {
    const c = Math.min(C, height - y0);
    const br = cRe.subarray(0, c * width), bi = cIm.subarray(0, c * width);
    for (let b = 0; b < c; b++) {
      const src = (y0 + b) * width;
      for (let x = 0; x < width; x++) {
        br[x * c + b] = re[src + x]!;
        bi[x * c + b] = im[src + x]!;
      }
    }
    fftAxis0(br, bi, c, inverse);
    if (filter) {
      for (let x = 0; x < width; x++) {
        const o = x * c, f = x * height + y0;
        for (let b = 0; b < c; b++) {
          const v = filter[f + b]!;
          br[o + b]! *= v;
          bi[o + b]! *= v;
        }
      }
      fftAxis0(br, bi, c, true);
    }
    for (let b = 0; b < c; b++) {
      const dst = (y0 + b) * width;
      for (let x = 0; x < width; x++) {
        re[dst + x] = br[x * c + b]!;
        im[dst + x] = bi[x * c + b]!;
      }
    }
  }
}

/**
 * The WebAssembly SIMD 2-D passes (./fft-wasm.ts, bit-identical to the JavaScript ones) and the stages of both
 * lengths, when the kernels are available and both plans use only their radices; else null.
 */
function simd(width: number, height: number): { wasm: NonNullable<ReturnType<typeof fftWasm>>; cols: readonly StageLike[]; rows: readonly StageLike[] } | null {
  const wasm = fftWasm();
  if (!wasm) return null;
  const pc = getPlan(height), pr = getPlan(width);
  const ok = (p: Plan): boolean => !p.blue && p.stages.every((st) => WASM_RADICES.includes(st.r));
  return ok(pc) && ok(pr) ? { wasm, cols: pc.stages, rows: pr.stages } : null;
}

/**
 * In-place 2-D DFT of a `height x width` row-major complex image (MATLAB `fft2`; with `inverse`, `ifft2`
 * without the 1/(width*height) factor).
 */
export function fft2d(re: Float64Array, im: Float64Array, width: number, height: number, inverse = false): void {
  const n = width * height;
  if (re.length !== n || im.length !== n) throw new RangeError(`fft2d: expected ${n} samples for ${width}x${height}`);
  const k = simd(width, height);
  if (k && k.wasm.fft2d(re, im, width, height, inverse, k.cols, k.rows)) return;
  columnsPass(re, im, width, height, inverse);
  rowsPass(re, im, width, height, inverse);
}

/**
 * A real frequency response for {@link filterPair}, in the unshifted DFT layout of a `height x width` image,
 * stored transposed (index `u * height + v` for horizontal frequency index u, vertical v) with the inverse
 * transform's 1/(width*height) folded in.
 */
export interface FrequencyFilter {
  readonly width: number;
  readonly height: number;
  readonly data: Float64Array;
}

/**
 * Builds a {@link FrequencyFilter} from a function of MATLAB's centred frequency indices: `response(cu, cv)`
 * is called with `cu = u - floor(width/2)` and `cv = v - floor(height/2)` for the centred position (u, v),
 * i.e. the product `fftshift(fft2(X)) .* R` of MATLAB code, where R(v, u) = response(u - floor(W/2), v - floor(H/2)).
 * The response must be even (R(-cu, -cv) = R(cu, cv) wherever both exist) for {@link filterPair} to return real
 * images; the radial filters of Qcb and Qcv are.
 */
export function frequencyFilter(width: number, height: number, response: (cu: number, cv: number) => number): FrequencyFilter {
  const data = new Float64Array(width * height);
  const hw = Math.floor(width / 2), hh = Math.floor(height / 2);
  const scale = 1 / (width * height);
  // Unshifted index k holds centred index (k + floor(n/2)) mod n, i.e. signed frequency k or k - n.
  const cvOf = new Float64Array(height);
  for (let v = 0; v < height; v++) cvOf[v] = ((v + hh) % height) - hh;
  for (let u = 0; u < width; u++) {
    const cu = ((u + hw) % width) - hw;
    const row = u * height;
    for (let v = 0; v < height; v++) data[row + v] = response(cu, cvOf[v]!) * scale;
  }
  return { width, height, data };
}

/**
 * Filters two real `height x width` images by one real, even frequency response in a single complex
 * round trip: `a + i b` is transformed, multiplied by the response and transformed back; since the
 * response is even, the real part is the filtered `a` and the imaginary part the filtered `b`
 * (MATLAB: `real(ifft2(ifftshift(fftshift(fft2(a)) .* R)))`, equal up to rounding, ~1e-16 of the image scale).
 * `a` and `b` (two different arrays) are overwritten with the results; to filter one image pass zeros as `b`.
 */
export function filterPair(a: Float64Array, b: Float64Array, filter: FrequencyFilter): void {
  const { width, height, data } = filter;
  const n = width * height;
  if (a.length !== n || b.length !== n) throw new RangeError(`filterPair: expected ${n} samples for ${width}x${height}`);
  if (a === b) throw new RangeError('filterPair: the two images must be different arrays');
  const k = simd(width, height);
  if (k && k.wasm.filter(a, b, width, height, rowMajor(filter), true, a, b, k.cols, k.rows)) return;
  columnsPass(a, b, width, height, false);
  rowsPass(a, b, width, height, false, data);
  columnsPass(a, b, width, height, true);
}

const rowMajorCache = new WeakMap<FrequencyFilter, Float64Array>();

/** The filter's response in row-major layout (index `v * width + u`), cached per filter object. */
function rowMajor(filter: FrequencyFilter): Float64Array {
  let rm = rowMajorCache.get(filter);
  if (!rm) {
    const { width, height, data } = filter;
    rm = new Float64Array(width * height);
    for (let u = 0; u < width; u++) for (let v = 0; v < height; v++) rm[v * width + u] = data[u * height + v]!;
    rowMajorCache.set(filter, rm);
  }
  return rm;
}

/**
 * The second half of {@link filterPair} on a spectrum that is already transformed: `Z` (the forward 2-D DFT of
 * `a + i b`, as {@link fft2d} leaves it) is multiplied by `filter` and transformed back into `outRe`, `outIm`
 * (which may be `zr`, `zi` themselves). With the spectrum from {@link fft2d} this performs exactly the float64
 * operations of `filterPair(a, b, filter)`, so the results are bit-identical; it lets one forward transform serve
 * several filters.
 */
export function filterSpectrum(zr: Float64Array, zi: Float64Array, filter: FrequencyFilter, outRe: Float64Array, outIm: Float64Array): void {
  const { width, height } = filter;
  const n = width * height;
  if (zr.length !== n || zi.length !== n || outRe.length !== n || outIm.length !== n) {
    throw new RangeError(`filterSpectrum: expected ${n} samples for ${width}x${height}`);
  }
  if (zr === zi || outRe === outIm) throw new RangeError('filterSpectrum: real and imaginary parts must be different arrays');
  const rm = rowMajor(filter);
  const k = simd(width, height);
  if (k && k.wasm.filter(zr, zi, width, height, rm, false, outRe, outIm, k.cols, k.rows)) return;
  const C = Math.min(CHUNK_LANES, height);
  chunkBuf(C * width);
  for (let y0 = 0; y0 < height; y0 += C) {
    const c = Math.min(C, height - y0);
    const br = cRe.subarray(0, c * width), bi = cIm.subarray(0, c * width);
    for (let b = 0; b < c; b++) {
      const src = (y0 + b) * width;
      for (let x = 0; x < width; x++) {
        const v = rm[src + x]!;
        br[x * c + b] = zr[src + x]! * v;
        bi[x * c + b] = zi[src + x]! * v;
      }
    }
    fftAxis0(br, bi, c, true);
    for (let b = 0; b < c; b++) {
      const dst = (y0 + b) * width;
      for (let x = 0; x < width; x++) {
        outRe[dst + x] = br[x * c + b]!;
        outIm[dst + x] = bi[x * c + b]!;
      }
    }
  }
  columnsPass(outRe, outIm, width, height, true);
}
