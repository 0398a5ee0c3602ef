/** `isfuse fuse`: one pair, or a batch of folders paired by file stem. */
import { mkdir, stat } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { Command, Option } from 'commander';
import { inputError, invalidParameter, usageError, IsfuseError } from '../../core/errors.js';
import { DEFAULT_MAX_PIXELS } from '../../io/decode.js';
import { writeImage, checkWritable, formatForPath } from '../../io/encode.js';
import { heatmap } from '../../io/heatmap.js';
import type { Plane } from '../../core/image.js';
import { fuse, type FuseOptions, type Range16 } from '../../fusion/fuse.js';
import { defaultMethod, getMethod, listMethods } from '../../fusion/registry.js';
import { pairByStem } from '../../io/folders.js';
import { parseKeyValue, parsePositiveInt, progressBar, warn } from '../util.js';

interface FuseCliOptions {
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
  backend?: string;
  saveGates?: string;
  format: 'png' | 'jpg';
  quality: number;
  progress: boolean;
}

export function fuseCommand(): Command {
  return new Command('fuse')
    .summary('fuse an infrared (or CT/PET/SPECT) image with a visible (or MRI) image')
    .description(
      'Fuse one pair (IR VIS -o OUT) or a batch (--ir-dir, --vis-dir, --out-dir; files paired by name stem).\n' +
        'IR is the infrared or functional image, VIS the visible or MRI image. Colour: the Y channel of the colour\n' +
        'source is fused and its Cr/Cb re-attached (BT.601, as OpenCV). Output is 8-bit PNG (or JPEG by extension).',
    )
    .argument('[ir]', 'infrared / functional image (PNG, JPEG, BMP, TIFF, WebP; 8 or 16 bit)')
    .argument('[vis]', 'visible / MRI image')
    .option('-o, --output <file>', 'output file for a single pair (.png or .jpg)')
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
    .option('--weights <file>', 'isfuse: weights (safetensors, reference state-dict names)')
    .option('--backend <name>', 'isfuse: engine/backend (auto, onnx, wasm, cpu, webgpu, tfjs-node)')
    .option('--save-gates <dir>', 'isfuse: write the three gate maps as PNG heatmaps (image size) into DIR')
    .addOption(new Option('--format <fmt>', 'batch output format').choices(['png', 'jpg']).default('png'))
    .option('--quality <q>', 'JPEG quality', parsePositiveInt('--quality'), 95)
    .option('--no-progress', 'batch: no progress bar on stderr')
    .action(async (ir: string | undefined, vis: string | undefined, opts: FuseCliOptions) => {
      const batch = opts.irDir !== undefined || opts.visDir !== undefined || opts.outDir !== undefined;
      const base = buildOptions(opts);
      if (batch) {
        if (ir || vis || opts.output) throw usageError('give either IR VIS -o OUT, or --ir-dir, --vis-dir and --out-dir, not both');
        if (!opts.irDir || !opts.visDir || !opts.outDir) throw usageError('batch mode needs --ir-dir, --vis-dir and --out-dir');
        process.exitCode = await fuseBatch(opts.irDir, opts.visDir, opts.outDir, base, opts);
        return;
      }
      if (!ir || !vis) throw usageError('missing input images: isfuse fuse IR VIS -o OUT (see isfuse fuse --help)');
      if (!opts.output) throw usageError('missing -o, --output <file>');
      await checkWritable(opts.output);
      const t0 = Date.now();
      const result = await fuse(ir, vis, base);
      await writeImage(opts.output, result.image, { quality: opts.quality });
      if (opts.saveGates) await saveGates(opts.saveGates, basename(opts.output, extname(opts.output)), result.gates);
      process.stderr.write(
        `isfuse: ${result.method} fused ${ir} + ${vis} -> ${opts.output} (${result.image.width}x${result.image.height}, ${result.colorFrom === 'none' ? 'gray' : `colour from ${result.colorFrom}`}, ${Date.now() - t0} ms)\n`,
      );
    });
}

function buildOptions(opts: FuseCliOptions): FuseOptions {
  const method = opts.method ?? defaultMethod();
  getMethod(method); // unknown names fail before any work
  const methodOptions: Record<string, unknown> = { ...opts.option };
  if (opts.weights !== undefined) methodOptions.weights = opts.weights;
  if (opts.backend !== undefined) methodOptions.backend = opts.backend;
  if (opts.saveGates !== undefined) {
    if (getMethod(method).name !== 'isfuse') throw usageError(`--save-gates needs --method isfuse (method '${method}' has no gates)`);
    methodOptions.gates = true;
  }
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

/** Fuses every pair; returns the exit status (2 if some pairs were skipped or failed on bad input). */
async function fuseBatch(irDir: string, visDir: string, outDir: string, options: FuseOptions, opts: FuseCliOptions): Promise<number> {
  const { pairs, unpaired } = await pairByStem([
    { dir: irDir, what: '--ir-dir' },
    { dir: visDir, what: '--vis-dir' },
  ]);
  if (pairs.length === 0) throw inputError(`no image pairs with the same name stem in '${irDir}' and '${visDir}'`);
  try {
    await mkdir(outDir, { recursive: true });
  } catch (e) {
    throw inputError(`--out-dir '${outDir}' cannot be created: ${(e as Error).message}`);
  }
  if (!(await stat(outDir)).isDirectory()) throw inputError(`--out-dir '${outDir}' is not a folder`);
  const failures: string[] = [];
  const warnings: string[] = [];
  const bar = opts.progress ? progressBar('fusing', pairs.length) : undefined;
  const t0 = Date.now();
  let status = 0;
  for (const { stem, paths } of pairs) {
    const out = join(outDir, `${stem}.${opts.format}`);
    try {
      const r = await fuse(paths[0]!, paths[1]!, { ...options, onWarning: (m) => warnings.push(m) });
      await writeImage(out, r.image, { format: formatForPath(out), quality: opts.quality });
      if (opts.saveGates) await saveGates(opts.saveGates, stem, r.gates);
    } catch (e) {
      if (!(e instanceof IsfuseError) || e.kind === 'usage') {
        bar?.stop();
        throw e;
      }
      failures.push(`${stem}: ${e.message}`);
      if (e.kind === 'internal') status = 1;
    }
    bar?.increment({ item: stem });
  }
  bar?.stop();
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

/** Writes gate maps as `<dir>/<stem>-gate3.png` (H/4 level), `-gate4` (H/2), `-gate5` (H), upsampled to image size. */
async function saveGates(dir: string, stem: string, gates: readonly Plane[] | undefined): Promise<void> {
  if (!gates) throw new IsfuseError('the method returned no gate maps', 'internal');
  await mkdir(dir, { recursive: true }).catch((e: Error) => {
    throw inputError(`--save-gates '${dir}' cannot be created: ${e.message}`);
  });
  await Promise.all(gates.map((g, i) => writeImage(join(dir, `${stem}-gate${i + 3}.png`), heatmap(g))));
}
