/**
 * `exp` and `atan` for the WebAssembly SIMD kernels (two float64 lanes), code generators for ../../core/wasm-asm.ts
 * functions. WebAssembly has no transcendental instructions; these transcribe the fdlibm routines that V8's
 * `Math.exp` / `Math.atan` are (`base::ieee754::exp` / `atan`, including V8's `exp(1) = E` special case) with the
 * branches turned into lane selects, so they return the same doubles as Math.exp / Math.atan (tested on millions
 * of arguments; Qabf's values are bit-identical to its JavaScript loop).
 *
 * Why: Qabf evaluates ~4 exp per pixel and channel and one atan per pixel and plane; as calls into V8's C++ they
 * cost ~20 ns each, most of Qabf's time.
 */
import type { Func } from '../../core/wasm-asm.js';

/** The double whose high 32 bits are `hi` and low bits zero (fdlibm compares high words against such bounds). */
function fromHigh(hi: number): number {
  const dv = new DataView(new ArrayBuffer(8));
  dv.setUint32(0, hi >>> 0);
  return dv.getFloat64(0);
}

const EXP = {
  o: 7.09782712893383973096e2,
  u: -7.45133219101941108420e2,
  ln2Hi: 6.93147180369123816490e-1,
  ln2Lo: 1.90821492927058770002e-10,
  invLn2: 1.44269504088896338700e0,
  p: [1.66666666666666019037e-1, -2.77777777770155933842e-3, 6.61375632143793436117e-5, -1.65339022054652515390e-6, 4.13813679705723846039e-8],
  /** |x| >= this: reduce by k ln2 (fdlibm: hx > 0x3fd62e42) */
  reduce: fromHigh(0x3fd62e43),
  /** |x| < this: 1 + x (fdlibm: hx < 0x3e300000) */
  tiny: fromHigh(0x3e300000),
};

/**
 * `exp(x)` of the v128 local `x`; returns a new local. fdlibm: `x = k ln2 + r`, `c = r - r^2 P(r^2)`,
 * `exp(r) = 1 - ((lo - r c / (2 - c)) - hi)`, times 2^k (built from the exponent bits as two factors 2^ka 2^kb, so
 * that subnormal results round once, as fdlibm's 2^(k+1000) 2^-1000); overflow, underflow, tiny |x| and x = 1
 * as fdlibm / V8 (selected at the end; NaN passes through every step).
 */
export function expF64x2(f: Func, x: number): number {
  const ax = f.abs(x);
  const sign = f.bits(0x80000000, 0);
  // k = (int)(x / ln2 + copysign(1/2, x)), 0 below the reduction bound. Outside [u, o] (where k would not fit the
  // exponent field) the lanes are garbage, replaced at the end.
  const t0 = f.add(f.mul(f.k(EXP.invLn2), x), f.or(f.and(x, sign), f.k(0.5)));
  const kf = f.select(f.lt(ax, f.k(EXP.reduce)), f.k(0), f.trunc(t0));
  const hi = f.sub(x, f.mul(kf, f.k(EXP.ln2Hi)));
  const lo = f.mul(kf, f.k(EXP.ln2Lo));
  const r = f.sub(hi, lo);
  const t = f.mul(r, r);
  const [p1, p2, p3, p4, p5] = EXP.p.map((v) => f.k(v)) as [number, number, number, number, number];
  const poly = f.add(p1, f.mul(t, f.add(p2, f.mul(t, f.add(p3, f.mul(t, f.add(p4, f.mul(t, p5))))))));
  const c = f.sub(r, f.mul(t, poly));
  const y = f.sub(f.k(1), f.sub(f.sub(lo, f.div(f.mul(r, c), f.sub(f.k(2), c))), hi));
  // 2^ka, 2^kb from the bits of (ka + 1023 + 2^52): its low mantissa bits hold ka + 1023
  const ka = f.floor(f.mul(kf, f.k(0.5))), kb = f.sub(kf, ka);
  const magic = f.k(2 ** 52 + 1023);
  const scaled = f.mul(f.mul(y, f.shl64(f.add(ka, magic), 52)), f.shl64(f.add(kb, magic), 52));
  let out = f.select(f.lt(ax, f.k(EXP.tiny)), f.add(f.k(1), x), scaled);
  out = f.select(f.eq(x, f.k(1)), f.k(Math.E), out);
  out = f.select(f.gt(x, f.k(EXP.o)), f.k(Infinity), out);
  return f.select(f.lt(x, f.k(EXP.u)), f.k(0), out);
}

const ATAN = {
  hi: [4.63647609000806093515e-1, 7.85398163397448278999e-1, 9.82793723247329054082e-1, 1.57079632679489655800e0],
  lo: [2.26987774529616870924e-17, 3.06161699786838301793e-17, 1.39033110312309984516e-17, 6.12323399573676603587e-17],
  t: [
    3.33333333333329318027e-1, -1.99999999998764832476e-1, 1.42857142725034663711e-1, -1.11111104054623557880e-1,
    9.09088713343650656196e-2, -7.69187620504482999495e-2, 6.66107313738753120669e-2, -5.83357013379057348645e-2,
    4.97687799461593236017e-2, -3.65315727442169155270e-2, 1.62858201153657823623e-2,
  ],
  /** range bounds on |x|: 7/16, 11/16, 19/16, 39/16, and 2^-29, 2^66 */
  b: [fromHigh(0x3fdc0000), fromHigh(0x3fe60000), fromHigh(0x3ff30000), fromHigh(0x40038000)],
  tiny: fromHigh(0x3e200000),
  huge: fromHigh(0x44100000),
};

/**
 * `atan(x)` of the v128 local `x`; returns a new local. fdlibm: |x| reduced by one of atan(0), atan(1/2), atan(1),
 * atan(3/2), atan(inf) (`id` -1..3, here selected per lane, with numerator and denominator chosen before one
 * division), an 11-term odd polynomial split into two even ones, the sign of x restored; |x| < 2^-29 gives x and
 * |x| >= 2^66 gives +-(atanhi[3] + atanlo[3]), as fdlibm.
 */
export function atanF64x2(f: Func, x: number): number {
  const ax = f.abs(x);
  const [m0, m1, m2, m3] = ATAN.b.map((b) => f.lt(ax, f.k(b))) as [number, number, number, number];
  const one = f.k(1);
  // id 0: (2x - 1) / (2 + x); 1: (x - 1) / (x + 1); 2: (x - 1.5) / (1 + 1.5 x); 3: -1 / x; -1: x (over 1)
  const num = f.select(m0, ax, f.select(m1, f.sub(f.mul(f.k(2), ax), one), f.select(m2, f.sub(ax, one), f.select(m3, f.sub(ax, f.k(1.5)), f.k(-1)))));
  const den = f.select(m0, one, f.select(m1, f.add(f.k(2), ax), f.select(m2, f.add(ax, one), f.select(m3, f.add(one, f.mul(f.k(1.5), ax)), ax))));
  const v = f.div(num, den);
  const z = f.mul(v, v), w = f.mul(z, z);
  const a = ATAN.t.map((c) => f.k(c));
  const horner = (cs: readonly number[]): number => {
    // c0 + w (c1 + w (c2 + ...)), innermost first
    let acc = a[cs[cs.length - 1]!]!;
    for (let i = cs.length - 2; i >= 0; i--) acc = f.add(a[cs[i]!]!, f.mul(w, acc));
    return acc;
  };
  const s1 = f.mul(z, horner([0, 2, 4, 6, 8, 10]));
  const s2 = f.mul(w, horner([1, 3, 5, 7, 9]));
  const pick = (t: readonly number[]): number => f.select(m0, f.k(0), f.select(m1, f.k(t[0]!), f.select(m2, f.k(t[1]!), f.select(m3, f.k(t[2]!), f.k(t[3]!)))));
  // id -1: v - v (s1 + s2), written as 0 - ((v (s1 + s2) - 0) - v), the same double
  let r = f.sub(pick(ATAN.hi), f.sub(f.sub(f.mul(v, f.add(s1, s2)), pick(ATAN.lo)), v));
  r = f.select(f.lt(ax, f.k(ATAN.tiny)), ax, r);
  r = f.select(f.ge(ax, f.k(ATAN.huge)), f.k(ATAN.hi[3]! + ATAN.lo[3]!), r);
  // the sign of x (also for -0; r has none); NaN stays NaN
  return f.or(r, f.and(x, f.bits(0x80000000, 0)));
}
