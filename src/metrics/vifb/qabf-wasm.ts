/**
 * Qabf's per-pixel work (./qabf.ts) on WebAssembly SIMD, two pixels per instruction: the Sobel strength and
 * orientation of each plane, and each channel's per-pixel edge-preservation terms. Why: with ~4 exp per pixel and
 * channel and one atan per pixel and plane, each a ~20 ns call into V8's C++, Qabf was the second-largest cost
 * of the vifb suite; here exp and atan are inlined (../common/wasm-math.ts, the same fdlibm doubles).
 *
 * Arithmetic: the JavaScript loops' float64 operations in their order (Sobel sums, x255 scaling, `sqrt`, `atan`,
 * the G / Aa branches as lane selects, the two sigmoids), so the per-pixel values are bit-identical; the final
 * sums stay in JavaScript, in the same order (./qabf.ts), so Qabf is too (tested).
 *
 * Memory (float64 units, after the constants): the zero-padded plane being differentiated, then per plane slot its strength g and
 * orientation alpha, then the per-pixel terms; each array has two samples of slack, written by the spare lane of
 * an odd row or pixel count.
 */
import { ensureMemory, Func, instantiate, op, type ConstPool, type WasmKernels } from '../../core/wasm-asm.js';
import { atanF64x2, expF64x2 } from '../common/wasm-math.js';

const HALF_PI = Math.PI / 2;
const TG = 0.9994, KG = -15, DG = 0.5;
const TA = 0.9879, KA = -22, DA = 0.8;

/**
 * `grad(src, w, h, g, alpha)`: src is the plane zero-padded by one sample ((w + 2) x (h + 2)); for each pixel
 * `sx = -255 dx`, `sy = 255 dy` (../vifb/sobel.ts stencil), `g = sqrt(sx^2 + sy^2)`, `alpha = sx == 0 ? pi/2 : atan(sy / sx)`.
 */
function gradKernel(pool: ConstPool): Func {
  const f = new Func('grad', 5, pool);
  const SRC = 0, W = 1, H = 2, G = 3, A = 4;
  const y = f.i32(), wp8 = f.i32(), pu = f.i32(), pm = f.i32(), pd = f.i32(), og = f.i32(), oa = f.i32(), e = f.i32();
  f.emit(op.get(W), op.i32(2), op.add, op.i32(3), op.shl, op.set(wp8));
  f.emit(op.i32(0), op.set(y), op.get(G), op.set(og), op.get(A), op.set(oa));
  f.whileNot([op.get(y), op.get(H), op.geS], () => {
    // pu, pm, pd: the sample left of the pixel in the rows above, at and below it
    f.emit(op.get(SRC), op.get(y), op.get(wp8), op.mul, op.add, op.set(pu));
    f.emit(op.get(pu), op.get(wp8), op.add, op.set(pm), op.get(pm), op.get(wp8), op.add, op.set(pd));
    f.emit(op.get(og), op.get(W), op.i32(3), op.shl, op.add, op.set(e));
    // pixels in pairs; with an odd width the last pair's second pixel spills into the next row's first, which that
    // row then overwrites (or into the slack)
    f.whileNot([op.get(og), op.get(e), op.geU], () => {
      const nw = f.load(pu), n = f.load(pu, 8), ne = f.load(pu, 16);
      const wl = f.load(pm), el = f.load(pm, 16);
      const sw = f.load(pd), s = f.load(pd, 8), se = f.load(pd, 16);
      const two = f.k(2);
      const dx = f.sub(f.add(f.add(ne, f.mul(two, el)), se), f.add(f.add(nw, f.mul(two, wl)), sw));
      const dy = f.sub(f.add(f.add(sw, f.mul(two, s)), se), f.add(f.add(nw, f.mul(two, n)), ne));
      const sx = f.mul(f.k(-255), dx), sy = f.mul(f.k(255), dy);
      f.store(og, f.sqrt(f.add(f.mul(sx, sx), f.mul(sy, sy))));
      f.store(oa, f.select(f.eq(sx, f.k(0)), f.k(HALF_PI), atanF64x2(f, f.div(sy, sx))));
      for (const l of [pu, pm, pd, og, oa]) f.inc(l, op.i32(16));
    });
    f.emit(op.get(G), op.get(y), op.i32(1), op.add, op.get(W), op.mul, op.i32(3), op.shl, op.add, op.set(og));
    f.emit(op.get(A), op.get(y), op.i32(1), op.add, op.get(W), op.mul, op.i32(3), op.shl, op.add, op.set(oa));
    f.inc(y, op.i32(1));
  });
  return f;
}

/**
 * `terms(ga, aa, gb, ab, gf, af, out, n)`: per pixel `Q_AF g_A + Q_BF g_B`, each term only where its g is non-zero
 * (./qabf.ts qabfFromGradients, before the sums).
 */
function termsKernel(pool: ConstPool): Func {
  const f = new Func('terms', 8, pool);
  const GA = 0, AA = 1, GB = 2, AB = 3, GF = 4, AF = 5, OUT = 6, N = 7;
  const e = f.i32();
  f.emit(op.get(OUT), op.get(N), op.i32(3), op.shl, op.add, op.set(e));
  f.whileNot([op.get(OUT), op.get(e), op.geU], () => {
    const gF = f.load(GF), aF = f.load(AF), zero = f.k(0);
    const term = (gX: number, aX: number): number => {
      // G = gX > gF ? gF / gX : gX == gF ? gF : gX / gF
      const gt = f.gt(gX, gF);
      const G = f.select(f.eq(gX, gF), gF, f.div(f.select(gt, gF, gX), f.select(gt, gX, gF)));
      const Aa = f.sub(f.k(1), f.div(f.abs(f.sub(aX, aF)), f.k(HALF_PI)));
      const qg = f.div(f.k(TG), f.add(f.k(1), expF64x2(f, f.mul(f.k(KG), f.sub(G, f.k(DG))))));
      const qa = f.div(f.k(TA), f.add(f.k(1), expF64x2(f, f.mul(f.k(KA), f.sub(Aa, f.k(DA))))));
      return f.select(f.ne(gX, zero), f.mul(f.mul(qg, qa), gX), zero);
    };
    f.store(OUT, f.add(term(f.load(GA), f.load(AA)), term(f.load(GB), f.load(AB))));
    for (const l of [GA, AA, GB, AB, GF, AF, OUT]) f.inc(l, op.i32(16));
  });
  return f;
}

let kernels: WasmKernels | null | undefined;

function getKernels(): WasmKernels | null {
  if (kernels === undefined) kernels = instantiate((pool) => [gradKernel(pool), termsKernel(pool)]);
  return kernels;
}

/** Forces the JavaScript loops (true) or re-enables the kernels (false). For tests and benchmarks. */
export function disableQabfWasm(disabled: boolean): void {
  kernels = disabled ? null : undefined;
}

/** Strength and orientation of plane slots, and the per-pixel terms of one channel, in the kernels' memory. */
export interface QabfWasm {
  /** Sobel strength and orientation of `data` (w x h) into slot `k`. */
  gradients(k: number, data: Float64Array): void;
  /** Per-pixel terms for sources in slots `a`, `b` and the fused plane in slot `f`. */
  terms(a: number, b: number, f: number): void;
  /** Views (valid until the next {@link qabfWasm} call): slot k's strength, and the terms. */
  g(k: number): Float64Array;
  readonly out: Float64Array;
}

/** The kernels sized for `slots` planes of w x h, or null without them (or without the memory). */
export function qabfWasm(w: number, h: number, slots: number): QabfWasm | null {
  const K = getKernels();
  if (!K) return null;
  const n = w * h, pw = w + 2;
  const padLen = pw * (h + 2) + 2, len = n + 2;
  const padAt = K.base / 8, slotAt = (k: number): number => padAt + padLen + 2 * k * len, outAt = slotAt(slots);
  if (!ensureMemory(K.memory, 8 * (outAt + len))) return null;
  const mem = new Float64Array(K.memory.buffer);
  const { grad, terms } = K.exports;
  return {
    gradients(k, data) {
      // interior rows, then the zero frame (the memory is shared with other sizes' layouts)
      mem.fill(0, padAt, padAt + pw + 1);
      for (let y = 0; y < h; y++) {
        const row = padAt + (y + 1) * pw;
        mem.set(data.subarray(y * w, y * w + w), row + 1);
        mem[row + w + 1] = 0;
        mem[row + pw] = 0;
      }
      mem.fill(0, padAt + (h + 1) * pw, padAt + padLen);
      grad!(8 * padAt, w, h, 8 * slotAt(k), 8 * (slotAt(k) + len));
    },
    terms(a, b, fu) {
      const at = (k: number): [number, number] => [8 * slotAt(k), 8 * (slotAt(k) + len)];
      terms!(...at(a), ...at(b), ...at(fu), 8 * outAt, n);
    },
    g: (k) => mem.subarray(slotAt(k), slotAt(k) + n),
    out: mem.subarray(outAt, outAt + n),
  };
}
