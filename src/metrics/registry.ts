/**
 * The metric registry: every metric of both conventions, tagged with its convention, direction and inputs.
 * Drives `isfuse eval`, `isfuse metrics` help and the web menus.
 *
 * - `mmif`: the CDDFuse `utils/Evaluator.py` convention most 2023+ multi-modal image fusion papers use
 *   (12 metrics on gray 0..255 images; docs/METRICS.md#mmif).
 * - `vifb`: the VIFB MATLAB benchmark (13 metrics, per RGB channel; docs/METRICS.md#vifb).
 *
 * Names match case-insensitively; each convention may accept aliases (mmif: `VIFF` = `VIF`, CDDFuse's own name).
 * The same name can mean different metrics in the two conventions (docs/METRICS.md#same-name-different-metric): a
 * metric is always looked up within one convention, never across.
 */
import { invalidParameter, unknownName } from '../core/errors.js';
import { mmifAliases, mmifMetrics } from './mmif/index.js';
import type { Convention, MmifMetric, VifbMetric } from './types.js';
import { vifbMetrics } from './vifb/index.js';

/** Both conventions, in display order; `mmif` is the default everywhere. */
export const CONVENTIONS: readonly Convention[] = ['mmif', 'vifb'];
export const DEFAULT_CONVENTION: Convention = 'mmif';

export interface ConventionInfo {
  readonly name: Convention;
  /** Short label printed with every result table: name and source. */
  readonly label: string;
  /** The evaluator, in a few words. */
  readonly source: string;
  /** The reference evaluator the convention reproduces. */
  readonly reference: string;
  /** How images are read. */
  readonly images: string;
}

export const CONVENTION_INFO: Readonly<Record<Convention, ConventionInfo>> = {
  mmif: {
    name: 'mmif',
    label: 'mmif (CDDFuse Evaluator.py)',
    source: 'CDDFuse Evaluator.py, the Python evaluator of most 2023+ fusion papers',
    reference: 'Zhaozixiang1228/MMIF-CDDFuse utils/Evaluator.py @ fd8da1f39d8d403b7343e577bd5a30cba38c7b7b',
    images: 'gray: round(0.299 R + 0.587 G + 0.114 B) as OpenCV computes it, values 0..255',
  },
  vifb: {
    name: 'vifb',
    label: 'vifb (VIFB MATLAB benchmark)',
    source: 'VIFB MATLAB benchmark',
    reference: 'xingchenzhang/VIFB metrics/*.m @ 22b2ea9d91499cc5962d9bdcae9c290270f0fade',
    images: 'per RGB channel, values 0..255, mean of the channel results',
  },
};

/** A registered metric of either convention. */
export type AnyMetric = MmifMetric | VifbMetric;

const ALIASES: Readonly<Record<Convention, Readonly<Record<string, string>>>> = { mmif: mmifAliases, vifb: {} };

function metricsOf(convention: Convention): readonly AnyMetric[] {
  return convention === 'mmif' ? mmifMetrics : vifbMetrics;
}

/**
 * Validates a convention name (case-insensitive) and returns it normalised.
 * @throws usage error listing the valid conventions.
 */
export function checkConvention(convention: unknown): Convention {
  if (typeof convention !== 'string') throw invalidParameter('convention', `one of ${CONVENTIONS.join(', ')}`, convention);
  const c = convention.toLowerCase();
  if (!(CONVENTIONS as readonly string[]).includes(c)) throw unknownName('convention', convention, CONVENTIONS);
  return c as Convention;
}

/**
 * The metrics of one convention in its reference order (mmif: EN, SD, SF, AG, MI, MSE, CC, PSNR, SCD, VIF, Qabf,
 * SSIM), or of both (mmif first) when `convention` is omitted.
 *
 * @example listMetrics('mmif').map((m) => m.name) // ['EN', 'SD', ...]
 */
export function listMetrics(convention: 'mmif'): readonly MmifMetric[];
export function listMetrics(convention: 'vifb'): readonly VifbMetric[];
export function listMetrics(convention?: Convention): readonly AnyMetric[];
export function listMetrics(convention?: Convention): readonly AnyMetric[] {
  if (convention === undefined) return [...mmifMetrics, ...vifbMetrics];
  return metricsOf(checkConvention(convention));
}

/** Accepted aliases of a convention's metrics (alias -> canonical name), e.g. mmif `{ VIFF: 'VIF' }`. */
export function metricAliases(convention: Convention): Readonly<Record<string, string>> {
  return ALIASES[checkConvention(convention)];
}

/**
 * Looks a metric up by name within a convention: case-insensitive, aliases accepted.
 *
 * @throws usage error "Unknown mmif metric 'X'. Valid mmif metrics: EN, SD, ..." for an unknown name.
 * @example getMetric('mmif', 'viff').name // 'VIF'
 */
export function getMetric(convention: 'mmif', name: string): MmifMetric;
export function getMetric(convention: 'vifb', name: string): VifbMetric;
export function getMetric(convention: Convention, name: string): AnyMetric;
export function getMetric(convention: Convention, name: string): AnyMetric {
  const conv = checkConvention(convention);
  if (typeof name !== 'string') throw invalidParameter('metric name', 'a string', name);
  const metrics = metricsOf(conv);
  const wanted = name.trim().toLowerCase();
  const direct = metrics.find((m) => m.name.toLowerCase() === wanted);
  if (direct) return direct;
  const alias = Object.entries(ALIASES[conv]).find(([a]) => a.toLowerCase() === wanted);
  const viaAlias = alias && metrics.find((m) => m.name === alias[1]);
  if (viaAlias) return viaAlias;
  const aliases = Object.keys(ALIASES[conv]);
  const valid = metrics.map((m) => m.name).concat(aliases.length > 0 ? aliases.map((a) => `${a} (= ${ALIASES[conv][a]})`) : []);
  throw unknownName(`${conv} metric`, name, valid);
}

/**
 * Resolves a list of metric names (or all of the convention when `names` is empty/omitted) to metric
 * definitions, in the order given, without duplicates.
 */
export function resolveMetrics(convention: 'mmif', names?: readonly string[]): MmifMetric[];
export function resolveMetrics(convention: 'vifb', names?: readonly string[]): VifbMetric[];
export function resolveMetrics(convention: Convention, names?: readonly string[]): AnyMetric[];
export function resolveMetrics(convention: Convention, names?: readonly string[]): AnyMetric[] {
  const conv = checkConvention(convention);
  if (names !== undefined && !Array.isArray(names)) throw invalidParameter('metrics', 'an array of metric names', names);
  if (!names || names.length === 0) return [...metricsOf(conv)];
  const out: AnyMetric[] = [];
  for (const n of names) {
    const m = getMetric(conv, n);
    if (!out.includes(m)) out.push(m);
  }
  return out;
}
