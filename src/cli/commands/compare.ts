/**
 * `isfuse compare`: several methods' fused images scored on one test set, ranked per metric and by mean rank; the
 * table fusion papers print, and optionally a contact sheet.
 *
 *   isfuse compare --ir-dir D --vis-dir D [--fused NAME=DIR ...] [--methods gff,lp,isfuse] [--fused-out DIR]
 *                  [--convention mmif|vifb] [--metrics A,B] [--format table|md|csv|json] [--out FILE]
 *                  [--sheet FILE.png] [--sheet-pairs N] [--workers N] [--no-progress]
 *
 * `--methods` fuses every pair with those registered methods first (into a temporary folder, removed afterwards,
 * or into DIR/<method>/ with --fused-out, which never overwrites a file). Scoring, ranking and the sheet are the
 * library's compareDirs / formatComparison / comparisonSheet. Output files are written atomically and never onto
 * an input. Bad options, missing folders and unreadable images are IsfuseErrors (exit status 2).
 */
import { mkdir, mkdtemp, realpath, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, dirname, extname, join, resolve } from 'node:path';
import { Command } from 'commander';
import { inputError, invalidParameter, IsfuseError, usageError } from '../../core/errors.js';
import { decodeImage, DEFAULT_MAX_PIXELS } from '../../io/decode.js';
import { checkWritable, writeFileAtomic, writeImage } from '../../io/encode.js';
import { imagesByStem, pairByStem } from '../../io/folders.js';
import { fuse } from '../../fusion/fuse.js';
import { getMethod, listMethods } from '../../fusion/registry.js';
import { checkFusedFolders, compareDirs, comparisonSheet, DEFAULT_COMPARE_METRICS, DEFAULT_SHEET_PAIRS, formatComparison, type FusedFolder } from '../../metrics/compare.js';
import { defaultWorkers } from '../../metrics/evaluate.js';
import { checkConvention, CONVENTIONS, DEFAULT_CONVENTION, resolveMetrics } from '../../metrics/registry.js';
import { checkFormat, REPORT_FORMATS } from '../../metrics/report.js';
import type { Convention } from '../../metrics/types.js';
import { parsePositiveInt, progressBar, warn } from '../util.js';

interface CompareCliOptions {
  irDir: string;
  visDir: string;
  fused?: string[];
  methods?: string[];
  fusedOut?: string;
  convention: Convention;
  metrics?: string[];
  format: string;
  out?: string;
  sheet?: string;
  sheetPairs: number;
  workers: number;
  maxPixels: number;
  progress: boolean;
}

function parseList(option: string) {
  return (value: string): string[] => {
    const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (names.length === 0) throw invalidParameter(option, 'a comma-separated list of names', value);
    return names;
  };
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** `NAME=DIR` -> { name, dir }; the name is everything before the first '='. */
export function parseFusedSpec(spec: string): FusedFolder {
  const eq = spec.indexOf('=');
  if (eq < 0) throw invalidParameter('--fused', "NAME=DIR (a method name, '=', its folder of fused images)", spec);
  const name = spec.slice(0, eq).trim(), dir = spec.slice(eq + 1);
  if (name === '') throw invalidParameter('--fused', 'NAME=DIR with a non-empty NAME', spec);
  if (dir === '') throw invalidParameter('--fused', 'NAME=DIR with a non-empty DIR', spec);
  return { name, dir };
}

export function compareCommand(): Command {
  return new Command('compare')
    .summary('score and rank several methods on one test set (the table fusion papers print), with a contact sheet')
    .description(
      [
        "Scores each method's fused images against the same-stem infrared and visible images, on the pairs every method covers, and prints per method the mean of each metric, its rank per metric (1 = best in the metric's direction; ties share the average rank) and the mean rank; methods sorted by mean rank.",
        `Methods: folders of fused images (--fused NAME=DIR, repeatable) and/or registered methods run first (--methods ${listMethods().map((m) => m.name).join(',')}).`,
        'Default metrics:',
        ...CONVENTIONS.map((c) => `  ${c}: ${DEFAULT_COMPARE_METRICS[c].join(', ')}`),
      ].join('\n'),
    )
    .requiredOption('--ir-dir <dir>', 'folder of infrared (or CT/PET/SPECT) images')
    .requiredOption('--vis-dir <dir>', 'folder of visible (or MRI) images')
    .option('--fused <name=dir>', 'a method\'s folder of fused images, paired by file stem (repeatable)', collect)
    .option('--methods <list>', 'comma-separated registered methods to fuse the pairs with first', parseList('--methods'))
    .option('--fused-out <dir>', 'keep the --methods results in DIR/<method>/ (never overwrites; default: a temporary folder)')
    .option('--convention <name>', `metric convention: ${CONVENTIONS.join(' | ')}`, checkConvention, DEFAULT_CONVENTION)
    .option('--metrics <list>', 'comma-separated metric names (case-insensitive; default: see above)', parseList('--metrics'))
    .option('--format <fmt>', `output format: ${REPORT_FORMATS.join(' | ')}`, 'table')
    .option('--out <file>', 'write the result to this file (atomically) instead of stdout')
    .option('--sheet <file.png>', 'also write a contact sheet: rows = pairs, columns = IR, VIS, methods in rank order')
    .option('--sheet-pairs <n>', 'rows of the sheet, spread evenly over the pairs', parsePositiveInt('--sheet-pairs'), DEFAULT_SHEET_PAIRS)
    .option('--workers <n>', 'worker threads for the metrics (1 = no worker thread)', parsePositiveInt('--workers'), defaultWorkers())
    .option('--max-pixels <n>', 'largest accepted image (width x height)', parsePositiveInt('--max-pixels'), DEFAULT_MAX_PIXELS)
    .option('--no-progress', 'no progress bars on stderr')
    .action(async (opts: CompareCliOptions) => {
      await runCompare(opts);
    });
}

/** An absolute path with its folder's symbolic links resolved (the file itself need not exist). */
async function canonical(path: string): Promise<string> {
  const abs = resolve(path);
  try {
    return await realpath(abs);
  } catch {
    try {
      return join(await realpath(dirname(abs)), basename(abs));
    } catch {
      return abs;
    }
  }
}

/** Fails when `path` (--out, --sheet) is one of the inputs or planned outputs. */
async function checkNotInput(option: string, path: string, taken: ReadonlyMap<string, string>): Promise<void> {
  const what = taken.get(await canonical(path));
  if (what !== undefined) throw usageError(`${option} '${path}' is ${what}; choose another file (inputs are never overwritten)`);
}

async function runCompare(opts: CompareCliOptions): Promise<void> {
  // Everything cheap first: options, names, metrics, output paths.
  const format = checkFormat(opts.format);
  const convention = opts.convention;
  const metrics = resolveMetrics(convention, opts.metrics ?? DEFAULT_COMPARE_METRICS[convention]).map((m) => m.name);
  const given = (opts.fused ?? []).map(parseFusedSpec);
  const methods = (opts.methods ?? []).map((m) => getMethod(m).name);
  if (given.length === 0 && methods.length === 0) {
    throw usageError('nothing to compare: give folders of fused images (--fused NAME=DIR, repeatable) and/or methods to run (--methods gff,lp,...)');
  }
  if (opts.fusedOut !== undefined && methods.length === 0) throw usageError('--fused-out needs --methods (it is where their results go)');
  // Names: distinct ignoring case, across --methods and --fused (checked again by compareDirs with the folders).
  checkFusedFolders([...methods.map((name) => ({ name, dir: '-' })), ...given]);
  if (opts.sheet !== undefined && extname(opts.sheet).toLowerCase() !== '.png') {
    throw invalidParameter('--sheet', 'a file name ending in .png (the sheet is a PNG)', opts.sheet);
  }
  if (opts.out !== undefined && opts.sheet !== undefined && (await canonical(opts.out)) === (await canonical(opts.sheet))) {
    throw usageError(`--out and --sheet name the same file '${opts.out}'`);
  }

  // The inputs (missing folders fail here, before any fusing) and the files --methods will write.
  const { pairs, unpaired } = await pairByStem([
    { dir: opts.irDir, what: '--ir-dir' },
    { dir: opts.visDir, what: '--vis-dir' },
  ]);
  if (pairs.length === 0) throw inputError(`Expected images with the same file stem in ${opts.irDir} and ${opts.visDir} but received none`);
  const taken = new Map<string, string>();
  const take = async (p: string, what: string): Promise<void> => void taken.set(await canonical(p), what);
  await take(opts.irDir, 'the --ir-dir folder');
  await take(opts.visDir, 'the --vis-dir folder');
  for (const p of pairs) for (const [k, f] of p.paths.entries()) await take(f, `an input image (${k === 0 ? '--ir-dir' : '--vis-dir'})`);
  for (const u of unpaired) for (const f of u.paths) if (f !== undefined) await take(f, 'an input image');
  for (const g of given) {
    await take(g.dir, `the --fused folder of '${g.name}'`);
    for (const f of (await imagesByStem(g.dir, `--fused folder of '${g.name}'`)).values()) await take(f, `an input image (--fused ${g.name})`);
  }
  const planned = (root: string): FuseTask[] =>
    methods.flatMap((method) => pairs.map((p) => ({ method, stem: p.stem, ir: p.paths[0]!, vis: p.paths[1]!, out: join(root, method, `${p.stem}.png`) })));
  if (opts.fusedOut !== undefined) {
    const exists = [];
    for (const t of planned(opts.fusedOut)) {
      await take(t.out, `a fused image this run writes (--fused-out)`);
      if (await stat(t.out).then(() => true, () => false)) exists.push(t.out);
    }
    if (exists.length > 0) {
      throw inputError(`--fused-out '${opts.fusedOut}' already holds ${exists.length} of the files this run would write (${exists.slice(0, 3).join(', ')}${exists.length > 3 ? ', ...' : ''}); compare never overwrites: choose another folder or remove them`);
    }
  }
  if (opts.out !== undefined) {
    await checkNotInput('--out', opts.out, taken);
    await checkWritable(opts.out);
  }
  if (opts.sheet !== undefined) {
    await checkNotInput('--sheet', opts.sheet, taken);
    await checkWritable(opts.sheet);
  }

  const temporary = methods.length > 0 && opts.fusedOut === undefined ? await mkdtemp(join(tmpdir(), 'isfuse-compare-')) : undefined;
  try {
    const root = opts.fusedOut ?? temporary;
    if (root !== undefined) await fuseAll(root, planned(root), opts);
    const folders: FusedFolder[] = [...methods.map((name) => ({ name, dir: join(root!, name) })), ...given];

    let bar: ReturnType<typeof progressBar> | undefined;
    const startedAt = Date.now();
    let result;
    try {
      result = await compareDirs({
        irDir: opts.irDir,
        visDir: opts.visDir,
        fused: folders,
        convention,
        metrics,
        workers: opts.workers,
        maxPixels: opts.maxPixels,
        onWarning: warn,
        onProgress: (p) => {
          if (opts.progress && bar === undefined) bar = progressBar(`scoring ${convention}`, p.total, startedAt);
          bar?.increment(1, { item: p.name });
        },
      });
    } finally {
      bar?.stop();
    }
    const text = formatComparison(result, format);
    if (opts.out === undefined) process.stdout.write(text);
    else await writeFileAtomic(opts.out, text);
    if (opts.sheet !== undefined) {
      const sheet = await comparisonSheet(result, { pairs: opts.sheetPairs, maxPixels: opts.maxPixels });
      await writeFileAtomic(opts.sheet, sheet.png);
      process.stderr.write(`isfuse: contact sheet ${opts.sheet} (${sheet.width}x${sheet.height}, ${Math.min(opts.sheetPairs, result.stems.length)} pairs x ${result.methods.length + 2} columns)\n`);
    }
    if (opts.fusedOut !== undefined) process.stderr.write(`isfuse: fused images kept in ${opts.fusedOut}/<method>/\n`);
  } finally {
    if (temporary !== undefined) await rm(temporary, { recursive: true, force: true });
  }
}

/** One fused image to make: `out` = <root>/<method>/<stem>.png. */
interface FuseTask {
  readonly method: string;
  readonly stem: string;
  readonly ir: string;
  readonly vis: string;
  readonly out: string;
}

/** Fuses every planned (method, pair) into <root>/<method>/: each pair decoded once, fused with every method, written as PNG. */
async function fuseAll(root: string, tasks: readonly FuseTask[], opts: CompareCliOptions): Promise<void> {
  const methods = [...new Set(tasks.map((t) => t.method))];
  for (const m of methods) {
    try {
      await mkdir(join(root, m), { recursive: true });
    } catch (e) {
      throw inputError(`cannot create the folder '${join(root, m)}' for the fused images: ${(e as Error).message}`, e);
    }
  }
  const warnings = new Set<string>();
  const note = (m: string): void => void warnings.add(m);
  const bar = opts.progress ? progressBar('fusing', tasks.length) : undefined;
  try {
    const byPair = new Map<string, FuseTask[]>();
    for (const t of tasks) byPair.set(t.stem, [...(byPair.get(t.stem) ?? []), t]);
    for (const [stem, list] of byPair) {
      const first = list[0]!;
      const ir = await decodeImage(first.ir, { maxPixels: opts.maxPixels, onWarning: note });
      const vis = await decodeImage(first.vis, { maxPixels: opts.maxPixels, onWarning: note });
      for (const t of list) {
        let r;
        try {
          r = await fuse(ir, vis, { method: t.method, maxPixels: opts.maxPixels, onWarning: note });
        } catch (e) {
          if (e instanceof IsfuseError && e.kind !== 'internal') throw new IsfuseError(`${first.ir} + ${first.vis} (method ${t.method}): ${e.message}`, e.kind, { cause: e });
          throw e;
        }
        await writeImage(t.out, r.image);
        bar?.increment(1, { item: `${t.method} ${stem}` });
      }
    }
  } finally {
    bar?.stop();
  }
  for (const w of warnings) warn(w);
}
