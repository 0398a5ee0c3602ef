/**
 * Shared checks of the classical fusers: input planes and options, with the toolkit's error helpers
 * (`invalidParameter` for a bad value, `usageError` for an unknown key, `inputError` for bad planes).
 */
import { inputError, invalidParameter, usageError } from '../../core/errors.js';
import { plane, sizeOf, type Plane } from '../../core/image.js';

/** Planes the classical fusers read: float32 (the `Fuser` contract) or float64. */
export type InputPlane = Plane<Float32Array | Float64Array>;

/**
 * Reject anything but a plain options object, and any key not in `valid`.
 *
 * @throws IsfuseError (usage) `Unknown option 'k' for lp. Valid options: levels`.
 */
export function checkOptionKeys(method: string, options: unknown, valid: readonly string[]): Record<string, unknown> {
  if (options === undefined || options === null) return {};
  if (typeof options !== 'object' || Array.isArray(options)) {
    throw invalidParameter(`${method} options`, 'an object', options);
  }
  const rec = options as Record<string, unknown>;
  for (const key of Object.keys(rec)) {
    if (!valid.includes(key)) {
      throw usageError(
        valid.length === 0
          ? `Unknown option '${key}' for ${method}, which takes no options`
          : `Unknown option '${key}' for ${method}. Valid options: ${valid.join(', ')}`,
      );
    }
  }
  return rec;
}

/**
 * A number given as a number or as a string holding only a decimal numeric literal (`'5'`, `'1e-6'`:
 * what a CLI flag or a web form passes); anything else gives NaN.
 */
function asNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string' && /^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(value)) return Number(value);
  return Number.NaN;
}

/** An integer option in `[min, max]` (a number or a numeric string); `undefined` gives `fallback`. */
export function intOption(name: string, value: unknown, min: number, max: number, fallback: number): number {
  if (value === undefined) return fallback;
  const v = asNumber(value);
  if (!Number.isInteger(v) || v < min || v > max) {
    throw invalidParameter(name, `an integer between ${min} and ${max}`, value);
  }
  return v;
}

/** A finite number option `> 0` (a number or a numeric string); `undefined` gives `fallback`. */
export function positiveOption(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  const v = asNumber(value);
  if (!Number.isFinite(v) || v <= 0) {
    throw invalidParameter(name, 'a positive finite number', value);
  }
  return v;
}

/** One of `choices`; `undefined` gives `fallback`. */
export function choiceOption<T extends string>(name: string, value: unknown, choices: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(choices as readonly string[]).includes(value)) {
    throw invalidParameter(name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, value);
  }
  return value as T;
}

/**
 * Check that `ir` and `vis` are well-formed planes of the same size, at least 1 x 1, with finite samples.
 * (Values outside [0, 1] are accepted; every fuser clamps its output to [0, 1].)
 *
 * @throws IsfuseError (input) on an empty or malformed plane, a non-finite sample or a size mismatch.
 */
export function checkPair(method: string, ir: InputPlane, vis: InputPlane): { width: number; height: number } {
  for (const [name, p] of [['ir', ir], ['vis', vis]] as const) {
    if (p === null || typeof p !== 'object' || !(p.data instanceof Float32Array || p.data instanceof Float64Array)) {
      throw inputError(`Expected a plane with Float32Array (or Float64Array) data for ${method} ${name}`);
    }
    if (!Number.isInteger(p.width) || !Number.isInteger(p.height) || p.width < 1 || p.height < 1) {
      throw inputError(`Expected a plane of at least 1x1 for ${method} ${name} but received ${p.width}x${p.height}`);
    }
    if (p.data.length !== p.width * p.height) {
      throw inputError(`Expected ${p.width * p.height} samples for ${method} ${name} (${sizeOf(p)}) but received ${p.data.length}`);
    }
    const d = p.data;
    for (let i = 0; i < d.length; i++) {
      // A NaN would spread through the running sums of the filters; reject it up front.
      if (!Number.isFinite(d[i]!)) {
        throw inputError(`Expected finite samples for ${method} ${name} but found ${d[i]} at (${i % p.width}, ${Math.floor(i / p.width)})`);
      }
    }
  }
  if (ir.width !== vis.width || ir.height !== vis.height) {
    throw inputError(`Expected ir and vis of the same size for ${method} but received ${sizeOf(ir)} and ${sizeOf(vis)}`);
  }
  return { width: ir.width, height: ir.height };
}

/** Clamp float64 samples to [0, 1] into a new float32 plane (NaN becomes 0). */
export function toUnitPlane(width: number, height: number, data: Float64Array): Plane {
  const out = new Float32Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    out[i] = v > 0 ? (v < 1 ? v : 1) : 0;
  }
  return plane(width, height, out);
}

/**
 * Max-abs selection of one coefficient pair: the coefficient of larger magnitude; ties go to `vis`.
 */
export function maxAbs(ir: number, vis: number): number {
  return Math.abs(ir) > Math.abs(vis) ? ir : vis;
}
