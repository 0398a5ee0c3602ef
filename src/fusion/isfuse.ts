/**
 * ISFuse as a {@link Fuser} ("Multi-Modal Image Fusion via Intervention-Stable Feature Learning",
 * arXiv 2603.23272, CVPR 2026; network in src/model/).
 *
 * Options (validated when given; unknown keys are a usage error):
 * - `weights`: path of a safetensors file with the reference state-dict names (docs/WEIGHTS.md).
 *   Default: the shipped model models/isfuse-paper.safetensors (`model`: another shipped model by name), when it exists; otherwise an input error says
 *   that weights are needed.
 * - `backend`: 'auto' (default), 'onnx', 'wasm', 'cpu', 'webgpu', 'tfjs-node' (src/model/backend.ts).
 * - `gates`: when true, the returned plane also carries `gates` (g3, g4, g5 upsampled to the image size);
 *   see {@link fuseWithGates}.
 * - `maxMemoryBytes`: memory limit for the pre-run check (default per backend, src/model/memory.ts).
 *
 * Loaded networks are cached per (weights path, backend); {@link clearIsfuseCache} releases them.
 */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { DEFAULT_MODEL_PATH, shippedModelPath } from '../model/shipped-models.js';
import { inputError, invalidParameter, usageError } from '../core/errors.js';
import { plane, type Plane } from '../core/image.js';
import { createRunner, type IsfuseRunner } from '../model/runner.js';
import { readIsfuseWeights } from '../model/weights.js';
import type { Fuser, FuserOptions } from './types.js';
import { ISFUSE_OPTIONS } from './isfuse-options.js';
import { checkPlanes, fuseWithRunner, type IsfusePlane } from './isfuse-run.js';

export { upsampleGate, type IsfusePlane } from './isfuse-run.js';

/** The default shipped model (model/shipped-models.ts); may be absent. */
export const DEFAULT_WEIGHTS_PATH = DEFAULT_MODEL_PATH;

export interface IsfuseOptions {
  /** A weights file (safetensors, reference state-dict names). */
  readonly weights?: string;
  /** A shipped model by name (`isfuse methods` lists them); not together with `weights`. */
  readonly model?: string;
  readonly backend?: string;
  readonly gates?: boolean;
  readonly maxMemoryBytes?: number;
}

const OPTION_KEYS = [...Object.keys(ISFUSE_OPTIONS), 'maxMemoryBytes'] as const;

/** Validates a raw options object (as the registry / CLI pass it). */
export function parseIsfuseOptions(options: FuserOptions | undefined): IsfuseOptions {
  const o = options ?? {};
  if (typeof o !== 'object' || Array.isArray(o)) throw invalidParameter('isfuse options', 'an object', o);
  for (const k of Object.keys(o)) {
    if (!(OPTION_KEYS as readonly string[]).includes(k)) throw usageError(`Unknown option '${k}' for isfuse. Valid options: ${OPTION_KEYS.join(', ')}`);
  }
  const { weights, model, backend, gates, maxMemoryBytes } = o as Record<string, unknown>;
  if (weights !== undefined && (typeof weights !== 'string' || weights === '')) throw invalidParameter('weights', 'a file path', weights);
  if (model !== undefined && (typeof model !== 'string' || model === '')) throw invalidParameter('model', 'a shipped model name', model);
  if (weights !== undefined && model !== undefined) throw usageError('isfuse takes a weights file or a shipped model name, not both');
  if (backend !== undefined && typeof backend !== 'string') throw invalidParameter('backend', 'a backend name', backend);
  if (gates !== undefined && typeof gates !== 'boolean') throw invalidParameter('gates', 'a boolean', gates);
  if (maxMemoryBytes !== undefined && !(typeof maxMemoryBytes === 'number' && maxMemoryBytes > 0)) {
    throw invalidParameter('maxMemoryBytes', 'a positive number of bytes', maxMemoryBytes);
  }
  return { weights: weights as string | undefined, model: model as string | undefined, backend: backend as string | undefined, gates: gates as boolean | undefined, maxMemoryBytes: maxMemoryBytes as number | undefined };
}

/**
 * The weights file that `weights` names, else the shipped model `model` names (a usage error listing the names when
 * unknown), else the default model; an input error when that is absent.
 */
export function resolveWeightsPath(weights?: string, model?: string): string {
  if (model !== undefined) return shippedModelPath(model);
  if (weights !== undefined) {
    const p = resolve(weights);
    if (!existsSync(p)) throw inputError(`ISFuse weights file not found: ${weights}`);
    return p;
  }
  if (existsSync(DEFAULT_WEIGHTS_PATH)) return DEFAULT_WEIGHTS_PATH;
  throw inputError(
    `ISFuse needs weights: no weights file given (--weights FILE.safetensors) and no default model at ${DEFAULT_WEIGHTS_PATH}`,
  );
}

const cache = new Map<string, Promise<IsfuseRunner>>();

/**
 * The runner for (weights, backend), loaded once and cached (a TensorFlow.js runner re-activates its
 * backend on each run: TensorFlow.js has one global backend).
 */
export async function loadIsfuse(options: IsfuseOptions = {}): Promise<IsfuseRunner> {
  const path = resolveWeightsPath(options.weights, options.model);
  const backend = options.backend ?? 'auto';
  const key = `${path}\u0000${backend}`;
  let r = cache.get(key);
  if (!r) {
    r = readIsfuseWeights(path).then((values) => createRunner(values, backend));
    cache.set(key, r);
    r.catch(() => cache.delete(key));
  }
  return r;
}

/** Releases every cached network (TensorFlow.js weights, onnxruntime sessions). */
export async function clearIsfuseCache(): Promise<void> {
  const all = [...cache.values()];
  cache.clear();
  for (const r of all) {
    try {
      (await r).dispose();
    } catch {
      // a failed load holds nothing
    }
  }
}

/** The fused plane plus the three gates (g3, g4, g5: levels H/4, H/2, H) upsampled to the image size. */
export interface FusedWithGates {
  readonly fused: Plane;
  readonly gates: readonly [Plane, Plane, Plane];
}

/**
 * Fuses one pair and returns the gate maps for `--save-gates` (one forward pass).
 * @param ir infrared / functional plane in [0,1]; @param vis visible luminance / MRI plane, same size (>= 4x4).
 * @throws IsfuseError (input) for missing/bad weights, mismatched sizes, or a pair too large for memory.
 * @example const { fused, gates } = await fuseWithGates(ir, vis, { weights: 'w.safetensors' });
 */
export async function fuseWithGates(ir: Plane, vis: Plane, options?: FuserOptions): Promise<FusedWithGates> {
  const o = parseIsfuseOptions(options);
  checkPlanes(ir, vis);
  const r = await fuseWithRunner(await loadIsfuse(o), ir, vis, { gates: true, maxMemoryBytes: o.maxMemoryBytes });
  return { fused: plane(ir.width, ir.height, r.data), gates: r.gates! };
}

export const isfuse: Fuser = Object.freeze({
  name: 'isfuse',
  description: 'ISFuse network (intervention-stable feature learning, CVPR 2026)',
  reference: 'Multi-Modal Image Fusion via Intervention-Stable Feature Learning, arXiv 2603.23272 (CVPR 2026)',
  options: Object.freeze({
    ...ISFUSE_OPTIONS,
    maxMemoryBytes: 'memory limit for the pre-run size check (default: per backend)',
  }),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<IsfusePlane> {
    const o = parseIsfuseOptions(options);
    checkPlanes(ir, vis);
    return fuseWithRunner(await loadIsfuse(o), ir, vis, o);
  },
});
