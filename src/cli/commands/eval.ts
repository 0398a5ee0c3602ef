/**
 * `isfuse eval`: metrics of a folder of fused images against the source folders, in one named convention.
 *
 *   isfuse eval --ir-dir D --vis-dir D --fused-dir D [--convention mmif|vifb] [--metrics A,B,...]
 *               [--format table|csv|json|md] [--per-image] [--out FILE] [--workers N]
 *
 * Files pair by stem (the fused image may have another extension). Stems lacking a partner are skipped with a
 * warning and listed in the output. Progress goes to stderr; the result to stdout or, written atomically
 * (temporary file, then rename), to --out. Bad options, unreadable folders or images, and size mismatches
 * are IsfuseErrors (exit status 2).
 *
 * --out is checked before any work (io/paths.ts): never a file of the three folders (by any name: symbolic
 * links, `..`, hard links), never an image file name (the report is text), its extension (.txt, .csv, .json,
 * .md) gives the format when --format is not given and must agree with --format when it is, and an existing
 * file is replaced only with --overwrite.
 */
import { extname } from 'node:path';
import { Command } from 'commander';
import { DEFAULT_MAX_PIXELS } from '../../io/decode.js';
import { checkWritable, writeFileAtomic } from '../../io/encode.js';
import { filesOf } from '../../io/folders.js';
import { assertNoExistingOutputs, assertNotAnInput, IMAGE_FILE_EXTENSIONS } from '../../io/paths.js';
import { defaultWorkers, dirEvaluation, evaluateTriples, pairFolders, type EvaluateProgress, type ImageRole, type ImageValues } from '../../metrics/evaluate.js';
import { checkConvention, CONVENTIONS, CONVENTION_INFO, DEFAULT_CONVENTION, listMetrics, resolveMetrics } from '../../metrics/registry.js';
import { checkFormat, formatResult, REPORT_FORMATS, type ReportFormat } from '../../metrics/report.js';
import { inputError, invalidParameter, usageError } from '../../core/errors.js';
import { parsePositiveInt, progressBar, warn } from '../util.js';
import type { Convention } from '../../metrics/types.js';

/** The options of `isfuse eval` (but --workers) as commander parses them; also those of `isfuse submit eval`. */
export interface EvalCliOptions {
  irDir: string;
  visDir: string;
  fusedDir: string;
  convention: Convention;
  metrics?: string[];
  format: string;
  perImage?: boolean;
  out?: string;
  maxPixels: number;
  progress: boolean;
  overwrite?: boolean;
}

/** The report file extension of each --format, and back: `--out r.json` alone asks for JSON. */
const REPORT_EXTENSIONS: Readonly<Record<string, string>> = Object.freeze({ table: '.txt', csv: '.csv', json: '.json', md: '.md' });

function parseMetricList(value: string): string[] {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw invalidParameter('--metrics', 'a comma-separated list of metric names', value);
  return names;
}

function metricHelp(): string {
  return CONVENTIONS.map((c) => `  ${c}: ${listMetrics(c).map((m) => m.name).join(', ')}`).join('\n');
}

export function evalCommand(): Command {
  const cmd = new Command('eval')
    .summary('fusion metrics of a folder of fused images (mmif or vifb convention)')
    .description(
      [
        'Computes fusion quality metrics for every fused image against the same-stem infrared and visible images.',
        'Conventions (the same metric name can mean different numbers in each; every output names its convention):',
        ...CONVENTIONS.map((c) => `  ${c}: ${CONVENTION_INFO[c].source}; images ${CONVENTION_INFO[c].images}`),
        'Metrics:',
        metricHelp(),
        'The mean and the population standard deviation (ddof 0) over the images are always reported.',
      ].join('\n'),
    );
  return addEvalOptions(cmd)
    .option('--workers <n>', 'worker threads (1 = no worker thread)', parsePositiveInt('--workers'), defaultWorkers())
    .action(async (opts: EvalCliOptions & { workers: number }, cmd: Command) => {
      await runEval(opts, cmd.getOptionValueSource('format') !== 'default', (pairs, o) => evaluateTriples(pairs, { ...o, workers: opts.workers }));
    });
}

/** The options of `isfuse eval` but --workers: also those of `isfuse submit eval`. */
export function addEvalOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--ir-dir <dir>', 'folder of infrared (or CT/PET/SPECT) images')
    .requiredOption('--vis-dir <dir>', 'folder of visible (or MRI) images')
    .requiredOption('--fused-dir <dir>', 'folder of fused images (paired by file stem)')
    .option('--convention <name>', `metric convention: ${CONVENTIONS.join(' | ')}`, checkConvention, DEFAULT_CONVENTION)
    .option('--metrics <list>', 'comma-separated metric names (case-insensitive; default: all of the convention)', parseMetricList)
    .option('--format <fmt>', `output format: ${REPORT_FORMATS.join(' | ')}`, 'table')
    .option('--per-image', 'one row per image besides the mean and std')
    .option('--out <file>', 'write the result to this file (atomically) instead of stdout; .txt, .csv, .json or .md picks the format')
    .option('--overwrite', 'replace the --out file when it already exists')
    .option('--max-pixels <n>', 'largest accepted image (width x height)', parsePositiveInt('--max-pixels'), DEFAULT_MAX_PIXELS)
    .option('--no-progress', 'no progress bar on stderr');
}

/** The report format: --format, or --out's extension when --format is not given; they must agree. */
function reportFormat(opts: EvalCliOptions, formatGiven: boolean): ReportFormat {
  const out = opts.out;
  const ext = out === undefined ? '' : extname(out).toLowerCase();
  if (out !== undefined && IMAGE_FILE_EXTENSIONS.includes(ext)) {
    throw usageError(`--out '${out}' is an image file name, but eval writes a text report; give a name such as results${REPORT_EXTENSIONS[opts.format] ?? '.txt'}`);
  }
  const byExt = Object.keys(REPORT_EXTENSIONS).find((f) => REPORT_EXTENSIONS[f] === ext);
  if (!formatGiven) return checkFormat(byExt ?? opts.format);
  const format = checkFormat(opts.format);
  if (out !== undefined && byExt !== undefined && byExt !== format) {
    throw usageError(`--out '${out}': the extension '${ext}' names the ${byExt} format, but --format is ${format}; isfuse never writes one format under another's name`);
  }
  return format;
}

/** What computes the metric values of the paired files: this process's threads, or workers on a job queue. */
export type EvaluatePairs = (pairs: { name: string; files: Record<ImageRole, string> }[], options: EvaluatePairsOptions) => Promise<ImageValues[]>;
export interface EvaluatePairsOptions {
  convention: Convention;
  metrics: string[];
  maxPixels: number;
  onProgress: (p: EvaluateProgress) => void;
  onWarning: (message: string) => void;
}

/** `isfuse eval` once the options are parsed: checks, pairs, `evaluatePairs`, the report. */
export async function runEval(opts: EvalCliOptions, formatGiven: boolean, evaluatePairs: EvaluatePairs): Promise<void> {
  // Validate everything before any work: options, then --out (never an input, never an image name, the format its
  // extension names, not an existing file unless --overwrite).
  const convention = opts.convention;
  const metrics = resolveMetrics(convention, opts.metrics).map((m) => m.name);
  const dirs = { ir: opts.irDir, vis: opts.visDir, fused: opts.fusedDir };
  if (opts.out !== undefined) {
    const out = [{ path: opts.out, what: '--out' }];
    const inputs = [...(await filesOf(dirs.ir, '--ir-dir')), ...(await filesOf(dirs.vis, '--vis-dir')), ...(await filesOf(dirs.fused, '--fused-dir'))];
    await assertNotAnInput(out, inputs);
  }
  const format = reportFormat(opts, formatGiven);
  if (opts.out !== undefined) {
    await checkWritable(opts.out);
    await assertNoExistingOutputs([{ path: opts.out, what: '--out' }], opts.overwrite === true);
  }

  const { pairs, missing } = await pairFolders(dirs);
  for (const m of missing.slice(0, 20)) warn(`${m.name}: no ${m.lacks.map((r) => `${r} image`).join(', no ')}; skipped`);
  if (missing.length > 20) warn(`... and ${missing.length - 20} more images without a partner`);
  if (pairs.length === 0) {
    throw inputError(
      `Expected images with the same file stem in ${opts.irDir}, ${opts.visDir} and ${opts.fusedDir} but received none` +
        (missing.length > 0 ? ` (${missing.length} stems lack a partner)` : ''),
    );
  }

  const bar = opts.progress ? progressBar(`eval ${convention}`, pairs.length) : undefined;
  let result;
  try {
    const rows = await evaluatePairs(pairs, {
      convention,
      metrics,
      maxPixels: opts.maxPixels,
      onWarning: warn,
      onProgress: (p) => bar?.increment(1, { item: p.name }),
    });
    result = dirEvaluation(convention, metrics, rows, missing, opts.perImage === true);
  } finally {
    bar?.stop();
  }
  const text = formatResult(result, format, { perImage: opts.perImage === true });
  if (opts.out === undefined) process.stdout.write(text);
  else await writeFileAtomic(opts.out, text);
}
