/**
 * The runner of `isfuse bench robust` (docs/ROBUSTNESS.md#protocol). For each pair and method: fuse the clean pair,
 * then, for each corruption and severity, corrupt the inputs (corruptions.ts), fuse them with the library's `fuse`
 * (the pipeline `isfuse fuse` runs), score the fused image against the CLEAN sources with the mmif metrics
 * (`evaluate`, as `isfuse eval` does), and measure how far it moved from the method's fused clean image (stability:
 * mmif SSIM of the two, and PSNR with peak 255).
 *
 * Pairs are the outer loop: the network builds one graph per image size, so every fusion of a pair reuses it.
 * Resumable: the unit of work is one pair under one method (every corruption and severity), written atomically to
 * `OUT/cells/<method>/<pair>.json` when done; `OUT/run.json` holds the run's options. A run into a folder with the
 * same options skips the finished units, also when methods are added (or left out: their files stay); a folder holding
 * another run is refused unless `overwrite` (which removes that run's files first).
 */
import { createHash } from 'node:crypto';
import { availableParallelism, totalmem } from 'node:os';
import sharp from 'sharp';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { inputError, usageError } from '../core/errors.js';
import { runPool } from '../core/pool.js';
import type { RasterImage } from '../core/image.js';
import { plane64 } from '../core/image.js';
import { grayMmif } from '../io/color.js';
import { decodeImage } from '../io/decode.js';
import { removeStaleTemporaries } from '../core/cleanup.js';
import { ATOMIC_TEMPORARY, writeFileAtomic, writeImage } from '../io/encode.js';
import { pairByStem } from '../io/folders.js';
import { fuse } from '../fusion/fuse.js';
import type { FuserOptions } from '../fusion/types.js';
import { evaluate } from '../metrics/evaluate.js';
import { mse } from '../metrics/mmif/mse.js';
import { ssimPair } from '../metrics/mmif/ssim.js';
import { resolveMetrics } from '../metrics/registry.js';
import { corruptPair, getCorruption, severitiesOf, toImage01, toRaster8, type Corruption } from './corruptions.js';

/** A method under test: a label, the registered method and its options (ISFuse: `{ weights }`). */
export interface RobustMethod {
  readonly name: string;
  readonly method: string;
  readonly methodOptions?: FuserOptions;
}

export interface RobustOptions {
  readonly irDir: string;
  readonly visDir: string;
  /** Use N pairs (natural stem order); default all. */
  readonly pairs?: number;
  /** With `pairs`: the N pairs with the fewest pixels instead of the first N (a quick smoke run). */
  readonly smallest?: boolean;
  readonly methods: readonly RobustMethod[];
  /** Corruption names (corruptions.ts). */
  readonly corruptions: readonly string[];
  /** Severities 1..5 to run (single-level corruptions run once whatever this says). */
  readonly severities: readonly number[];
  /** mmif metric names. */
  readonly metrics: readonly string[];
  readonly seed: number;
  readonly out: string;
  /** Replace a run with other options in `out`. */
  readonly overwrite?: boolean;
  /** Worker threads, each running whole pairs (default: one per available CPU); 1 runs on the calling thread. */
  readonly jobs?: number;
  /** Called once the work is known (`total` fusions), then after each fusion and its scoring. */
  readonly onProgress?: (done: number, total: number, item: string) => void;
}

/** The stability of one fused image: how close fused(corrupted) stays to fused(clean). */
export interface Stability {
  /** mmif SSIM (7x7 box, skimage 0.19 defaults) between the two fused gray images. */
  readonly SSIM: number;
  /** 10 log10(255^2 / MSE) between them, dB; identical images give {@link PSNR_CAP}. */
  readonly PSNR: number;
}

/** PSNR of identical images (JSON holds no infinity). */
export const PSNR_CAP = 100;

export interface PairResult {
  readonly name: string;
  /** Fusion metrics against the clean sources. */
  readonly values: Record<string, number>;
  /** Absent in the clean cell. */
  readonly stability?: Stability;
}

export interface Cell {
  readonly method: string;
  /** 'clean' or a corruption name. */
  readonly corruption: string;
  /** 0 for clean. */
  readonly severity: number;
  readonly pairs: readonly PairResult[];
}

/** What run.json records: everything a cell's values depend on. */
export interface RunRecord {
  readonly tool: 'isfuse bench robust';
  readonly version: 1;
  readonly irDir: string;
  readonly visDir: string;
  readonly pairs: readonly string[];
  readonly methods: readonly (RobustMethod & { readonly weightsSha256?: string })[];
  readonly corruptions: readonly { readonly name: string; readonly target: string; readonly levels: readonly string[] }[];
  readonly severities: readonly number[];
  readonly metrics: readonly string[];
  readonly seed: number;
}

export interface RobustRun {
  readonly record: RunRecord;
  readonly cells: readonly Cell[];
  /** The first pair's inputs and fused images at the highest severity of each corruption, for the contact sheet. */
  readonly sheet: SheetSource;
  /** Units (a pair under a method) computed now; the rest were read from `out`. */
  readonly computed: number;
  /** All units of the run: pairs x methods. */
  readonly units: number;
}

export interface SheetSource {
  readonly pair: string;
  readonly rows: readonly { readonly label: string; readonly ir: RasterImage; readonly vis: RasterImage; readonly fused: readonly RasterImage[] }[];
}

export const RUN_FILE = 'run.json';
export const CELLS_DIR = 'cells';

/** A method label usable as a folder name. */
const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** The file of one finished unit: a pair under a method, every corruption and severity. */
export function unitPath(out: string, method: string, pair: string): string {
  return join(out, CELLS_DIR, method, `${pair}.json`);
}

/** What a unit file holds. */
export interface Unit {
  readonly method: string;
  readonly pair: string;
  readonly results: readonly { readonly corruption: string; readonly severity: number; readonly values: Record<string, number>; readonly stability?: Stability }[];
}

async function sha256(path: string): Promise<string> {
  return createHash('sha256').update(await readFile(path)).digest('hex');
}

/** The run record of the options (reads the data folder's stems and hashes weights files). */
async function runRecord(o: RobustOptions, stems: readonly string[], corruptions: readonly Corruption[]): Promise<RunRecord> {
  const methods = [];
  for (const m of o.methods) {
    const w = m.methodOptions?.weights;
    methods.push({ ...m, ...(typeof w === 'string' ? { weightsSha256: await sha256(w) } : {}) });
  }
  return {
    tool: 'isfuse bench robust',
    version: 1,
    irDir: resolve(o.irDir),
    visDir: resolve(o.visDir),
    pairs: stems,
    methods,
    corruptions: corruptions.map((c) => ({ name: c.name, target: c.target, levels: c.levels })),
    severities: o.severities,
    metrics: o.metrics,
    seed: o.seed,
  };
}

/** JSON with non-finite numbers as null (read back as NaN). */
const toJson = (v: unknown): string => `${JSON.stringify(v, null, 1)}\n`;

function checkOptions(o: RobustOptions): void {
  if (o.methods.length === 0) throw usageError('bench robust needs at least one method');
  const seen = new Set<string>();
  for (const m of o.methods) {
    if (!NAME.test(m.name)) throw usageError(`method label '${m.name}' must be letters, digits, '.', '_' or '-' (it names a folder)`);
    if (seen.has(m.name)) throw usageError(`method '${m.name}' is given twice`);
    seen.add(m.name);
  }
  if (o.severities.length === 0 || o.severities.some((s) => !(Number.isInteger(s) && s >= 1 && s <= 5))) {
    throw usageError(`severities must be integers from 1 to 5, got ${o.severities.join(',')}`);
  }
  if (!(Number.isInteger(o.seed) && o.seed >= 0)) throw usageError(`seed must be a non-negative integer, got ${o.seed}`);
  if (o.jobs !== undefined && !(Number.isInteger(o.jobs) && o.jobs >= 1)) throw usageError(`jobs must be a positive integer, got ${o.jobs}`);
}

/** Same data, pairs, corruptions, severities, metrics and seed, and every method both name defined alike. */
function sameRunOtherMethods(a: RunRecord, b: RunRecord): boolean {
  const rest = (r: RunRecord): string => JSON.stringify({ ...r, methods: [] });
  if (rest(a) !== rest(b)) return false;
  return b.methods.every((m) => {
    const old = a.methods.find((x) => x.name === m.name);
    return old === undefined || JSON.stringify(old) === JSON.stringify(m);
  });
}

/**
 * Checks `out` against the run record: a new folder, or one holding the same run, is fine (the latter resumes, also
 * with methods added or left out); another run is refused unless `overwrite`, which removes its files.
 * @returns true when an earlier run with the same options is continued.
 */
async function prepareOut(out: string, record: RunRecord, overwrite: boolean): Promise<boolean> {
  const runFile = join(out, RUN_FILE);
  let names: string[] = [];
  try {
    names = await readdir(out);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw inputError(`--out '${out}' cannot be read: ${(e as Error).message}`, e);
  }
  if (names.length > 0) {
    const earlier = existsSync(runFile) ? await readFile(runFile, 'utf8') : undefined;
    if (earlier === toJson(record)) return true;
    if (earlier !== undefined && sameRunOtherMethods(JSON.parse(earlier) as RunRecord, record)) {
      // Methods added or left out: the finished units of the others still hold (they depend on nothing else).
      await writeFileAtomic(runFile, toJson(record));
      return true;
    }
    if (!overwrite) {
      const what = earlier === undefined ? `files that are not a bench robust run (${names.slice(0, 3).join(', ')})` : 'a bench robust run with other options (run.json differs)';
      throw usageError(`--out '${out}' holds ${what}; choose another --out, or pass --overwrite to replace ${earlier === undefined ? 'its contents' : 'that run'}`);
    }
    if (earlier === undefined) throw usageError(`--out '${out}' holds files that are not a bench robust run; --overwrite replaces only a bench robust run: choose another --out`);
    for (const n of names) await rm(join(out, n), { recursive: true, force: true });
  }
  await mkdir(out, { recursive: true });
  await writeFileAtomic(runFile, toJson(record));
  return false;
}

async function readUnit(path: string): Promise<Unit | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return JSON.parse(text, (_k, v) => (v === null ? NaN : v)) as Unit;
}

/** The 8-bit mmif gray image of a fused raster (values 0..255). */
function gray8(img: RasterImage): Uint8Array {
  return new Uint8Array(grayMmif(img));
}

/** Stability of `fused` against the clean fused gray image. */
export function stabilityOf(clean: Uint8Array, fused: Uint8Array, width: number, height: number): Stability {
  const a = plane64(width, height, new Float64Array(clean)), b = plane64(width, height, new Float64Array(fused));
  const e = mse(a, a, b);
  return { SSIM: ssimPair(a, b), PSNR: e === 0 ? PSNR_CAP : Math.min(PSNR_CAP, 10 * Math.log10((255 * 255) / e)) };
}

/** One corrupted version of a pair: clean (severity 0) or a corruption at a severity. */
interface Group {
  readonly corruption: Corruption | undefined;
  readonly severity: number;
}

/** Clean first, then each corruption at each of its severities run. */
function groupsOf(corruptions: readonly Corruption[], severities: readonly number[]): Group[] {
  const groups: Group[] = [{ corruption: undefined, severity: 0 }];
  for (const c of corruptions) for (const s of severitiesOf(c, severities)) groups.push({ corruption: c, severity: s });
  return groups;
}

/** The versions on the contact sheet: clean and each corruption at its highest severity run. */
function sheetGroups(groups: readonly Group[]): Group[] {
  const top = new Map<string, number>();
  for (const g of groups) if (g.corruption) top.set(g.corruption.name, Math.max(top.get(g.corruption.name) ?? 0, g.severity));
  return groups.filter((g) => !g.corruption || g.severity === top.get(g.corruption.name));
}

/** A contact-sheet image of the first pair, kept as a file so that a resumed run draws the sheet without fusing. */
const sheetTile = (out: string, method: string, g: Group): string => join(out, CELLS_DIR, method, `sheet-${g.corruption?.name ?? 'clean'}-${g.severity}.png`);

/** A clean pair as 8-bit rasters (the corrupted ones are quantised the same way). */
async function loadPair(name: string, ir: string, vis: string): Promise<{ name: string; ir: RasterImage; vis: RasterImage }> {
  return { name, ir: toRaster8(toImage01(await decodeImage(ir))), vis: toRaster8(toImage01(await decodeImage(vis))) };
}

const fuseOne = async (m: RobustMethod, ir: RasterImage, vis: RasterImage): Promise<RasterImage> =>
  (await fuse(ir, vis, { method: m.method, methodOptions: m.methodOptions })).image;

/**
 * One pair under some methods: the unit of work, run inline or on a worker thread (unit-worker.ts). On a worker the
 * methods are looked up in that thread's registry: the built-in ones (a method registered at run time with
 * `registerMethod` exists only on the thread that registered it, so such a method needs `jobs: 1`).
 */
export interface UnitTask extends Pick<RobustOptions, 'methods' | 'corruptions' | 'severities' | 'metrics' | 'seed' | 'out'> {
  readonly pair: { readonly stem: string; readonly ir: string; readonly vis: string };
  /** Keep the contact sheet's fused images (the first pair). */
  readonly sheet: boolean;
}

/**
 * Fuses and scores one pair under each of the task's methods, for every corrupted version, and writes each method's
 * unit file atomically. Pure in its inputs: the same task gives the same files on any thread.
 */
export async function runUnit(t: UnitTask, tick: (item: string) => void): Promise<Unit[]> {
  const groups = groupsOf(t.corruptions.map(getCorruption), t.severities);
  const onSheet = new Set(t.sheet ? sheetGroups(groups) : []);
  const pair = await loadPair(t.pair.stem, t.pair.ir, t.pair.vis);
  const results = new Map<string, Unit['results'][number][]>(t.methods.map((m) => [m.name, []]));
  const clean = new Map<string, Uint8Array>();
  for (const g of groups) {
    const c = g.corruption;
    const x = c ? await corruptPair(pair, c, g.severity, t.seed) : pair;
    // Each version is fused by every method in turn. (onnxruntime-node runs a session on the calling thread, so
    // there is nothing to overlap with the scoring; parallelism is across pairs, on worker threads.)
    for (const m of t.methods) {
      const fused = await fuseOne(m, x.ir, x.vis);
      if (onSheet.has(g)) await writeImage(sheetTile(t.out, m.name, g), fused);
      const gray = gray8(fused);
      if (!c) clean.set(m.name, gray);
      const stability = c ? stabilityOf(clean.get(m.name)!, gray, fused.width, fused.height) : undefined;
      results.get(m.name)!.push({ corruption: c?.name ?? 'clean', severity: g.severity, values: await evaluate(pair.ir, pair.vis, fused, { metrics: t.metrics }), ...(stability ? { stability } : {}) });
      tick(`${m.name} ${pair.name} ${c ? `${c.name}-${g.severity}` : 'clean'}`);
    }
  }
  const units: Unit[] = [];
  for (const m of t.methods) {
    const unit: Unit = { method: m.name, pair: pair.name, results: results.get(m.name)! };
    await writeFileAtomic(unitPath(t.out, m.name, pair.name), toJson(unit));
    units.push(unit);
  }
  return units;
}

/** Width x height of each image file (Infinity when unreadable, so that decoding reports it). */
async function pixelCounts(paths: readonly string[]): Promise<number[]> {
  const n: number[] = [];
  for (const p of paths) {
    const m = await sharp(p).metadata().catch(() => ({ width: Infinity, height: 1 }));
    n.push((m.width ?? Infinity) * (m.height ?? 1));
  }
  return n;
}

/** Memory a worker may need: its own network sessions and one fusion of a tiled (<= 1 MP) image, ~1.1 GiB, rounded up. */
const WORKER_MEMORY = 2 * 1024 ** 3;

/**
 * One worker per available CPU (the pairs are independent and each worker's network runs on one thread), but no more
 * than the memory holds at {@link WORKER_MEMORY} each: every worker loads its own networks.
 */
export function defaultJobs(): number {
  return Math.max(1, Math.min(availableParallelism(), Math.floor(totalmem() / WORKER_MEMORY)));
}

/**
 * Runs (or continues) a robustness benchmark. See the module comment.
 * @throws IsfuseError (usage) for bad options or an `out` holding another run; (input) for unreadable data.
 */
export async function runRobust(o: RobustOptions): Promise<RobustRun> {
  checkOptions(o);
  const corruptions = o.corruptions.map(getCorruption);
  const metrics = resolveMetrics('mmif', o.metrics).map((m) => m.name);
  const { pairs: all } = await pairByStem([
    { dir: o.irDir, what: 'infrared folder' },
    { dir: o.visDir, what: 'visible folder' },
  ]);
  if (all.length === 0) throw inputError(`no image pairs (same file stem) in '${o.irDir}' and '${o.visDir}'`);
  let chosen = all.slice(0, o.pairs ?? all.length);
  // Pixel counts by stem, read once (for --quick's smallest pairs and for the workers' largest-first order).
  let sizes: Map<string, number> | undefined;
  const sizesOf = async (): Promise<Map<string, number>> => {
    if (!sizes) {
      const n = await pixelCounts(all.map((p) => p.paths[0]!));
      sizes = new Map(all.map((p, i) => [p.stem, n[i]!]));
    }
    return sizes;
  };
  if (o.smallest && o.pairs !== undefined) {
    const size = await sizesOf();
    const keep = new Set([...all].sort((a, b) => size.get(a.stem)! - size.get(b.stem)!).slice(0, o.pairs).map((p) => p.stem));
    chosen = all.filter((p) => keep.has(p.stem));
  }
  const record = await runRecord({ ...o, metrics }, chosen.map((p) => p.stem), corruptions);
  await prepareOut(o.out, record, o.overwrite === true);
  for (const m of o.methods) {
    await mkdir(join(o.out, CELLS_DIR, m.name), { recursive: true });
    // A killed run (or a worker stopped mid-write when another failed) can leave half-written temporaries.
    await removeStaleTemporaries(join(o.out, CELLS_DIR, m.name), [ATOMIC_TEMPORARY]);
  }

  const groups = groupsOf(corruptions, o.severities);
  const units = new Map<string, Unit>();
  const key = (m: string, pair: string): string => `${m}\u0000${pair}`;
  for (const m of o.methods) {
    for (const p of chosen) {
      const u = await readUnit(unitPath(o.out, m.name, p.stem));
      if (u) units.set(key(m.name, p.stem), u);
    }
  }
  const todoOf = (pair: string): RobustMethod[] => o.methods.filter((m) => !units.has(key(m.name, pair)));
  const tasks: UnitTask[] = chosen
    .map((p, k) => ({
      pair: { stem: p.stem, ir: p.paths[0]!, vis: p.paths[1]! }, methods: todoOf(p.stem), corruptions: o.corruptions, severities: o.severities,
      metrics, seed: o.seed, out: o.out, sheet: k === 0,
    }))
    .filter((t) => t.methods.length > 0);
  const computed = tasks.reduce((s, t) => s + t.methods.length, 0);
  const total = computed * groups.length;
  let done = 0;
  o.onProgress?.(0, total, '');
  const tick = (item: string): void => o.onProgress?.(++done, total, item);
  const finished = (result: readonly Unit[]): void => {
    for (const u of result) units.set(key(u.method, u.pair), u);
  };
  const jobs = Math.min(o.jobs ?? defaultJobs(), tasks.length);
  if (jobs <= 1) {
    for (const t of tasks) finished(await runUnit(t, tick));
  } else {
    // Largest pairs first, so that no worker is left with a big one at the end.
    const size = await sizesOf();
    const order = [...tasks].sort((a, b) => size.get(b.pair.stem)! - size.get(a.pair.stem)!);
    await runPool<UnitTask, Unit[], string>(order, { caller: import.meta.url, file: 'unit-worker.js', size: jobs, what: 'bench robust worker', onResult: (_i, r) => finished(r), onEvent: tick });
  }

  // The contact sheet: the first pair's unit kept its fused images as tiles; a tile missing (a run from before tiles
  // were kept) is fused now.
  const first = await loadPair(chosen[0]!.stem, chosen[0]!.paths[0]!, chosen[0]!.paths[1]!);
  const rows: SheetSource['rows'][number][] = [];
  for (const g of sheetGroups(groups)) {
    const x = g.corruption ? await corruptPair(first, g.corruption, g.severity, o.seed) : first;
    const fused = [];
    for (const m of o.methods) fused.push((await decodeImage(sheetTile(o.out, m.name, g)).catch(() => undefined)) ?? (await fuseOne(m, x.ir, x.vis)));
    const name = g.corruption?.name ?? 'clean';
    rows.push({ label: g.corruption && g.corruption.levels.length > 1 ? `${name} s${g.severity}` : name, ir: x.ir, vis: x.vis, fused });
  }

  // Cells for the report: (method, corruption, severity) over the pairs in order.
  const cells: Cell[] = [];
  for (const m of o.methods) {
    for (const g of groups) {
      const name = g.corruption?.name ?? 'clean';
      cells.push({
        method: m.name, corruption: name, severity: g.severity,
        pairs: chosen.map((p) => {
          const r = units.get(key(m.name, p.stem))!.results.find((x) => x.corruption === name && x.severity === g.severity)!;
          return { name: p.stem, values: r.values, ...(r.stability ? { stability: r.stability } : {}) };
        }),
      });
    }
  }
  return { record, cells, sheet: { pair: first.name, rows }, computed, units: units.size };
}
