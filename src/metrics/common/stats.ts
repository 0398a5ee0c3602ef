/**
 * Basic statistics on float64 samples, two-pass (mean first, then centred sums) as numpy does them.
 * All functions take plain `Float64Array`s of equal length; they never allocate per element.
 */

/** Arithmetic mean; NaN for an empty array. */
export function mean(x: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) s += x[i]!;
  return s / x.length;
}

/** Population standard deviation (ddof = 0, `np.std` default): `sqrt(mean((x - mean(x))^2))`. */
export function stdPopulation(x: Float64Array): number {
  const m = mean(x);
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - m;
    s += d * d;
  }
  return Math.sqrt(s / x.length);
}

/** Mean squared difference `mean((x - y)^2)`. */
export function meanSquaredError(x: Float64Array, y: Float64Array): number {
  let s = 0;
  for (let i = 0; i < x.length; i++) {
    const d = x[i]! - y[i]!;
    s += d * d;
  }
  return s / x.length;
}

/**
 * Pearson correlation `sum (x - x̄)(y - ȳ) / sqrt(sum (x - x̄)^2 * sum (y - ȳ)^2)`.
 * A constant input gives 0/0 = NaN (as numpy does; no epsilon is added).
 */
export function pearson(x: Float64Array, y: Float64Array): number {
  const mx = mean(x), my = mean(y);
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < x.length; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/**
 * Pearson correlation of `x` with the difference `u - v`, without materialising `u - v`
 * (used by SCD: r(A, F - B)). Same arithmetic as `pearson(x, u - v)`: the difference is formed per sample.
 */
export function pearsonWithDifference(x: Float64Array, u: Float64Array, v: Float64Array): number {
  const n = x.length;
  const mx = mean(x);
  let sd = 0;
  for (let i = 0; i < n; i++) sd += u[i]! - v[i]!;
  const md = sd / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx, dy = u[i]! - v[i]! - md;
    sxy += dx * dy;
    sxx += dx * dx;
    syy += dy * dy;
  }
  return sxy / Math.sqrt(sxx * syy);
}

/** Largest sample (NaN if any sample is NaN, -Infinity for an empty array), like `np.max`. */
export function maxOf(x: Float64Array): number {
  let m = -Infinity;
  for (let i = 0; i < x.length; i++) {
    const v = x[i]!;
    if (v > m) m = v;
    else if (v !== v) return NaN;
  }
  return m;
}
