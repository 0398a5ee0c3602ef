/**
 * The one seeded random-number generator of the data and training pipeline.
 *
 * sfc32 (Chris Doty-Humphrey's Small Fast Counting generator, 128-bit state, period >= 2^32), seeded
 * through splitmix32 so that nearby seeds give unrelated streams. Its whole state is four uint32 values:
 * {@link Rng.state} reads it and {@link Rng.fromState} restores it, so a checkpointed run continues the
 * exact same stream after a resume. Deterministic across platforms (32-bit integer arithmetic only).
 *
 * Example: `const r = new Rng(42); r.int(6) + 1` -> a die roll; `Rng.fromState(r.state)` continues it.
 */
export type RngState = readonly [number, number, number, number];

export class Rng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  /** Seeds from any integer (taken modulo 2^32). */
  constructor(seed = 0) {
    let s = seed >>> 0;
    const next = (): number => {
      // splitmix32
      s = (s + 0x9e3779b9) >>> 0;
      let z = s;
      z = Math.imul(z ^ (z >>> 16), 0x21f0aaad);
      z = Math.imul(z ^ (z >>> 15), 0x735a2d97);
      return (z ^ (z >>> 15)) >>> 0;
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    for (let i = 0; i < 12; i++) this.u32();
  }

  /** Restores a generator from {@link Rng.state}. */
  static fromState(state: RngState): Rng {
    if (!Array.isArray(state) || state.length !== 4 || !state.every((v) => Number.isInteger(v) && v >= 0 && v < 2 ** 32)) {
      throw new RangeError(`Rng.fromState: expected four uint32 values, got ${JSON.stringify(state)}`);
    }
    const r = new Rng(0);
    [r.a, r.b, r.c, r.d] = state;
    return r;
  }

  /** The full state (four uint32), JSON-serialisable. */
  get state(): RngState {
    return [this.a, this.b, this.c, this.d];
  }

  /** Next uint32. */
  u32(): number {
    const t = (((this.a + this.b) >>> 0) + this.d) >>> 0;
    this.d = (this.d + 1) >>> 0;
    this.a = (this.b ^ (this.b >>> 9)) >>> 0;
    this.b = (this.c + (this.c << 3)) >>> 0;
    this.c = ((this.c << 21) | (this.c >>> 11)) >>> 0;
    this.c = (this.c + t) >>> 0;
    return t;
  }

  /** Uniform in [0, 1) with 32 random bits. */
  next(): number {
    return this.u32() / 4294967296;
  }

  /** Uniform integer in [0, n) (n >= 1; unbiased by rejection). */
  int(n: number): number {
    if (!Number.isInteger(n) || n < 1 || n > 2 ** 32) throw new RangeError(`Rng.int: expected an integer in [1, 2^32], got ${n}`);
    const limit = Math.floor(4294967296 / n) * n;
    for (;;) {
      const u = this.u32();
      if (u < limit) return u % n;
    }
  }

  /** true with probability p. */
  bool(p = 0.5): boolean {
    return this.next() < p;
  }

  /** Fisher–Yates shuffle of 0..n-1. */
  permutation(n: number): number[] {
    const out = Array.from({ length: n }, (_, i) => i);
    for (let i = n - 1; i > 0; i--) {
      const j = this.int(i + 1);
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }
}

/** mulberry32: a tiny seeded PRNG in [0, 1) (deterministic across platforms), for one-shot streams that
 * need no saved state: the synthetic demo pair and weight initialisation. */
export function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
