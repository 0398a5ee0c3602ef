/**
 * Comparing fusion methods on one test set: the table fusion papers print (mean of each metric per method, the
 * rank of each method on each metric, the mean rank), and a contact sheet of a few pairs.
 *
 * - {@link compareDirs}: scores several folders of fused images against the same infrared/visible folders, on the
 *   stems every folder covers (so that ranks compare like with like), and ranks the methods ({@link rankMethods}).
 * - {@link formatComparison}: the result as an aligned table, Markdown (for papers), CSV or JSON.
 * - {@link comparisonSheet}: IR, VIS and each method's result for a few pairs, methods in rank order, as one PNG.
 *
 * Fusing is not done here (metrics/ does not import fusion/): `isfuse compare --methods` fuses into folders first.
 */
import { inputError, invalidParameter, usageError } from '../core/errors.js';
import { imagesByStem } from '../io/folders.js';
import { contactSheet, type SheetTile } from '../io/sheet.js';
import { evaluateTriples, summarise, type EvaluateProgress } from './evaluate.js';
import { rankMethods, type Direction } from './rank.js';
import { checkConvention, CONVENTION_INFO, DEFAULT_CONVENTION, resolveMetrics } from './registry.js';
import { formatNumber, type ReportFormat, REPORT_FORMATS } from './report.js';
import type { Convention } from './types.js';

export { rankMethods, rankValues, type Direction, type MethodRank } from './rank.js';

/**
 * The metrics {@link compareDirs} reports when none are named.
 * - mmif: the set 2023+ papers print (CDDFuse and its successors): EN, SD, SF, AG, MI, SCD, VIF, Qabf, SSIM, CC,
 *   PSNR; every mmif metric but MSE, which PSNR already carries.
 * - vifb: all 13 metrics of the VIFB benchmark, as its own result tables list them (5 are lower-is-better or
 *   information-theoretic counterparts of others, but VIFB-based comparisons report them all).
 */
export const DEFAULT_COMPARE_METRICS: Readonly<Record<Convention, readonly string[]>> = {
  mmif: ['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM', 'CC', 'PSNR'],
  vifb: ['Avg_gradient', 'Cross_entropy', 'Edge_intensity', 'Entropy', 'Mutinf', 'Psnr', 'Qabf', 'Qcb', 'Qcv', 'Rmse', 'Spatial_frequency', 'Ssim', 'Variance'],
};

/** A folder of fused images and the name it is reported under. */
export interface FusedFolder {
  readonly name: string;
  readonly dir: string;
}

/** Progress of {@link compareDirs}: after each (method, image); `name` is `method/stem`. */
export type CompareProgress = EvaluateProgress;

export interface CompareDirsOptions {
  /** Folder of infrared (functional) images. */
  irDir: string;
  /** Folder of visible (MRI) images. */
  visDir: string;
  /** The methods' folders of fused images, paired with the sources by file stem. Names must differ (case-insensitively). */
  fused: readonly FusedFolder[];
  /** 'mmif' (default) or 'vifb'. */
  convention?: Convention;
  /** Metric names (default {@link DEFAULT_COMPARE_METRICS} of the convention). */
  metrics?: readonly string[];
  /** Worker threads (default min(2, CPUs)); 1 computes on the calling thread. */
  workers?: number;
  /** Called after each scored image. */
  onProgress?: (progress: CompareProgress) => void;
  /** Non-fatal notes: stems a method's folder lacks (before scoring), decoding notes. */
  onWarning?: (message: string) => void;
  /** Pixel limit per decoded image. */
  maxPixels?: number;
}

const COMPARE_KEYS = ['irDir', 'visDir', 'fused', 'convention', 'metrics', 'workers', 'onProgress', 'onWarning', 'maxPixels'] as const;

/** One method's row of a {@link Comparison}. */
export interface MethodComparison {
  /** 1-based place in the ranking (by mean rank; equal mean ranks keep the order of `fused`). */
  readonly position: number;
  readonly name: string;
  /** The folder scored. */
  readonly dir: string;
  /** Mean over the common stems (NaN when an image's value is NaN, as eval averages). */
  readonly mean: Record<string, number>;
  /** Population standard deviation (ddof 0) over the common stems. */
  readonly std: Record<string, number>;
  /** Rank per metric among the methods: 1 = best for the metric's direction; ties share the average rank. */
  readonly ranks: Record<string, number>;
  /** Mean of `ranks` over the metrics. */
  readonly meanRank: number;
  /** Stems of source pairs this folder has no fused image for (those pairs are scored for no method). */
  readonly missing: string[];
}

/** Result of {@link compareDirs}. */
export interface Comparison {
  readonly convention: Convention;
  /** Metric names, in column order. */
  readonly metrics: string[];
  /** Metric -> 'higher' or 'lower' (is better), from the registry. */
  readonly directions: Record<string, Direction>;
  readonly irDir: string;
  readonly visDir: string;
  /** Number of infrared/visible pairs in the source folders. */
  readonly pairs: number;
  /** The stems every method covers, in natural order: the images every method was scored on. */
  readonly stems: string[];
  /** Methods, best (lowest mean rank) first. */
  readonly methods: MethodComparison[];
  /** Stems found in only one of the source folders (not scored). */
  readonly unpairedSources: { readonly name: string; readonly lacks: 'ir' | 'vis' }[];
}

/** Metric directions from the registry, for the named metrics of a convention. */
export function metricDirections(convention: Convention, metrics: readonly string[]): Record<string, Direction> {
  const out: Record<string, Direction> = {};
  for (const m of resolveMetrics(convention, metrics)) out[m.name] = m.higherIsBetter ? 'higher' : 'lower';
  return out;
}

/** Checks the method names and folders: non-empty strings, at least one, names distinct ignoring case. */
export function checkFusedFolders(fused: unknown): FusedFolder[] {
  if (!Array.isArray(fused) || fused.length === 0) throw invalidParameter('fused', 'at least one { name, dir } folder of fused images', fused);
  const seen = new Map<string, string>();
  return fused.map((f: unknown) => {
    const { name, dir } = (f ?? {}) as Partial<FusedFolder>;
    if (typeof name !== 'string' || name.trim() === '') throw invalidParameter('a method name', 'a non-empty string', name);
    if (typeof dir !== 'string' || dir === '') throw invalidParameter(`the folder of method '${name}'`, 'a folder path', dir);
    const key = name.toLowerCase();
    const prev = seen.get(key);
    if (prev !== undefined) {
      throw usageError(`duplicate method name '${name}'${prev === name ? '' : ` (the same as '${prev}' ignoring case)`}: give each method its own name`);
    }
    seen.set(key, name);
    return { name, dir };
  });
}

function listStems(stems: readonly string[], max = 10): string {
  return stems.slice(0, max).join(', ') + (stems.length > max ? `, ... (${stems.length - max} more)` : '');
}

/**
 * Scores several methods' fused folders on one test set and ranks them.
 *
 * Files pair by stem as in {@link evaluateDirs}. Every method is scored on the stems that the infrared folder, the
 * visible folder and every method's folder all have, so each rank compares the same images; stems a method lacks
 * are listed in its `missing` (and passed to `onWarning` before scoring), never an error, unless no stem is common
 * to all. Images are evaluated on worker threads, all methods in one pool.
 *
 * @throws usage error for bad options, unknown metrics, duplicate names; input error for unreadable folders or
 *   images, size mismatches, or no stem common to all folders.
 * @example
 * const c = await compareDirs({ irDir: 'TNO/ir', visDir: 'TNO/vi', fused: [{ name: 'gff', dir: 'out/gff' }, { name: 'ours', dir: 'out/ours' }] });
 * console.log(c.methods.map((m) => `${m.position}. ${m.name} ${m.meanRank}`));
 */
export async function compareDirs(options: CompareDirsOptions): Promise<Comparison> {
  if (options === null || typeof options !== 'object') throw invalidParameter('compareDirs', 'an options object', options);
  for (const key of Object.keys(options)) {
    if (!(COMPARE_KEYS as readonly string[]).includes(key)) throw invalidParameter('compareDirs option', `one of ${COMPARE_KEYS.join(', ')}`, key);
  }
  for (const key of ['irDir', 'visDir'] as const) {
    if (typeof options[key] !== 'string' || options[key] === '') throw invalidParameter(key, 'a folder path', options[key]);
  }
  const fused = checkFusedFolders(options.fused);
  const convention = checkConvention(options.convention ?? DEFAULT_CONVENTION);
  const names = options.metrics === undefined ? DEFAULT_COMPARE_METRICS[convention] : options.metrics;
  if (!Array.isArray(names) || names.length === 0 || names.some((m) => typeof m !== 'string')) {
    throw invalidParameter('metrics', 'a non-empty array of metric names', options.metrics);
  }
  const directions = metricDirections(convention, names);
  const metrics = Object.keys(directions);

  const ir = await imagesByStem(options.irDir, 'infrared folder');
  const vis = await imagesByStem(options.visDir, 'visible folder');
  const folders: Map<string, string>[] = [];
  for (const f of fused) folders.push(await imagesByStem(f.dir, `fused folder of '${f.name}'`));

  const sourceStems = [...ir.keys()].filter((s) => vis.has(s));
  const unpairedSources = [
    ...[...ir.keys()].filter((s) => !vis.has(s)).map((name) => ({ name, lacks: 'vis' as const })),
    ...[...vis.keys()].filter((s) => !ir.has(s)).map((name) => ({ name, lacks: 'ir' as const })),
  ];
  if (sourceStems.length === 0) {
    throw inputError(`Expected images with the same file stem in ${options.irDir} and ${options.visDir} but received none`);
  }
  const missing = folders.map((m) => sourceStems.filter((s) => !m.has(s)));
  const stems = sourceStems.filter((s) => folders.every((m) => m.has(s)));
  missing.forEach((miss, i) => {
    if (miss.length === 0) return;
    options.onWarning?.(
      `${fused[i]!.name} (${fused[i]!.dir}) has no fused image for ${miss.length} of ${sourceStems.length} pairs: ${listStems(miss)}; ` +
        `every method is scored on the ${stems.length} pairs all of them cover`,
    );
  });
  if (stems.length === 0) {
    const worst = fused.map((f, i) => `${f.name} covers ${sourceStems.length - missing[i]!.length}`).join(', ');
    throw inputError(`Expected fused images for the same pairs from every method but no stem of the ${sourceStems.length} pairs is common to all (${worst})`);
  }

  const triples = fused.flatMap((f, i) =>
    stems.map((s) => ({ name: `${f.name}/${s}`, files: { ir: ir.get(s)!, vis: vis.get(s)!, fused: folders[i]!.get(s)! } })),
  );
  const rows = await evaluateTriples(triples, {
    convention,
    metrics,
    workers: options.workers,
    maxPixels: options.maxPixels,
    onProgress: options.onProgress,
    onWarning: options.onWarning,
  });
  const stats = fused.map((_, i) => summarise(metrics, rows.slice(i * stems.length, (i + 1) * stems.length)));
  const means: Record<string, Record<string, number>> = Object.create(null) as Record<string, Record<string, number>>; // any name, even '__proto__'
  fused.forEach((f, i) => (means[f.name] = stats[i]!.mean));
  const ranking = rankMethods(means, directions);
  const methods = ranking.map((r, k): MethodComparison => {
    const i = fused.findIndex((f) => f.name === r.name);
    return { position: k + 1, name: r.name, dir: fused[i]!.dir, mean: stats[i]!.mean, std: stats[i]!.std, ranks: r.ranks, meanRank: r.meanRank, missing: missing[i]! };
  });
  return { convention, metrics, directions, irDir: options.irDir, visDir: options.visDir, pairs: sourceStems.length, stems, methods, unpairedSources };
}

// ---------------------------------------------------------------------------------------------------------------
// Formatting

export interface ComparisonFormatOptions {
  /** Decimals of the metric means in the table and Markdown (default 4). CSV and JSON keep full precision. */
  decimals?: number;
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function pick(rec: Record<string, number>, metrics: readonly string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of metrics) out[m] = finiteOrNull(rec[m]!);
  return out;
}

/**
 * The JSON document of a comparison:
 * `{convention, reference, metrics, directions: {metric: 'higher'|'lower'}, pairs, count, stems,
 *   methods: [{position, name, meanRank, mean: {metric: v}, std: {...}, ranks: {...}, missing: [stem]}],
 *   unpairedSources: [{name, lacks}]}`; methods best first, NaN and infinities as null. Folders are not included
 * (a temporary folder of `isfuse compare --methods` is gone when the document is read).
 */
export function comparisonToJson(result: Comparison): object {
  const { convention, metrics } = result;
  return {
    convention,
    reference: CONVENTION_INFO[convention].reference,
    metrics,
    directions: result.directions,
    pairs: result.pairs,
    count: result.stems.length,
    stems: result.stems,
    methods: result.methods.map((m) => ({
      position: m.position,
      name: m.name,
      meanRank: m.meanRank,
      mean: pick(m.mean, metrics),
      std: pick(m.std, metrics),
      ranks: m.ranks,
      missing: m.missing,
    })),
    unpairedSources: result.unpairedSources,
  };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : formatNumber(v);
}

function toCsv(result: Comparison): string {
  const head = ['convention', 'position', 'method', 'mean_rank', ...result.metrics.flatMap((m) => [m, `${m}_std`, `${m}_rank`])];
  const lines = [head.map(csvField).join(',')];
  for (const m of result.methods) {
    const cells = [result.convention, String(m.position), m.name, String(m.meanRank)];
    for (const k of result.metrics) cells.push(csvNumber(m.mean[k]!), csvNumber(m.std[k]!), String(m.ranks[k]!));
    lines.push(cells.map(csvField).join(','));
  }
  return `${lines.join('\n')}\n`;
}

function title(result: Comparison): string {
  const n = result.stems.length;
  const scope = n === result.pairs ? `${n} image pair${n === 1 ? '' : 's'}` : `${n} of ${result.pairs} image pairs (those every method covers)`;
  return `Convention: ${CONVENTION_INFO[result.convention].label} — ${result.methods.length} methods on ${scope}; mean per metric, (rank): 1 = best, ties share the average rank; sorted by mean rank`;
}

function notes(result: Comparison): string[] {
  const out: string[] = [];
  for (const m of result.methods) {
    if (m.missing.length > 0) out.push(`${m.name}: no fused image for ${m.missing.length} of ${result.pairs} pairs (${listStems(m.missing)})`);
  }
  if (result.unpairedSources.length > 0) {
    const shown = result.unpairedSources.map((u) => `${u.name} (no ${u.lacks})`);
    out.push(`Source images without a partner, not scored: ${listStems(shown)}`);
  }
  return out;
}

const rankText = (r: number): string => (Number.isInteger(r) ? String(r) : r.toFixed(1));

function cells(result: Comparison, decimals: number, bold: boolean): { head: string[]; rows: string[][] } {
  const head = ['#', 'method', ...result.metrics.map((m) => `${m} ${result.directions[m] === 'higher' ? '↑' : '↓'}`), 'mean rank'];
  const best: Record<string, number> = {};
  for (const k of result.metrics) best[k] = Math.min(...result.methods.map((m) => m.ranks[k]!));
  const rows = result.methods.map((m) => [
    String(m.position),
    m.name,
    ...result.metrics.map((k) => {
      const v = `${formatNumber(m.mean[k]!, decimals)} (${rankText(m.ranks[k]!)})`;
      return bold && m.ranks[k] === best[k] ? `**${v}**` : v;
    }),
    m.meanRank.toFixed(2),
  ]);
  return { head, rows };
}

function toTable(result: Comparison, decimals: number): string {
  const { head, rows } = cells(result, decimals, false);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((s, c) => (c === 1 ? s.padEnd(width[c]!) : s.padStart(width[c]!))).join('  ').trimEnd();
  return `${[title(result), line(head), ...rows.map(line), ...notes(result)].join('\n')}\n`;
}

function toMarkdown(result: Comparison, decimals: number): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const { head, rows } = cells(result, decimals, true);
  const out = [
    `**${esc(title(result))}**`,
    '',
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, c) => (c === 1 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const n = notes(result);
  if (n.length > 0) out.push('', ...n.map(esc));
  return `${out.join('\n')}\n`;
}

/**
 * Formats a comparison; the text ends with a newline. Every format names the convention.
 * - table / md: one row per method, best first: position, name, `mean (rank)` per metric (column headers carry ↑
 *   or ↓, the metric's direction), mean rank; Markdown bolds the best value of each metric. Notes follow: stems
 *   a method lacks, source images without a partner.
 * - csv: `convention,position,method,mean_rank,<M>,<M>_std,<M>_rank,...` (full precision).
 * - json: see {@link comparisonToJson}.
 */
export function formatComparison(result: Comparison, format: ReportFormat, options: ComparisonFormatOptions = {}): string {
  const decimals = options.decimals ?? 4;
  switch (format) {
    case 'json':
      return `${JSON.stringify(comparisonToJson(result), null, 2)}\n`;
    case 'csv':
      return toCsv(result);
    case 'md':
      return toMarkdown(result, decimals);
    case 'table':
      return toTable(result, decimals);
    default:
      throw invalidParameter('format', `one of ${REPORT_FORMATS.join(', ')}`, format);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Contact sheet

/** Default number of pairs (rows) on a comparison sheet. */
export const DEFAULT_SHEET_PAIRS = 4;

/**
 * Which of `n` items a sheet of `k` rows shows: `k` indices spread evenly (the middle of each of `k` equal
 * slices), all of them when `k >= n`. @example spreadIndices(25, 4) // [3, 9, 15, 21]
 */
export function spreadIndices(n: number, k: number): number[] {
  if (k >= n) return Array.from({ length: n }, (_, i) => i);
  return Array.from({ length: k }, (_, i) => Math.floor(((i + 0.5) * n) / k));
}

export interface ComparisonSheetOptions {
  /** Rows: pairs spread evenly over the scored stems (default {@link DEFAULT_SHEET_PAIRS}). */
  pairs?: number;
  /** Image box height in pixels (default: io/sheet.ts SHEET_DEFAULTS.tileHeight). */
  tileHeight?: number;
  maxPixels?: number;
}

/**
 * A contact sheet of a comparison: one row per chosen pair (spread evenly over `result.stems`), columns IR, VIS,
 * then each method in rank order; tiles labelled `IR <stem>`, `VIS`, `#<position> <method>`. Reads the images from
 * the folders the comparison scored, so call it before removing them.
 *
 * @returns PNG bytes and the sheet's size (see io/sheet.ts `sheetSize`).
 */
export async function comparisonSheet(result: Comparison, options: ComparisonSheetOptions = {}): Promise<{ png: Buffer; width: number; height: number }> {
  const pairs = options.pairs ?? DEFAULT_SHEET_PAIRS;
  if (!Number.isInteger(pairs) || pairs < 1) throw invalidParameter('pairs', 'a positive integer', pairs);
  const ir = await imagesByStem(result.irDir, 'infrared folder');
  const vis = await imagesByStem(result.visDir, 'visible folder');
  const folders = await Promise.all(result.methods.map((m) => imagesByStem(m.dir, `fused folder of '${m.name}'`)));
  const rows: SheetTile[][] = spreadIndices(result.stems.length, pairs).map((i) => {
    const s = result.stems[i]!;
    const file = (m: Map<string, string>, what: string): string => {
      const f = m.get(s);
      if (f === undefined) throw inputError(`${what} no longer has an image for '${s}'`);
      return f;
    };
    return [
      { image: file(ir, result.irDir), label: `IR ${s}` },
      { image: file(vis, result.visDir), label: 'VIS' },
      ...result.methods.map((m, k) => ({ image: file(folders[k]!, m.dir), label: `#${m.position} ${m.name}` })),
    ];
  });
  return contactSheet(rows, { tileHeight: options.tileHeight, decode: { maxPixels: options.maxPixels } });
}
