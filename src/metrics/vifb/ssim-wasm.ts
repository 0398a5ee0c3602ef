/**
 * Ssim's local statistics and SSIM map (./ssim.ts) on WebAssembly SIMD, with every plane, product and moment kept in
 * the kernels' memory. Why: the generic 'valid' filter (../../filters/valid-wasm.ts) copies each image in and each
 * result out, and the products and the map were JavaScript loops: those copies and loops took about as long as
 * the filtering itself.
 *
 * Arithmetic: the 11x11 window applied as ../../filters/valid.ts does (horizontal then vertical pass, each output
 * `acc = 0; acc += k[t] x[t]` over the taps in order), products `a b` formed first, and the map expression of
 * ./ssim.ts in its order; so moments and map values are bit-identical to the JavaScript path, and the mean, summed
 * in JavaScript in the same order, is too (tested).
 *
 * Memory (float64 units, after the constants): the window's taps; per plane slot its samples, local mean and local
 * mean of squares; then scratch for a product, the horizontal pass, the cross moment and the map. Each array has
 * two samples of slack for the spare lane of an odd count.
 */
import { ensureMemory, Func, instantiate, op, type ConstPool, type WasmKernels } from '../../core/wasm-asm.js';

/**
 * The tap loop shared by both passes: outputs at byte offset `o` (advanced), `lanes` pairs (1 or 4: independent
 * accumulators keep the adds out of one dependency chain), inputs from `src` (advanced by the same amount), tap t
 * read at `src + t * step` (step: a local holding the byte step between taps).
 */
function taps(f: Func, o: number, src: number, k: number, n: number, step: number, lanes: number): void {
  const acc = [f.v128(), f.v128(), f.v128(), f.v128()].slice(0, lanes), kv = f.v128();
  const t = f.i32(), kp = f.i32(), q = f.i32();
  for (const a of acc) f.emit(op.f64x2Const(0), op.set(a));
  f.emit(op.get(k), op.set(kp), op.get(src), op.set(q), op.get(n), op.set(t));
  f.emit(op.loop);
  f.emit(op.get(kp), op.splatLoad(), op.set(kv));
  acc.forEach((a, u) => f.emit(op.get(a), op.get(kv), op.get(q), op.v128Load(16 * u), op.f64x2Mul, op.f64x2Add, op.set(a)));
  f.inc(kp, op.i32(8));
  f.inc(q, op.get(step));
  f.inc(t, op.i32(-1));
  f.emit(op.get(t), op.brIf(0), op.end);
  acc.forEach((a, u) => f.store(o, a, 16 * u));
  f.inc(o, op.i32(16 * lanes));
  f.inc(src, op.i32(16 * lanes));
}

/** Outputs from `o` to `e` (bytes): four pairs at a time while they fit, then pairs (an odd count spills one). */
function outputs(f: Func, o: number, e: number, body: (lanes: number) => void): void {
  f.whileNot([op.get(o), op.get(e), op.geU], () => {
    f.emit(op.get(o), op.i32(64), op.add, op.get(e), op.gtU, op.if);
    body(1);
    f.emit(op.else);
    body(4);
    f.emit(op.end);
  });
}

/** `hp(src, w, rows, k, n, dst, ow)`: `dst[y ow + x] = sum_t k[t] src[y w + x + t]`, x < ow, y < rows. */
function hpass(): Func {
  const f = new Func('hp', 7);
  const SRC = 0, W = 1, ROWS = 2, K = 3, N = 4, DST = 5, OW = 6;
  const y = f.i32(), p = f.i32(), o = f.i32(), e = f.i32(), eight = f.i32();
  f.emit(op.i32(8), op.set(eight), op.i32(0), op.set(y));
  f.whileNot([op.get(y), op.get(ROWS), op.geS], () => {
    f.emit(op.get(SRC), op.get(y), op.get(W), op.mul, op.i32(3), op.shl, op.add, op.set(p));
    f.emit(op.get(DST), op.get(y), op.get(OW), op.mul, op.i32(3), op.shl, op.add, op.set(o));
    f.emit(op.get(o), op.get(OW), op.i32(3), op.shl, op.add, op.set(e));
    // (an odd row's spare output lands on the next row's first, rewritten there, or in the slack)
    outputs(f, o, e, (lanes) => taps(f, o, p, K, N, eight, lanes));
    f.inc(y, op.i32(1));
  });
  return f;
}

/** `vp(tmp, ow, count, k, n, dst)`: `dst[i] = sum_t k[t] tmp[i + t ow]` for i < count (flat: rows need no care). */
function vpass(): Func {
  const f = new Func('vp', 6);
  const TMP = 0, OW = 1, COUNT = 2, K = 3, N = 4, DST = 5;
  const o = f.i32(), e = f.i32(), stride = f.i32();
  f.emit(op.get(OW), op.i32(3), op.shl, op.set(stride));
  f.emit(op.get(DST), op.set(o), op.get(DST), op.get(COUNT), op.i32(3), op.shl, op.add, op.set(e));
  outputs(f, o, e, (lanes) => taps(f, o, TMP, K, N, stride, lanes));
  return f;
}

/** `mul(a, b, out, n)`: `out[i] = a[i] b[i]` (pairs). */
function mulKernel(): Func {
  const f = new Func('mul', 4);
  const A = 0, B = 1, OUT = 2, N = 3;
  const e = f.i32();
  f.emit(op.get(OUT), op.get(N), op.i32(3), op.shl, op.add, op.set(e));
  f.whileNot([op.get(OUT), op.get(e), op.geU], () => {
    f.store(OUT, f.mul(f.load(A), f.load(B)));
    for (const l of [A, B, OUT]) f.inc(l, op.i32(16));
  });
  return f;
}

const C1 = (0.01 * 255) ** 2;
const C2 = (0.03 * 255) ** 2;

/**
 * `map(ua, ub, sa, sb, ab, out, n)`: ./ssim.ts's map,
 * `(2 xy + C1)(2 (ab - xy) + C2) / ((xx + yy + C1)(sa - xx + (sb - yy) + C2))`, x = ua, y = ub.
 */
function mapKernel(pool: ConstPool): Func {
  const f = new Func('map', 7, pool);
  const UA = 0, UB = 1, SA = 2, SB = 3, AB = 4, OUT = 5, N = 6;
  const e = f.i32();
  f.emit(op.get(OUT), op.get(N), op.i32(3), op.shl, op.add, op.set(e));
  f.whileNot([op.get(OUT), op.get(e), op.geU], () => {
    const x = f.load(UA), y = f.load(UB);
    const xx = f.mul(x, x), yy = f.mul(y, y), xy = f.mul(x, y);
    const two = f.k(2), c1 = f.k(C1), c2 = f.k(C2);
    const num = f.mul(f.add(f.mul(two, xy), c1), f.add(f.mul(two, f.sub(f.load(AB), xy)), c2));
    const den = f.mul(f.add(f.add(xx, yy), c1), f.add(f.add(f.sub(f.load(SA), xx), f.sub(f.load(SB), yy)), c2));
    f.store(OUT, f.div(num, den));
    for (const l of [UA, UB, SA, SB, AB, OUT]) f.inc(l, op.i32(16));
  });
  return f;
}

let kernels: WasmKernels | null | undefined;

function getKernels(): WasmKernels | null {
  if (kernels === undefined) kernels = instantiate((pool) => [hpass(), vpass(), mulKernel(), mapKernel(pool)]);
  return kernels;
}

/** Forces the JavaScript path (true) or re-enables the kernels (false). For tests and benchmarks. */
export function disableSsimWasm(disabled: boolean): void {
  kernels = disabled ? null : undefined;
}

export interface SsimWasm {
  /** Copies `data` (w x h) into slot `k` and computes its local mean and mean of squares. */
  moments(k: number, data: Float64Array): void;
  /** The SSIM map of the planes in slots a and b ((w - n + 1) x (h - n + 1)); a view, valid until the next call. */
  map(a: number, b: number): Float64Array;
}

/** The kernels for `slots` planes of w x h (at least n x n) and the window `win` (n taps), or null. */
export function ssimWasm(w: number, h: number, slots: number, win: Float64Array): SsimWasm | null {
  const K = getKernels();
  if (!K) return null;
  const n = win.length, ow = w - n + 1, oh = h - n + 1;
  const len = w * h + 2, vlen = ow * oh + 2, tlen = ow * h + 2;
  const kAt = K.base / 8, slotAt = (s: number): number => kAt + n + s * (len + 2 * vlen);
  const prodAt = slotAt(slots), tmpAt = prodAt + len, abAt = tmpAt + tlen, mapAt = abAt + vlen;
  if (!ensureMemory(K.memory, 8 * (mapAt + vlen))) return null;
  const mem = new Float64Array(K.memory.buffer);
  mem.set(win, kAt);
  const { hp, vp, mul, map } = K.exports;
  const raw = (s: number): number => 8 * slotAt(s), mu = (s: number): number => raw(s) + 8 * len, sq = (s: number): number => mu(s) + 8 * vlen;
  /** 'valid' filtering of the w x h image at byte offset `src` into `dst` */
  const filter = (src: number, dst: number): void => {
    hp!(src, w, h, 8 * kAt, n, 8 * tmpAt, ow);
    vp!(8 * tmpAt, ow, ow * oh, 8 * kAt, n, dst);
  };
  return {
    moments(s, data) {
      mem.set(data, slotAt(s));
      filter(raw(s), mu(s));
      mul!(raw(s), raw(s), 8 * prodAt, w * h);
      filter(8 * prodAt, sq(s));
    },
    map(a, b) {
      mul!(raw(a), raw(b), 8 * prodAt, w * h);
      filter(8 * prodAt, 8 * abAt);
      map!(mu(a), mu(b), sq(a), sq(b), 8 * abAt, 8 * mapAt, ow * oh);
      return mem.subarray(mapAt, mapAt + ow * oh);
    },
  };
}
