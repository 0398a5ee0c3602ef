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
 * - `train.jsonl`: one JSON object per step and per validation; on resume, lines after the checkpoint's step are
 *   dropped. Step lines: `{"type":"step","step","epoch","total","f","inv","nec",...parts,"ms"}`, the parts being
 *   the objective's recorded values by key (./objective.ts: e.g. "f.ir", "f.grad", "comp.entropy", "novi";
 *   the "f.*" keys follow the fidelity loss). Validation lines: `{"type":"val","step",...metrics}`.
 * - `curve.svg`: the loss curves (written at the end).
 * An earlier run there is continued only with `resume` and replaced only with `overwrite`, and the folder is locked
 * while a run lasts (./run-folder.ts); a loss, gradient or parameter that becomes non-finite stops the run before
 * anything of that step is written (./diverged.ts).
 *
 * The TensorFlow.js backend must be chosen before (model/backend.ts); the Conv2D gradient of
 * model/conv-gradient.ts is installed here, since wasm has no stock filter gradient. The step itself runs on a
 * ./engine.ts StepEngine (tfjs or onnx); checkpoints are ./checkpoint.ts.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { invalidParameter, inputError, usageError } from '../core/errors.js';
import { EpochSampler, cropBatch, usableImages, type CropAlignment, type SmallImagePolicy } from '../data/crops.js';
import { loadDataset, type PairImages } from '../data/pairs.js';
import { Rng } from '../core/random.js';
import { disposeParams, initParams, type IsfuseParams } from '../model/isfuse.js';
import { CHECKPOINT_FORMAT, readCheckpoint, saveCheckpoint, writeAtomic, type RunSettings, type SavedState } from './checkpoint.js';
import { installConvGradient } from '../model/conv-gradient.js';
import { createStepEngine, type EngineName, type HostStepBatch, type MemoryPlan, type StepEngine } from './engine.js';
import { divergence, TrainingDiverged } from './diverged.js';
import { FIDELITY_LOSS_NAMES, isFidelityLossName } from './fidelity.js';
import { DEFAULT_TRAIN_CONFIG, type TrainConfig } from './interventions.js';
import { drawInterventionMasks, MIN_MASK_SIZE } from './masks.js';
import type { LossTerms } from './objective.js';
import { trainingCurveSvg } from './plot.js';
import { checkRunFolder, openRunFolder } from './run-folder.js';
import { Adam, namedTrainables } from './step.js';

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
  /** output folder (created; one run at a time: it is locked while the run lasts, ./run-folder.ts) */
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
  /**
   * continue the earlier run in `out` from its checkpoint.safetensors (a folder without any run file starts from
   * scratch); without `resume` or `overwrite`, a folder holding an earlier run is refused (./run-folder.ts)
   */
  readonly resume?: boolean;
  /** start over in an `out` that holds an earlier run: its checkpoint, weights, log and curve are removed first */
  readonly overwrite?: boolean;
  /** checkpoint every N steps (and at the end); default 50 */
  readonly checkpointEvery?: number;
  /** ablation switches, signs and the fidelity loss (`loss`, default 'paper'); default DEFAULT_TRAIN_CONFIG */
  readonly config?: Partial<TrainConfig>;
  readonly alignment?: CropAlignment;
  readonly augment?: boolean;
  readonly small?: SmallImagePolicy;
  /**
   * The memory plan (`--memory`): 'sequential' (one pass alive at a time: several times less memory than
   * 'joint', slower on the onnx engine), 'joint', or 'auto' (default): sequential on TensorFlow.js; on onnx
   * joint when it fits (autoOnnxPlan).
   */
  readonly memory?: MemoryPlan | 'auto';
  /** @deprecated the former name of `memory` (used when `memory` is not given) */
  readonly gradientMode?: MemoryPlan | 'auto';
  /**
   * What runs the step: 'tfjs' (the active TensorFlow.js backend; default) or 'onnx' (the step with its
   * backward pass as onnxruntime graphs, train/onnx/; the Adam update and checkpoints stay in TensorFlow.js).
   */
  readonly engine?: EngineName;
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

/** The options checked, with their defaults: what a resume must repeat (`run`), and the rest. */
function runSettings(opts: TrainOptions): { run: RunSettings; lr: number; every: number } {
  const batch = opts.batch ?? 8;
  const crop = opts.crop ?? 128;
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
  if (!isFidelityLossName(config.loss)) throw invalidParameter('loss', `one of ${FIDELITY_LOSS_NAMES.join(', ')}`, config.loss);
  return {
    run: { batch, crop, seed: opts.seed ?? 0, config, alignment: opts.alignment ?? 'aligned', augment: opts.augment ?? true, small: opts.small ?? 'skip' },
    lr,
    every,
  };
}

/** The JSON-lines log: its lines so far (for the curve) and appends. */
class TrainLog {
  private constructor(readonly path: string, readonly lines: string[]) {}

  /** Starts the log at `path`, keeping the lines up to `keepUpTo` (a resumed step) from an existing file. */
  static async open(path: string, keepUpTo?: number): Promise<TrainLog> {
    let lines: string[] = [];
    if (keepUpTo !== undefined && (await exists(path))) {
      lines = (await readFile(path, 'utf8')).split('\n').filter((l) => {
        if (!l.trim()) return false;
        try {
          return (JSON.parse(l) as { step: number }).step <= keepUpTo;
        } catch {
          return false;
        }
      });
    }
    await writeAtomic(path, lines.map((l) => l + '\n').join(''));
    return new TrainLog(path, lines);
  }

  async append(obj: object): Promise<void> {
    const line = JSON.stringify(obj);
    this.lines.push(line);
    await writeFile(this.path, line + '\n', { flag: 'a' });
  }
}

/** Where a run starts: fresh (initial weights, new PRNG) or from the checkpoint in the output folder. */
interface StartState {
  resumed: boolean;
  params: IsfuseParams;
  rng: Rng;
  step: number;
  priorWallS: number;
}

/**
 * The state to start from: the checkpoint at `ckptPath` when resuming (its options must equal `run`; configs
 * saved before a field existed get that field's default), else a fresh start. Restores the sampler and `opt`.
 */
async function startState(opts: TrainOptions, run: RunSettings, ckptPath: string, sampler: EpochSampler, opt: Adam, note: (m: string) => void): Promise<StartState> {
  if (!(opts.resume && (await exists(ckptPath)))) {
    if (opts.resume) note(`no checkpoint in ${opts.out}: starting from scratch`);
    return { resumed: false, params: initParams(run.seed), rng: new Rng(run.seed), step: 0, priorWallS: 0 };
  }
  const ck = await readCheckpoint(ckptPath);
  const saved = ck.state;
  for (const k of ['batch', 'crop', 'seed', 'alignment', 'augment', 'small'] as const) {
    if (saved.run[k] !== run[k]) throw usageError(`--resume: ${k} is ${JSON.stringify(run[k])} but the checkpoint was made with ${JSON.stringify(saved.run[k])}`);
  }
  const savedConfig: TrainConfig = { ...DEFAULT_TRAIN_CONFIG, ...saved.run.config };
  if (JSON.stringify(savedConfig) !== JSON.stringify(run.config)) {
    throw usageError(`--resume: the ablation/sign/loss options differ from the checkpoint's (${JSON.stringify(savedConfig)})`);
  }
  sampler.restore(saved.sampler);
  opt.load(ck.adam, namedTrainables(ck.params));
  note(`resuming from ${ckptPath} at step ${saved.step}`);
  return { resumed: true, params: ck.params, rng: Rng.fromState(saved.rng), step: saved.step, priorWallS: saved.wallS };
}

/** The next batch on the host: crops of the sampled pairs and their intervention masks. */
function nextBatch(images: readonly PairImages[], indices: readonly number[], rng: Rng, run: RunSettings): HostStepBatch {
  const hb = cropBatch(images, indices, rng, { size: run.crop, alignment: run.alignment, augment: run.augment, small: run.small });
  return { vi: hb.vi, ir: hb.ir, masks: drawInterventionMasks(rng, hb.n, run.crop, run.crop) };
}

/** A train.jsonl step line: the sums, then every part by key. */
function stepLine(step: number, epoch: number, t: LossTerms, ms: number): object {
  return { type: 'step', step, epoch, total: t.total, f: t.f, inv: t.inv, nec: t.nec, ...t.parts, ms };
}

/**
 * Trains ISFuse (docs/TRAINING.md) and writes the output folder described above. Errors: usage errors for bad
 * options (or options that differ from the checkpoint being resumed) and for an output folder that holds an
 * earlier run without `resume`/`overwrite` or is in use by another run (./run-folder.ts), input errors for data
 * problems, and {@link TrainingDiverged} (./diverged.ts) when a loss, gradient or parameter becomes non-finite.
 *
 * Example: `await train({ data: 'RoadScene/train', out: 'runs/a', steps: 500, batch: 8, crop: 128, seed: 1 })`.
 */
export async function train(opts: TrainOptions): Promise<TrainResult> {
  const t0 = Date.now();
  const settings = runSettings(opts);
  const { run } = settings;
  const note = opts.onNote ?? (() => {});
  const folderOptions = { resume: opts.resume === true, overwrite: opts.overwrite === true };
  await checkRunFolder(opts.out, folderOptions); // before loading data; writes nothing

  installConvGradient();
  const images = typeof opts.data === 'string' ? (await loadDataset(opts.data)).images : opts.data;
  const usable = usableImages(images, run.crop, run.small);
  if (usable.length < images.length) note(`${images.length - usable.length} of ${images.length} pairs are smaller than the ${run.crop}x${run.crop} crop and are skipped`);
  if (usable.length === 0) throw inputError(`no pair is at least ${run.crop}x${run.crop}; use a smaller crop or small: 'pad'`);
  const sampler = new EpochSampler(usable, run.batch);
  const totalSteps = opts.steps ?? (opts.epochs ?? 1) * sampler.stepsPerEpoch;

  const folder = await openRunFolder(opts.out, folderOptions, note);
  try {
    return await trainInFolder(opts, settings, { images, sampler, totalSteps, note, t0 });
  } finally {
    folder.release();
  }
}

/** The run itself, in an output folder this run holds (./run-folder.ts openRunFolder). */
async function trainInFolder(
  opts: TrainOptions, { run, lr, every }: ReturnType<typeof runSettings>,
  { images, sampler, totalSteps, note, t0 }: { images: readonly PairImages[]; sampler: EpochSampler; totalSteps: number; note: (m: string) => void; t0: number },
): Promise<TrainResult> {
  const paths = { checkpoint: join(opts.out, 'checkpoint.safetensors'), weights: join(opts.out, 'weights.safetensors') };
  const opt = new Adam(lr);
  const s = await startState(opts, run, paths.checkpoint, sampler, opt, note).catch((e: unknown) => {
    opt.dispose();
    throw e;
  });
  /** the step of the checkpoint in the folder (what a divergence leaves in place) */
  let saved = s.resumed ? s.step : undefined;
  const save = async (): Promise<void> => {
    await saveCheckpoint(paths, s.params, opt, {
      format: CHECKPOINT_FORMAT, step: s.step, totalSteps, rng: s.rng.state, sampler: sampler.state,
      adam: { t: opt.t, lr: opt.lr, beta1: opt.beta1, beta2: opt.beta2, eps: opt.eps },
      run, wallS: s.priorWallS + (Date.now() - t0) / 1000,
    } satisfies SavedState);
    saved = s.step;
  };

  let engine: StepEngine | undefined;
  let last: LossTerms | undefined;
  let val: Record<string, number> | undefined;
  const startStep = s.step;
  const tLoop = Date.now();
  const stopAt = opts.stopAfter !== undefined ? Math.min(totalSteps, s.step + opts.stopAfter) : totalSteps;
  try {
    const log = await TrainLog.open(join(opts.out, 'train.jsonl'), s.resumed ? s.step : undefined);
    engine = createStepEngine(opts.engine ?? 'tfjs', run.config, {
      memory: opts.memory ?? opts.gradientMode, batch: run.batch, crop: run.crop, threads: opts.threads ?? availableParallelism(),
    });
    while (s.step < stopAt) {
      const ts = Date.now();
      const { epoch, indices } = sampler.next(s.rng);
      last = await engine.step(s.params, opt, nextBatch(images, indices, s.rng, run));
      s.step += 1;
      // Before anything of this step is logged or saved: a non-finite value stops the run (./diverged.ts).
      const bad = await divergence(last, s.params, opt);
      if (bad !== undefined) throw new TrainingDiverged(s.step, bad, saved, opts.out);
      const ms = Date.now() - ts;
      await log.append(stepLine(s.step, epoch, last, ms));
      opts.onProgress?.({ step: s.step, totalSteps, epoch, terms: last, ms, etaS: (((Date.now() - tLoop) / (s.step - startStep)) * (totalSteps - s.step)) / 1000 });
      if (s.step % every === 0 || s.step === totalSteps || s.step === stopAt) await save();
      if (opts.validator && ((opts.valEvery !== undefined && s.step % opts.valEvery === 0) || s.step === totalSteps)) {
        val = await opts.validator(s.params);
        await log.append({ type: 'val', step: s.step, ...val });
      }
    }
    if (s.step === totalSteps) await writeAtomic(join(opts.out, 'curve.svg'), curveFromLog(log.lines));
  } finally {
    await engine?.dispose();
    opt.dispose();
    disposeParams(s.params);
  }
  return { step: s.step, totalSteps, last, val, weightsPath: paths.weights, checkpointPath: paths.checkpoint, wallS: s.priorWallS + (Date.now() - t0) / 1000 };
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
