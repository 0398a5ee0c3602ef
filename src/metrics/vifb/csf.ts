/**
 * Steps shared by Qcb and Qcv (docs/METRICS.md#vifb-qcb, #vifb-qcv; Z. Liu's `metricChenBlum.m` / `metricChen.m` as
 * copied into VIFB): `normalize1`, and contrast-sensitivity filtering in the frequency domain,
 * `real(ifft2(ifftshift(fftshift(fft2(X)) .* R)))`, with R a radial function of MATLAB's
 * `freqspace([H, W], 'meshgrid')` grid scaled by `W/k`, `H/k` (k = 30 for Qcb, 8 for Qcv).
 */
import { filterPair, frequencyFilter, type FrequencyFilter } from './fft.js';
import { stretchRound } from './stretch.js';

/**
 * `normalize1`: all-zero data is returned unchanged (a copy); otherwise
 * `round_half_away(255 * (x - min) / (max - min))`, which is NaN everywhere for a constant non-zero image
 * (0/0, as in MATLAB). Always returns a new array.
 */
export function normalize1(x: Float64Array): Float64Array {
  const out = new Float64Array(x.length);
  normalize1Into(x, out);
  return out;
}

/**
 * {@link normalize1} into `out` (same length as `x`); returns what the result is: 'zero' (all zeros),
 * 'bad' (holds NaN: a constant non-zero image, or NaN / infinite input), or 'ok'.
 */
export function normalize1Into(x: Float64Array, out: Float64Array): 'zero' | 'bad' | 'ok' {
  // Fast path: Math.max / Math.min (NaN-propagating, branch-free) and a check that every sample is an integer
  // 0..255; anything else (NaN, infinities, other values) takes the general loop below.
  let mx = -Infinity, mn = Infinity, bytes = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    mx = Math.max(mx, v);
    mn = Math.min(mn, v);
    if ((v & 255) !== v) bytes = false;
  }
  if (mx !== mx || mn !== mn || !bytes) return normalize1General(x, out);
  if (mx === 0 && mn === 0) {
    out.set(x);
    return 'zero';
  }
  const d = mx - mn;
  stretchRound(x, mn, d, out, true);
  return d > 0 ? 'ok' : 'bad';
}

/** {@link normalize1Into} for any float64 data (NaN, infinities, non-integer or out-of-range samples). */
function normalize1General(x: Float64Array, out: Float64Array): 'zero' | 'bad' | 'ok' {
  let mx = -Infinity, mn = Infinity, finite = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > mx) mx = v;
    if (v < mn) mn = v;
    if (v - v !== 0) finite = false;
  }
  if (mx === 0 && mn === 0 && finite) {
    out.set(x);
    return 'zero';
  }
  const d = mx - mn;
  stretchRound(x, mn, d, out, false);
  return finite && d > 0 ? 'ok' : 'bad';
}

const cache = new Map<string, FrequencyFilter>();

function cached(key: string, make: () => FrequencyFilter): FrequencyFilter {
  let f = cache.get(key);
  if (!f) {
    if (cache.size >= 16) cache.delete(cache.keys().next().value!);
    f = make();
    cache.set(key, f);
  }
  return f;
}

/** MATLAB `freqspace` value of centred index c for length n: `c * (2/n)`, then scaled by `n / k`. */
function scaled(c: number, n: number, k: number): number {
  return (n / k) * (c * (2 / n));
}

/** Radius of the scaled frequency grid at centred indices (cu, cv) of a width x height image, grid scale 1/k. */
export function gridRadius(cu: number, cv: number, width: number, height: number, k: number): number {
  const u = scaled(cu, width, k), v = scaled(cv, height, k);
  return Math.sqrt(u * u + v * v);
}

/** Chen-Blum CSF (Qcb): `exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2)`. */
export function chenBlumCsf(r: number): number {
  const a = r / 15.387, b = r / 1.3456;
  return Math.exp(-(a * a)) - 0.7622 * Math.exp(-(b * b));
}

/** Mannos-Sakrison CSF (Qcv): `2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1)`. */
export function mannosSakrisonCsf(r: number): number {
  return 2.6 * (0.0192 + 0.144 * r) * Math.exp(-Math.pow(0.144 * r, 1.1));
}

/**
 * Qcb's filter (Chen-Blum, docs/METRICS.md#vifb-qcb step 3): `S(r) = exp(-(r/15.3870)^2) - 0.7622 exp(-(r/1.3456)^2)`,
 * grid scaled by W/30, H/30. Cached per size.
 */
export function qcbFilter(width: number, height: number): FrequencyFilter {
  return cached(`qcb ${width}x${height}`, () =>
    frequencyFilter(width, height, (cu, cv) => chenBlumCsf(gridRadius(cu, cv, width, height, 30))),
  );
}

/**
 * Qcv's filter (Mannos-Sakrison, docs/METRICS.md#vifb-qcv step 4): `2.6 (0.0192 + 0.144 r) exp(-(0.144 r)^1.1)`,
 * grid scaled by W/8, H/8. Cached per size.
 */
export function qcvFilter(width: number, height: number): FrequencyFilter {
  return cached(`qcv ${width}x${height}`, () =>
    frequencyFilter(width, height, (cu, cv) => mannosSakrisonCsf(gridRadius(cu, cv, width, height, 8))),
  );
}

/** 'zero' when every sample is 0, 'bad' when one is NaN or infinite, else 'ok'. */
function classify(x: Float64Array): 'zero' | 'bad' | 'ok' {
  let zero = true;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v - v !== 0) return 'bad';
    if (v !== 0) zero = false;
  }
  return zero ? 'zero' : 'ok';
}

/**
 * Filters each image with `filter` and returns the filtered copies (same order). Images are transformed two
 * at a time (one as the real part, one as the imaginary part of a complex image, see {@link filterPair}).
 * Two cases are kept out of the pairing, where the rounding-level crosstalk between the two halves of a pair
 * would change a result qualitatively: an image holding NaN or infinities becomes all NaN (MATLAB's FFT spreads
 * a NaN over every output), and an all-zero image stays exactly zero (as MATLAB's FFT of zeros does; Qcb then
 * divides 0 by 0).
 */
export function filterImages(images: readonly Float64Array[], filter: FrequencyFilter): Float64Array[] {
  const out: Float64Array[] = new Array(images.length);
  const ok: number[] = [];
  images.forEach((img, i) => {
    const kind = classify(img);
    if (kind === 'ok') ok.push(i);
    else out[i] = kind === 'zero' ? new Float64Array(img.length) : new Float64Array(img.length).fill(NaN);
  });
  for (let k = 0; k < ok.length; k += 2) {
    const i = ok[k]!;
    const a = images[i]!.slice();
    const b = k + 1 < ok.length ? images[ok[k + 1]!]!.slice() : new Float64Array(a.length);
    filterPair(a, b, filter);
    out[i] = a;
    if (k + 1 < ok.length) out[ok[k + 1]!] = b;
  }
  return out;
}
