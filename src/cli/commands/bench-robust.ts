/**
 * `isfuse bench robust`: fusion methods under corruptions of their inputs (docs/ROBUSTNESS.md).
 *
 *   isfuse bench robust --data DIR [--methods a,b] [--weights NAME=FILE ...] [--corruptions ...|all]
 *                       [--severities 1,3,5] [--pairs N] [--metrics ...] [--seed N] [--jobs N] [--out DIR] [--quick] [--overwrite]
 *
 * The work is src/robust/ (run.ts: cells, resume; report.ts: JSON, Markdown, SVG, contact sheet); this file turns
 * options into methods (registered names, shipped models by name, weights files) and writes the report.
 */
import { existsSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { inputError, invalidParameter, unknownName, usageError } from '../../core/errors.js';
import { writeFileAtomic } from '../../io/encode.js';
import { assertNotAnInput, checkOutputFolder } from '../../io/paths.js';
import { getMethod, listMethods } from '../../fusion/registry.js';
import { DEFAULT_MODEL_PATH, shippedModels } from '../../model/shipped-models.js';
import { CORRUPTIONS } from '../../robust/corruptions.js';
import { defaultJobs, runRobust, type RobustMethod } from '../../robust/run.js';
import { plotQuantities, plotSvg, reportJson, reportMarkdown, robustSheet, summariseRun } from '../../robust/report.js';
import { parsePositiveInt, progressBar } from '../util.js';

/** Corruptions run when --corruptions is not given (all but three, to fit the full TNO run in an hour; docs/ROBUSTNESS.md). */
export const DEFAULT_CORRUPTIONS: readonly string[] = CORRUPTIONS.map((c) => c.name).filter((n) => !['defocus-vis', 'gray-ir', 'gray-vis', 'rotate-scale-ir'].includes(n));
/** VIF is left out: it costs as much as the other three together (docs/ROBUSTNESS.md#cost); --metrics adds it. */
export const DEFAULT_ROBUST_METRICS: readonly string[] = ['SSIM', 'Qabf', 'MI'];
const DEFAULT_METHODS = ['isfuse', 'gff', 'lp'];
/** --quick: the few smallest pairs, three severities, the default model and one classical method. */
const QUICK = { pairs: 3, methods: ['isfuse', 'gff'], severities: [1, 3, 5] };

interface RobustCliOptions {
  data: string;
  methods?: string[];
  weights?: string[];
  corruptions?: string[];
  severities?: number[];
  pairs?: number;
  metrics?: string[];
  seed: number;
  jobs?: number;
  out: string;
  quick?: boolean;
  overwrite?: boolean;
  progress: boolean;
}

const list = (option: string) => (value: string): string[] => {
  const names = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
  if (names.length === 0) throw invalidParameter(option, 'a comma-separated list', value);
  return names;
};

function parseSeverities(value: string): number[] {
  const s = list('--severities')(value).map(Number);
  if (s.some((v) => !(Number.isInteger(v) && v >= 1 && v <= 5))) throw invalidParameter('--severities', 'comma-separated integers from 1 to 5', value);
  return [...new Set(s)].sort((a, b) => a - b);
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** A --methods name: a registered method ('isfuse' = the default model) or a shipped model's name. */
function methodOf(name: string): RobustMethod {
  const models = shippedModels();
  const model = models.find((m) => m.name.toLowerCase() === name.toLowerCase());
  if (model) return { name: model.name, method: 'isfuse', methodOptions: { weights: model.path } };
  let registered;
  try {
    registered = getMethod(name).name;
  } catch {
    throw unknownName('method or model', name, [...listMethods().map((m) => m.name), ...models.map((m) => m.name)]);
  }
  if (registered === 'isfuse') {
    if (!existsSync(DEFAULT_MODEL_PATH)) throw inputError(`method 'isfuse' needs the default model ${DEFAULT_MODEL_PATH}, which is absent; name a weights file with --weights NAME=FILE`);
    return { name: 'isfuse', method: 'isfuse', methodOptions: { weights: DEFAULT_MODEL_PATH } };
  }
  return { name: registered, method: registered };
}

/** --weights NAME=FILE: ISFuse with that weights file, labelled NAME. */
function weightsMethod(spec: string): RobustMethod {
  const eq = spec.indexOf('=');
  if (eq <= 0 || eq === spec.length - 1) throw invalidParameter('--weights', 'NAME=FILE (a label, "=", a safetensors file)', spec);
  const file = spec.slice(eq + 1);
  if (!existsSync(file) || !statSync(file).isFile()) throw inputError(`--weights ${spec}: file not found: ${file}`);
  return { name: spec.slice(0, eq).trim(), method: 'isfuse', methodOptions: { weights: resolve(file) } };
}

/** DIR/ir and DIR/vi (or DIR/vis): the layout of the datasets in ../shared/data. */
function dataFolders(dir: string): { irDir: string; visDir: string } {
  const irDir = join(dir, 'ir');
  const visDir = ['vi', 'vis'].map((v) => join(dir, v)).find((p) => existsSync(p));
  if (!existsSync(irDir) || visDir === undefined) throw inputError(`--data '${dir}' must hold the folders ir/ and vi/ (or vis/) of image pairs paired by file stem`);
  return { irDir, visDir };
}

export function robustCommand(): Command {
  return new Command('robust')
    .summary('fusion under corrupted inputs: metrics, stability and drops with 95% CIs, plots, contact sheet (resumable)')
    .description(
      [
        'Corrupts each pair (docs/ROBUSTNESS.md: noise, stripes, contrast, light, exposure, blur, haze, JPEG, holes, missing modality, misregistration), fuses it with each method and reports ' +
          "the mmif metrics against the clean sources, the stability of the fused image (SSIM and PSNR against the method's own clean fusion) and the drop from clean with a 95% t-interval over pairs.",
        `Corruptions: ${CORRUPTIONS.map((c) => c.name).join(', ')} (default: all but defocus-vis, gray-ir, gray-vis, rotate-scale-ir).`,
        `Methods: registered methods (${listMethods().map((m) => m.name).join(', ')}; isfuse = the default model), shipped models (${shippedModels().map((m) => m.name).join(', ') || 'none'}), or --weights NAME=FILE.`,
        'Writes OUT/report.json, OUT/report.md, OUT/plots/*.svg, OUT/sheet.png; each finished pair is kept in OUT/cells/, so a killed run continues where it stopped.',
      ].join('\n'),
    )
    .requiredOption('--data <dir>', 'a dataset folder with ir/ and vi/ (e.g. ../shared/data/TNO/test)')
    .option('--methods <list>', `comma-separated methods and shipped model names (default ${DEFAULT_METHODS.join(',')})`, list('--methods'))
    .option('--weights <name=file>', 'an ISFuse weights file under a label (repeatable)', collect)
    .option('--corruptions <list>', "comma-separated corruption names, or 'all'", list('--corruptions'))
    .option('--severities <list>', 'severities from 1 to 5 (default 1,3,5)', parseSeverities)
    .option('--pairs <n>', 'use the first N pairs (default all)', parsePositiveInt('--pairs'))
    .option('--metrics <list>', `mmif metrics (default ${DEFAULT_ROBUST_METRICS.join(',')})`, list('--metrics'))
    .option('--seed <n>', 'seed of the corruptions', (v: string) => {
      const n = Number(v);
      if (!(Number.isInteger(n) && n >= 0)) throw invalidParameter('--seed', 'a non-negative integer', v);
      return n;
    }, 0)
    .option('--jobs <n>', `worker threads, each running whole pairs (default: one per CPU, here ${defaultJobs()}; 1 = no worker thread)`, parsePositiveInt('--jobs'))
    .option('--out <dir>', 'output folder', 'isfuse-robust')
    .option('--quick', `a smoke run: the ${QUICK.pairs} smallest pairs (--pairs N: the N smallest), severities ${QUICK.severities.join(',')}, methods ${QUICK.methods.join(',')} (options given explicitly win)`)
    .option('--overwrite', 'replace a bench robust run with other options in --out')
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (o: RobustCliOptions) => runRobustCli(o));
}

async function runRobustCli(o: RobustCliOptions): Promise<void> {
  const quick = o.quick === true;
  const { irDir, visDir } = dataFolders(o.data);
  const names = o.methods ?? (quick ? QUICK.methods : o.weights && o.weights.length > 0 ? [] : DEFAULT_METHODS);
  // --weights first: the report compares every method's stability with the first one's (a model against its ablations).
  const methods = [...(o.weights ?? []).map(weightsMethod), ...names.map(methodOf)];
  const corruptions = o.corruptions === undefined ? DEFAULT_CORRUPTIONS : o.corruptions.length === 1 && o.corruptions[0] === 'all' ? CORRUPTIONS.map((c) => c.name) : o.corruptions;
  const severities = o.severities ?? QUICK.severities;
  if (corruptions.length === 0) throw usageError('no corruptions to run');
  await checkOutputFolder(o.out, '--out');
  await assertNotAnInput([{ path: o.out, what: '--out' }], [{ path: irDir, what: 'the infrared folder' }, { path: visDir, what: 'the visible folder' }]);

  let bar: ReturnType<typeof progressBar> | undefined;
  let started = Date.now();
  const run = await (async () => {
    try {
      return await runRobust({
        irDir, visDir, methods, corruptions, severities, metrics: o.metrics ?? DEFAULT_ROBUST_METRICS, seed: o.seed, jobs: o.jobs, out: o.out, overwrite: o.overwrite,
        pairs: o.pairs ?? (quick ? QUICK.pairs : undefined),
        smallest: quick,
        onProgress: (done, total, item) => {
          if (done === 0) {
            started = Date.now();
            if (o.progress && total > 0) bar = progressBar('bench robust', total, started);
          } else bar?.increment(1, { item });
        },
      });
    } finally {
      bar?.stop();
    }
  })();
  const report = summariseRun(run);
  await writeFileAtomic(join(o.out, 'report.json'), reportJson(report));
  await writeFileAtomic(join(o.out, 'report.md'), reportMarkdown(report));
  await mkdir(join(o.out, 'plots'), { recursive: true });
  for (const q of plotQuantities(report)) await writeFileAtomic(join(o.out, 'plots', `${q}.svg`), plotSvg(report, q));
  await writeFileAtomic(join(o.out, 'sheet.png'), await robustSheet(run.sheet, report.methods));
  const seconds = (Date.now() - started) / 1000;
  process.stderr.write(
    `isfuse: bench robust: ${run.units} pair x method units (${run.computed} computed now, ${run.units - run.computed} from earlier), ${run.cells.length} cells, in ${seconds.toFixed(0)} s; ` +
      `${o.out}/report.md, report.json, plots/, sheet.png (pair ${run.sheet.pair})\n`,
  );
}
