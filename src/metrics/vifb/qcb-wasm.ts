/**
 * Qcb's local contrast (docs/METRICS.md#vifb-qcb steps 3-4) on WebAssembly SIMD: from a CSF-filtered plane `X~`, the
 * zero-padded 'same' filterings by the two 31x31 Gaussians and the mask `C' = C^3 / (C^2 + 0.0001)`,
 * `C = |Y2 / Y4 - 1|`, in one call. Why: this was about a third of Qcb's time as two generic 'valid' filterings
 * (../../filters/valid-wasm.ts) of a zero-padded copy; here both Gaussians share one horizontal pass, the symmetric taps
 * are folded (`g_k (x[-k] + x[k])`: 16 multiplies instead of 31) and the mask is applied while the vertical sums
 * are in registers.
 *
 * Arithmetic: exactly that of ./qcb.ts `maskedContrast` (the JavaScript path): horizontal sums with the half taps
 * `g_s`, vertical sums with `g_s / (2 pi s^2)`, each `g_0 x_0 + sum_{k=1..15} g_k (x_{-k} + x_k)` in that order,
 * zero padding read as zeros, then the mask; so the two agree bit for bit (tested), up to the sign of zero sums.
 *
 * Layout (after the constants; float64 units, rows of the intermediates padded to a multiple of 8 samples, `tw`):
 * the plane with a zero frame of R = 15 samples (`(w + 2R) x (h + 2R)`), the two horizontal results
 * (`(h + 2R) x tw`, zero frame rows), the output slots (`w x h` each, plus slack) and the taps. The columns past w
 * of each row are computed from neighbouring samples and never read back.
 *
 * (Measured and rejected: unrolling the taps with their values as constants and storing the two horizontal results
 * interleaved, 2x slower; column strips for the vertical pass and padding rows to an odd number of cache lines, no
 * gain.)
 */
import { ensureMemory, Func, instantiate, op, simdAvailable, type ConstPool, type WasmKernels } from '../../core/wasm-asm.js';

const R = 15;

/** The half kernels: g_2, g_4 (horizontal) and g_2 / (8 pi), g_4 / (32 pi) (vertical), R + 1 taps each. */
export type QcbTaps = readonly [Float64Array, Float64Array, Float64Array, Float64Array];

/**
 * `h2(src, ps, dst2, dst4, ds, rows, cols, g2, g4)`: for y < rows and x < cols (a multiple of 8),
 * `dst_s[y ds + x] = g_s[0] src[y ps + x + R] + sum_k g_s[k] (src[y ps + x + R - k] + src[y ps + x + R + k])`.
 */
function horizontal(): Func {
  const f = new Func('h2', 9);
  const SRC = 0, PS = 1, D2 = 2, D4 = 3, DS = 4, ROWS = 5, COLS = 6, G2 = 7, G4 = 8;
  const y = f.i32(), p = f.i32(), q2 = f.i32(), q4 = f.i32(), e = f.i32(), t = f.i32(), lo = f.i32(), hi = f.i32();
  f.emit(op.get(PS), op.i32(3), op.shl, op.set(PS), op.get(DS), op.i32(3), op.shl, op.set(DS));
  f.emit(op.i32(0), op.set(y));
  f.whileNot([op.get(y), op.get(ROWS), op.geS], () => {
    f.emit(op.get(SRC), op.get(y), op.get(PS), op.mul, op.add, op.i32(8 * R), op.add, op.set(p));
    f.emit(op.get(D2), op.get(y), op.get(DS), op.mul, op.add, op.set(q2));
    f.emit(op.get(D4), op.get(y), op.get(DS), op.mul, op.add, op.set(q4));
    f.emit(op.get(q2), op.get(COLS), op.i32(3), op.shl, op.add, op.set(e));
    f.whileNot([op.get(q2), op.get(e), op.geU], () => {
      const k2 = f.v128(), k4 = f.v128();
      f.emit(op.get(G2), op.splatLoad(), op.set(k2), op.get(G4), op.splatLoad(), op.set(k4));
      const a2: number[] = [], a4: number[] = [];
      for (let u = 0; u < 4; u++) {
        const x = f.load(p, 16 * u);
        a2.push(f.mul(k2, x));
        a4.push(f.mul(k4, x));
      }
      // taps 1..R: lo walks left, hi right
      f.emit(op.i32(1), op.set(t), op.get(p), op.i32(8), op.sub, op.set(lo), op.get(p), op.i32(8), op.add, op.set(hi));
      f.emit(op.loop);
      f.emit(op.get(G2), op.get(t), op.i32(3), op.shl, op.add, op.splatLoad(), op.set(k2));
      f.emit(op.get(G4), op.get(t), op.i32(3), op.shl, op.add, op.splatLoad(), op.set(k4));
      for (let u = 0; u < 4; u++) {
        const s = f.add(f.load(lo, 16 * u), f.load(hi, 16 * u));
        f.emit(op.get(a2[u]!), op.get(k2), op.get(s), op.f64x2Mul, op.f64x2Add, op.set(a2[u]!));
        f.emit(op.get(a4[u]!), op.get(k4), op.get(s), op.f64x2Mul, op.f64x2Add, op.set(a4[u]!));
      }
      f.inc(lo, op.i32(-8));
      f.inc(hi, op.i32(8));
      f.inc(t, op.i32(1));
      f.emit(op.get(t), op.i32(R), op.gtS, op.eqz, op.brIf(0), op.end);
      for (let u = 0; u < 4; u++) {
        f.store(q2, a2[u]!, 16 * u);
        f.store(q4, a4[u]!, 16 * u);
      }
      f.inc(p, op.i32(64));
      f.inc(q2, op.i32(64));
      f.inc(q4, op.i32(64));
    });
    f.inc(y, op.i32(1));
  });
  return f;
}

/**
 * `v2(src2, src4, ds, rows, cols, g2, g4, out, os)`: for y < rows, x < cols (a multiple of 8), the vertical sums
 * `Y_s = g_s[0] src_s[(y + R) ds + x] + sum_k g_s[k] (src_s[(y + R - k) ds + x] + src_s[(y + R + k) ds + x])`, then
 * `out[y os + x] = C^3 / (C^2 + 0.0001)` with `C = |Y2 / Y4 - 1|`. With os < cols a row's spare columns spill into
 * the next row's first samples, which that row then rewrites (and past the last row, into slack).
 */
function vertical(pool: ConstPool): Func {
  const f = new Func('v2', 9, pool);
  const S2 = 0, S4 = 1, DS = 2, ROWS = 3, COLS = 4, G2 = 5, G4 = 6, OUT = 7, OS = 8;
  const y = f.i32(), c2 = f.i32(), c4 = f.i32(), o = f.i32(), e = f.i32(), t = f.i32(), off = f.i32();
  const one = f.k(1), eps = f.k(0.0001);
  f.emit(op.get(DS), op.i32(3), op.shl, op.set(DS), op.get(OS), op.i32(3), op.shl, op.set(OS));
  f.emit(op.i32(0), op.set(y));
  f.whileNot([op.get(y), op.get(ROWS), op.geS], () => {
    // c2, c4: centre row y + R of each source; o: output row y
    f.emit(op.get(S2), op.get(y), op.i32(R), op.add, op.get(DS), op.mul, op.add, op.set(c2));
    f.emit(op.get(S4), op.get(y), op.i32(R), op.add, op.get(DS), op.mul, op.add, op.set(c4));
    f.emit(op.get(OUT), op.get(y), op.get(OS), op.mul, op.add, op.set(o));
    f.emit(op.get(o), op.get(COLS), op.i32(3), op.shl, op.add, op.set(e));
    f.whileNot([op.get(o), op.get(e), op.geU], () => {
      const k2 = f.v128(), k4 = f.v128();
      f.emit(op.get(G2), op.splatLoad(), op.set(k2), op.get(G4), op.splatLoad(), op.set(k4));
      const a2: number[] = [], a4: number[] = [];
      for (let u = 0; u < 4; u++) {
        a2.push(f.mul(k2, f.load(c2, 16 * u)));
        a4.push(f.mul(k4, f.load(c4, 16 * u)));
      }
      f.emit(op.i32(1), op.set(t), op.get(DS), op.set(off));
      f.emit(op.loop);
      f.emit(op.get(G2), op.get(t), op.i32(3), op.shl, op.add, op.splatLoad(), op.set(k2));
      f.emit(op.get(G4), op.get(t), op.i32(3), op.shl, op.add, op.splatLoad(), op.set(k4));
      const up2 = f.i32(), dn2 = f.i32(), up4 = f.i32(), dn4 = f.i32();
      f.emit(op.get(c2), op.get(off), op.sub, op.set(up2), op.get(c2), op.get(off), op.add, op.set(dn2));
      f.emit(op.get(c4), op.get(off), op.sub, op.set(up4), op.get(c4), op.get(off), op.add, op.set(dn4));
      for (let u = 0; u < 4; u++) {
        const s2 = f.add(f.load(up2, 16 * u), f.load(dn2, 16 * u));
        f.emit(op.get(a2[u]!), op.get(k2), op.get(s2), op.f64x2Mul, op.f64x2Add, op.set(a2[u]!));
        const s4 = f.add(f.load(up4, 16 * u), f.load(dn4, 16 * u));
        f.emit(op.get(a4[u]!), op.get(k4), op.get(s4), op.f64x2Mul, op.f64x2Add, op.set(a4[u]!));
      }
      f.inc(off, op.get(DS));
      f.inc(t, op.i32(1));
      f.emit(op.get(t), op.i32(R), op.gtS, op.eqz, op.brIf(0), op.end);
      for (let u = 0; u < 4; u++) {
        const c = f.abs(f.sub(f.div(a2[u]!, a4[u]!), one));
        const cc = f.mul(c, c);
        f.store(o, f.div(f.mul(cc, c), f.add(cc, eps)), 16 * u);
      }
      f.inc(c2, op.i32(64));
      f.inc(c4, op.i32(64));
      f.inc(o, op.i32(64));
    });
    f.inc(y, op.i32(1));
  });
  return f;
}

let disabled = false;
let built: { readonly taps: QcbTaps; readonly k: WasmKernels | null } | null = null;
let shape = '';
let at = { pad: 0, t2: 0, t4: 0, out: 0, g: 0, len: 0 };

/** The kernels, with the taps they were last laid out for (the taps are copied in with each new layout). */
function getKernels(taps: QcbTaps): WasmKernels | null {
  if (disabled) return null;
  if (built?.taps !== taps) {
    built = { taps, k: instantiate((pool) => [horizontal(), vertical(pool)]) };
    shape = '';
  }
  return built.k;
}

/** Forces the JavaScript path (true) or re-enables the kernels (false). For tests and benchmarks. */
export function disableQcbWasm(disable: boolean): void {
  disabled = disable;
  built = null;
  shape = '';
}

/** Whether the kernels can be used in this thread. */
export function qcbWasmAvailable(): boolean {
  return !disabled && simdAvailable();
}

/**
 * The masked contrast C' of the CSF-filtered plane `xt` (w x h) into output slot `slot` of `slots`, returned as a
 * view of the kernels' memory (valid until a call with another size or slot count); null without the kernels or
 * the memory. `taps`: see {@link QcbTaps} (one fixed set: the kernels are built with its values).
 */
export function maskedContrastWasm(xt: Float64Array, w: number, h: number, taps: QcbTaps, slot: number, slots: number): Float64Array | null {
  const K = getKernels(taps);
  if (!K) return null;
  const pw = w + 2 * R, ph = h + 2 * R, tw = Math.ceil(w / 8) * 8;
  const key = `${w}x${h}x${slots}`;
  if (shape !== key) {
    // pad (+ slack: the last row's spare columns read past it), t2, t4 with R zero rows above and below, the
    // outputs (each with slack for the last row's spare columns), the taps
    const len = w * h + tw;
    const pad = K.base, t2 = pad + 8 * (pw * ph + tw), t4 = t2 + 8 * ph * tw, out = t4 + 8 * ph * tw, g = out + 8 * slots * len;
    if (!ensureMemory(K.memory, g + 4 * 8 * (R + 1))) return null;
    new Float64Array(K.memory.buffer, pad, (out - pad) / 8).fill(0);
    at = { pad, t2, t4, out, g, len };
    shape = key;
    const mem = new Float64Array(K.memory.buffer);
    taps.forEach((t, i) => mem.set(t, g / 8 + i * (R + 1)));
  }
  const mem = new Float64Array(K.memory.buffer);
  for (let i = 0; i < h; i++) mem.set(xt.subarray(i * w, i * w + w), (i + R) * pw + R + at.pad / 8);
  const { h2, v2 } = K.exports;
  const out = at.out + 8 * slot * at.len, g = (i: number): number => at.g + 8 * i * (R + 1);
  // horizontal sums of the h interior rows into rows R..R+h-1 of t2 / t4 (frame rows stay zero), then vertical and mask
  h2!(at.pad + 8 * R * pw, pw, at.t2 + 8 * R * tw, at.t4 + 8 * R * tw, tw, h, tw, g(0), g(1));
  v2!(at.t2, at.t4, tw, h, tw, g(2), g(3), out, w);
  return mem.subarray(out / 8, out / 8 + w * h);
}
