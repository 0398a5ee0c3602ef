import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fft2d, fftAxis0, fftPlan, filterPair, filterSpectrum, MAX_DIRECT_PRIME } from '../../../src/metrics/vifb/fft.js';
import { disableFftWasm, fftWasm } from '../../../src/metrics/vifb/fft-wasm.js';
import { filterImages, qcbFilter, qcvFilter } from '../../../src/metrics/vifb/csf.js';
import { csfNaive, dft2, rng, type Mat } from './helpers.js';

// Reference 1: a direct O(n^2) DFT (helpers.ts / below), cos/sin of exactly reduced angles.
// Reference 2: numpy.fft (pocketfft) via tools/make_vifb_fft_fixture.py -> test/fixtures/vifb/fft.json.
// Tolerance: max |error| / max |reference| <= 1e-13. A float64 FFT's error grows like eps * log2(n) (~1e-15 here);
// 1e-13 leaves room for Bluestein (three transforms of length ~4n) while catching any indexing or twiddle bug
// (those give O(1) errors).
const TOL = 1e-13;

function dft1(re: Float64Array, im: Float64Array, sign: -1 | 1): [Float64Array, Float64Array] {
  const n = re.length;
  const or = new Float64Array(n), oi = new Float64Array(n);
  for (let k = 0; k < n; k++) {
    let sr = 0, si = 0;
    for (let t = 0; t < n; t++) {
      const a = (sign * 2 * Math.PI * ((t * k) % n)) / n;
      sr += re[t]! * Math.cos(a) - im[t]! * Math.sin(a);
      si += re[t]! * Math.sin(a) + im[t]! * Math.cos(a);
    }
    or[k] = sr;
    oi[k] = si;
  }
  return [or, oi];
}

function relErr(ar: ArrayLike<number>, ai: ArrayLike<number>, br: ArrayLike<number>, bi: ArrayLike<number>): number {
  let e = 0, m = 0;
  for (let k = 0; k < ar.length; k++) {
    e = Math.max(e, Math.hypot(ar[k]! - br[k]!, ai[k]! - bi[k]!));
    m = Math.max(m, Math.hypot(br[k]!, bi[k]!));
  }
  return e / m;
}

const LENGTHS = [1, 2, 3, 4, 5, 6, 7, 8, 9, 11, 13, 15, 16, 21, 23, 25, 27, 29, 32, 40, 45, 49, 61, 64, 67, 97, 101, 105, 121, 127, 143, 210, 256, 243, 460, 475];

test('1-D forward and inverse transforms match a direct DFT for many lengths (odd, prime, Bluestein)', () => {
  const r = rng(1);
  for (const n of LENGTHS) {
    const re = Float64Array.from({ length: n }, () => r() - 0.5), im = Float64Array.from({ length: n }, () => r() - 0.5);
    for (const inverse of [false, true]) {
      const [er, ei] = dft1(re, im, inverse ? 1 : -1);
      const xr = re.slice(), xi = im.slice();
      fftAxis0(xr, xi, 1, inverse);
      assert.ok(relErr(xr, xi, er, ei) <= TOL, `n=${n} inverse=${inverse}: error ${relErr(xr, xi, er, ei)}`);
    }
  }
});

test('plans: radices multiply to n, lengths with a prime factor above MAX_DIRECT_PRIME use Bluestein', () => {
  for (const n of [480, 640, 630, 460, 575, 749, 551, 1024]) {
    const p = fftPlan(n);
    if (p.bluestein) assert.ok(n % 107 === 0, `${n} should not need Bluestein`);
    else assert.equal(p.radices.reduce((a, b) => a * b, 1), n);
  }
  assert.equal(fftPlan(749).bluestein, true); // 7 x 107
  assert.ok(MAX_DIRECT_PRIME < 107);
  assert.equal(fftPlan(480), fftPlan(480), 'plans are cached');
  assert.throws(() => fftPlan(0), RangeError);
});

test('batched transform along axis 0 equals transforming each lane separately', () => {
  const n = 15, batch = 7, r = rng(2);
  const re = Float64Array.from({ length: n * batch }, () => r()), im = Float64Array.from({ length: n * batch }, () => r());
  const xr = re.slice(), xi = im.slice();
  fftAxis0(xr, xi, batch);
  for (let b = 0; b < batch; b++) {
    const lr = new Float64Array(n), li = new Float64Array(n);
    for (let t = 0; t < n; t++) [lr[t], li[t]] = [re[t * batch + b]!, im[t * batch + b]!];
    const [er, ei] = dft1(lr, li, -1);
    const gr = Array.from({ length: n }, (_, t) => xr[t * batch + b]!), gi = Array.from({ length: n }, (_, t) => xi[t * batch + b]!);
    assert.ok(relErr(gr, gi, er, ei) <= TOL, `lane ${b}`);
  }
});

test('forward then inverse returns the input times n', () => {
  const r = rng(3);
  for (const n of [12, 67, 630]) {
    const re = Float64Array.from({ length: n }, () => r()), im = Float64Array.from({ length: n }, () => r());
    const xr = re.slice(), xi = im.slice();
    fftAxis0(xr, xi, 1);
    fftAxis0(xr, xi, 1, true);
    assert.ok(relErr(xr.map((v) => v / n), xi.map((v) => v / n), re, im) <= TOL, `n=${n}`);
  }
});

test('fft2d matches a direct 2-D DFT on odd and Bluestein sizes', () => {
  const r = rng(4);
  for (const [w, h] of [[7, 5], [6, 9], [67, 3], [1, 8]] as const) {
    const re: Mat = Array.from({ length: h }, () => Array.from({ length: w }, () => r()));
    const im: Mat = Array.from({ length: h }, () => Array.from({ length: w }, () => r()));
    const [er, ei] = dft2(re, im, -1);
    const xr = Float64Array.from(re.flat()), xi = Float64Array.from(im.flat());
    fft2d(xr, xi, w, h);
    assert.ok(relErr(xr, xi, er.flat(), ei.flat()) <= TOL, `${w}x${h}`);
  }
});

interface FixtureCase {
  height: number;
  width: number;
  x: number[];
  fft2_re: number[];
  fft2_im: number[];
  qcb: number[];
  qcv: number[];
}
const fixture = JSON.parse(readFileSync(new URL('../../fixtures/vifb/fft.json', import.meta.url), 'utf8')) as { cases: FixtureCase[] };

test('fft2d matches numpy.fft.fft2 (fixture)', () => {
  for (const c of fixture.cases) {
    const xr = Float64Array.from(c.x), xi = new Float64Array(c.x.length);
    fft2d(xr, xi, c.width, c.height);
    assert.ok(relErr(xr, xi, c.fft2_re, c.fft2_im) <= TOL, `${c.width}x${c.height}: ${relErr(xr, xi, c.fft2_re, c.fft2_im)}`);
  }
});

test('Qcb / Qcv CSF filtering (two images per transform) matches numpy real(ifft2(ifftshift(fftshift(fft2(x)) .* R)))', () => {
  for (const c of fixture.cases) {
    const x = Float64Array.from(c.x);
    const y = Float64Array.from(c.x.map((v) => 255 - v)); // partner image in the imaginary part
    for (const [name, filter, ref] of [['qcb', qcbFilter(c.width, c.height), c.qcb], ['qcv', qcvFilter(c.width, c.height), c.qcv]] as const) {
      const a = x.slice(), b = y.slice();
      filterPair(a, b, filter);
      const zeros = new Float64Array(a.length);
      assert.ok(relErr(a, zeros, ref, zeros) <= TOL, `${name} ${c.width}x${c.height}: ${relErr(a, zeros, ref, zeros)}`);
      // the partner is filtered too: filter(255 - x) = 255 * filter(1) - filter(x), checked against filterImages alone
      const [alone] = filterImages([y], filter);
      assert.ok(relErr(b, zeros, alone!, zeros) <= TOL, `${name} partner ${c.width}x${c.height}`);
    }
  }
});

test('CSF filtering matches the naive MATLAB-order computation (direct DFT, explicit fftshift / freqspace)', () => {
  const r = rng(5);
  for (const [w, h] of [[9, 7], [8, 6], [13, 10]] as const) {
    const m: Mat = Array.from({ length: h }, () => Array.from({ length: w }, () => Math.round(255 * r())));
    const ref = csfNaive(m, 30, (rr) => Math.exp(-((rr / 15.387) ** 2)) - 0.7622 * Math.exp(-((rr / 1.3456) ** 2)));
    const [got] = filterImages([Float64Array.from(m.flat())], qcbFilter(w, h));
    const zeros = new Float64Array(w * h);
    assert.ok(relErr(got!, zeros, ref.flat(), zeros) <= TOL, `${w}x${h}`);
  }
});

test('filterImages: an image with NaN becomes all NaN and does not contaminate the others', () => {
  const a = Float64Array.from({ length: 12 }, (_, i) => i), bad = new Float64Array(12).fill(NaN), c = a.map((v) => v * v);
  const [fa, fb, fc] = filterImages([a, bad, c], qcbFilter(4, 3));
  const [ra, rc] = filterImages([a, c], qcbFilter(4, 3));
  assert.ok(fb!.every(Number.isNaN));
  assert.deepEqual(fa, ra);
  assert.deepEqual(fc, rc);
  assert.throws(() => filterPair(a, a, qcbFilter(4, 3)), RangeError);
});

test('the WebAssembly SIMD 2-D passes (fft-wasm.ts) give bit-identical results to the JavaScript ones', () => {
  // Reference: the JavaScript passes (checked above against a direct DFT and numpy). Sizes: MSRS and VIFB ones,
  // odd strips (odd width / height), radix 8, 3, 5 and 2 stages, and a Bluestein length (JavaScript either way).
  assert.ok(fftWasm());
  const r = rng(6);
  for (const [w, h] of [[640, 480], [630, 460], [575, 475], [97, 70], [33, 17], [7, 5], [1, 8], [214, 30]] as const) {
    const a = Float64Array.from({ length: w * h }, () => Math.round(255 * r())), b = Float64Array.from({ length: w * h }, () => Math.round(255 * r()));
    const run = (): Float64Array[] => {
      const zr = a.slice(), zi = b.slice();
      fft2d(zr, zi, w, h);
      const back = [zr.slice(), zi.slice()];
      fft2d(back[0]!, back[1]!, w, h, true);
      const f = qcbFilter(w, h), or = new Float64Array(w * h), oi = new Float64Array(w * h);
      filterSpectrum(zr, zi, f, or, oi);
      const pa = a.slice(), pb = b.slice();
      filterPair(pa, pb, qcvFilter(w, h));
      return [zr, zi, ...back, or, oi, pa, pb];
    };
    const simd = run();
    disableFftWasm(true);
    try {
      const js = run();
      simd.forEach((x, i) => assert.deepEqual(x, js[i], `${w}x${h} output ${i}`));
    } finally {
      disableFftWasm(false);
    }
  }
});
