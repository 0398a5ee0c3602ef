/**
 * Border extension rules: map an index that may lie outside `[0, n)` to the sample it reads.
 *
 * Named as OpenCV / PyWavelets name them, for a row `a b c d` (n = 4):
 *
 * | rule        | left extension | right extension | used by                                   |
 * |-------------|----------------|-----------------|-------------------------------------------|
 * | replicate   | `a a a`        | `d d d`         | MATLAB `imfilter(..., 'replicate')`       |
 * | reflect101  | `d c b`        | `c b a`         | OpenCV `BORDER_REFLECT_101` (pyrDown/Up)  |
 * | symmetric   | `c b a`        | `d c b`         | PyWavelets `'symmetric'`, MATLAB `'sym'`  |
 *
 * Every rule is applied repeatedly when the overshoot exceeds the row (periodic in effect), so any
 * integer index and any `n >= 1` are valid.
 */

/** Replicate the edge sample: `clamp(i, 0, n - 1)`. Requires `n >= 1`. */
export function replicateIndex(i: number, n: number): number {
  return i < 0 ? 0 : i >= n ? n - 1 : i;
}

/**
 * Reflect about the edge sample, without repeating it (OpenCV `BORDER_REFLECT_101`, `gfedcb|abcdefgh|gfedcba`).
 * Period `2n - 2`; for `n = 1` every index maps to 0, as OpenCV's `borderInterpolate` does.
 */
export function reflect101Index(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  if (n === 1) return 0;
  const period = 2 * n - 2;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - m;
}

/**
 * Half-sample symmetric reflection, repeating the edge sample (`fedcba|abcdef|fedcba`; PyWavelets
 * `'symmetric'`, MATLAB `dwtmode('sym')`, NumPy `pad(..., 'symmetric')`). Period `2n`.
 */
export function symmetricIndex(i: number, n: number): number {
  if (i >= 0 && i < n) return i;
  const period = 2 * n;
  const m = ((i % period) + period) % period;
  return m < n ? m : period - 1 - m;
}
