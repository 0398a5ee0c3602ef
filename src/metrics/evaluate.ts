/**
 * The evaluation API: metric values for one fused image, or for folders of them.
 *
 * - {@link evaluate}: one (infrared, visible, fused) triple, given as file paths or decoded images.
 * - {@link evaluateDirs}: three folders paired by file stem, evaluated on worker threads, with per-image values,
 *   mean and population standard deviation.
 *
 * A convention (`mmif`, the default, or `vifb`) decides how images are read and which metric definitions apply
 * (docs/METRICS.md#same-name-different-metric: the same name can mean different numbers); results always carry their
 * convention.
 */
import { availableParallelism } from 'node:os';
import { inputError, invalidParameter } from '../core/errors.js';
import { runPool } from '../core/pool.js';
import { allInOrder } from '../core/promises.js';
import { sizeOf, type RasterImage } from '../core/image.js';
import type { DecodeOptions } from '../io/decode.js';
import { pairByStem } from '../io/folders.js';
import { mmifPlane, toRaster, type ImageSource } from './load.js';
import { checkConvention, DEFAULT_CONVENTION, resolveMetrics, type AnyMetric } from './registry.js';
import type { Convention, MmifInputs, MmifMetric, VifbMetric } from './types.js';
import { vifbInputs, vifbPlanes } from './vifb/index.js';

/** The three images of an evaluation. */
export type ImageRole = 'ir' | 'vis' | 'fused';
const ROLES: readonly ImageRole[] = ['ir', 'vis', 'fused'];
const ROLE_NAMES: Readonly<Record<ImageRole, string>> = { ir: 'infrared image', vis: 'visible image', fused: 'fused image' };

export interface EvaluateOptions {
  /** 'mmif' (default) or 'vifb'. */
  convention?: Convention;
  /** Metric names of that convention (case-insensitive, aliases accepted); default: all, in the convention's order. */
  metrics?: readonly string[];
  /** Pixel limit per decoded image (see decodeImage). */
  maxPixels?: number;
  /** Receives non-fatal notes from decoding (alpha dropped, 16-bit reduced, ...). */
  onWarning?: (message: string) => void;
}

const EVALUATE_KEYS = ['convention', 'metrics', 'maxPixels', 'onWarning'] as const;

function checkKeys(options: object, allowed: readonly string[], where: string): void {
  if (options === null || typeof options !== 'object') throw invalidParameter(where, 'an options object', options);
  for (const key of Object.keys(options)) {
    if (!allowed.includes(key)) throw invalidParameter(`${where} option`, `one of ${allowed.join(', ')}`, key);
  }
}

function checkMetricNames(metrics: unknown): readonly string[] | undefined {
  if (metrics === undefined) return undefined;
  if (!Array.isArray(metrics) || metrics.some((m) => typeof m !== 'string')) {
    throw invalidParameter('metrics', 'an array of metric names', metrics);
  }
  return metrics as string[];
}

/**
 * Computes metric values for one fused image.
 *
 * @param ir infrared (or functional: CT/PET/SPECT) image: a file path or a decoded {@link RasterImage}.
 * @param vis visible (or MRI) image: path or raster.
 * @param fused fused image: path or raster; must have the sources' size.
 * @param options convention (default 'mmif'), metric names (default all), decode options.
 * @returns metric name -> value, in the convention's order or the order of `options.metrics`. Values can be NaN
 *   (e.g. CC of a constant image) or +Infinity (PSNR of a perfect copy); see docs/METRICS.md#edge-cases.
 * @throws IsfuseError (kind 'input') for unreadable files or differing sizes; (kind 'usage') for unknown
 *   conventions, metric names or options.
 * @example
 * const v = await evaluate('ir/00001.png', 'vi/00001.png', 'fused/00001.png'); // { EN: 6.7, SD: 40.1, ... }
 * const q = await evaluate(ir, vi, fused, { convention: 'vifb', metrics: ['Qabf', 'SSIM'] });
 */
export async function evaluate(ir: ImageSource, vis: ImageSource, fused: ImageSource, options: EvaluateOptions = {}): Promise<Record<string, number>> {
  checkKeys(options, EVALUATE_KEYS, 'evaluate');
  const convention = checkConvention(options.convention ?? DEFAULT_CONVENTION);
  const metrics = resolveMetrics(convention, checkMetricNames(options.metrics));
  const decode: DecodeOptions = { maxPixels: options.maxPixels, onWarning: options.onWarning };
  const sources = { ir, vis, fused };
  const [a, b, f] = await allInOrder(ROLES.map((r) => toRaster(sources[r], decode)));
  const names = {} as Record<ImageRole, string>;
  for (const r of ROLES) {
    const s = sources[r];
    names[r] = typeof s === 'string' ? `${ROLE_NAMES[r]} ${s}` : `${ROLE_NAMES[r]} (decoded image)`;
  }
  return computeOnRasters(convention, metrics, { ir: a!, vis: b!, fused: f! }, names, options.onWarning);
}

/**
 * The computing step shared by {@link evaluate} and the workers: size checks, conversion to the convention's
 * planes, then each metric. `names` label the images in error messages.
 */
function computeOnRasters(
  convention: Convention,
  metrics: readonly AnyMetric[],
  images: Readonly<Record<ImageRole, RasterImage>>,
  names: Readonly<Record<ImageRole, string>>,
  onWarning?: (message: string) => void,
): Record<string, number> {
  const ref = images.fused;
  for (const r of ['ir', 'vis'] as const) {
    const img = images[r];
    if (img.width !== ref.width || img.height !== ref.height) {
      throw inputError(`Expected ${sizeOf(img)} (the size of the ${names[r]}) for the ${names.fused} but received ${sizeOf(ref)}`);
    }
  }
  const values: Record<string, number> = {};
  if (convention === 'mmif') {
    const inputs: MmifInputs = { ir: mmifPlane(images.ir), vis: mmifPlane(images.vis), fused: mmifPlane(images.fused) };
    for (const m of metrics as readonly MmifMetric[]) values[m.name] = m.compute(inputs);
  } else {
    for (const r of ROLES) {
      if (images[r].bitDepth === 16) onWarning?.(`${names[r]}: 16-bit image reduced to 8 bits (round(v / 257)) for the vifb metrics`);
    }
    const inputs = vifbInputs(vifbPlanes(images.ir), vifbPlanes(images.vis), vifbPlanes(images.fused));
    for (const m of metrics as readonly VifbMetric[]) values[m.name] = m.compute(inputs);
  }
  return values;
}

// ---------------------------------------------------------------------------------------------------------------
// Folders

/** Progress of {@link evaluateDirs}: called after each image. */
export interface EvaluateProgress {
  readonly done: number;
  readonly total: number;
  /** Stem of the image just finished. */
  readonly name: string;
}

export interface EvaluateDirsOptions {
  /** Folder of infrared (functional) images. */
  irDir: string;
  /** Folder of visible (MRI) images. */
  visDir: string;
  /** Folder of fused images; paired with the sources by file stem (the extension may differ). */
  fusedDir: string;
  /** 'mmif' (default) or 'vifb'. */
  convention?: Convention;
  /** Metric names (default: all of the convention). */
  metrics?: readonly string[];
  /** Keep per-image values in the result (default true). Mean and std are computed either way. */
  perImage?: boolean;
  /** Worker threads (default min(2, available CPUs)); 1 computes on the calling thread. */
  workers?: number;
  /** Called after each image. */
  onProgress?: (progress: EvaluateProgress) => void;
  /** Receives non-fatal notes from decoding. */
  onWarning?: (message: string) => void;
  /** Pixel limit per decoded image. */
  maxPixels?: number;
}

const DIRS_KEYS = ['irDir', 'visDir', 'fusedDir', 'convention', 'metrics', 'perImage', 'workers', 'onProgress', 'onWarning', 'maxPixels'] as const;

/** Values of one image. */
export interface ImageValues {
  /** File stem shared by the three files. */
  readonly name: string;
  readonly values: Record<string, number>;
}

/** A stem found in some folders but not all: reported, not evaluated. */
export interface MissingPair {
  readonly name: string;
  /** Roles whose folder has no file with this stem. */
  readonly lacks: ImageRole[];
  /** The files that were found, by role. */
  readonly files: Partial<Record<ImageRole, string>>;
}

/**
 * Result of {@link evaluateDirs}. Serialised by `formatResult` as JSON with this shape (NaN and infinities as null).
 */
export interface DirEvaluation {
  readonly convention: Convention;
  /** Metric names, in column order. */
  readonly metrics: string[];
  /** Per-image values, sorted by name (empty when `perImage` is false). */
  readonly images: ImageValues[];
  /** Number of images evaluated. */
  readonly count: number;
  /** Mean over the evaluated images (NaN if any image's value is NaN, as the reference scripts average). */
  readonly mean: Record<string, number>;
  /** Population standard deviation (ddof = 0) over the evaluated images. */
  readonly std: Record<string, number>;
  /** Stems lacking a partner in one or two of the folders. */
  readonly missing: MissingPair[];
}

/** One unit of work for a worker: the three files and what to compute. */
export interface EvaluateTask {
  readonly name: string;
  readonly files: Readonly<Record<ImageRole, string>>;
  readonly convention: Convention;
  readonly metrics: readonly string[];
  readonly maxPixels?: number;
}

/** Decodes and evaluates one task (runs in a worker or inline). */
export async function runTask(task: EvaluateTask, onWarning?: (message: string) => void): Promise<Record<string, number>> {
  const metrics = resolveMetrics(task.convention, task.metrics);
  const decode: DecodeOptions = { maxPixels: task.maxPixels, onWarning };
  const [a, b, f] = await allInOrder(ROLES.map((r) => toRaster(task.files[r], decode)));
  const names = {} as Record<ImageRole, string>;
  for (const r of ROLES) names[r] = `${ROLE_NAMES[r]} ${task.files[r]}`;
  return computeOnRasters(task.convention, metrics, { ir: a!, vis: b!, fused: f! }, names, onWarning);
}

/**
 * Pairs three folders by file stem and returns the complete triples and the incomplete stems.
 * Files whose extension is not an image format (io/folders.ts) and hidden files are ignored; two images with one
 * stem in one folder are an input error (the pairing would be ambiguous).
 */
export async function pairFolders(dirs: Readonly<Record<ImageRole, string>>): Promise<{ pairs: { name: string; files: Record<ImageRole, string> }[]; missing: MissingPair[] }> {
  const folders = ROLES.map((r) => ({ dir: dirs[r], what: `${ROLE_NAMES[r]} folder` }));
  const { pairs, unpaired } = await pairByStem(folders);
  const toRoles = <T>(paths: readonly T[]): Record<ImageRole, T> => ({ ir: paths[0]!, vis: paths[1]!, fused: paths[2]! });
  return {
    pairs: pairs.map((p) => ({ name: p.stem, files: toRoles(p.paths) })),
    missing: unpaired.map((u) => {
      const files: Partial<Record<ImageRole, string>> = {};
      const lacks: ImageRole[] = [];
      ROLES.forEach((r, i) => (u.paths[i] === undefined ? lacks.push(r) : (files[r] = u.paths[i])));
      return { name: u.stem, lacks, files };
    }),
  };
}

/**
 * Evaluates every image of `fusedDir` against the same-stem images of `irDir` and `visDir`.
 *
 * Images are decoded and evaluated on `workers` worker threads (default min(2, CPUs)); `workers: 1` runs on the
 * calling thread. Stems missing from any folder are listed in `missing` and skipped (never an error). A size
 * mismatch or unreadable file stops the run with an input error naming the files.
 *
 * @example
 * const r = await evaluateDirs({ irDir: 'MSRS/test/ir', visDir: 'MSRS/test/vi', fusedDir: 'out', metrics: ['EN', 'Qabf'] });
 * console.log(r.mean.Qabf, r.std.Qabf, r.missing.length);
 */
export async function evaluateDirs(options: EvaluateDirsOptions): Promise<DirEvaluation> {
  checkKeys(options, DIRS_KEYS, 'evaluateDirs');
  for (const key of ['irDir', 'visDir', 'fusedDir'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw invalidParameter(key, 'a folder path', options[key]);
  }
  const convention = checkConvention(options.convention ?? DEFAULT_CONVENTION);
  const metrics = resolveMetrics(convention, checkMetricNames(options.metrics)).map((m) => m.name);
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 1) throw invalidParameter('workers', 'a positive integer', workers);
  const perImage = options.perImage ?? true;
  if (typeof perImage !== 'boolean') throw invalidParameter('perImage', 'a boolean', perImage);

  const { pairs, missing } = await pairFolders({ ir: options.irDir, vis: options.visDir, fused: options.fusedDir });
  const rows = await evaluateTriples(pairs, {
    convention,
    metrics,
    workers,
    maxPixels: options.maxPixels,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
  });
  return dirEvaluation(convention, metrics, rows, missing, perImage);
}

/** The {@link DirEvaluation} of evaluated rows (in stem order): mean, std, and the rows when `perImage`. */
export function dirEvaluation(convention: Convention, metrics: string[], rows: ImageValues[], missing: MissingPair[], perImage: boolean): DirEvaluation {
  const { mean, std } = summarise(metrics, rows);
  return { convention, metrics, images: perImage ? rows : [], count: rows.length, mean, std, missing };
}

/** Options of {@link evaluateTriples}: those of {@link evaluateDirs} that do not name folders. */
export type EvaluateTriplesOptions = Pick<EvaluateDirsOptions, 'convention' | 'metrics' | 'workers' | 'onProgress' | 'onWarning' | 'maxPixels'>;

/**
 * Evaluates a list of named file triples (as {@link pairFolders} returns them) on `workers` worker threads
 * (default min(2, CPUs); 1 computes on the calling thread): the engine of {@link evaluateDirs}, for callers that
 * pair the files themselves (`compareDirs` scores several fused folders on their common stems in one pool).
 * A name labels progress and errors only; names may repeat.
 *
 * @returns one {@link ImageValues} per triple, in the given order.
 * @throws the first input error (unreadable file, size mismatch), naming the files.
 */
export async function evaluateTriples(
  triples: readonly { readonly name: string; readonly files: Readonly<Record<ImageRole, string>> }[],
  options: EvaluateTriplesOptions = {},
): Promise<ImageValues[]> {
  const convention = checkConvention(options.convention ?? DEFAULT_CONVENTION);
  const metrics = resolveMetrics(convention, checkMetricNames(options.metrics)).map((m) => m.name);
  const workers = options.workers ?? defaultWorkers();
  if (!Number.isInteger(workers) || workers < 1) throw invalidParameter('workers', 'a positive integer', workers);
  const tasks: EvaluateTask[] = triples.map((p) => ({ name: p.name, files: p.files, convention, metrics, maxPixels: options.maxPixels }));
  const results: (Record<string, number> | undefined)[] = new Array(tasks.length);
  let done = 0;
  const onResult = (i: number, values: Record<string, number>): void => {
    results[i] = values;
    done++;
    options.onProgress?.({ done, total: tasks.length, name: tasks[i]!.name });
  };
  if (tasks.length > 0) {
    if (workers === 1 || tasks.length === 1) {
      for (let i = 0; i < tasks.length; i++) onResult(i, await runTask(tasks[i]!, options.onWarning));
    } else {
      // evaluate-worker.ts runs runTask; its events are decoding warnings.
      await runPool<EvaluateTask, Record<string, number>, string>(tasks, {
        caller: import.meta.url, file: 'evaluate-worker.js', size: workers, what: 'evaluation worker', onResult, onEvent: options.onWarning,
      });
    }
  }
  return tasks.map((t, i) => ({ name: t.name, values: results[i]! }));
}

/** Default worker count: min(2, available CPUs). */
export function defaultWorkers(): number {
  return Math.max(1, Math.min(2, availableParallelism()));
}

/** Mean and population standard deviation (ddof = 0) of each metric over the rows; NaN propagates. */
export function summarise(metrics: readonly string[], rows: readonly ImageValues[]): { mean: Record<string, number>; std: Record<string, number> } {
  const mean: Record<string, number> = {}, std: Record<string, number> = {};
  const n = rows.length;
  for (const m of metrics) {
    let s = 0;
    for (const r of rows) s += r.values[m]!;
    const mu = s / n;
    let q = 0;
    for (const r of rows) {
      const d = r.values[m]! - mu;
      q += d * d;
    }
    mean[m] = mu;
    // An infinite mean gives Inf - Inf = NaN deviations, which is the honest answer.
    std[m] = Math.sqrt(q / n);
  }
  return { mean, std };
}
