/**
 * The training loop (`isfuse train`, and `train()` of the library API): data, steps or epochs, progress,
 * a JSON-lines log, atomic checkpoints that resume exactly, optional validation, a training-curve SVG.
 *
 * Output folder:
 * - `checkpoint.safetensors`: the whole state, written atomically (temporary file + rename) every
 *   `checkpointEvery` steps and at the end: the model (reference state-dict names, as weights.safetensors),
 *   the Adam moments (`optimizer.m.<name>`, `optimizer.v.<name>`), and in the metadata (`isfuse.train`, JSON):
 *   step, Adam step count and hyper-parameters, the PRNG state, the epoch sampler state, the run options.
 *   `--resume` continues from it; on the same backend the result is bit-identical to an uninterrupted run
 *   (test/train/loop.test.ts).
 * - `weights.safetensors`: the model alone (loads in PyTorch with strict=True, and in `isfuse fuse --weights`).
 * - `train.jsonl`: one JSON object per step (`{"type":"step","step",...loss terms,"ms"}`) and per validation
 *   (`{"type":"val","step",...metrics}`); on resume, lines after the checkpoint's step are dropped.
 * - `curve.svg`: the loss curves (written at the end).
 *
 * The TensorFlow.js backend must be chosen before (model/backend.ts); the Conv2D gradient of
 * model/conv-gradient.ts is installed here, since wasm has no stock filter gradient.
 */
import { mkdir, readFile, rename, writeFile, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { inputError, usageError } from '../core/errors.js';
import { EpochSampler, cropBatch, usableImages, type CropAlignment, type SamplerState, type SmallImagePolicy } from '../data/crops.js';
import { loadDataset, type PairImages } from '../data/pairs.js';
import { Rng, type RngState } from '../core/random.js';
import { disposeParams, initParams, paramsFromValues, paramsToValues, type IsfuseParams } from '../model/isfuse.js';
import { isfuseStateTensors, parseSafetensors, serializeIsfuseWeights, serializeSafetensors, stateValuesFromSafetensors, toFloat32, type RawTensor } from '../model/weights.js';
import { installConvGradient } from '../model/conv-gradient.js';
import { DEFAULT_TRAIN_CONFIG, maskTensors, type TrainConfig } from './interventions.js';
import { drawInterventionMasks, MIN_MASK_SIZE } from './masks.js';
import { trainingCurveSvg } from './plot.js';
import { autoOnnxPlan, OnnxTrainer, type OnnxPlan } from './onnx/trainer.js';
import { Adam, cacheOnHost, namedTrainables, trainStep, type GradientMode, type LossTerms } from './step.js';

/** Metadata key of the training state in checkpoint.safetensors. */
export const CHECKPOINT_META_KEY = 'isfuse.train';
const FORMAT = 'isfuse-train-checkpoint/1';

export interface TrainProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly terms: LossTerms;
  /** wall time of this step */
  readonly ms: number;
  /** estimated seconds left (mean step time of this invocation x steps left) */
  readonly etaS: number;
}

/** Validation hook: returns metric values (e.g. the mmif means over a validation folder). */
export type Validator = (params: IsfuseParams) => Promise<Record<string, number>>;

export interface TrainOptions {
  /** dataset folder (ir/ + vi/, or MRI/ + CT|PET|SPECT/) or images already loaded */
  readonly data: string | readonly PairImages[];
  /** output folder (created) */
  readonly out: string;
  /** number of steps (default: `epochs` x steps per epoch; with neither: 1 epoch) */
  readonly steps?: number;
  readonly epochs?: number;
  /** default 8 */
  readonly batch?: number;
  /** crop side, default 128 (at least 17) */
  readonly crop?: number;
  /** Adam learning rate, default 1e-4 */
  readonly lr?: number;
  /** seeds the initial weights and the one PRNG of the run; default 0 */
  readonly seed?: number;
  /** continue from out/checkpoint.safetensors when it exists */
  readonly resume?: boolean;
  /** checkpoint every N steps (and at the end); default 50 */
  readonly checkpointEvery?: number;
  /** ablation switches and signs; default DEFAULT_TRAIN_CONFIG */
  readonly config?: Partial<TrainConfig>;
  readonly alignment?: CropAlignment;
  readonly augment?: boolean;
  readonly small?: SmallImagePolicy;
  /**
   * 'sequential' (one pass alive at a time: several times less memory than 'joint', slower on the onnx engine),
   * 'joint', or 'auto' (default): sequential on TensorFlow.js; on onnx joint when it fits (autoOnnxPlan)
   */
  readonly gradientMode?: GradientMode | 'auto';
  /**
   * What runs the step: 'tfjs' (the active TensorFlow.js backend; default) or 'onnx' (the step with its
   * backward pass as onnxruntime graphs, train/onnx/; the Adam update and checkpoints stay in TensorFlow.js).
   */
  readonly engine?: 'tfjs' | 'onnx';
  /** onnx engine: onnxruntime intra-op threads (default: the CPUs Node reports, os.availableParallelism()) */
  readonly threads?: number;
  /** validation every N steps (and at the end) through `validator` */
  readonly validator?: Validator;
  readonly valEvery?: number;
  readonly onProgress?: (p: TrainProgress) => void;
  readonly onNote?: (message: string) => void;
  /** stop this invocation after this many steps (as if killed right after a checkpoint); for tests */
  readonly stopAfter?: number;
}

export interface TrainResult {
  /** step reached */
  readonly step: number;
  readonly totalSteps: number;
  readonly last?: LossTerms;
  readonly val?: Record<string, number>;
  readonly weightsPath: string;
  readonly checkpointPath: string;
  readonly wallS: number;
}

interface SavedState {
  format: string;
  step: number;
  totalSteps: number;
  rng: RngState;
  sampler: SamplerState;
  adam: { t: number; lr: number; beta1: number; beta2: number; eps: number };
  run: { batch: number; crop: number; seed: number; config: TrainConfig; alignment: CropAlignment; augment: boolean; small: SmallImagePolicy };
  wallS: number;
}

async function writeAtomic(path: string, bytes: Uint8Array | string): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, bytes);
  await rename(tmp, path);
}

/**
 * Serialises the checkpoint (weights + Adam moments + state JSON). Takes the parameter values already read
 * from the backend (paramsToValues) so that a save reads them once for both files it writes.
 */
export function serializeCheckpoint(values: ReadonlyMap<string, Float32Array | number>, opt: Adam, state: SavedState): Uint8Array {
  // The same named tensors as weights.safetensors, so that both files have exactly the same names and dtypes.
  const all = isfuseStateTensors(values);
  const s = opt.state();
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
  if (state.format !== FORMAT) throw inputError(`${path}: unsupported checkpoint format '${state.format}' (expected ${FORMAT})`);
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

async function exists(p: string): Promise<boolean> {
  try {
    await stat(p);
    return true;
  } catch {
    return false;
  }
}

function checkPositive(name: string, v: number | undefined): void {
  if (v !== undefined && (!Number.isInteger(v) || v < 1)) throw usageError(`Expected a positive integer for ${name} but received ${v}`);
}

/**
 * Trains ISFuse (DESIGN.md §3) and writes the output folder described above. Errors: usage errors for bad
 * options (or options that differ from the checkpoint being resumed), input errors for data problems, and an
 * error naming the step when a loss becomes non-finite.
 *
 * Example: `await train({ data: 'RoadScene/train', out: 'runs/a', steps: 500, batch: 8, crop: 128, seed: 1 })`.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const t0 = Date.now();
  const batch = opts.batch ?? 8;
  const crop = opts.crop ?? 128;
  const seed = opts.seed ?? 0;
  const lr = opts.lr ?? 1e-4;
  const every = opts.checkpointEvery ?? 50;
  checkPositive('batch', batch);
  checkPositive('crop', crop);
  checkPositive('steps', opts.steps);
  checkPositive('epochs', opts.epochs);
  checkPositive('checkpointEvery', every);
  if (crop < MIN_MASK_SIZE) throw usageError(`Expected a crop of at least ${MIN_MASK_SIZE} (the hole masks need it) but received ${crop}`);
  if (!(lr > 0)) throw usageError(`Expected a positive number for lr but received ${lr}`);
  if (opts.steps !== undefined && opts.epochs !== undefined) throw usageError('give either steps or epochs, not both');
  const config: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...opts.config };
  const run = { batch, crop, seed, config, alignment: opts.alignment ?? 'aligned', augment: opts.augment ?? true, small: opts.small ?? 'skip' } as SavedState['run'];
  const note = opts.onNote ?? (() => {});

  installConvGradient();
  const images = typeof opts.data === 'string' ? (await loadDataset(opts.data)).images : opts.data;
  const usable = usableImages(images, crop, run.small);
  if (usable.length < images.length) note(`${images.length - usable.length} of ${images.length} pairs are smaller than the ${crop}x${crop} crop and are skipped`);
  if (usable.length === 0) throw inputError(`no pair is at least ${crop}x${crop}; use a smaller crop or small: 'pad'`);
  const sampler = new EpochSampler(usable, batch);
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * sampler.stepsPerEpoch;

  await mkdir(opts.out, { recursive: true });
  const ckptPath = join(opts.out, 'checkpoint.safetensors');
  const weightsPath = join(opts.out, 'weights.safetensors');
  const logPath = join(opts.out, 'train.jsonl');

  let params: IsfuseParams;
  let rng: Rng;
  const opt = new Adam(lr);
  let step = 0;
  let priorWallS = 0;
  let logLines: string[] = [];
  if (opts.resume && (await exists(ckptPath))) {
    const ck = await readCheckpoint(ckptPath);
    const saved = ck.state;
    for (const k of ['batch', 'crop', 'seed', 'alignment', 'augment', 'small'] as const) {
      if (saved.run[k] !== run[k]) throw usageError(`--resume: ${k} is ${JSON.stringify(run[k])} but the checkpoint was made with ${JSON.stringify(saved.run[k])}`);
    }
    if (JSON.stringify(saved.run.config) !== JSON.stringify(config)) {
      throw usageError(`--resume: the ablation/sign options differ from the checkpoint's (${JSON.stringify(saved.run.config)})`);
    }
    params = ck.params;
    rng = Rng.fromState(saved.rng);
    sampler.restore(saved.sampler);
    opt.load(ck.adam, namedTrainables(params));
    step = saved.step;
    priorWallS = saved.wallS;
    if (await exists(logPath)) {
      logLines = (await readFile(logPath, 'utf8')).split('\n').filter((l) => {
        if (!l.trim()) return false;
        try {
          return (JSON.parse(l) as { step: number }).step <= step;
        } catch {
          return false;
        }
      });
    }
    note(`resuming from ${ckptPath} at step ${step}`);
  } else {
    if (opts.resume) note(`no checkpoint in ${opts.out}: starting from scratch`);
    params = initParams(seed);
    rng = new Rng(seed);
  }
  await writeAtomic(logPath, logLines.map((l) => l + '\n').join(''));
  const appendLog = async (obj: object): Promise<void> => {
    const line = JSON.stringify(obj);
    logLines.push(line);
    await writeFile(logPath, line + '\n', { flag: 'a' });
  };

  const save = async (): Promise<void> => {
    const state: SavedState = {
      format: FORMAT, step, totalSteps, rng: rng.state, sampler: sampler.state,
      adam: { t: opt.t, lr: opt.lr, beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps },
      run, wallS: priorWallS + (Date.now() - t0) / 1000,
    };
    await cacheOnHost([...params.variables.values(), ...opt.tensors()]);
    const values = paramsToValues(params);
    await writeAtomic(ckptPath, serializeCheckpoint(values, opt, state));
    await writeAtomic(weightsPath, serializeIsfuseWeights(values, { 'isfuse.step': String(step), 'isfuse.seed': String(seed) }));
  };

  const onnx = opts.engine === 'onnx' ? new OnnxTrainer(config, { threads: opts.threads ?? availableParallelism(), plan: onnxPlan(opts.gradientMode, batch, crop) }) : undefined;
  let last: LossTerms | undefined;
  let val: Record<string, number> | undefined;
  const startStep = step;
  const tLoop = Date.now();
  const stopAt = opts.stopAfter !== undefined ? Math.min(totalSteps, step + opts.stopAfter) : totalSteps;
  try {
    while (step < stopAt) {
      const ts = Date.now();
      const { epoch, indices } = sampler.next(rng);
      const hb = cropBatch(images, indices, rng, { size: crop, alignment: run.alignment, augment: run.augment, small: run.small });
      const masks = drawInterventionMasks(rng, hb.n, crop, crop);
      if (onnx) {
        last = await onnx.step(params, opt, { vi: hb.vi, ir: hb.ir, masks });
      } else {
        const shape: [number, number, number, number] = [hb.n, crop, crop, 1];
        const vi = tf.tensor4d(hb.vi, shape), ir = tf.tensor4d(hb.ir, shape);
        const mt = maskTensors(masks);
        try {
          last = await trainStep(params, opt, { vi, ir, masks: mt }, config, tfjsMode(opts.gradientMode));
        } finally {
          tf.dispose([vi, ir, mt.compVi, mt.compIr, mt.rand]);
        }
      }
      step += 1;
      if (!Number.isFinite(last.total)) throw new Error(`training diverged at step ${step}: loss ${last.total} (${JSON.stringify(last)})`);
      const ms = Date.now() - ts;
      await appendLog({ type: 'step', step, epoch, ...last, ms });
      const done = step - startStep;
      opts.onProgress?.({ step, totalSteps, epoch, terms: last, ms, etaS: (((Date.now() - tLoop) / done) * (totalSteps - step)) / 1000 });
      if (step % every === 0 || step === totalSteps || step === stopAt) await save();
      if (opts.validator && ((opts.valEvery !== undefined && step % opts.valEvery === 0) || step === totalSteps)) {
        val = await opts.validator(params);
        await appendLog({ type: 'val', step, ...val });
      }
    }
    if (step === totalSteps) await writeFile(join(opts.out, 'curve.svg'), curveFromLog(logLines));
  } finally {
    await onnx?.dispose();
    opt.dispose();
    disposeParams(params);
  }
  return { step, totalSteps, last, val, weightsPath, checkpointPath: ckptPath, wallS: priorWallS + (Date.now() - t0) / 1000 };
}

/** The training-curve SVG from the JSON-lines log (total, L_f, L_inv, L_nec; validation metrics if any). */
export function curveFromLog(lines: readonly string[]): string {
  const steps = lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  const ser = (name: string, key: string, type = 'step') => ({
    name,
    points: steps.filter((s) => s.type === type && typeof s[key] === 'number').map((s) => [s.step as number, s[key] as number] as const),
  });
  const series = [ser('loss L', 'total'), ser('L_f', 'f'), ser('L_inv', 'inv'), ser('L_nec', 'nec')];
  const valKeys = new Set(steps.filter((s) => s.type === 'val').flatMap((s) => Object.keys(s).filter((k) => k !== 'type' && k !== 'step')));
  for (const k of valKeys) series.push(ser(`val ${k}`, k, 'val'));
  return trainingCurveSvg(series.filter((s) => s.points.length > 0));
}

/** The gradient plan a TensorFlow.js step runs for a `--memory` choice ('auto': sequential). */
export function tfjsMode(mode: GradientMode | 'auto' | undefined): GradientMode {
  return mode === 'joint' ? 'joint' : 'sequential';
}

/** The plan the onnx engine runs for a `--memory` choice ('auto': autoOnnxPlan). */
export function onnxPlan(mode: GradientMode | 'auto' | undefined, batch: number, crop: number): OnnxPlan {
  return mode === undefined || mode === 'auto' ? autoOnnxPlan(batch, crop, crop) : mode;
}
