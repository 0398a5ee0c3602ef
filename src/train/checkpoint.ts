/**
 * The training checkpoint (checkpoint.safetensors, see ./loop.ts): the model under weights.safetensors' names,
 * the Adam moments (`optimizer.m.<name>`, `optimizer.v.<name>`) and, in the metadata (`isfuse.train`, JSON),
 * the rest of the state ({@link SavedState}). Files are written atomically (temporary file + rename; the
 * temporary file is registered with core/cleanup.ts, so an interrupted CLI removes it), and never with a
 * non-finite value (./diverged.ts).
 */
import { readFile } from 'node:fs/promises';
import { replaceFileAtomically } from '../core/cleanup.js';
import { inputError, IsfuseError } from '../core/errors.js';
import type { CropAlignment, SamplerState, SmallImagePolicy } from '../data/crops.js';
import type { RngState } from '../core/random.js';
import { paramsFromValues, paramsToValues, type IsfuseParams } from '../model/isfuse.js';
import { isfuseStateTensors, parseSafetensors, serializeIsfuseWeights, serializeSafetensors, stateValuesFromSafetensors, toFloat32, type RawTensor } from '../model/weights.js';
import type { TrainConfig } from './interventions.js';
import { countNonFinite } from './diverged.js';
import { temporaryPath } from './run-folder.js';
import { cacheOnHost, type Adam, type AdamState } from './step.js';

/** Metadata key of the training state in checkpoint.safetensors. */
export const CHECKPOINT_META_KEY = 'isfuse.train';
export const CHECKPOINT_FORMAT = 'isfuse-train-checkpoint/1';

/** The run's options that a resume must repeat. (`config` of checkpoints older than `loss`: without it.) */
export interface RunSettings {
  readonly batch: number;
  readonly crop: number;
  readonly seed: number;
  readonly config: TrainConfig;
  readonly alignment: CropAlignment;
  readonly augment: boolean;
  readonly small: SmallImagePolicy;
}

/** The training state besides the tensors. */
export interface SavedState {
  format: string;
  step: number;
  totalSteps: number;
  rng: RngState;
  sampler: SamplerState;
  adam: { t: number; lr: number; beta1: number; beta2: number; eps: number };
  run: RunSettings;
  wallS: number;
}

/**
 * Writes `path` (a run file) atomically through `<path>.tmp-<pid>` (./run-folder.ts temporaryPath: the pattern a
 * later run removes when a killed run left it), registered with core/cleanup.ts and removed on failure.
 */
export async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = temporaryPath(path);
  await replaceFileAtomically(path, tmp, bytes);
}

/** Refuses to write a tensor with a NaN or infinite value (the step check of ./loop.ts should have stopped first). */
function assertFinite(file: string, tensors: Iterable<[string, Float32Array | number]>): void {
  for (const [name, t] of tensors) {
    if (typeof t === 'number' ? !Number.isFinite(t) : countNonFinite(t) > 0) {
      throw new IsfuseError(`not writing ${file}: '${name}' holds non-finite values`, 'internal');
    }
  }
}

/**
 * Serialises the checkpoint (weights + Adam moments + state JSON). Takes the parameter values and the Adam state
 * already read from the backend (paramsToValues, Adam.state) so that a save reads them once for both files.
 */
export function serializeCheckpoint(values: ReadonlyMap<string, Float32Array | number>, s: AdamState, state: SavedState): Uint8Array {
  // The same named tensors as weights.safetensors, so that both files have exactly the same names and dtypes.
  const all = isfuseStateTensors(values);
  for (const [name, m] of s.m) {
    all.set(`optimizer.m.${name}`, { shape: [m.length], data: m });
    all.set(`optimizer.v.${name}`, { shape: [m.length], data: s.v.get(name)! });
  }
  return serializeSafetensors(all, { [CHECKPOINT_META_KEY]: JSON.stringify(state) });
}

/** Reads a checkpoint: parameters (new variables), Adam state, saved state. */
export async function readCheckpoint(path: string): Promise<{ params: IsfuseParams; adam: { t: number; m: Map<string, Float32Array>; v: Map<string, Float32Array> }; state: SavedState }> {
  const content = parseSafetensors(new Uint8Array(await readFile(path)), path);
  const raw = content.metadata[CHECKPOINT_META_KEY];
  let state: SavedState;
  try {
    state = JSON.parse(raw ?? '') as SavedState;
  } catch {
    throw inputError(`${path}: not an isfuse training checkpoint (no '${CHECKPOINT_META_KEY}' metadata)`);
  }
  if (state.format !== CHECKPOINT_FORMAT) throw inputError(`${path}: unsupported checkpoint format '${state.format}' (expected ${CHECKPOINT_FORMAT})`);
  const weights = new Map<string, RawTensor>();
  const m = new Map<string, Float32Array>(), v = new Map<string, Float32Array>();
  for (const [name, t] of content.tensors) {
    if (name.startsWith('optimizer.m.')) m.set(name.slice(12), toFloat32(t, name, path));
    else if (name.startsWith('optimizer.v.')) v.set(name.slice(12), toFloat32(t, name, path));
    else weights.set(name, t);
  }
  const values = stateValuesFromSafetensors({ tensors: weights, metadata: {} }, path);
  return { params: paramsFromValues(values), adam: { t: state.adam.t, m, v }, state };
}

/** Writes checkpoint.safetensors and weights.safetensors (atomically), reading the tensors asynchronously once. */
export async function saveCheckpoint(paths: { checkpoint: string; weights: string }, params: IsfuseParams, opt: Adam, state: SavedState): Promise<void> {
  await cacheOnHost([...params.variables.values(), ...opt.tensors()]);
  const values = paramsToValues(params);
  const moments = opt.state();
  assertFinite(paths.checkpoint, [...values, ...moments.m, ...moments.v]);
  await writeAtomic(paths.checkpoint, serializeCheckpoint(values, moments, state));
  await writeAtomic(paths.weights, serializeIsfuseWeights(values, { 'isfuse.step': String(state.step), 'isfuse.seed': String(state.run.seed) }));
}
