/**
 * A minimal WebAssembly assembler for the hand-written SIMD kernels (../filters/valid-wasm.ts, the metrics'
 * ../metrics/vifb/*-wasm.ts): LEB128 encoding, the opcodes those kernels use, a function builder with typed locals and
 * straight-line float64x2 arithmetic, and module assembly / instantiation. Kernels are built from their opcodes at
 * run time, so there is no build step and no binary blob in the repository.
 *
 * Conventions: every function takes i32 parameters only (byte offsets into linear memory and counts) and returns
 * nothing; the module imports its memory as `env.mem`. Arithmetic helpers allocate a fresh local per result (SSA
 * style): V8's optimising tier register-allocates them, and the code reads like the JavaScript it transcribes.
 * There is no fused multiply-add in WebAssembly SIMD, so each `add(mul(a, b), c)` rounds twice, exactly like the
 * same JavaScript expression: a kernel that performs a JavaScript loop's operations in its order gives
 * bit-identical results.
 */

export function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let b = n & 0x7f;
    n >>>= 7;
    if (n !== 0) b |= 0x80;
    out.push(b);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const b = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (b & 0x40) === 0) || (n === -1 && (b & 0x40) !== 0)) {
      out.push(b);
      return out;
    }
    out.push(b | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];
const str = (s: string): number[] => [...uleb(s.length), ...[...s].map((c) => c.charCodeAt(0))];

export const I32 = 0x7f, F64 = 0x7c, V128 = 0x7b;

/** Opcodes (byte sequences) used by the kernels. */
export const op = {
  get: (i: number): number[] => [0x20, ...uleb(i)],
  set: (i: number): number[] => [0x21, ...uleb(i)],
  tee: (i: number): number[] => [0x22, ...uleb(i)],
  i32: (v: number): number[] => [0x41, ...sleb(v)],
  add: [0x6a],
  sub: [0x6b],
  mul: [0x6c],
  shl: [0x74],
  geS: [0x4e],
  gtS: [0x4a],
  ltS: [0x48],
  geU: [0x4f],
  gtU: [0x4b],
  ltU: [0x49],
  and: [0x71],
  /** select(a, b, cond): a if cond else b */
  select: [0x1b],
  eqz: [0x45],
  block: [0x02, 0x40],
  if: [0x04, 0x40],
  else: [0x05],
  loop: [0x03, 0x40],
  end: [0x0b],
  br: (d: number): number[] => [0x0c, ...uleb(d)],
  brIf: (d: number): number[] => [0x0d, ...uleb(d)],
  f64Load: (offset = 0): number[] => [0x2b, 3, ...uleb(offset)],
  f64Store: (offset = 0): number[] => [0x39, 3, ...uleb(offset)],
  v128Load: (offset = 0): number[] => [0xfd, 0x00, 3, ...uleb(offset)],
  v128Store: (offset = 0): number[] => [0xfd, 0x0b, 3, ...uleb(offset)],
  /** v128.load64_splat: both lanes from one float64 in memory */
  splatLoad: (offset = 0): number[] => [0xfd, 0x0a, 3, ...uleb(offset)],
  f64Mul: [0xa2],
  /** i8x16.shuffle of two vectors by 16 byte indices (0..15 first operand, 16..31 second) */
  shuffle: (lanes: readonly number[]): number[] => [0xfd, 0x0d, ...lanes],
  f64x2Add: [0xfd, ...uleb(0xf0)],
  f64x2Sub: [0xfd, ...uleb(0xf1)],
  f64x2Mul: [0xfd, ...uleb(0xf2)],
  f64x2Div: [0xfd, ...uleb(0xf3)],
  f64x2Abs: [0xfd, ...uleb(0xec)],
  f64x2Neg: [0xfd, ...uleb(0xed)],
  f64x2Sqrt: [0xfd, ...uleb(0xef)],
  f64x2Min: [0xfd, ...uleb(0xf4)],
  f64x2Max: [0xfd, ...uleb(0xf5)],
  f64x2Floor: [0xfd, ...uleb(0x75)],
  f64x2Trunc: [0xfd, ...uleb(0x7a)],
  f64x2Eq: [0xfd, ...uleb(0x47)],
  f64x2Ne: [0xfd, ...uleb(0x48)],
  f64x2Lt: [0xfd, ...uleb(0x49)],
  f64x2Gt: [0xfd, ...uleb(0x4a)],
  f64x2Ge: [0xfd, ...uleb(0x4c)],
  v128And: [0xfd, ...uleb(0x4e)],
  v128Or: [0xfd, ...uleb(0x50)],
  /** v128.bitselect(a, b, mask): bits of a where mask is 1, of b elsewhere */
  v128Bitselect: [0xfd, ...uleb(0x52)],
  /** i64x2.shl(v, i32 count) */
  i64x2Shl: [0xfd, ...uleb(0xcb)],
  /** v128.const of two equal float64 lanes */
  f64x2Const(x: number): number[] {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    dv.setFloat64(0, x, true);
    dv.setFloat64(8, x, true);
    return [0xfd, 0x0c, ...b];
  },
  /** v128.const of two equal 64-bit lanes given as high and low 32-bit words */
  i64x2Const(hi: number, lo: number): number[] {
    const b = new Uint8Array(16);
    const dv = new DataView(b.buffer);
    for (const o of [0, 8]) {
      dv.setUint32(o, lo >>> 0, true);
      dv.setUint32(o + 4, hi >>> 0, true);
    }
    return [0xfd, 0x0c, ...b];
  },
};

type Code = number | readonly number[];

/**
 * A module's constants, stored at the start of its memory (16 bytes each) and loaded where used. Why: V8 does
 * not keep a loop's many v128 constants in registers; it rebuilds each from an immediate at every use (three
 * instructions), which cost ~30% in the polynomial and butterfly kernels; a load is one.
 */
export class ConstPool {
  private readonly slots = new Map<string, number>();
  readonly bytes: number[] = [];

  /** Byte offset of the 16-byte constant `b` (added on first use). */
  offset(b: readonly number[]): number {
    const key = b.join(',');
    let o = this.slots.get(key);
    if (o === undefined) {
      o = this.bytes.length;
      this.bytes.push(...b);
      this.slots.set(key, o);
    }
    return o;
  }
}

/**
 * One function under construction: `nParams` i32 parameters (locals 0..nParams-1), further locals from
 * {@link Func.i32} / {@link Func.v128} / {@link Func.f64}, code appended with {@link Func.emit}.
 */
export class Func {
  private readonly types: number[] = [];
  private readonly code: number[] = [];
  private readonly consts = new Map<string, number>();
  private readonly prologue: number[] = [];

  /** With a pool, constants are loaded from memory where used ({@link ConstPool}); else set once in locals. */
  constructor(readonly name: string, readonly nParams: number, private readonly pool?: ConstPool) {}

  private local(type: number): number {
    this.types.push(type);
    return this.nParams + this.types.length - 1;
  }

  i32(): number {
    return this.local(I32);
  }

  f64(): number {
    return this.local(F64);
  }

  v128(): number {
    return this.local(V128);
  }

  emit(...parts: Code[]): this {
    for (const p of parts) {
      if (typeof p === 'number') this.code.push(p);
      else for (const b of p) this.code.push(b);
    }
    return this;
  }

  /** A v128 local holding `x` in both lanes (loaded here from the pool, or set once at function entry). */
  k(x: number): number {
    return this.constant(op.f64x2Const(x));
  }

  /** A v128 local holding the 64-bit pattern `hi:lo` in both lanes, as {@link Func.k}. */
  bits(hi: number, lo: number): number {
    return this.constant(op.i64x2Const(hi, lo));
  }

  private constant(instr: number[]): number {
    if (this.pool) {
      const r = this.v128();
      this.emit(op.i32(0), op.v128Load(this.pool.offset(instr.slice(2))), op.set(r));
      return r;
    }
    const key = instr.join(',');
    let l = this.consts.get(key);
    if (l === undefined) {
      l = this.v128();
      this.prologue.push(...instr, ...op.set(l));
      this.consts.set(key, l);
    }
    return l;
  }

  private binary(a: number, b: number, o: readonly number[]): number {
    const r = this.v128();
    this.emit(op.get(a), op.get(b), o, op.set(r));
    return r;
  }

  add(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Add);
  }

  sub(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Sub);
  }

  mul(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Mul);
  }

  div(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Div);
  }

  min(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Min);
  }

  max(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Max);
  }

  /** Lane masks (all ones where true) of a == b, a != b, a < b, a > b, a >= b (false where NaN, but for !=). */
  eq(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Eq);
  }

  ne(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Ne);
  }

  lt(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Lt);
  }

  gt(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Gt);
  }

  ge(a: number, b: number): number {
    return this.binary(a, b, op.f64x2Ge);
  }

  and(a: number, b: number): number {
    return this.binary(a, b, op.v128And);
  }

  or(a: number, b: number): number {
    return this.binary(a, b, op.v128Or);
  }

  /** `mask ? a : b` lane by lane (mask from a comparison). */
  select(mask: number, a: number, b: number): number {
    const r = this.v128();
    this.emit(op.get(a), op.get(b), op.get(mask), op.v128Bitselect, op.set(r));
    return r;
  }

  private unary(a: number, o: readonly number[]): number {
    const r = this.v128();
    this.emit(op.get(a), o, op.set(r));
    return r;
  }

  neg(a: number): number {
    return this.unary(a, op.f64x2Neg);
  }

  abs(a: number): number {
    return this.unary(a, op.f64x2Abs);
  }

  sqrt(a: number): number {
    return this.unary(a, op.f64x2Sqrt);
  }

  floor(a: number): number {
    return this.unary(a, op.f64x2Floor);
  }

  trunc(a: number): number {
    return this.unary(a, op.f64x2Trunc);
  }

  /** 64-bit lanes shifted left by `n` bits. */
  shl64(a: number, n: number): number {
    const r = this.v128();
    this.emit(op.get(a), op.i32(n), op.i64x2Shl, op.set(r));
    return r;
  }

  /** v128 load from the i32 address in local `addr` plus a constant byte offset. */
  load(addr: number, offset = 0): number {
    const r = this.v128();
    this.emit(op.get(addr), op.v128Load(offset), op.set(r));
    return r;
  }

  /** v128 load from `get(a) + get(b)` (two i32 locals) plus a constant byte offset. */
  load2(a: number, b: number, offset = 0): number {
    const r = this.v128();
    this.emit(op.get(a), op.get(b), op.add, op.v128Load(offset), op.set(r));
    return r;
  }

  store(addr: number, v: number, offset = 0): void {
    this.emit(op.get(addr), op.get(v), op.v128Store(offset));
  }

  store2(a: number, b: number, v: number, offset = 0): void {
    this.emit(op.get(a), op.get(b), op.add, op.get(v), op.v128Store(offset));
  }

  /** local `l` += value of the code `v` (i32) */
  inc(l: number, v: Code): void {
    this.emit(op.get(l), v, op.add, op.set(l));
  }

  /** `for (;;) { if (cond) break; body }`: `cond` leaves an i32 on the stack. */
  whileNot(cond: Code[], body: () => void): void {
    this.emit(op.block, op.loop, ...cond, op.brIf(1));
    body();
    this.emit(op.br(0), op.end, op.end);
  }

  /** The function body as the code section wants it: size, local declarations (run-length), code, end. */
  encode(): number[] {
    const groups: number[][] = [];
    for (let i = 0; i < this.types.length; ) {
      let j = i;
      while (j < this.types.length && this.types[j] === this.types[i]) j++;
      groups.push([...uleb(j - i), this.types[i]!]);
      i = j;
    }
    const body = [...vec(groups), ...this.prologue, ...this.code, ...op.end];
    return [...uleb(body.length), ...body];
  }
}

/** A module of `funcs` (i32 parameters, no results), importing its memory as `env.mem`, exporting each by name. */
function assemble(funcs: readonly Func[]): Uint8Array<ArrayBuffer> {
  const arities = [...new Set(funcs.map((f) => f.nParams))];
  const types = arities.map((n) => [0x60, ...vec(new Array<number[]>(n).fill([I32])), ...vec([])]);
  const bytes = [
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec([[...str('env'), ...str('mem'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(funcs.map((f) => uleb(arities.indexOf(f.nParams))))),
    ...section(7, vec(funcs.map((f, i) => [...str(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map((f) => f.encode()))),
  ];
  return new Uint8Array(bytes);
}

/** A grow-on-demand linear memory and the exports of a module built from `funcs`. */
export interface WasmKernels {
  readonly memory: WebAssembly.Memory;
  readonly exports: Record<string, (...args: number[]) => void>;
  /** First free byte (16-aligned) after the constant pool: the module's data starts here. */
  readonly base: number;
}

/**
 * Instantiates the module, or returns null when WebAssembly SIMD is unavailable, fails to compile, or
 * `ISFUSE_NO_WASM=1` is set (the callers then use their JavaScript loops).
 */
export function instantiate(funcs: (pool: ConstPool) => readonly Func[]): WasmKernels | null {
  try {
    const env = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env;
    if (env?.ISFUSE_NO_WASM === '1' || typeof WebAssembly !== 'object') return null;
    const pool = new ConstPool();
    const module = new WebAssembly.Module(assemble(funcs(pool)));
    const base = Math.ceil(pool.bytes.length / 16) * 16;
    const memory = new WebAssembly.Memory({ initial: Math.max(1, Math.ceil(base / 65536)) });
    new Uint8Array(memory.buffer).set(pool.bytes);
    const instance = new WebAssembly.Instance(module, { env: { mem: memory } });
    return { memory, exports: instance.exports as unknown as WasmKernels['exports'], base };
  } catch {
    return null;
  }
}

/** Grows `memory` to at least `bytes` (false when that is impossible). Views on the old buffer are detached. */
export function ensureMemory(memory: WebAssembly.Memory, bytes: number): boolean {
  const have = memory.buffer.byteLength;
  if (bytes <= have) return true;
  if (bytes > 2 ** 31) return false;
  try {
    memory.grow(Math.ceil((bytes - have) / 65536));
    return true;
  } catch {
    return false;
  }
}

let simd: boolean | undefined;

/** Whether WebAssembly SIMD kernels can be built here (and `ISFUSE_NO_WASM=1` is not set); cached. */
export function simdAvailable(): boolean {
  if (simd === undefined) {
    simd = instantiate(() => {
      const f = new Func('probe', 1);
      f.emit(op.get(0), op.get(f.add(f.k(1), f.k(2))), op.v128Store());
      return [f];
    }) !== null;
  }
  return simd;
}
