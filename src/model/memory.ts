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
 * - onnxruntime engine: 8 U + 2 L (rows = 524288); measured (process RSS, onnxruntime's CPU arena off, as
 *   model/runner.ts runs it): 9.3 U at 480 x 640 (estimate 12 U), 9.0 U at 960 x 1280 (estimate 9.7 U),
 *   8.2 U at 1024 x 1024. (With the arena on, the default of onnxruntime, 17-19 U: it grows in powers of two.)
 * - onnxruntime engine in tiles (model/tiles.ts): the planes (inputs 8 bytes a pixel, fused 4, the gates
 *   5.25 when asked) and one phase-2 tile of (tile + 2 x 40)^2 pixels at the untiled rate; independent of
 *   the image otherwise ({@link estimateTiledInferenceBytes}).
 * A fixed 64 MiB covers weights, graph and runtime overheads.
 *
 * Which of the two the onnx engine runs: {@link planOnnxInference}.
 */
import { freemem, totalmem } from 'node:os';
import { inputError } from '../core/errors.js';
import type { ActiveBackend } from './backend.js';
import { DEFAULT_TILE_SIZE, NETWORK_HALO, TILE_ALIGN } from './tiles.js';

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
  const alt =
    backend.engine === 'onnx'
      ? '; tiled inference (the default above 1 MP) needs far less'
      : backend.name === 'wasm'
        ? "; backend 'onnx' (CPU) is not bound by the wasm heap and runs large images in tiles, in bounded memory"
        : "; backend 'onnx' (CPU) runs large images in tiles, in bounded memory";
  throw inputError(
    `ISFuse needs about ${gib(need)} to fuse a ${width}x${height} pair on backend '${backend.name}', more than ` +
      `${gib(lim.bytes)} available to ${lim.what}. Fuse a smaller image (about ${side}x${side} fits)${alt}.`,
  );
}


/** How the onnxruntime engine may split an image into tiles (model/tiles.ts). TensorFlow.js never tiles. */
export interface TilingOptions {
  /**
   * 'auto' (default): tiles above {@link TILE_ABOVE_PIXELS} pixels, or when the untiled run would not fit
   * the memory limit; 'always'; 'never' (an image that does not fit untiled is refused).
   */
  readonly tiles?: 'auto' | 'always' | 'never';
  /**
   * Core side of a tile in pixels, a multiple of 4 (default model/tiles.ts DEFAULT_TILE_SIZE; when not
   * given and the default does not fit the limit, smaller tiles down to 64 are tried).
   */
  readonly tileSize?: number;
}

/**
 * Auto mode tiles images above this many pixels (1024 x 1024). Measured with `isfuse fuse`
 * (docs/PERFORMANCE.md#tiles): tiles cost 1.3-1.4x the untiled time per pixel (the encoders run twice, the
 * halo) and keep the process under 1 GiB up to 2048 x 1536 (2.1 GiB at 8192 x 8192, the planes), where the
 * untiled run grows by ~0.9 GiB a megapixel (3.0 GiB at 2048 x 1536); up to 1 MP the untiled run stays near
 * 1 GiB and keeps its speed.
 */
export const TILE_ABOVE_PIXELS = 1024 * 1024;

/** Bytes per pixel of the planes a tiled run holds: inputs vi, ir and the fused output; the gates when asked. */
function planeBytes(pixels: number, gates: boolean): number {
  return pixels * (gates ? 8 + 4 + 4 + 1 + 0.25 : 8 + 4);
}

/**
 * Estimated peak bytes of a tiled inference of an H x W pair (onnxruntime): the planes and one phase-2 tile
 * ((tileSize + 2 x 40)^2 pixels, less for a smaller image) at the untiled estimate.
 */
export function estimateTiledInferenceBytes(height: number, width: number, tileSize: number = DEFAULT_TILE_SIZE, gates = false): number {
  const side = (n: number) => Math.min(n, tileSize + 2 * NETWORK_HALO);
  return Math.ceil(planeBytes(height * width, gates) + estimateInferenceBytes(side(height), side(width), 'onnx'));
}

export type OnnxPlan = { readonly tiled: false } | { readonly tiled: true; readonly tileSize: number };

/**
 * Whether the onnx engine runs an H x W pair untiled or in tiles, and the tile size. Throws an input error
 * naming the memory needed where even tiles cannot fit the limit (the planes themselves), or, with tiles
 * 'never', where the untiled run does not fit.
 */
export function planOnnxInference(height: number, width: number, o: TilingOptions & { readonly gates?: boolean; readonly limitBytes?: number } = {}): OnnxPlan {
  const backend = { name: 'onnx', engine: 'onnx' } as const;
  const mode = o.tiles ?? 'auto';
  if (!['auto', 'always', 'never'].includes(mode)) throw new Error(`internal: tiles '${mode}'`);
  if (mode === 'never') {
    checkInferenceMemory(height, width, backend, o.limitBytes);
    return { tiled: false };
  }
  const lim = o.limitBytes !== undefined ? { bytes: o.limitBytes, what: 'the configured limit' } : defaultMemoryLimit(backend);
  if (mode === 'auto' && height * width <= TILE_ABOVE_PIXELS && estimateInferenceBytes(height, width, 'onnx') <= lim.bytes) return { tiled: false };
  const sizes = o.tileSize !== undefined ? [o.tileSize] : [DEFAULT_TILE_SIZE, 256, 128, 64];
  for (const tileSize of sizes) if (estimateTiledInferenceBytes(height, width, tileSize, o.gates) <= lim.bytes) return { tiled: true, tileSize };
  const last = sizes[sizes.length - 1]!;
  const need = estimateTiledInferenceBytes(height, width, last, o.gates);
  const planes = planeBytes(height * width, o.gates ?? false);
  const side = Math.floor(Math.sqrt(((lim.bytes - (need - planes)) / planes) * height * width) / TILE_ALIGN) * TILE_ALIGN;
  throw inputError(
    `ISFuse needs about ${gib(need)} to fuse a ${width}x${height} pair on backend 'onnx' even in tiles of ${last}x${last} ` +
      `(the image planes alone take ${gib(planes)}), more than ${gib(lim.bytes)} available to ${lim.what}. ` +
      (side > 0 ? `Fuse a smaller image (about ${side}x${side} fits).` : 'Raise the memory limit.'),
  );
}
