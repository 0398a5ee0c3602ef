/**
 * Memory needed by one ISFuse inference, estimated from the image size before running, and the check
 * against a limit: a pair that cannot fit fails with a message naming what it needs, instead of the
 * backend's own failure (an out-of-bounds abort in wasm, an out-of-memory kill of the process).
 *
 * Model (float32, d = 32 channels, P = H*W pixels, U = 4 * 32 * P bytes = one full-resolution feature map,
 * L = 4 * 64 * min(P, rows) bytes = one block of attention logits [rows, 64]): the peak is inside the
 * level-1 CFI, where the two encoder outputs, Q/K/V and the result of one attention direction, the other
 * direction's result and the lower levels' maps are alive together.
 * - TensorFlow.js engine: 13 U + 3 L (rows = 65536: logits, scaled logits, softmax of one block);
 *   measured with tf.profile: 18.5 U at 160 x 192, where the estimate is 19 U (test/model/memory.test.ts).
 * - onnxruntime engine: 8 U + 2 L (rows = 524288); measured (process RSS): 9.3 U at 480 x 640 (estimate
 *   12 U) and 9.0 U at 960 x 1280 (estimate 9.7 U).
 * A fixed 64 MiB covers weights, graph and runtime overheads.
 */
import { freemem, totalmem } from 'node:os';
import { inputError } from '../core/errors.js';
import type { ActiveBackend } from './backend.js';

const FIXED_BYTES = 64 * 2 ** 20;

/** Estimated peak bytes of one inference of an H x W pair on the given engine. */
export function estimateInferenceBytes(height: number, width: number, engine: 'tfjs' | 'onnx' = 'tfjs'): number {
  const p = height * width;
  const u = 4 * 32 * p;
  const l = 4 * 64 * Math.min(p, engine === 'onnx' ? 524288 : 65536);
  return Math.ceil(engine === 'onnx' ? 8 * u + 2 * l + FIXED_BYTES : 13 * u + 3 * l + FIXED_BYTES);
}

/**
 * Default limit for a backend: the wasm heap is a 32-bit address space (4 GiB; 3.5 GiB usable in practice);
 * webgpu: 4 GiB (a conservative guess at GPU buffers; override with `maxMemoryBytes`); the CPU engines:
 * 75% of the machine's total memory, or free memory plus a quarter of the total if that is lower.
 */
export function defaultMemoryLimit(backend: Pick<ActiveBackend, 'name'>): { bytes: number; what: string } {
  if (backend.name === 'wasm') return { bytes: 3.5 * 2 ** 30, what: 'the wasm heap (4 GiB address space)' };
  if (backend.name === 'webgpu') return { bytes: 4 * 2 ** 30, what: 'the assumed GPU memory budget' };
  const bytes = Math.min(0.75 * totalmem(), freemem() + 0.25 * totalmem());
  return { bytes, what: `this machine's memory (${gib(totalmem())} total, ${gib(freemem())} free)` };
}

export function gib(bytes: number): string {
  return `${(bytes / 2 ** 30).toFixed(1)} GiB`;
}

/**
 * Throws an input error when an H x W pair needs more than the limit (default: {@link defaultMemoryLimit}).
 * Example message: "ISFuse needs about 19.4 GiB to fuse a 4096x4096 pair on backend 'wasm', more than
 * 3.5 GiB available to the wasm heap ...".
 */
export function checkInferenceMemory(height: number, width: number, backend: Pick<ActiveBackend, 'name' | 'engine'>, limitBytes?: number): void {
  const need = estimateInferenceBytes(height, width, backend.engine);
  const lim = limitBytes !== undefined ? { bytes: limitBytes, what: 'the configured limit' } : defaultMemoryLimit(backend);
  if (need <= lim.bytes) return;
  const side = Math.floor(Math.sqrt(((lim.bytes - FIXED_BYTES) / (need - FIXED_BYTES)) * height * width));
  const alt = backend.name === 'wasm' ? "; backend 'onnx' or 'cpu' is not bound by the wasm heap" : '';
  throw inputError(
    `ISFuse needs about ${gib(need)} to fuse a ${width}x${height} pair on backend '${backend.name}', more than ` +
      `${gib(lim.bytes)} available to ${lim.what}. Fuse a smaller image (about ${side}x${side} fits)${alt}.`,
  );
}
