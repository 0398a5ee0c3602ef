/**
 * Forward spectra of `normalize1`d planes shared by Qcb and Qcv (docs/METRICS.md#vifb-qcb steps 1-2 / #vifb-qcv steps
 * 1-4): both metrics transform the same normalised planes A, B, F of an evaluation, Qcb filtering each X, Qcv the
 * differences A - F and B - F. By linearity `FFT(A - F) = FFT(A) - FFT(F)`, so one set of forward transforms serves
 * both.
 *
 * {@link normalisedSpectra} normalises the distinct planes of one evaluation and transforms the usable ones two at a
 * time (`Z = FFT2(X + iY)`, as {@link filterImages} pairs them: the 'ok' planes in order, a lone last one with a
 * zero imaginary part). The result of the last call is kept (one evaluation, in buffers reused from call to call)
 * and returned again when the same plane objects, in the same order, still hold the same samples (checked
 * against a copy), so Qcv after Qcb on one evaluation reuses Qcb's transforms; anything else recomputes. The
 * returned arrays stay valid until the next call with other planes. Single-threaded (one cache per worker).
 */
import type { Plane64 } from '../types.js';
import { normalize1Into } from './csf.js';
import { fft2d } from './fft.js';

/** One plane's normalisation and where its spectrum lives. */
export interface PlaneSpectrum {
  /** see {@link normalize1Into}: 'zero' (all zeros; spectrum 0), 'bad' (holds NaN), 'ok' (transformed) */
  readonly kind: 'zero' | 'bad' | 'ok';
  /** normalize1 of the plane */
  readonly normalised: Float64Array;
  /** the packed forward spectrum `FFT2(X + iY)` holding this plane (kind 'ok' only, else null) */
  readonly re: Float64Array | null;
  readonly im: Float64Array | null;
  /** true when this plane is the imaginary half (Y) of its pair */
  readonly second: boolean;
}

interface Group {
  readonly width: number;
  readonly height: number;
  readonly planes: readonly Plane64[];
  readonly raw: readonly Float64Array[];
  readonly spectra: readonly PlaneSpectrum[];
}

let last: Group | null = null;
/** Free buffers of length `poolN`. */
let pool: Float64Array[] = [];
let poolN = 0;

function take(n: number): Float64Array {
  if (n !== poolN) {
    pool = [];
    poolN = n;
  }
  return pool.pop() ?? new Float64Array(n);
}

function release(g: Group): void {
  if (g.width * g.height !== poolN) return;
  const seen = new Set<Float64Array>();
  for (const a of g.raw) seen.add(a);
  for (const s of g.spectra) {
    seen.add(s.normalised);
    if (s.re) seen.add(s.re);
    if (s.im) seen.add(s.im);
  }
  pool.push(...seen);
}

function sameSamples(a: Float64Array, b: Float64Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function matches(g: Group, planes: readonly Plane64[]): boolean {
  if (g.planes.length !== planes.length) return false;
  for (let i = 0; i < planes.length; i++) if (g.planes[i] !== planes[i] || !sameSamples(g.raw[i]!, planes[i]!.data)) return false;
  return true;
}


/**
 * Normalised planes and their packed forward spectra (see the module comment); `planes` must have one size.
 * Equal to `fft2d` of the pairs {@link filterImages} would form from the normalised planes, bit for bit.
 */
export function normalisedSpectra(planes: readonly Plane64[]): readonly PlaneSpectrum[] {
  if (last && matches(last, planes)) return last.spectra;
  const { width: w, height: h } = planes[0]!;
  const n = w * h;
  if (last) release(last);
  last = null;
  const raw = planes.map((p) => {
    const c = take(n);
    c.set(p.data);
    return c;
  });
  const norm = planes.map((p) => {
    const out = take(n);
    return { out, kind: normalize1Into(p.data, out) };
  });
  const spectra: PlaneSpectrum[] = new Array(planes.length);
  const ok = norm.flatMap((x, i) => (x.kind === 'ok' ? [i] : []));
  norm.forEach(({ out, kind }, i) => {
    if (kind !== 'ok') spectra[i] = { kind, normalised: out, re: null, im: null, second: false };
  });
  for (let k = 0; k < ok.length; k += 2) {
    const i = ok[k]!, j = k + 1 < ok.length ? ok[k + 1]! : -1;
    const re = take(n), im = take(n);
    re.set(norm[i]!.out);
    if (j >= 0) im.set(norm[j]!.out);
    else im.fill(0);
    fft2d(re, im, w, h);
    spectra[i] = { kind: 'ok', normalised: norm[i]!.out, re, im, second: false };
    if (j >= 0) spectra[j] = { kind: 'ok', normalised: norm[j]!.out, re, im, second: true };
  }
  last = { width: w, height: h, planes: [...planes], raw, spectra };
  return spectra;
}

/** Drops the kept result and its buffers (for tests and memory-conscious callers). */
export function clearSpectraCache(): void {
  last = null;
  pool = [];
  poolN = 0;
}
