/**
 * The 2-D transforms of ./fft.ts (fft2d, filterPair, filterSpectrum) on WebAssembly SIMD, two float64 lanes per
 * instruction. Why: Qcb and Qcv need eleven 640x480 complex transforms per MSRS triple, which took ~25 ms each in
 * JavaScript (the largest cost of the vifb suite); here ~10-12 ms on the shared 2-vCPU test machine.
 *
 * Same algorithm and data flow as the JavaScript passes of ./fft.ts: the image is copied into linear memory, then
 * each pass copies a strip of {@link LANES} columns (or transposes a strip of rows) into a small buffer, runs the
 * Stockham stages there (radices 2, 3, 4, 5, 8) and copies it back; the frequency filter is an element-wise product
 * between the passes. Each stage kernel transcribes its JavaScript twin in ./fft.ts operation for operation (same
 * formulas, same order, no fused multiply-add) and copies and transposes move values unchanged, so both give
 * bit-identical results (tested). Plans with another radix (generic odd primes, Bluestein) stay in JavaScript.
 *
 * Memory layout (bytes, all offsets recomputed per call): the constants, twiddle tables (kept while their length is
 * in use), the last filter, four strip buffers (data and work, re and im), the image (re, im; slack after each, read
 * by the spare lane of an odd strip); image and buffers 64-byte aligned.
 */
import { ensureMemory, Func, instantiate, op, type ConstPool, type WasmKernels } from '../../core/wasm-asm.js';

/** The part of a ./fft.ts stage the kernels need. */
export interface StageLike {
  readonly r: number;
  readonly m: number;
  readonly tw: Float64Array;
}

/** Radices with a kernel here. */
export const WASM_RADICES: readonly number[] = [2, 3, 4, 5, 8];

/**
 * Strip width in lanes. 8 measured fastest (stages of a 640x480 transform 2.2 + 2.7 ms, against 2.9 + 4.2 with 32;
 * whole transforms 11 ms, against 13 with 4 and 14 with 16 or 32): a strip's four buffers then stay in L2. Even, so
 * every stage has an even lane count (an odd strip at the right or bottom edge gets one spare lane, never copied
 * back).
 */
const LANES = 8;

interface Cx {
  readonly r: number;
  readonly i: number;
}

type Butterfly = (f: Func, a: readonly Cx[]) => Cx[];

const R2 = Math.SQRT1_2;
const SIN60 = Math.sqrt(3) / 2;
const C1_5 = Math.cos((2 * Math.PI) / 5), C2_5 = Math.cos((4 * Math.PI) / 5);
const S1_5 = Math.sin((2 * Math.PI) / 5), S2_5 = Math.sin((4 * Math.PI) / 5);

// The butterflies: outputs y_0..y_{r-1} before the twiddles, as in ./fft.ts.
const butterflies: Record<number, Butterfly> = {
  2: (f, [a0, a1]) => [
    { r: f.add(a0!.r, a1!.r), i: f.add(a0!.i, a1!.i) },
    { r: f.sub(a0!.r, a1!.r), i: f.sub(a0!.i, a1!.i) },
  ],
  4: (f, [a0, a1, a2, a3]) => {
    const t0r = f.add(a0!.r, a2!.r), t0i = f.add(a0!.i, a2!.i), t1r = f.sub(a0!.r, a2!.r), t1i = f.sub(a0!.i, a2!.i);
    const t2r = f.add(a1!.r, a3!.r), t2i = f.add(a1!.i, a3!.i), t3r = f.sub(a1!.r, a3!.r), t3i = f.sub(a1!.i, a3!.i);
    return [
      { r: f.add(t0r, t2r), i: f.add(t0i, t2i) },
      { r: f.add(t1r, t3i), i: f.sub(t1i, t3r) },
      { r: f.sub(t0r, t2r), i: f.sub(t0i, t2i) },
      { r: f.sub(t1r, t3i), i: f.add(t1i, t3r) },
    ];
  },
  8: (f, a) => {
    const [a0, a1, a2, a3, a4, a5, a6, a7] = a as [Cx, Cx, Cx, Cx, Cx, Cx, Cx, Cx];
    // even half: radix 4 on a0, a2, a4, a6
    const p0r = f.add(a0.r, a4.r), p0i = f.add(a0.i, a4.i), p1r = f.sub(a0.r, a4.r), p1i = f.sub(a0.i, a4.i);
    const p2r = f.add(a2.r, a6.r), p2i = f.add(a2.i, a6.i), p3r = f.sub(a2.r, a6.r), p3i = f.sub(a2.i, a6.i);
    const e0r = f.add(p0r, p2r), e0i = f.add(p0i, p2i), e2r = f.sub(p0r, p2r), e2i = f.sub(p0i, p2i);
    const e1r = f.add(p1r, p3i), e1i = f.sub(p1i, p3r), e3r = f.sub(p1r, p3i), e3i = f.add(p1i, p3r);
    // odd half: radix 4 on a1, a3, a5, a7
    const q0r = f.add(a1.r, a5.r), q0i = f.add(a1.i, a5.i), q1r = f.sub(a1.r, a5.r), q1i = f.sub(a1.i, a5.i);
    const q2r = f.add(a3.r, a7.r), q2i = f.add(a3.i, a7.i), q3r = f.sub(a3.r, a7.r), q3i = f.sub(a3.i, a7.i);
    const o0r = f.add(q0r, q2r), o0i = f.add(q0i, q2i), o2r = f.sub(q0r, q2r), o2i = f.sub(q0i, q2i);
    const o1r = f.add(q1r, q3i), o1i = f.sub(q1i, q3r), o3r = f.sub(q1r, q3i), o3i = f.add(q1i, q3r);
    const k = f.k(R2), nk = f.k(-R2);
    const u1r = f.mul(k, f.add(o1r, o1i)), u1i = f.mul(k, f.sub(o1i, o1r));
    const u2r = o2i, u2i = f.neg(o2r);
    const u3r = f.mul(k, f.sub(o3i, o3r)), u3i = f.mul(nk, f.add(o3r, o3i));
    return [
      { r: f.add(e0r, o0r), i: f.add(e0i, o0i) },
      { r: f.add(e1r, u1r), i: f.add(e1i, u1i) },
      { r: f.add(e2r, u2r), i: f.add(e2i, u2i) },
      { r: f.add(e3r, u3r), i: f.add(e3i, u3i) },
      { r: f.sub(e0r, o0r), i: f.sub(e0i, o0i) },
      { r: f.sub(e1r, u1r), i: f.sub(e1i, u1i) },
      { r: f.sub(e2r, u2r), i: f.sub(e2i, u2i) },
      { r: f.sub(e3r, u3r), i: f.sub(e3i, u3i) },
    ];
  },
  3: (f, [a0, a1, a2]) => {
    const t1r = f.add(a1!.r, a2!.r), t1i = f.add(a1!.i, a2!.i);
    const half = f.k(0.5), s60 = f.k(SIN60);
    const t2r = f.sub(a0!.r, f.mul(half, t1r)), t2i = f.sub(a0!.i, f.mul(half, t1i));
    const t3r = f.mul(s60, f.sub(a1!.r, a2!.r)), t3i = f.mul(s60, f.sub(a1!.i, a2!.i));
    return [
      { r: f.add(a0!.r, t1r), i: f.add(a0!.i, t1i) },
      { r: f.add(t2r, t3i), i: f.sub(t2i, t3r) },
      { r: f.sub(t2r, t3i), i: f.add(t2i, t3r) },
    ];
  },
  5: (f, [a0, a1, a2, a3, a4]) => {
    const c1 = f.k(C1_5), c2 = f.k(C2_5), s1 = f.k(S1_5), s2 = f.k(S2_5);
    const b1r = f.add(a1!.r, a4!.r), b1i = f.add(a1!.i, a4!.i), b2r = f.add(a2!.r, a3!.r), b2i = f.add(a2!.i, a3!.i);
    const d1r = f.sub(a1!.r, a4!.r), d1i = f.sub(a1!.i, a4!.i), d2r = f.sub(a2!.r, a3!.r), d2i = f.sub(a2!.i, a3!.i);
    const e1r = f.add(f.add(a0!.r, f.mul(c1, b1r)), f.mul(c2, b2r)), e1i = f.add(f.add(a0!.i, f.mul(c1, b1i)), f.mul(c2, b2i));
    const e2r = f.add(f.add(a0!.r, f.mul(c2, b1r)), f.mul(c1, b2r)), e2i = f.add(f.add(a0!.i, f.mul(c2, b1i)), f.mul(c1, b2i));
    const f1r = f.add(f.mul(s1, d1r), f.mul(s2, d2r)), f1i = f.add(f.mul(s1, d1i), f.mul(s2, d2i));
    const f2r = f.sub(f.mul(s2, d1r), f.mul(s1, d2r)), f2i = f.sub(f.mul(s2, d1i), f.mul(s1, d2i));
    return [
      { r: f.add(f.add(a0!.r, b1r), b2r), i: f.add(f.add(a0!.i, b1i), b2i) },
      { r: f.add(e1r, f1i), i: f.sub(e1i, f1r) },
      { r: f.add(e2r, f2i), i: f.sub(e2i, f2r) },
      { r: f.sub(e2r, f2i), i: f.add(e2i, f2r) },
      { r: f.sub(e1r, f1i), i: f.add(e1i, f1r) },
    ];
  },
};

/**
 * One Stockham stage of radix r: `stage(xr, xi, yr, yi, tw, s, m)` (byte offsets; s, m counts, s even), as
 * ./fft.ts's radix functions: for p < m, q < s (two lanes at a time), y_j = butterfly(x[s p + q + j s m]) times the
 * twiddle w_j(p) is written to `r s p + q + j s`.
 */
function stageKernel(r: number, pool: ConstPool): Func {
  const f = new Func(`r${r}`, 7, pool);
  const XR = 0, XI = 1, YR = 2, YI = 3, TW = 4, S = 5, M = 6;
  const s8 = f.i32(), rs8 = f.i32(), p = f.i32(), twp = f.i32(), end = f.i32();
  const ax = f.i32(), axi = f.i32(), ay = f.i32(), ayi = f.i32(), qx = f.i32(), qxi = f.i32(), qy = f.i32(), qyi = f.i32();
  const offIn: number[] = [], offOut: number[] = [];
  f.emit(op.get(S), op.i32(3), op.shl, op.set(s8));
  f.emit(op.get(s8), op.i32(r), op.mul, op.set(rs8));
  for (let j = 1; j < r; j++) {
    offIn[j] = f.i32();
    offOut[j] = f.i32();
    f.emit(op.get(s8), op.get(M), op.mul, op.i32(j), op.mul, op.set(offIn[j]!));
    f.emit(op.get(s8), op.i32(j), op.mul, op.set(offOut[j]!));
  }
  f.emit(op.i32(0), op.set(p), op.get(TW), op.set(twp));
  f.emit(op.get(XR), op.set(ax), op.get(XI), op.set(axi), op.get(YR), op.set(ay), op.get(YI), op.set(ayi));
  f.whileNot([op.get(p), op.get(M), op.geS], () => {
    const w: Cx[] = [];
    for (let j = 1; j < r; j++) {
      const wr = f.v128(), wi = f.v128();
      f.emit(op.get(twp), op.splatLoad(16 * (j - 1)), op.set(wr), op.get(twp), op.splatLoad(16 * (j - 1) + 8), op.set(wi));
      w[j] = { r: wr, i: wi };
    }
    f.inc(twp, op.i32(16 * (r - 1)));
    f.emit(op.get(ax), op.get(s8), op.add, op.set(end));
    f.emit(op.get(ax), op.set(qx), op.get(axi), op.set(qxi), op.get(ay), op.set(qy), op.get(ayi), op.set(qyi));
    f.whileNot([op.get(qx), op.get(end), op.geU], () => {
      const a: Cx[] = [{ r: f.load(qx), i: f.load(qxi) }];
      for (let j = 1; j < r; j++) a.push({ r: f.load2(qx, offIn[j]!), i: f.load2(qxi, offIn[j]!) });
      const y = butterflies[r]!(f, a);
      f.store(qy, y[0]!.r);
      f.store(qyi, y[0]!.i);
      for (let j = 1; j < r; j++) {
        const { r: vr, i: vi } = y[j]!, { r: wr, i: wi } = w[j]!;
        f.store2(qy, offOut[j]!, f.sub(f.mul(vr, wr), f.mul(vi, wi)));
        f.store2(qyi, offOut[j]!, f.add(f.mul(vr, wi), f.mul(vi, wr)));
      }
      for (const l of [qx, qxi, qy, qyi]) f.inc(l, op.i32(16));
    });
    f.inc(ax, op.get(s8));
    f.inc(axi, op.get(s8));
    f.inc(ay, op.get(rs8));
    f.inc(ayi, op.get(rs8));
    f.inc(p, op.i32(1));
  });
  return f;
}

/**
 * `copy(src, ss, dst, ds, rows, count)`: `count` float64 per row from rows of stride `ss` to rows of stride `ds`
 * (strides in float64, pointers in bytes).
 */
function copyKernel(): Func {
  const f = new Func('copy', 6);
  const SRC = 0, SS = 1, DST = 2, DS = 3, ROWS = 4, COUNT = 5;
  const y = f.i32(), p = f.i32(), q = f.i32(), e = f.i32();
  f.emit(op.get(SS), op.i32(3), op.shl, op.set(SS), op.get(DS), op.i32(3), op.shl, op.set(DS));
  f.emit(op.i32(0), op.set(y));
  f.whileNot([op.get(y), op.get(ROWS), op.geS], () => {
    f.emit(op.get(SRC), op.get(y), op.get(SS), op.mul, op.add, op.set(p));
    f.emit(op.get(DST), op.get(y), op.get(DS), op.mul, op.add, op.set(q));
    f.emit(op.get(p), op.get(COUNT), op.i32(-2), op.and, op.i32(3), op.shl, op.add, op.set(e));
    f.whileNot([op.get(p), op.get(e), op.geU], () => {
      f.emit(op.get(q), op.get(p), op.v128Load(), op.v128Store());
      f.inc(p, op.i32(16));
      f.inc(q, op.i32(16));
    });
    f.emit(op.get(COUNT), op.i32(1), op.and, op.if, op.get(q), op.get(p), op.f64Load(), op.f64Store(), op.end);
    f.inc(y, op.i32(1));
  });
  return f;
}

/**
 * `transpose(src, ss, dst, ds, rows, cols)`: `dst[x ds + y] = src[y ss + x]` for y < rows, x < cols (strides in
 * float64), by 2x2 blocks of two loads and two shuffles; an odd last row or column one sample at a time.
 */
function transposeKernel(): Func {
  const f = new Func('transpose', 6);
  const SRC = 0, SS = 1, DST = 2, DS = 3, ROWS = 4, COLS = 5;
  const y = f.i32(), x = f.i32(), rp = f.i32(), cp = f.i32();
  const LO = [0, 1, 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23], HI = LO.map((b) => b + 8);
  f.emit(op.get(SS), op.i32(3), op.shl, op.set(SS), op.get(DS), op.i32(3), op.shl, op.set(DS));
  const start = (): void => {
    f.emit(op.get(SRC), op.get(y), op.get(SS), op.mul, op.add, op.set(rp));
    f.emit(op.get(DST), op.get(y), op.i32(3), op.shl, op.add, op.set(cp));
  };
  f.emit(op.i32(0), op.set(y));
  f.whileNot([op.get(y), op.i32(1), op.add, op.get(ROWS), op.geS], () => {
    start();
    f.emit(op.i32(0), op.set(x));
    f.whileNot([op.get(x), op.i32(1), op.add, op.get(COLS), op.geS], () => {
      const a = f.load(rp), b = f.load2(rp, SS);
      f.emit(op.get(cp), op.get(a), op.get(b), op.shuffle(LO), op.v128Store());
      f.emit(op.get(cp), op.get(DS), op.add, op.get(a), op.get(b), op.shuffle(HI), op.v128Store());
      f.inc(rp, op.i32(16));
      f.inc(cp, [...op.get(DS), ...op.i32(1), ...op.shl]);
      f.inc(x, op.i32(2));
    });
    f.emit(op.get(x), op.get(COLS), op.ltS, op.if);
    f.emit(op.get(cp), op.get(rp), op.f64Load(), op.f64Store());
    f.emit(op.get(cp), op.get(rp), op.get(SS), op.add, op.f64Load(), op.f64Store(8));
    f.emit(op.end);
    f.inc(y, op.i32(2));
  });
  f.emit(op.get(y), op.get(ROWS), op.ltS, op.if);
  start();
  f.emit(op.i32(0), op.set(x));
  f.whileNot([op.get(x), op.get(COLS), op.geS], () => {
    f.emit(op.get(cp), op.get(rp), op.f64Load(), op.f64Store());
    f.inc(rp, op.i32(8));
    f.inc(cp, op.get(DS));
    f.inc(x, op.i32(1));
  });
  f.emit(op.end);
  return f;
}

/** `mul(a, k, n)`: `a[i] = a[i] * k[i]` for i < n (float64). */
function mulKernel(): Func {
  const f = new Func('mul', 3);
  const A = 0, K = 1, N = 2;
  const e = f.i32();
  f.emit(op.get(A), op.get(N), op.i32(-2), op.and, op.i32(3), op.shl, op.add, op.set(e));
  f.whileNot([op.get(A), op.get(e), op.geU], () => {
    f.store(A, f.mul(f.load(A), f.load(K)));
    f.inc(A, op.i32(16));
    f.inc(K, op.i32(16));
  });
  f.emit(op.get(N), op.i32(1), op.and, op.if, op.get(A), op.get(A), op.f64Load(), op.get(K), op.f64Load(), op.f64Mul, op.f64Store(), op.end);
  return f;
}

type Kernel = (...args: number[]) => void;

/** Where the pieces of one call live (byte offsets). */
interface Layout {
  readonly bufs: readonly [number, number, number, number];
  readonly re: number;
  readonly im: number;
  readonly filter: number;
}

export interface Fft2dWasm {
  /** ./fft.ts fft2d: in-place 2-D DFT (inverse unnormalised). False when memory cannot grow (nothing changed). */
  fft2d(re: Float64Array, im: Float64Array, w: number, h: number, inverse: boolean, cols: readonly StageLike[], rows: readonly StageLike[]): boolean;
  /**
   * ./fft.ts filterPair / filterSpectrum: with `forward`, the 2-D DFT of (re, im) first (filterPair), else (re, im)
   * is already a spectrum; then the element-wise product with `rm` (row-major response) and the inverse 2-D DFT,
   * written to (outRe, outIm) (may be re, im). False when memory cannot grow (nothing changed).
   */
  filter(re: Float64Array, im: Float64Array, w: number, h: number, rm: Float64Array, forward: boolean, outRe: Float64Array, outIm: Float64Array, cols: readonly StageLike[], rows: readonly StageLike[]): boolean;
}

let instance: Fft2dWasm | null | undefined;

/** The kernels, or null without WebAssembly SIMD (or with `ISFUSE_NO_WASM=1`, or after {@link disableFftWasm}). */
export function fftWasm(): Fft2dWasm | null {
  if (instance === undefined) {
    const k = instantiate((pool) => [...WASM_RADICES.map((r) => stageKernel(r, pool)), copyKernel(), transposeKernel(), mulKernel()]);
    instance = k && makeFft2d(k);
  }
  return instance;
}

/** Forces the JavaScript passes (true) or re-enables the kernels (false). For tests and benchmarks. */
export function disableFftWasm(disabled: boolean): void {
  instance = disabled ? null : undefined;
}

/** Twiddle bytes above which the tables are dropped and re-uploaded (many image sizes in one run). */
const MAX_TWIDDLE_BYTES = 1 << 22;

function makeFft2d(k: WasmKernels): Fft2dWasm {
  const { memory } = k;
  const stage = new Map(WASM_RADICES.map((r) => [r, k.exports[`r${r}`]!] as const));
  const copy = k.exports.copy!, transpose = k.exports.transpose!, mul = k.exports.mul! as Kernel;
  const twOffset = new Map<Float64Array, number>();
  let twEnd = k.base;
  // The filter in the filter slot and the slot's offset (a filter is reused for every plane of an evaluation).
  let lastFilter: Float64Array | null = null;
  let filterAt = -1;

  /** Uploads missing twiddles (and the filter, unless already there) and grows the memory; null if it cannot. */
  function layout(w: number, h: number, stages: readonly StageLike[], filter: Float64Array | null): Layout | null {
    const missing = [...new Set(stages.map((st) => st.tw))].filter((tw) => !twOffset.has(tw));
    let need = twEnd;
    for (const tw of missing) need += tw.byteLength;
    if (need - k.base > MAX_TWIDDLE_BYTES && twEnd > k.base) {
      twOffset.clear();
      twEnd = k.base;
      return layout(w, h, stages, filter);
    }
    // 64-byte (cache line) alignment: a strip row of 8 lanes is then one line, not two
    const imgBytes = Math.ceil((w * h * 8 + 16) / 64) * 64, bufBytes = Math.ceil((LANES * Math.max(w, h) * 8) / 64) * 64;
    const fOff = Math.ceil(need / 64) * 64, b0 = fOff + imgBytes;
    const re = b0 + 4 * bufBytes, im = re + imgBytes;
    if (!ensureMemory(memory, im + imgBytes)) return null;
    const mem = new Float64Array(memory.buffer);
    for (const tw of missing) {
      mem.set(tw, twEnd / 8);
      twOffset.set(tw, twEnd);
      twEnd += tw.byteLength;
    }
    if (filter && (filter !== lastFilter || fOff !== filterAt)) {
      mem.set(filter, fOff / 8);
      lastFilter = filter;
      filterAt = fOff;
    }
    return { bufs: [b0, b0 + bufBytes, b0 + 2 * bufBytes, b0 + 3 * bufBytes], re, im, filter: fOff };
  }

  /** Runs the stages over `lanes` lanes in buffers (x = 0: bufs 0/1, work 2/3); returns the pair holding the result. */
  function run(L: Layout, stages: readonly StageLike[], lanes: number, inverse: boolean): [number, number] {
    let [xr, xi, yr, yi] = L.bufs;
    // inverse: the forward transform with real and imaginary parts exchanged (see ./fft.ts fftAxis0)
    if (inverse) [xr, xi, yr, yi] = [xi, xr, yi, yr];
    let s = lanes;
    for (const st of stages) {
      stage.get(st.r)!(xr, xi, yr, yi, twOffset.get(st.tw)!, s, st.m);
      s *= st.r;
      [xr, xi, yr, yi] = [yr, yi, xr, xi];
    }
    return stages.length % 2 === 0 ? [L.bufs[0], L.bufs[1]] : [L.bufs[2], L.bufs[3]];
  }

  /** Every column (length h) in strips of LANES columns. */
  function columns(L: Layout, w: number, h: number, stages: readonly StageLike[], inverse: boolean): void {
    for (let x0 = 0; x0 < w; x0 += LANES) {
      const c = Math.min(LANES, w - x0), cs = c + (c & 1);
      copy(L.re + 8 * x0, w, L.bufs[0], cs, h, cs);
      copy(L.im + 8 * x0, w, L.bufs[1], cs, h, cs);
      const [or, oi] = run(L, stages, cs, inverse);
      copy(or, cs, L.re + 8 * x0, w, h, c);
      copy(oi, cs, L.im + 8 * x0, w, h, c);
    }
  }

  /** Every row (length w) in strips of LANES rows, transposed into the buffers and back. */
  function rows(L: Layout, w: number, h: number, stages: readonly StageLike[], inverse: boolean): void {
    for (let y0 = 0; y0 < h; y0 += LANES) {
      const c = Math.min(LANES, h - y0), cs = c + (c & 1);
      transpose(L.re + 8 * y0 * w, w, L.bufs[0], cs, c, w);
      transpose(L.im + 8 * y0 * w, w, L.bufs[1], cs, c, w);
      const [or, oi] = run(L, stages, cs, inverse);
      transpose(or, cs, L.re + 8 * y0 * w, w, w, c);
      transpose(oi, cs, L.im + 8 * y0 * w, w, w, c);
    }
  }

  function load(L: Layout, re: Float64Array, im: Float64Array): void {
    const mem = new Float64Array(memory.buffer);
    mem.set(re, L.re / 8);
    mem.set(im, L.im / 8);
  }

  function store(L: Layout, n: number, re: Float64Array, im: Float64Array): void {
    const mem = new Float64Array(memory.buffer);
    re.set(mem.subarray(L.re / 8, L.re / 8 + n));
    im.set(mem.subarray(L.im / 8, L.im / 8 + n));
  }

  return {
    fft2d(re, im, w, h, inverse, cols, rowStages) {
      const L = layout(w, h, [...cols, ...rowStages], null);
      if (!L) return false;
      load(L, re, im);
      columns(L, w, h, cols, inverse);
      rows(L, w, h, rowStages, inverse);
      store(L, w * h, re, im);
      return true;
    },
    filter(re, im, w, h, rm, forward, outRe, outIm, cols, rowStages) {
      const L = layout(w, h, [...cols, ...rowStages], rm);
      if (!L) return false;
      load(L, re, im);
      if (forward) {
        columns(L, w, h, cols, false);
        rows(L, w, h, rowStages, false);
      }
      mul(L.re, L.filter, w * h);
      mul(L.im, L.filter, w * h);
      rows(L, w, h, rowStages, true);
      columns(L, w, h, cols, true);
      store(L, w * h, outRe, outIm);
      return true;
    },
  };
}
