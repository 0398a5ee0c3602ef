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
import sharp from 'sharp';
import { existsSync } from 'node:fs';
import { mkdir, readdir, readFile, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { inputError, usageError } from '../core/errors.js';
import type { RasterImage } from '../core/image.js';
import { plane64 } from '../core/image.js';
import { grayMmif } from '../io/color.js';
import { decodeImage } from '../io/decode.js';
import { writeFileAtomic, writeImage } from '../io/encode.js';
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
  /** Called once the work is known (`total` pair-method units), then after each unit. */
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
interface Unit {
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
  if (o.smallest && o.pairs !== undefined) {
    const size = new Map<string, number>();
    for (const p of all) {
      const m = await sharp(p.paths[0]!).metadata().catch(() => ({ width: Infinity, height: 1 }));
      size.set(p.stem, (m.width ?? Infinity) * (m.height ?? 1));
    }
    const keep = new Set([...all].sort((a, b) => size.get(a.stem)! - size.get(b.stem)!).slice(0, o.pairs).map((p) => p.stem));
    chosen = all.filter((p) => keep.has(p.stem));
  }
  const record = await runRecord({ ...o, metrics }, chosen.map((p) => p.stem), corruptions);
  await prepareOut(o.out, record, o.overwrite === true);
  for (const m of o.methods) await mkdir(join(o.out, CELLS_DIR, m.name), { recursive: true });

  const groups: { corruption: Corruption | undefined; severity: number }[] = [{ corruption: undefined, severity: 0 }];
  for (const c of corruptions) for (const s of severitiesOf(c, o.severities)) groups.push({ corruption: c, severity: s });
  const units = new Map<string, Unit>();
  const key = (m: string, pair: string): string => `${m}\u0000${pair}`;
  for (const m of o.methods) {
    for (const p of chosen) {
      const u = await readUnit(unitPath(o.out, m.name, p.stem));
      if (u) units.set(key(m.name, p.stem), u);
    }
  }
  const todoOf = (pair: string): RobustMethod[] => o.methods.filter((m) => !units.has(key(m.name, pair)));
  const total = chosen.reduce((s, p) => s + todoOf(p.stem).length, 0) * groups.length;
  let done = 0;
  o.onProgress?.(0, total, '');
  const tick = (item: string): void => o.onProgress?.(++done, total, item);

  const fuseOne = async (m: RobustMethod, ir: RasterImage, vis: RasterImage): Promise<RasterImage> =>
    (await fuse(ir, vis, { method: m.method, methodOptions: m.methodOptions })).image;
  // Each input is fused by every method in turn. (onnxruntime-node runs a session on the calling thread, so there is
  // nothing to overlap with the scoring here.)
  const eachFused = async (ms: readonly RobustMethod[], ir: RasterImage, vis: RasterImage, each: (m: RobustMethod, fused: RasterImage) => Promise<void>): Promise<void> => {
    for (const m of ms) await each(m, await fuseOne(m, ir, vis));
  };

  // The contact sheet: the first pair at the highest severity run of each corruption.
  const top = new Map<string, number>();
  for (const g of groups) if (g.corruption) top.set(g.corruption.name, Math.max(top.get(g.corruption.name) ?? 0, g.severity));
  const onSheet = (g: (typeof groups)[number]): boolean => !g.corruption || g.severity === top.get(g.corruption.name);
  const sheetFused = new Map<string, RasterImage>();
  const sheetKey = (m: string, g: (typeof groups)[number]): string => `${m}\u0000${g.corruption?.name ?? 'clean'}`;
  // Kept as files too, so that a resumed run draws the sheet without fusing the first pair again.
  const sheetTile = (m: string, g: (typeof groups)[number]): string => join(o.out, CELLS_DIR, m, `sheet-${g.corruption?.name ?? 'clean'}-${g.severity}.png`);
  const readTile = (m: string, g: (typeof groups)[number]): Promise<RasterImage | undefined> => decodeImage(sheetTile(m, g)).catch(() => undefined);

  let computed = 0;
  let first: { name: string; ir: RasterImage; vis: RasterImage } | undefined;
  for (const [k, p] of chosen.entries()) {
    const ms = todoOf(p.stem);
    if (ms.length === 0 && k > 0) continue;
    // The clean inputs as 8-bit rasters (the corrupted ones are quantised the same way).
    const pair = { name: p.stem, ir: toRaster8(toImage01(await decodeImage(p.paths[0]!))), vis: toRaster8(toImage01(await decodeImage(p.paths[1]!))) };
    if (k === 0) first = pair;
    if (ms.length === 0) continue;
    const results = new Map<string, Unit['results'][number][]>(ms.map((m) => [m.name, []]));
    const clean = new Map<string, Uint8Array>();
    for (const g of groups) {
      const c = g.corruption;
      const x = c ? await corruptPair(pair, c, g.severity, o.seed) : pair;
      await eachFused(ms, x.ir, x.vis, async (m, fused) => {
        if (k === 0 && onSheet(g)) {
          sheetFused.set(sheetKey(m.name, g), fused);
          await writeImage(sheetTile(m.name, g), fused);
        }
        const gray = gray8(fused);
        if (!c) clean.set(m.name, gray);
        const stability = c ? stabilityOf(clean.get(m.name)!, gray, fused.width, fused.height) : undefined;
        results.get(m.name)!.push({ corruption: c?.name ?? 'clean', severity: g.severity, values: await evaluate(pair.ir, pair.vis, fused, { metrics }), ...(stability ? { stability } : {}) });
        tick(`${m.name} ${p.stem} ${c ? `${c.name}-${g.severity}` : 'clean'}`);
      });
    }
    for (const m of ms) {
      const unit: Unit = { method: m.name, pair: p.stem, results: results.get(m.name)! };
      await writeFileAtomic(unitPath(o.out, m.name, p.stem), toJson(unit));
      units.set(key(m.name, p.stem), unit);
      computed++;
    }
  }

  // The contact sheet's images: those not made above (the first pair was done earlier) are made now.
  const rows: SheetSource['rows'][number][] = [];
  for (const g of groups.filter(onSheet)) {
    const x = g.corruption ? await corruptPair(first!, g.corruption, g.severity, o.seed) : first!;
    const fused = [];
    for (const m of o.methods) fused.push(sheetFused.get(sheetKey(m.name, g)) ?? (await readTile(m.name, g)) ?? (await fuseOne(m, x.ir, x.vis)));
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
  return { record, cells, sheet: { pair: first!.name, rows }, computed, units: units.size };
}
