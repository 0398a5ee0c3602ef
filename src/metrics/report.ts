/**
 * Formatting evaluation results: aligned text table, CSV, JSON, Markdown. Every format names the convention
 * (docs/METRICS.md#same-name-different-metric: the two conventions give different numbers under the same names, so an
 * unlabelled table would be ambiguous): the table and Markdown in a title line, CSV in a `convention` column, JSON in a
 * `convention` key.
 *
 * Non-finite values: the table, CSV and Markdown print `NaN`, `inf`, `-inf`; JSON, which has no such numbers,
 * prints `null` (for NaN and for infinities alike).
 */
import { invalidParameter } from '../core/errors.js';
import type { DirEvaluation } from './evaluate.js';
import { CONVENTION_INFO, getMetric } from './registry.js';

export const REPORT_FORMATS = ['table', 'csv', 'json', 'md'] as const;
export type ReportFormat = (typeof REPORT_FORMATS)[number];

export interface ReportOptions {
  /** Include one row per image (when the result holds them). Default true. */
  perImage?: boolean;
  /** Decimals in the table and Markdown (default 4). CSV and JSON keep full precision. */
  decimals?: number;
}

/** Validates a format name. */
export function checkFormat(format: unknown): ReportFormat {
  if (typeof format !== 'string' || !(REPORT_FORMATS as readonly string[]).includes(format)) {
    throw invalidParameter('format', `one of ${REPORT_FORMATS.join(', ')}`, format);
  }
  return format as ReportFormat;
}

/**
 * Formats a folder evaluation. The text ends with a newline.
 * @example process.stdout.write(formatResult(await evaluateDirs({...}), 'table'));
 */
export function formatResult(result: DirEvaluation, format: ReportFormat, options: ReportOptions = {}): string {
  switch (checkFormat(format)) {
    case 'json':
      return `${JSON.stringify(toJson(result, options.perImage ?? true), null, 2)}\n`;
    case 'csv':
      return toCsv(result, options.perImage ?? true);
    case 'md':
      return toMarkdown(result, options);
    case 'table':
      return toTable(result, options);
  }
}

/** A number as text for humans: fixed decimals, NaN / inf spelled out. */
export function formatNumber(v: number, decimals = 4): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return 'inf';
  if (v === -Infinity) return '-inf';
  return v.toFixed(decimals);
}

/** A number for CSV: shortest round-trip representation, NaN / inf spelled out (pandas reads them). */
function csvNumber(v: number): string {
  return Number.isFinite(v) ? String(v) : formatNumber(v);
}

function finiteOrNull(v: number): number | null {
  return Number.isFinite(v) ? v : null;
}

function mapValues(rec: Record<string, number>, metrics: readonly string[]): Record<string, number | null> {
  const out: Record<string, number | null> = {};
  for (const m of metrics) out[m] = finiteOrNull(rec[m]!);
  return out;
}

/** The JSON document: `{convention, metrics, images: [{name, values}], count, mean, std, missing}`. */
function toJson(result: DirEvaluation, perImage = true): object {
  const { convention, metrics } = result;
  return {
    convention,
    reference: CONVENTION_INFO[convention].reference,
    metrics,
    images: perImage ? result.images.map((r) => ({ name: r.name, values: mapValues(r.values, metrics) })) : [],
    count: result.count,
    mean: mapValues(result.mean, metrics),
    std: mapValues(result.std, metrics),
    missing: result.missing,
  };
}

function csvField(s: string): string {
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

function toCsv(result: DirEvaluation, perImage: boolean): string {
  const { convention, metrics } = result;
  const lines = [['convention', 'row', 'image', ...metrics].map(csvField).join(',')];
  const row = (kind: string, name: string, values: Record<string, number>): string =>
    [convention, kind, name].map(csvField).concat(metrics.map((m) => csvNumber(values[m]!))).join(',');
  if (perImage) for (const r of result.images) lines.push(row('image', r.name, r.values));
  lines.push(row('mean', '', result.mean));
  lines.push(row('std', '', result.std));
  return `${lines.join('\n')}\n`;
}

function header(result: DirEvaluation, metric: string): string {
  return `${metric} ${getMetric(result.convention, metric).higherIsBetter ? '↑' : '↓'}`;
}

function title(result: DirEvaluation): string {
  const info = CONVENTION_INFO[result.convention];
  const miss = result.missing.length > 0 ? `; ${result.missing.length} skipped for lack of a partner` : '';
  return `Convention: ${info.label} — ${result.count} image${result.count === 1 ? '' : 's'}${miss}; mean and population std (ddof 0)`;
}

function bodyRows(result: DirEvaluation, options: ReportOptions): string[][] {
  const d = options.decimals ?? 4;
  const rows: string[][] = [];
  const cells = (values: Record<string, number>): string[] => result.metrics.map((m) => formatNumber(values[m]!, d));
  if (options.perImage ?? true) for (const r of result.images) rows.push([r.name, ...cells(r.values)]);
  rows.push(['mean', ...cells(result.mean)]);
  rows.push(['std', ...cells(result.std)]);
  return rows;
}

function missingNote(result: DirEvaluation): string[] {
  if (result.missing.length === 0) return [];
  const shown = result.missing.slice(0, 10).map((m) => `${m.name} (no ${m.lacks.join(', no ')})`);
  const more = result.missing.length > 10 ? `, and ${result.missing.length - 10} more` : '';
  return [`Skipped: ${shown.join(', ')}${more}`];
}

function toTable(result: DirEvaluation, options: ReportOptions): string {
  const head = ['image', ...result.metrics.map((m) => header(result, m))];
  const rows = bodyRows(result, options);
  const width = head.map((h, c) => Math.max(h.length, ...rows.map((r) => r[c]!.length)));
  const line = (r: string[]): string => r.map((s, c) => (c === 0 ? s.padEnd(width[c]!) : s.padStart(width[c]!))).join('  ').trimEnd();
  const out = [title(result), line(head), ...rows.map(line), ...missingNote(result)];
  return `${out.join('\n')}\n`;
}

function toMarkdown(result: DirEvaluation, options: ReportOptions): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const head = ['image', ...result.metrics.map((m) => header(result, m))];
  const rows = bodyRows(result, options);
  const out = [
    `**${esc(title(result))}**`,
    '',
    `| ${head.map(esc).join(' | ')} |`,
    `|${head.map((_, c) => (c === 0 ? ' --- ' : ' ---: ')).join('|')}|`,
    ...rows.map((r) => `| ${r.map(esc).join(' | ')} |`),
  ];
  const note = missingNote(result);
  if (note.length > 0) out.push('', ...note.map(esc));
  return `${out.join('\n')}\n`;
}
