/**
 * WebAssembly SIMD kernels for the separable 'valid' filtering of {@link filterValid}: the horizontal and vertical
 * passes on float64 data, two lanes per instruction, eight outputs per inner loop. The module is assembled from its
 * opcodes with ./wasm-asm.ts (about 400 bytes, no build step, no binary blob in the repository) and instantiated
 * once per thread; when WebAssembly SIMD is unavailable the callers fall back to the JavaScript loops.
 *
 * Arithmetic: each output is `acc = acc + k[t] * x[t]` for t = 0..n-1 in order, with separate multiply and add
 * (no fused multiply-add), exactly the float64 operations of the JavaScript loops, so both paths give
 * bit-identical results (tested).
 *
 * Layout in linear memory (byte offsets, 8-byte aligned): source, kernel, temporary, destination; the memory grows
 * on demand. Exports:
 * - `hpass(src, w, h, k, n, dst, ow)`: dst(y, x) = sum_t k[t] src(y, x + t), x < ow (= w - n + 1), all h rows;
 * - `vpass(tmp, ow, oh, k, n, dst, step)`: dst(y, x) = sum_t k[t] tmp(y * step + t, x), y < oh, x < ow.
 */

import { Func, instantiate, op, uleb } from '../core/wasm-asm.js';

// Opcode names as this module's kernels use them (./wasm-asm.ts holds the encodings).
const { get, set, i32, add: ADD, sub: SUB, mul: MUL, shl: SHL, geS: GE_S, gtS: GT_S, block: BLOCK, loop: LOOP, end: END } = op;
const { br, brIf, f64Load, f64Store } = op;
const F64_ADD = [0xa0], F64_MUL = op.f64Mul;
const f64Zero = [0x44, 0, 0, 0, 0, 0, 0, 0, 0];
const v128Load = (offset: number) => op.v128Load(offset);
const v128Store = (offset: number) => op.v128Store(offset);
const v128Zero = op.f64x2Const(0);
const F64X2_SPLAT = [0xfd, ...uleb(0x14)], F64X2_ADD = op.f64x2Add, F64X2_MUL = op.f64x2Mul;

/** local = local + value */
const inc = (l: number, v: number[]) => [...get(l), ...v, ...ADD, ...set(l)];

/**
 * The shared body of both passes. `rowSetup` computes the row's source base (local RS) and destination base
 * (local RD) from the row counter; `tapStride` is the byte step between taps (8 horizontally, ow*8 vertically);
 * the column step between outputs is always one float64.
 * Params 0..6 (i32); locals: 7 row, 8 x, 9 t, 10 p, 11 kp, 12 rs, 13 rd, 14 lim, 15 tapStride,
 * 16..19 accumulators (v128), 20 kv (v128), 21 s (f64).
 */
function passBody(rows: number, cols: number, k: number, n: number, rowSetup: number[], tapStride: number[]): number[] {
  const ROW = 7, X = 8, T = 9, P = 10, KP = 11, RS = 12, RD = 13, LIM = 14, TS = 15, A = [16, 17, 18, 19], KV = 20, S = 21;
  const mac = (acc: number, off: number) => [...get(acc), ...get(KV), ...get(P), ...v128Load(off), ...F64X2_MUL, ...F64X2_ADD, ...set(acc)];
  return [
    ...tapStride, ...set(TS),
    ...i32(0), ...set(ROW),
    ...BLOCK, ...LOOP,
    ...get(ROW), ...get(rows), ...GE_S, ...brIf(1),
    ...rowSetup,
    ...i32(0), ...set(X),
    ...get(cols), ...i32(8), ...SUB, ...set(LIM),
    // eight outputs at a time
    ...BLOCK, ...LOOP,
    ...get(X), ...get(LIM), ...GT_S, ...brIf(1),
    ...v128Zero, ...set(A[0]!), ...v128Zero, ...set(A[1]!), ...v128Zero, ...set(A[2]!), ...v128Zero, ...set(A[3]!),
    ...get(RS), ...get(X), ...i32(3), ...SHL, ...ADD, ...set(P),
    ...get(k), ...set(KP),
    ...get(n), ...set(T),
    ...LOOP,
    ...get(KP), ...f64Load(), ...F64X2_SPLAT, ...set(KV),
    ...mac(A[0]!, 0), ...mac(A[1]!, 16), ...mac(A[2]!, 32), ...mac(A[3]!, 48),
    ...inc(P, get(TS)), ...inc(KP, i32(8)),
    ...get(T), ...i32(1), ...SUB, ...set(T),
    ...get(T), ...brIf(0),
    ...END,
    ...get(RD), ...get(X), ...i32(3), ...SHL, ...ADD, ...set(P),
    ...get(P), ...get(A[0]!), ...v128Store(0),
    ...get(P), ...get(A[1]!), ...v128Store(16),
    ...get(P), ...get(A[2]!), ...v128Store(32),
    ...get(P), ...get(A[3]!), ...v128Store(48),
    ...inc(X, i32(8)),
    ...br(0),
    ...END, ...END,
    // remaining outputs one at a time
    ...BLOCK, ...LOOP,
    ...get(X), ...get(cols), ...GE_S, ...brIf(1),
    ...f64Zero, ...set(S),
    ...get(RS), ...get(X), ...i32(3), ...SHL, ...ADD, ...set(P),
    ...get(k), ...set(KP),
    ...get(n), ...set(T),
    ...LOOP,
    ...get(S), ...get(KP), ...f64Load(), ...get(P), ...f64Load(), ...F64_MUL, ...F64_ADD, ...set(S),
    ...inc(P, get(TS)), ...inc(KP, i32(8)),
    ...get(T), ...i32(1), ...SUB, ...set(T),
    ...get(T), ...brIf(0),
    ...END,
    ...get(RD), ...get(X), ...i32(3), ...SHL, ...ADD, ...get(S), ...f64Store(),
    ...inc(X, i32(1)),
    ...br(0),
    ...END, ...END,
    ...inc(ROW, i32(1)),
    ...br(0),
    ...END, ...END,
    ...END,
  ];
}

/** One pass as a function of 7 i32 parameters with the locals passBody expects (7..15 i32, 16..20 v128, 21 f64). */
function kernel(name: string, code: number[]): Func {
  const f = new Func(name, 7);
  for (let i = 0; i < 9; i++) f.i32();
  for (let i = 0; i < 5; i++) f.v128();
  f.f64();
  return f.emit(code.slice(0, -1)); // (Func adds the function's end)
}

function passKernels(): Func[] {
  const ROW = 7, RS = 12, RD = 13;
  // hpass(src 0, w 1, h 2, k 3, n 4, dst 5, ow 6): rows = h, cols = ow, rs = src + row*w*8, rd = dst + row*ow*8
  const hpass = passBody(2, 6, 3, 4, [
    ...get(0), ...get(ROW), ...get(1), ...MUL, ...i32(3), ...SHL, ...ADD, ...set(RS),
    ...get(5), ...get(ROW), ...get(6), ...MUL, ...i32(3), ...SHL, ...ADD, ...set(RD),
  ], i32(8));
  // vpass(tmp 0, ow 1, oh 2, k 3, n 4, dst 5, step 6): rows = oh, cols = ow, rs = tmp + row*step*ow*8, rd = dst + row*ow*8
  const vpass = passBody(2, 1, 3, 4, [
    ...get(0), ...get(ROW), ...get(6), ...MUL, ...get(1), ...MUL, ...i32(3), ...SHL, ...ADD, ...set(RS),
    ...get(5), ...get(ROW), ...get(1), ...MUL, ...i32(3), ...SHL, ...ADD, ...set(RD),
  ], [...get(1), ...i32(3), ...SHL]);
  return [kernel('hpass', hpass), kernel('vpass', vpass)];
}

// --- runtime ------------------------------------------------------------------------------------------------------

interface Kernels {
  memory: WebAssembly.Memory;
  hpass: (src: number, w: number, h: number, k: number, n: number, dst: number, ow: number) => void;
  vpass: (tmp: number, ow: number, oh: number, k: number, n: number, dst: number, step: number) => void;
}

let kernels: Kernels | null | undefined;

/** The SIMD kernels, or null when this runtime lacks WebAssembly SIMD (or `ISFUSE_NO_WASM=1` is set). */
function getKernels(): Kernels | null {
  if (kernels !== undefined) return kernels;
  // no constants, so the module's data starts at byte 0 (the layout below)
  const k = instantiate(passKernels);
  kernels = k && { memory: k.memory, hpass: k.exports.hpass!, vpass: k.exports.vpass! };
  return kernels;
}

/** Whether the WebAssembly SIMD path is in use in this thread. */
export function wasmFilterAvailable(): boolean {
  return getKernels() !== null;
}

/** Forces the JavaScript fallback (true) or re-enables detection (false). For tests and benchmarks. */
export function disableWasmFilter(disabled: boolean): void {
  kernels = disabled ? null : undefined;
}

/**
 * 'valid' separable filtering of a w x h float64 image with `k ⊗ k`, keeping every `step`-th output row and column.
 * Returns null when the SIMD kernels are unavailable or the data does not fit in 32-bit linear memory (the caller
 * then uses its JavaScript loops).
 */
export function filterValidWasm(src: Float64Array, w: number, h: number, k: Float64Array, step: number): { data: Float64Array; width: number; height: number } | null {
  const K = getKernels();
  if (!K) return null;
  const n = k.length;
  const vw = w - n + 1, vh = h - n + 1;
  const oh = Math.ceil(vh / step), ow = Math.ceil(vw / step);
  // All vw columns are computed (contiguous SIMD lanes); rows are skipped by the vertical pass.
  const srcOff = 0, kOff = srcOff + w * h * 8, tmpOff = kOff + n * 8, dstOff = tmpOff + h * vw * 8;
  const bytes = dstOff + oh * vw * 8;
  if (bytes > 2 ** 31) return null;
  const have = K.memory.buffer.byteLength;
  if (bytes > have) {
    try {
      K.memory.grow(Math.ceil((bytes - have) / 65536));
    } catch {
      return null;
    }
  }
  const mem = new Float64Array(K.memory.buffer);
  mem.set(src, srcOff / 8);
  mem.set(k, kOff / 8);
  K.hpass(srcOff, w, h, kOff, n, tmpOff, vw);
  K.vpass(tmpOff, vw, oh, kOff, n, dstOff, step);
  const base = dstOff / 8;
  let out: Float64Array;
  if (step === 1) out = mem.slice(base, base + oh * vw);
  else {
    out = new Float64Array(ow * oh);
    for (let y = 0; y < oh; y++) {
      const r = base + y * vw, o = y * ow;
      for (let x = 0; x < ow; x++) out[o + x] = mem[r + x * step]!;
    }
  }
  return { data: out, width: ow, height: oh };
}
