/**
 * Ranking methods on metric means: the "rank per metric, then mean rank" table fusion papers print.
 * Pure functions on plain numbers (no I/O, no registry), so they also run in a browser bundle.
 */
import { invalidParameter } from '../core/errors.js';

/** Which way a metric improves: 'higher' (EN, Qabf, ...) or 'lower' (MSE, Qcv, Rmse, ...). */
export type Direction = 'higher' | 'lower';

/** One method's place in a {@link rankMethods} ranking. */
export interface MethodRank {
  /** The method's name, as given. */
  readonly name: string;
  /** Metric -> rank among the methods: 1 = best; tied values share the average of their ranks (e.g. 2.5). */
  readonly ranks: Record<string, number>;
  /** Mean of `ranks` over the metrics (lower is better). */
  readonly meanRank: number;
}

/**
 * Ranks of values, 1 = best for the direction; equal values share the average of the ranks they span
 * ("fractional" ranking: [5, 7, 7, 3] higher-better -> [3, 1.5, 1.5, 4]). NaN counts as worse than every number
 * (NaNs tie among themselves); +Infinity and -Infinity order as numbers (a perfect copy's PSNR is +Infinity).
 *
 * @example rankValues([5, 7, 7, 3], 'higher') // [3, 1.5, 1.5, 4]
 */
export function rankValues(values: readonly number[], direction: Direction): number[] {
  if (direction !== 'higher' && direction !== 'lower') throw invalidParameter('direction', "'higher' or 'lower'", direction);
  const sign = direction === 'higher' ? -1 : 1;
  // Sort key: NaN last, else best first.
  const better = (a: number, b: number): number => {
    const na = Number.isNaN(a), nb = Number.isNaN(b);
    if (na || nb) return na === nb ? 0 : na ? 1 : -1;
    return a === b ? 0 : sign * (a < b ? -1 : 1);
  };
  const order = values.map((_, i) => i).sort((i, j) => better(values[i]!, values[j]!));
  const ranks = new Array<number>(values.length);
  for (let start = 0; start < order.length; ) {
    let end = start + 1;
    while (end < order.length && better(values[order[start]!]!, values[order[end]!]!) === 0) end++;
    // Positions start..end-1 (0-based) hold ranks start+1..end: their average.
    const shared = (start + 1 + end) / 2;
    for (let k = start; k < end; k++) ranks[order[k]!] = shared;
    start = end;
  }
  return ranks;
}

/**
 * Ranks methods on each metric and by their mean rank over the metrics.
 *
 * @param means method name -> metric name -> value (the mean over the test set). Every method needs a number for
 *   every metric of `directions`; other keys are ignored.
 * @param directions metric name -> 'higher' or 'lower' (from the metric registry's `higherIsBetter`). Its keys are
 *   the metrics ranked; at least one.
 * @returns the methods sorted by mean rank, best first; equal mean ranks keep the order of `means`. Per metric, rank
 *   1 is the best value; ties share the average rank (see {@link rankValues}; NaN ranks below every number).
 * @throws usage error for an empty `directions`, a bad direction, or a method lacking a metric's value.
 * @example
 * rankMethods({ a: { EN: 7, MSE: 0.2 }, b: { EN: 6, MSE: 0.1 } }, { EN: 'higher', MSE: 'lower' })
 * // [{ name: 'a', ranks: { EN: 1, MSE: 2 }, meanRank: 1.5 }, { name: 'b', ranks: { EN: 2, MSE: 1 }, meanRank: 1.5 }]
 */
export function rankMethods(
  means: Readonly<Record<string, Readonly<Record<string, number>>>>,
  directions: Readonly<Record<string, Direction>>,
): MethodRank[] {
  if (means === null || typeof means !== 'object') throw invalidParameter('means', 'an object of method -> metric -> value', means);
  if (directions === null || typeof directions !== 'object') throw invalidParameter('directions', 'an object of metric -> direction', directions);
  const names = Object.keys(means);
  const metrics = Object.keys(directions);
  if (metrics.length === 0) throw invalidParameter('directions', 'at least one metric', directions);
  for (const n of names) {
    for (const m of metrics) {
      if (typeof means[n]?.[m] !== 'number') throw invalidParameter(`the ${m} value of method '${n}'`, 'a number', means[n]?.[m]);
    }
  }
  const ranks: Record<string, number>[] = names.map(() => ({}));
  for (const m of metrics) {
    const r = rankValues(names.map((n) => means[n]![m]!), directions[m]!);
    r.forEach((v, i) => (ranks[i]![m] = v));
  }
  const rows = names.map((name, i) => ({ name, ranks: ranks[i]!, meanRank: metrics.reduce((s, m) => s + ranks[i]![m]!, 0) / metrics.length }));
  // Array.prototype.sort is stable: equal mean ranks keep the input order.
  return rows.sort((a, b) => a.meanRank - b.meanRank);
}
