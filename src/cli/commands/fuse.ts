/** `isfuse fuse`: one pair, or a batch of folders paired by file stem. */
import { lstat, mkdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { inputError, invalidParameter, usageError, IsfuseError, type ErrorKind } from '../../core/errors.js';
import { DEFAULT_MAX_PIXELS } from '../../io/decode.js';
import { checkWritable } from '../../io/encode.js';
import {
  assertDistinctOutputs,
  assertNoExistingOutputs,
  assertNotAnInput,
  checkOutputFolder,
  outputFormatOf,
  outputInsideInput,
  type NamedPath,
} from '../../io/paths.js';
import type { FuseOptions, Range16 } from '../../fusion/fuse.js';
import { fuseToFiles, type FuseTarget } from '../../fusion/to-files.js';
import { defaultMethod, getMethod, listMethods } from '../../fusion/registry.js';
import { DEFAULT_MODEL_NAME, shippedModels } from '../../model/shipped-models.js';
import { filesOf, pairByStem } from '../../io/folders.js';
import { parseKeyValue, parsePositiveInt, progressBar, warn } from '../util.js';

/** The options of `isfuse fuse` as commander parses them (also those of `isfuse submit fuse`). */
export interface FuseCliOptions {
  output?: string;
  irDir?: string;
  visDir?: string;
  outDir?: string;
  method?: string;
  colorFrom: 'auto' | 'vis' | 'ir' | 'none';
  resize?: 'vis-to-ir' | 'ir-to-vis';
  range16: string;
  stretch?: boolean;
  maxPixels: number;
  option: Record<string, unknown>;
  weights?: string;
  model?: string;
  backend?: string;
  saveGates?: string;
  format: 'png' | 'jpg' | 'tif' | 'webp';
  quality: number;
  progress: boolean;
  overwrite?: boolean;
  skipExisting?: boolean;
}

export function fuseCommand(): Command {
  const cmd = new Command('fuse')
    .summary('fuse an infrared (or CT/PET/SPECT) image with a visible (or MRI) image')
    .description(
      'Fuse one pair (IR VIS -o OUT) or a batch (--ir-dir, --vis-dir, --out-dir; files paired by name stem).\n' +
        'IR is the infrared or functional image, VIS the visible or MRI image. Colour: the Y channel of the colour\n' +
        'source is fused and its Cr/Cb re-attached (BT.601, as OpenCV). Output is 8-bit PNG, JPEG, TIFF or WebP (lossless)\n' +
        'as the extension says. Refused before any work: an output that is an input (by any name), an output folder\n' +
        'that is an input folder, and an existing output file unless --overwrite (a batch: or --skip-existing).',
    )
    .argument('[ir]', 'infrared / functional image (PNG, JPEG, BMP, TIFF, WebP; 8 or 16 bit)')
    .argument('[vis]', 'visible / MRI image')
    .option('-o, --output <file>', 'output file for a single pair (.png, .jpg/.jpeg, .tif/.tiff, .webp: the extension picks the format)');
  return addFuseOptions(cmd)
    .action(async (ir: string | undefined, vis: string | undefined, opts: FuseCliOptions, cmd: Command) => {
      const batch = opts.irDir !== undefined || opts.visDir !== undefined || opts.outDir !== undefined;
      if (batch) {
        if (ir || vis || opts.output) throw usageError('give either IR VIS -o OUT, or --ir-dir, --vis-dir and --out-dir, not both');
        process.exitCode = await fuseBatch(opts, localBatchEngine);
        return;
      }
      const base = buildOptions(opts);
      if (!ir || !vis) throw usageError('missing input images: isfuse fuse IR VIS -o OUT (see isfuse fuse --help)');
      if (!opts.output) throw usageError('missing -o, --output <file>');
      if (cmd.getOptionValueSource('format') === 'cli') throw usageError(`--format is for batches; one pair's output format comes from -o's extension ('${opts.output}')`);
      if (opts.skipExisting) throw usageError('--skip-existing is for batches; for one pair, pass --overwrite or choose another -o');
      // Every check before any work: format, folder, gates, no input overwritten, no existing file replaced.
      const format = outputFormatOf(opts.output, '-o');
      await checkWritable(opts.output);
      const gateFiles = opts.saveGates ? await planGates(opts.saveGates, [basename(opts.output, extname(opts.output))]) : [];
      const outputs: NamedPath[] = [{ path: opts.output, what: '-o' }, ...gateFiles.flat()];
      await assertNotAnInput(outputs, [{ path: ir, what: 'the infrared input' }, { path: vis, what: 'the visible input' }, ...weightsInput(opts)]);
      await assertDistinctOutputs(outputs);
      await assertNoExistingOutputs(outputs, opts.overwrite === true);
      const t0 = Date.now();
      const gates = gateFiles[0]?.map((g) => g.path);
      const result = await fuseToFiles(ir, vis, { output: opts.output, format, quality: opts.quality, gates }, base);
      process.stderr.write(
        `isfuse: ${result.method} fused ${ir} + ${vis} -> ${opts.output} (${result.image.width}x${result.image.height}, ${result.colorFrom === 'none' ? 'gray' : `colour from ${result.colorFrom}`}, ${Date.now() - t0} ms)\n`,
      );
    });
}

/** The options of `isfuse fuse` besides the single pair's IR VIS -o OUT: also those of `isfuse submit fuse`. */
export function addFuseOptions(cmd: Command): Command {
  return cmd
    .option('--ir-dir <dir>', 'batch: folder of infrared images')
    .option('--vis-dir <dir>', 'batch: folder of visible images (same file stems)')
    .option('--out-dir <dir>', 'batch: output folder (created if missing)')
    .option('-m, --method <name>', `fusion method (${listMethods().map((m) => m.name).join(', ')}); default: ${defaultMethod()}`)
    .addOption(new Option('--color-from <which>', 'colour source: auto = vis if in colour, else ir if in colour').choices(['auto', 'vis', 'ir', 'none']).default('auto'))
    .addOption(new Option('--resize <mode>', 'resample one input when sizes differ (default: error)').choices(['vis-to-ir', 'ir-to-vis']))
    .option('--range16 <range>', "16-bit inputs to [0,1]: 'minmax', 'full' or LO,HI", 'minmax')
    .option('--stretch', 'min-max stretch the fused image before quantising (off by default)')
    .option('--max-pixels <n>', 'largest accepted image (width x height)', parsePositiveInt('--max-pixels'), DEFAULT_MAX_PIXELS)
    .option('-O, --option <key=value>', 'method option, repeatable (e.g. -O levels=5 for lp)', parseKeyValue, {})
    .option('--model <name>', `isfuse: a shipped model by name (${shippedModels().map((m) => m.name).join(', ') || 'none shipped'}; default: ${DEFAULT_MODEL_NAME}); implies --method isfuse`)
    .option('--weights <file>', 'isfuse: weights (safetensors, reference state-dict names); implies --method isfuse')
    .option('--backend <name>', 'isfuse: engine/backend (auto, onnx, wasm, cpu, webgpu, tfjs-node)')
    .option('--save-gates <dir>', 'isfuse: write the three gate maps as PNG heatmaps (image size) into DIR')
    .addOption(new Option('--format <fmt>', 'batch output format (one pair: from -o\'s extension)').choices(['png', 'jpg', 'tif', 'webp']).default('png'))
    .option('--quality <q>', 'JPEG quality', parsePositiveInt('--quality'), 95)
    .option('--no-progress', 'batch: no progress bar on stderr')
    .option('--overwrite', 'replace output files that already exist (never an input)')
    .option('--skip-existing', 'batch: fuse only the pairs whose output does not exist yet (resumes a batch)');
}

/** The library's fuse options from the command line (unknown method names fail here, before any work). */
export function buildOptions(opts: FuseCliOptions): FuseOptions {
  // The network's own options name the network: with no --method they select isfuse, with another method they are an error.
  const networkOptions = (['model', 'weights', 'backend', 'saveGates'] as const).filter((k) => opts[k] !== undefined);
  const method = opts.method ?? (networkOptions.length > 0 ? 'isfuse' : defaultMethod());
  if (getMethod(method).name !== 'isfuse' && networkOptions.length > 0) {
    // unknown names failed in getMethod, before any work
    const flag = networkOptions[0] === 'saveGates' ? '--save-gates' : `--${networkOptions[0]}`;
    throw usageError(`${flag} is an option of the isfuse method, not of '${method}' (drop it, or pass --method isfuse)`);
  }
  const methodOptions: Record<string, unknown> = { ...opts.option };
  if (opts.weights !== undefined) methodOptions.weights = opts.weights;
  if (opts.model !== undefined) methodOptions.model = opts.model;
  if (opts.backend !== undefined) methodOptions.backend = opts.backend;
  if (opts.saveGates !== undefined) methodOptions.gates = true;
  return {
    method,
    methodOptions,
    colorFrom: opts.colorFrom,
    resize: opts.resize ?? 'none',
    range16: parseRange16(opts.range16),
    stretch: opts.stretch === true,
    maxPixels: opts.maxPixels,
    onWarning: warn,
  };
}

function parseRange16(v: string): Range16 {
  if (v === 'minmax' || v === 'full') return v;
  const parts = v.split(',').map(Number);
  if (parts.length === 2 && parts.every(Number.isFinite) && parts[1]! > parts[0]!) return [parts[0]!, parts[1]!];
  throw invalidParameter('--range16', "'minmax', 'full' or LO,HI with HI > LO", v);
}

/** One pair of a batch: its stem, its inputs and the files it writes. */
export interface BatchPair extends FuseTarget {
  readonly stem: string;
  readonly ir: string;
  readonly vis: string;
}

/** How one pair ended: the decoding notes, and the error when it failed. */
export interface PairOutcome {
  readonly warnings: readonly string[];
  readonly error?: { readonly message: string; readonly kind: ErrorKind };
}

/**
 * What fuses a batch's pairs once every path is checked: this process (`isfuse fuse`) or workers on a job queue
 * (`isfuse submit fuse`). `run` calls `done` once per pair, in any order; a usage error stops the batch.
 */
export interface BatchEngine {
  /** Outputs that already hold this very work's result (a queue's finished jobs): not "existing outputs" to refuse. */
  producedBefore?(pairs: readonly BatchPair[], options: FuseOptions): Promise<ReadonlySet<string>>;
  run(pairs: readonly BatchPair[], options: FuseOptions, done: (pair: BatchPair, outcome: PairOutcome) => void): Promise<void>;
}

/** Fusion in this process, one pair after another. */
export const localBatchEngine: BatchEngine = {
  async run(pairs, options, done) {
    for (const pair of pairs) {
      const warnings: string[] = [];
      try {
        await fuseToFiles(pair.ir, pair.vis, pair, { ...options, onWarning: (m) => warnings.push(m) });
        done(pair, { warnings });
      } catch (e) {
        if (!(e instanceof IsfuseError) || e.kind === 'usage') throw e;
        done(pair, { warnings, error: e });
      }
    }
  },
};

/**
 * A batch: checks every path, fuses every pair with `engine`, prints the summary; returns the exit status (2 if
 * some pairs were skipped or failed on bad input, 1 if one failed otherwise).
 */
export async function fuseBatch(opts: FuseCliOptions, engine: BatchEngine): Promise<number> {
  const { irDir, visDir, outDir } = opts;
  if (!irDir || !visDir || !outDir) throw usageError('batch mode needs --ir-dir, --vis-dir and --out-dir');
  if (opts.overwrite && opts.skipExisting) throw usageError('give --overwrite or --skip-existing, not both');
  const options = buildOptions(opts);
  // Every check before any work (nothing is created or written until all pass).
  const format = outputFormatOf(`x.${opts.format}`, '--format');
  await checkOutputFolder(outDir, '--out-dir');
  const { pairs: allPairs, unpaired } = await pairByStem([
    { dir: irDir, what: '--ir-dir' },
    { dir: visDir, what: '--vis-dir' },
  ]);
  if (allPairs.length === 0) throw inputError(`no image pairs with the same name stem in '${irDir}' and '${visDir}'`);
  const inputDirs: NamedPath[] = [
    { path: irDir, what: '--ir-dir' },
    { path: visDir, what: '--vis-dir' },
  ];
  const outDirs: NamedPath[] = [{ path: outDir, what: '--out-dir' }, ...(opts.saveGates ? [{ path: opts.saveGates, what: '--save-gates' }] : [])];
  await assertNotAnInput(outDirs, inputDirs);
  for (const d of outDirs) {
    const inside = await outputInsideInput(d.path, inputDirs);
    if (inside) warn(`${d.what} '${d.path}' is inside ${inside.what} '${inside.path}'; no input is replaced (a batch reads only a folder's own files), but tools that read folders recursively will take the outputs for inputs`);
  }
  const outputOf = (stem: string): string => join(outDir, `${stem}.${opts.format}`);
  let stems = allPairs;
  if (opts.skipExisting) {
    const exists = await Promise.all(allPairs.map(({ stem }) => lstat(outputOf(stem)).then(() => true, () => false)));
    stems = allPairs.filter((_, i) => !exists[i]);
    const skipped = allPairs.length - stems.length;
    if (skipped > 0) process.stderr.write(`isfuse: --skip-existing: ${skipped} of ${allPairs.length} pairs already have an output in ${outDir}; fusing the other ${stems.length}\n`);
  }
  const gateFiles = opts.saveGates ? await planGates(opts.saveGates, stems.map((p) => p.stem)) : [];
  const pairs: BatchPair[] = stems.map(({ stem, paths }, k) => ({
    stem,
    ir: paths[0]!,
    vis: paths[1]!,
    output: outputOf(stem),
    format,
    quality: opts.quality,
    ...(opts.saveGates ? { gates: gateFiles[k]!.map((g) => g.path) } : {}),
  }));
  const outputs: NamedPath[] = [...pairs.map(({ output }) => ({ path: output, what: '--out-dir output' })), ...gateFiles.flat()];
  const inputFiles = [...(await filesOf(irDir, '--ir-dir')), ...(await filesOf(visDir, '--vis-dir')), ...weightsInput(opts)];
  await assertNotAnInput(outputs, inputFiles);
  await assertDistinctOutputs(outputs);
  const produced = (await engine.producedBefore?.(pairs, options)) ?? new Set<string>();
  await assertNoExistingOutputs(
    outputs.filter((o) => !produced.has(o.path)),
    opts.overwrite === true,
    'pass --overwrite to replace, --skip-existing to fuse only the missing outputs, or another --out-dir',
  );
  if (pairs.length === 0) {
    process.stderr.write(`isfuse: nothing to fuse: every pair already has an output in ${outDir}\n`);
    return unpaired.length > 0 ? 2 : 0;
  }
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw inputError(`--out-dir '${outDir}' cannot be created: ${(e as Error).message}`);
  }
  const failures: string[] = [];
  const warnings: string[] = [];
  const bar = opts.progress ? progressBar('fusing', pairs.length) : undefined;
  const t0 = Date.now();
  let status = 0;
  try {
    await engine.run(pairs, options, (pair, outcome) => {
      warnings.push(...outcome.warnings);
      if (outcome.error) {
        failures.push(`${pair.stem}: ${outcome.error.message}`);
        if (outcome.error.kind === 'internal') status = 1;
      }
      bar?.increment({ item: pair.stem });
    });
  } finally {
    bar?.stop();
  }
  for (const w of warnings) warn(w);
  const done = pairs.length - failures.length;
  process.stderr.write(`isfuse: fused ${done} of ${pairs.length} pairs into ${outDir} in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
  if (unpaired.length > 0) {
    const lines = unpaired.map((u) => `${u.stem}: no partner in ${u.lacks.join(', ')}`);
    process.stderr.write(`isfuse: skipped ${unpaired.length} file(s) without a partner:\n  ${lines.join('\n  ')}\n`);
  }
  if (failures.length > 0) process.stderr.write(`isfuse: ${failures.length} pair(s) failed:\n  ${failures.join('\n  ')}\n`);
  if (status === 0 && (unpaired.length > 0 || failures.length > 0)) status = 2;
  return status;
}

/**
 * The gate map files of each stem: `<dir>/<stem>-gate3.png` (H/4 level), `-gate4` (H/2), `-gate5` (H), upsampled
 * to image size. Checks that `dir` is (or can be created as) a writable folder; creates nothing.
 */
async function planGates(dir: string, stems: readonly string[]): Promise<NamedPath[][]> {
  await checkOutputFolder(dir, '--save-gates');
  return stems.map((stem) => [3, 4, 5].map((level) => ({ path: join(dir, `${stem}-gate${level}.png`), what: '--save-gates map' })));
}

/** The --weights file as an input no output may be. */
export function weightsInput(opts: FuseCliOptions): NamedPath[] {
  return opts.weights === undefined ? [] : [{ path: opts.weights, what: 'the --weights file' }];
}
