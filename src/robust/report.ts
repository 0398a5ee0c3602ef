/**
 * The report of `isfuse bench robust`: per-cell summaries with 95% confidence intervals over pairs, as JSON, a
 * Markdown table, SVG plots (one file per quantity, one panel per corruption, one line per method) and the contact
 * sheet of one pair under every corruption (io/sheet.ts).
 *
 * Confidence intervals: Student's t-interval over pairs, mean +- t(0.975, n-1) * SD / sqrt(n) (SD with n-1), on the
 * per-pair values (the drop: metric(corrupted) - metric(clean) of the same pair and method, so the interval is
 * paired). A corruption's "mean over severities" averages each pair over the severities first, then takes the
 * interval over pairs.
 */
import type { RasterImage } from '../core/image.js';
import { contactSheet, type SheetTile } from '../io/sheet.js';
import { getCorruption } from './corruptions.js';
import type { Cell, RobustRun, SheetSource } from './run.js';

/** Mean and 95% t-interval half-width over pairs (NaN half-width for one pair). */
export interface Estimate {
  readonly mean: number;
  readonly ci95: number;
  readonly n: number;
}

/** t(0.975, df) for df = 1..30; above 30 the Cornish-Fisher expansion around 1.96 (error < 1e-4). */
const T975 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

export function tQuantile975(df: number): number {
  if (df <= 30) return T975[df - 1] ?? NaN;
  const z = 1.959964;
  return z + (z ** 3 + z) / (4 * df) + (5 * z ** 5 + 16 * z ** 3 + 3 * z) / (96 * df * df);
}

/** Mean and 95% t-interval half-width of the values (NaN values propagate). */
export function estimate(values: readonly number[]): Estimate {
  const n = values.length;
  const mean = values.reduce((s, v) => s + v, 0) / n;
  if (n < 2) return { mean, ci95: NaN, n };
  const sd = Math.sqrt(values.reduce((s, v) => s + (v - mean) ** 2, 0) / (n - 1));
  return { mean, ci95: (tQuantile975(n - 1) * sd) / Math.sqrt(n), n };
}

/** One cell summarised: each metric's mean and its drop from clean; the stability's mean. */
export interface CellSummary {
  readonly method: string;
  readonly corruption: string;
  readonly severity: number;
  readonly level: string;
  readonly metrics: Record<string, Estimate>;
  /** metric(corrupted) - metric(clean), per pair, summarised (absent for clean). */
  readonly drop?: Record<string, Estimate>;
  readonly stability?: { readonly SSIM: Estimate; readonly PSNR: Estimate };
}

/** A corruption averaged over its severities, per method. */
export interface CorruptionSummary {
  readonly method: string;
  readonly corruption: string;
  readonly severities: readonly number[];
  readonly drop: Record<string, Estimate>;
  readonly stability: { readonly SSIM: Estimate; readonly PSNR: Estimate };
  /** Stability SSIM minus that of the first method, per pair (paired interval); absent for the first method. */
  readonly vsFirst?: Estimate;
}

export interface RobustReport {
  readonly tool: 'isfuse bench robust';
  readonly convention: 'mmif';
  readonly run: RobustRun['record'];
  readonly methods: readonly string[];
  readonly metrics: readonly string[];
  readonly cells: readonly CellSummary[];
  readonly corruptions: readonly CorruptionSummary[];
  /** Per-pair values of every cell, for other analyses. */
  readonly raw: readonly Cell[];
}

/** Per-pair vectors of a cell, aligned to the clean cell's pair order. */
function column(cell: Cell, f: (p: Cell['pairs'][number]) => number): number[] {
  return cell.pairs.map(f);
}

/** The summaries of a finished run. */
export function summariseRun(run: Pick<RobustRun, 'record' | 'cells'>): RobustReport {
  const { record, cells } = run;
  const metrics = record.metrics;
  const methods = record.methods.map((m) => m.name);
  const cleanOf = new Map(cells.filter((c) => c.corruption === 'clean').map((c) => [c.method, c]));
  const levelOf = (c: Cell): string => (c.corruption === 'clean' ? '' : record.corruptions.find((x) => x.name === c.corruption)!.levels[c.severity - 1]!);
  const summaries: CellSummary[] = cells.map((c) => {
    const clean = cleanOf.get(c.method)!;
    const m: Record<string, Estimate> = {}, d: Record<string, Estimate> = {};
    for (const k of metrics) {
      m[k] = estimate(column(c, (p) => p.values[k]!));
      d[k] = estimate(c.pairs.map((p, i) => p.values[k]! - clean.pairs[i]!.values[k]!));
    }
    if (c.corruption === 'clean') return { method: c.method, corruption: c.corruption, severity: 0, level: '', metrics: m };
    return {
      method: c.method, corruption: c.corruption, severity: c.severity, level: levelOf(c), metrics: m, drop: d,
      stability: { SSIM: estimate(column(c, (p) => p.stability!.SSIM)), PSNR: estimate(column(c, (p) => p.stability!.PSNR)) },
    };
  });

  // Per corruption: each pair averaged over the severities run, then the interval over pairs.
  const bySeverityMean = (method: string, corruption: string, f: (p: Cell['pairs'][number], i: number) => number): number[] => {
    const cs = cells.filter((c) => c.method === method && c.corruption === corruption);
    return cs[0]!.pairs.map((_, i) => cs.reduce((s, c) => s + f(c.pairs[i]!, i), 0) / cs.length);
  };
  const corruptions: CorruptionSummary[] = [];
  for (const corruption of record.corruptions.map((c) => c.name)) {
    const firstSsim = bySeverityMean(methods[0]!, corruption, (p) => p.stability!.SSIM);
    for (const method of methods) {
      const clean = cleanOf.get(method)!;
      const drop: Record<string, Estimate> = {};
      for (const k of metrics) drop[k] = estimate(bySeverityMean(method, corruption, (p, i) => p.values[k]! - clean.pairs[i]!.values[k]!));
      const ssim = bySeverityMean(method, corruption, (p) => p.stability!.SSIM);
      corruptions.push({
        method, corruption,
        severities: cells.filter((c) => c.method === method && c.corruption === corruption).map((c) => c.severity),
        drop,
        stability: { SSIM: estimate(ssim), PSNR: estimate(bySeverityMean(method, corruption, (p) => p.stability!.PSNR)) },
        ...(method === methods[0] ? {} : { vsFirst: estimate(ssim.map((v, i) => v - firstSsim[i]!)) }),
      });
    }
  }
  return { tool: 'isfuse bench robust', convention: 'mmif', run: record, methods, metrics, cells: summaries, corruptions, raw: cells };
}

/** The report as JSON (non-finite numbers as null). */
export function reportJson(r: RobustReport): string {
  return `${JSON.stringify(r, null, 1)}\n`;
}

const num = (v: number, digits = 3): string => (Number.isFinite(v) ? v.toFixed(digits) : 'NaN');
const withCi = (e: Estimate, digits = 3): string => `${num(e.mean, digits)} ± ${num(e.ci95, digits)}`;
const signed = (e: Estimate, digits = 3): string => `${e.mean >= 0 ? '+' : ''}${num(e.mean, digits)} ± ${num(e.ci95, digits)}`;

/** The Markdown report: clean scores, stability and drops per corruption, then every cell. */
export function reportMarkdown(r: RobustReport): string {
  const { methods, metrics } = r;
  const out: string[] = [];
  const row = (cells: readonly string[]): void => void out.push(`| ${cells.join(' | ')} |`);
  const header = (cells: readonly string[]): void => {
    row(cells);
    row(cells.map(() => '---'));
  };
  out.push(`# isfuse bench robust`, '');
  out.push(`${r.run.pairs.length} pairs (${r.run.irDir}, ${r.run.visDir}); severities ${r.run.severities.join(', ')}; seed ${r.run.seed}; metrics: mmif convention (CDDFuse Evaluator.py) against the clean sources. ` +
    `Values are means over pairs ± the 95% t-interval half-width.`, '');
  out.push('## Clean inputs', '');
  header(['method', ...metrics]);
  for (const m of methods) {
    const c = r.cells.find((x) => x.method === m && x.corruption === 'clean')!;
    row([m, ...metrics.map((k) => withCi(c.metrics[k]!))]);
  }
  out.push('', '## Stability: SSIM(fused(corrupted), fused(clean)), mean over severities', '');
  out.push(`Higher is more stable (1 = unchanged). "vs ${methods[0]}": the paired difference from ${methods[0]} (positive: more stable).`, '');
  header(['corruption', ...methods.flatMap((m, i) => (i === 0 ? [m] : [m, `vs ${methods[0]}`]))]);
  for (const c of r.run.corruptions) {
    const cs = methods.map((m) => r.corruptions.find((x) => x.method === m && x.corruption === c.name)!);
    row([c.name, ...cs.flatMap((x, i) => (i === 0 ? [withCi(x.stability.SSIM)] : [withCi(x.stability.SSIM), signed(x.vsFirst!)]))]);
  }
  out.push('', '## Stability: PSNR(fused(corrupted), fused(clean)) in dB, mean over severities', '');
  header(['corruption', ...methods]);
  for (const c of r.run.corruptions) row([c.name, ...methods.map((m) => withCi(r.corruptions.find((x) => x.method === m && x.corruption === c.name)!.stability.PSNR, 2))]);
  for (const k of metrics) {
    out.push('', `## Drop of ${k} from clean (corrupted - clean), mean over severities`, '');
    header(['corruption', ...methods]);
    for (const c of r.run.corruptions) row([c.name, ...methods.map((m) => signed(r.corruptions.find((x) => x.method === m && x.corruption === c.name)!.drop[k]!))]);
  }
  out.push('', '## Every cell', '');
  header(['method', 'corruption', 'severity', 'parameters', 'stability SSIM', 'stability PSNR', ...metrics.map((k) => `${k} (drop)`)]);
  for (const c of r.cells) {
    if (c.corruption === 'clean') continue;
    row([c.method, c.corruption, String(c.severity), c.level, withCi(c.stability!.SSIM), withCi(c.stability!.PSNR, 2), ...metrics.map((k) => `${num(c.metrics[k]!.mean)} (${signed(c.drop![k]!)})`)]);
  }
  return `${out.join('\n')}\n`;
}

// ------------------------------------------------------------------------------------------------------------
// SVG plots

const COLOURS = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#e377c2', '#7f7f7f', '#bcbd22', '#17becf'];
const esc = (s: string): string => s.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

/** The quantities plotted: stability SSIM and PSNR, and each metric (clean at severity 0). */
export function plotQuantities(r: RobustReport): string[] {
  return ['stability-SSIM', 'stability-PSNR', ...r.metrics];
}

/**
 * One SVG: `quantity` vs severity, one panel per corruption, one line per method (error bars: the 95% interval).
 * Metrics start at severity 0 (the clean score); stability has no clean point. A corruption without severities is
 * one value, drawn as a dashed horizontal line.
 */
export function plotSvg(r: RobustReport, quantity: string): string {
  const pw = 190, ph = 130, pad = { l: 44, r: 8, t: 20, b: 22 }, cols = 4, legendH = 22;
  const corr = r.run.corruptions;
  const rowsN = Math.ceil(corr.length / cols);
  const width = cols * (pw + pad.l + pad.r), height = legendH + rowsN * (ph + pad.t + pad.b);
  const value = (c: CellSummary): Estimate | undefined =>
    quantity === 'stability-SSIM' ? c.stability?.SSIM : quantity === 'stability-PSNR' ? c.stability?.PSNR : c.metrics[quantity];
  const out: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="10">`,
    `<rect width="${width}" height="${height}" fill="white"/>`,
  ];
  r.methods.forEach((m, i) => {
    const x = 8 + i * 150;
    out.push(`<line x1="${x}" y1="11" x2="${x + 18}" y2="11" stroke="${COLOURS[i % COLOURS.length]}" stroke-width="2"/><text x="${x + 22}" y="15">${esc(m)}</text>`);
  });
  out.push(`<text x="${width - 8}" y="15" text-anchor="end" font-weight="bold">${esc(quantity)} vs severity (mmif; 95% CI)</text>`);
  corr.forEach((c, k) => {
    const ox = (k % cols) * (pw + pad.l + pad.r) + pad.l, oy = legendH + Math.floor(k / cols) * (ph + pad.t + pad.b) + pad.t;
    const series = r.methods.map((m) => r.cells.filter((x) => x.method === m && (x.corruption === c.name || (x.corruption === 'clean' && !quantity.startsWith('stability')))));
    const pts = series.flat().map(value).filter((e): e is Estimate => e !== undefined && Number.isFinite(e.mean));
    let lo = Math.min(...pts.map((e) => e.mean - (Number.isFinite(e.ci95) ? e.ci95 : 0)));
    let hi = Math.max(...pts.map((e) => e.mean + (Number.isFinite(e.ci95) ? e.ci95 : 0)));
    if (!(hi > lo)) [lo, hi] = [lo - 1, hi + 1];
    const sx = (s: number): number => ox + (s / 5) * pw, sy = (v: number): number => oy + ph - ((v - lo) / (hi - lo)) * ph;
    out.push(`<rect x="${ox}" y="${oy}" width="${pw}" height="${ph}" fill="none" stroke="#999"/>`);
    out.push(`<text x="${ox + pw / 2}" y="${oy - 5}" text-anchor="middle" font-weight="bold">${esc(c.name)}</text>`);
    for (const v of [lo, hi]) out.push(`<text x="${ox - 3}" y="${sy(v) + 3}" text-anchor="end">${esc(v.toPrecision(3))}</text>`);
    for (let s = 0; s <= 5; s++) out.push(`<text x="${sx(s)}" y="${oy + ph + 12}" text-anchor="middle">${s}</text>`);
    series.forEach((cells, i) => {
      const colour = COLOURS[i % COLOURS.length]!;
      const p = cells.map((x) => ({ s: x.severity, e: value(x) })).filter((x): x is { s: number; e: Estimate } => x.e !== undefined && Number.isFinite(x.e.mean));
      if (c.levels.length === 1) {
        const e = p.find((x) => x.s === 1)?.e;
        if (e) out.push(`<line x1="${sx(0)}" y1="${sy(e.mean)}" x2="${sx(5)}" y2="${sy(e.mean)}" stroke="${colour}" stroke-width="1.5" stroke-dasharray="4 3"/>`);
        return;
      }
      out.push(`<polyline fill="none" stroke="${colour}" stroke-width="1.5" points="${p.map((x) => `${sx(x.s).toFixed(1)},${sy(x.e.mean).toFixed(1)}`).join(' ')}"/>`);
      for (const x of p) {
        out.push(`<circle cx="${sx(x.s).toFixed(1)}" cy="${sy(x.e.mean).toFixed(1)}" r="2" fill="${colour}"/>`);
        if (Number.isFinite(x.e.ci95)) out.push(`<line x1="${sx(x.s).toFixed(1)}" y1="${sy(x.e.mean - x.e.ci95).toFixed(1)}" x2="${sx(x.s).toFixed(1)}" y2="${sy(x.e.mean + x.e.ci95).toFixed(1)}" stroke="${colour}" stroke-opacity="0.5"/>`);
      }
    });
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

/** The contact sheet: one row per corruption (highest severity run) with the corrupted inputs and each method's fusion. */
export async function robustSheet(s: SheetSource, methods: readonly string[], tileHeight = 128): Promise<Buffer> {
  const rows: SheetTile[][] = s.rows.map((row) => {
    const target = row.label === 'clean' ? undefined : getCorruption(row.label.split(' ')[0]!).target;
    const mark = (side: 'ir' | 'vis'): string => (target === side || target === 'both' ? ` (${row.label})` : '');
    return [
      { image: row.ir as RasterImage, label: `IR${mark('ir')}` },
      { image: row.vis as RasterImage, label: `VIS${mark('vis')}` },
      ...row.fused.map((f, i) => ({ image: f, label: `${methods[i]}` })),
    ];
  });
  return (await contactSheet(rows, { tileHeight })).png;
}
