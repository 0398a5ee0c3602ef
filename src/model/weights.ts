/**
 * ISFuse weights in the safetensors format (https://github.com/huggingface/safetensors), named like the
 * reference PyTorch state dict (docs/WEIGHTS.md).
 *
 * File layout: 8-byte little-endian header length n, n bytes of JSON header
 * `{ name: { dtype, shape, data_offsets: [begin, end] }, "__metadata__"?: { str: str } }`, then the raw
 * little-endian tensor bytes (offsets relative to the end of the header).
 *
 * Why hand-written: the format is this small, and npm has no maintained reader/writer for Node and the
 * browser alike (checked 2026-11: the `safetensors` package is a 0.0.1 placeholder; Hugging Face ships no
 * JS package for it; transformers.js reads safetensors only internally). ~150 lines here, no dependency.
 *
 * Loading checks, each failing with an {@link inputError} that names the file and the tensor:
 * truncated or malformed file, unknown tensor names, missing tensors (only `num_batches_tracked` may be
 * absent: it defaults to 0; the unused blocks adjust_channels3/module4/module5 may be absent and then get
 * PyTorch's default initial values on save), wrong shapes, dtypes (float tensors: F32, or F16/BF16/F64
 * converted to float32; counters: I64 or I32), and non-finite values (NaN/Inf). Saving writes the full
 * reference state dict (233 tensors, num_batches_tracked as I64), which PyTorch loads with
 * `load_state_dict(strict=True)`.
 */
import { readFile, writeFile } from 'node:fs/promises';
import { inputError } from '../core/errors.js';
import { initStateValues, numel, paramsToValues, stateDictSpec, ISFUSE_DIM, type IsfuseParams, type TensorSpec } from './isfuse.js';

/** dtypes of the safetensors spec and their sizes in bytes. */
export const DTYPE_BYTES: Readonly<Record<string, number>> = {
  BOOL: 1, U8: 1, I8: 1, F8_E4M3: 1, F8_E5M2: 1, I16: 2, U16: 2, F16: 2, BF16: 2, I32: 4, U32: 4, F32: 4, I64: 8, U64: 8, F64: 8,
};

/** One tensor as stored: dtype, shape, and a view of its raw little-endian bytes. */
export interface RawTensor {
  readonly dtype: string;
  readonly shape: readonly number[];
  readonly bytes: Uint8Array;
}

export interface SafetensorsContent {
  readonly tensors: Map<string, RawTensor>;
  readonly metadata: Record<string, string>;
}

/** Parses a safetensors file held in memory. `source` names it in error messages. */
export function parseSafetensors(buf: Uint8Array, source = 'safetensors data'): SafetensorsContent {
  const fail = (msg: string): never => {
    throw inputError(`${source}: ${msg}`);
  };
  if (buf.length < 8) fail(`not a safetensors file (truncated: ${buf.length} bytes, the header length alone takes 8)`);
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  const n = dv.getBigUint64(0, true);
  if (n > BigInt(buf.length - 8)) fail(`truncated or not a safetensors file: header length ${n} bytes but only ${buf.length - 8} bytes follow`);
  const hlen = Number(n);
  let header: unknown;
  try {
    header = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(buf.subarray(8, 8 + hlen)));
  } catch (e) {
    fail(`malformed safetensors header (not UTF-8 JSON): ${(e as Error).message}`);
  }
  if (typeof header !== 'object' || header === null || Array.isArray(header)) fail('malformed safetensors header (not a JSON object)');
  const data = buf.subarray(8 + hlen);
  const tensors = new Map<string, RawTensor>();
  let metadata: Record<string, string> = {};
  for (const [name, info] of Object.entries(header as Record<string, unknown>)) {
    if (name === '__metadata__') {
      metadata = (info ?? {}) as Record<string, string>;
      continue;
    }
    const t = info as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (typeof t !== 'object' || t === null || typeof t.dtype !== 'string' || !Array.isArray(t.shape) || !Array.isArray(t.data_offsets)) {
      fail(`tensor '${name}': malformed header entry ${JSON.stringify(info)}`);
    }
    const dtype = t.dtype as string;
    const shape = t.shape as number[];
    const [b, e] = t.data_offsets as number[];
    const size = DTYPE_BYTES[dtype];
    if (size === undefined) fail(`tensor '${name}': unknown dtype '${dtype}'`);
    if (!shape.every((s) => Number.isInteger(s) && s >= 0)) fail(`tensor '${name}': bad shape ${JSON.stringify(shape)}`);
    if (!Number.isInteger(b) || !Number.isInteger(e) || b < 0 || e < b) fail(`tensor '${name}': bad data_offsets ${JSON.stringify(t.data_offsets)}`);
    if (e > data.length) fail(`truncated: tensor '${name}' needs bytes ${b}..${e} of the data section but the file holds ${data.length}`);
    if (e - b !== numel(shape) * size) fail(`tensor '${name}': ${e - b} bytes for shape [${shape}] of ${dtype} (expected ${numel(shape) * size})`);
    tensors.set(name, { dtype, shape, bytes: data.subarray(b, e) });
  }
  return { tensors, metadata };
}

/** A tensor to write: float32, float64 or int64 values with a shape. */
export interface TensorToWrite {
  readonly shape: readonly number[];
  readonly data: Float32Array | Float64Array | BigInt64Array | Int32Array;
}

function dtypeOf(d: TensorToWrite['data']): string {
  if (d instanceof Float32Array) return 'F32';
  if (d instanceof Float64Array) return 'F64';
  if (d instanceof BigInt64Array) return 'I64';
  return 'I32';
}

/** Serialises tensors (insertion order kept) into safetensors bytes; the header is padded to 8 bytes with spaces. */
export function serializeSafetensors(tensors: ReadonlyMap<string, TensorToWrite>, metadata?: Record<string, string>): Uint8Array {
  const header: Record<string, unknown> = {};
  if (metadata && Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of tensors) {
    if (t.data.length !== numel(t.shape)) throw new Error(`internal: tensor '${name}' has ${t.data.length} values for shape [${t.shape}]`);
    header[name] = { dtype: dtypeOf(t.data), shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = new TextEncoder().encode(JSON.stringify(header));
  const pad = (8 - (json.length % 8)) % 8;
  if (pad) {
    const p = new Uint8Array(json.length + pad).fill(0x20);
    p.set(json);
    json = p;
  }
  const out = new Uint8Array(8 + json.length + offset);
  const dv = new DataView(out.buffer);
  dv.setBigUint64(0, BigInt(json.length), true);
  out.set(json, 8);
  let pos = 8 + json.length;
  const littleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  for (const t of tensors.values()) {
    const bytes = new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength);
    out.set(bytes, pos);
    if (!littleEndian) swapBytes(out.subarray(pos, pos + bytes.length), t.data.BYTES_PER_ELEMENT);
    pos += bytes.length;
  }
  return out;
}

function swapBytes(b: Uint8Array, size: number): void {
  for (let i = 0; i < b.length; i += size) b.subarray(i, i + size).reverse();
}

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/**
 * Float values of a stored tensor as float32 (F32 as is; F16, BF16 and F64 converted). Throws for other dtypes.
 */
export function toFloat32(t: RawTensor, name: string, source: string): Float32Array {
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  const n = numel(t.shape);
  const out = new Float32Array(n);
  switch (t.dtype) {
    case 'F32':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat32(4 * i, true);
      break;
    case 'F64':
      for (let i = 0; i < n; i++) out[i] = dv.getFloat64(8 * i, true);
      break;
    case 'F16':
      for (let i = 0; i < n; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      break;
    case 'BF16': {
      const u = new Uint32Array(1);
      const f = new Float32Array(u.buffer);
      for (let i = 0; i < n; i++) {
        u[0] = dv.getUint16(2 * i, true) << 16;
        out[i] = f[0];
      }
      break;
    }
    default:
      throw inputError(`${source}: tensor '${name}' has dtype ${t.dtype}; expected a float dtype (F32, or F16/BF16/F64)`);
  }
  return out;
}

/** Integer value of a scalar I64/I32 tensor (num_batches_tracked). */
function toCounter(t: RawTensor, name: string, source: string): number {
  const dv = new DataView(t.bytes.buffer, t.bytes.byteOffset, t.bytes.byteLength);
  if (t.dtype === 'I64') return Number(dv.getBigInt64(0, true));
  if (t.dtype === 'I32') return dv.getInt32(0, true);
  throw inputError(`${source}: tensor '${name}' has dtype ${t.dtype}; expected I64 (or I32)`);
}

const isUnused = (name: string): boolean => name.startsWith('adjust_channels3.') || name.startsWith('module4.') || name.startsWith('module5.');

/**
 * Validates a parsed file against the reference state dict and returns host values keyed by name
 * (Float32Array for float tensors, number for num_batches_tracked). Missing unused-block tensors are filled
 * with PyTorch's default initial values (deterministic, seed 0) so that a later save is complete.
 */
export function stateValuesFromSafetensors(content: SafetensorsContent, source: string, dim = ISFUSE_DIM): Map<string, Float32Array | number> {
  const spec = stateDictSpec(dim);
  const byName = new Map<string, TensorSpec>(spec.map((s) => [s.name, s]));
  const unknown = [...content.tensors.keys()].filter((k) => !byName.has(k));
  if (unknown.length > 0) {
    const hint = unknown.some((k) => k.startsWith('module.')) ? " (names start with 'module.': strip the DataParallel prefix)" : '';
    throw inputError(`${source}: unknown tensor${unknown.length > 1 ? 's' : ''} ${unknown.slice(0, 5).map((k) => `'${k}'`).join(', ')}${unknown.length > 5 ? ` and ${unknown.length - 5} more` : ''}: not part of the ISFuse state dict${hint}`);
  }
  const missing = spec.filter((s) => !content.tensors.has(s.name) && s.role !== 'num_batches_tracked' && !isUnused(s.name));
  if (missing.length > 0) {
    throw inputError(`${source}: missing tensor${missing.length > 1 ? 's' : ''} ${missing.slice(0, 5).map((s) => `'${s.name}'`).join(', ')}${missing.length > 5 ? ` and ${missing.length - 5} more` : ''}`);
  }
  const out = new Map<string, Float32Array | number>();
  let defaults: Map<string, Float32Array | number> | undefined;
  for (const s of spec) {
    const t = content.tensors.get(s.name);
    if (!t) {
      if (s.role === 'num_batches_tracked') out.set(s.name, 0);
      else {
        defaults ??= initStateValues(0, dim);
        out.set(s.name, defaults.get(s.name)!);
      }
      continue;
    }
    if (t.shape.length !== s.shape.length || t.shape.some((d, i) => d !== s.shape[i])) {
      throw inputError(`${source}: tensor '${s.name}' has shape [${t.shape.join(', ')}], expected [${s.shape.join(', ')}]`);
    }
    if (s.role === 'num_batches_tracked') {
      out.set(s.name, toCounter(t, s.name, source));
      continue;
    }
    const v = toFloat32(t, s.name, source);
    for (let i = 0; i < v.length; i++) {
      if (!Number.isFinite(v[i])) {
        throw inputError(`${source}: tensor '${s.name}' holds a non-finite value (${v[i]}) at index ${i}${t.dtype === 'F64' && Number.isFinite(new DataView(t.bytes.buffer, t.bytes.byteOffset).getFloat64(8 * i, true)) ? ' after conversion to float32' : ''}`);
      }
    }
    if (s.role === 'running_var' && v.some((x) => x < 0)) throw inputError(`${source}: tensor '${s.name}' holds a negative variance`);
    out.set(s.name, v);
  }
  return out;
}

/** Reads and validates an ISFuse weights file. Errors are {@link inputError}s naming the file and tensor. */
export async function readIsfuseWeights(path: string, dim = ISFUSE_DIM): Promise<Map<string, Float32Array | number>> {
  let buf: Uint8Array;
  try {
    buf = await readFile(path);
  } catch (e) {
    throw inputError(`cannot read ISFuse weights '${path}': ${(e as Error).message}`, e);
  }
  return stateValuesFromSafetensors(parseSafetensors(buf, `ISFuse weights '${path}'`), `ISFuse weights '${path}'`, dim);
}

/** State values as the full reference state dict, ready to write: PyTorch's names and order, counters as I64. */
export function isfuseStateTensors(values: ReadonlyMap<string, Float32Array | number>, dim = ISFUSE_DIM): Map<string, TensorToWrite> {
  const tensors = new Map<string, TensorToWrite>();
  for (const s of stateDictSpec(dim)) {
    const v = values.get(s.name);
    if (s.role === 'num_batches_tracked') tensors.set(s.name, { shape: [], data: BigInt64Array.of(BigInt(typeof v === 'number' ? v : 0)) });
    else {
      if (!(v instanceof Float32Array)) throw new Error(`internal: no values for '${s.name}'`);
      tensors.set(s.name, { shape: s.shape, data: v });
    }
  }
  return tensors;
}

/** Serialises state values as the full reference state dict (PyTorch order; counters as I64). */
export function serializeIsfuseWeights(values: ReadonlyMap<string, Float32Array | number>, metadata?: Record<string, string>, dim = ISFUSE_DIM): Uint8Array {
  return serializeSafetensors(isfuseStateTensors(values, dim), { format: 'pt', ...metadata });
}

/** Writes the parameters (or host values) as a safetensors file that PyTorch loads with strict=True. */
export async function writeIsfuseWeights(path: string, source: IsfuseParams | ReadonlyMap<string, Float32Array | number>, metadata?: Record<string, string>): Promise<void> {
  const values = source instanceof Map ? source : paramsToValues(source as IsfuseParams);
  await writeFile(path, serializeIsfuseWeights(values, metadata, source instanceof Map ? ISFUSE_DIM : (source as IsfuseParams).dim));
}
