/**
 * Histograms, entropies and mutual information on sample values.
 *
 * Two paths everywhere: a dense 256-bin (256x256 joint) path when every sample is an integer 0..255 (what the
 * loaders produce), and an exact general path for arbitrary finite values (each distinct value is its own
 * bin, as scikit-learn's contingency tables do).
 */
import { isByteValued } from './validate.js';

/** Counts of each value 0..255; the caller guarantees integer samples in 0..255. */
export function histogram256(x: Float64Array): Float64Array {
  const h = new Float64Array(256);
  for (let i = 0; i < x.length; i++) h[x[i]!]!++;
  return h;
}

/**
 * Shannon entropy in bits of a histogram given as counts: `-sum p log2 p` over bins with p > 0,
 * `p = count / total`, summed in bin order (as CDDFuse's `-sum(h * log2(h))`).
 */
export function entropyBits(counts: Float64Array, total: number): number {
  let s = 0;
  for (let b = 0; b < counts.length; b++) {
    const c = counts[b]!;
    if (c > 0) {
      const p = c / total;
      s += p * Math.log2(p);
    }
  }
  return s === 0 ? 0 : -s; // never -0
}

/** Maps each sample to the index of its value among the sorted distinct values; returns labels and count. */
function labelValues(x: Float64Array): { labels: Int32Array; count: number } {
  const sorted = Float64Array.from(x).sort();
  const uniq: number[] = [];
  for (let i = 0; i < sorted.length; i++) if (i === 0 || sorted[i] !== sorted[i - 1]) uniq.push(sorted[i]!);
  const index = new Map<number, number>();
  uniq.forEach((v, i) => index.set(v, i));
  const labels = new Int32Array(x.length);
  for (let i = 0; i < x.length; i++) labels[i] = index.get(x[i]!)!;
  return { labels, count: uniq.length };
}

/**
 * Mutual information in nats between the exact values of `x` and `y`, reproducing scikit-learn's
 * `mutual_info_score(x, y)` (sklearn 1.2, `metrics/cluster/_supervised.py`) term for term:
 * for each non-empty contingency cell with count n_ij, marginals a_i, b_j and total N,
 * `term = (n/N) (ln n - ln N) + (n/N) (-ln(a_i b_j) + ln N + ln N)`; terms with |term| < 2.2e-16 are set to 0;
 * the sum is clipped at 0; the result is exactly 0 when either input has a single distinct value.
 * Cells are visited in sklearn's order (x values ascending, then y values ascending).
 *
 * Cost: O(N + 65536) for byte-valued inputs (dense joint histogram), O(N log N) otherwise.
 */
export function mutualInfoNats(x: Float64Array, y: Float64Array): number {
  if (x.length !== y.length) throw new RangeError('mutualInfoNats: inputs differ in length');
  const n = x.length;
  if (isByteValued(x) && isByteValued(y)) {
    const joint = new Float64Array(65536);
    for (let i = 0; i < n; i++) joint[(x[i]! << 8) | y[i]!]!++;
    return miFromDense(joint, 256, 256, n);
  }
  const lx = labelValues(x), ly = labelValues(y);
  if (lx.count === 1 || ly.count === 1) return 0;
  if (lx.count * ly.count <= 1 << 22) {
    const joint = new Float64Array(lx.count * ly.count);
    for (let i = 0; i < n; i++) joint[lx.labels[i]! * ly.count + ly.labels[i]!]!++;
    return miFromDense(joint, lx.count, ly.count, n);
  }
  // Sparse: sort the cell keys (exact in float64: key < count_x * count_y <= N^2 < 2^53 for N < 9.4e7).
  const keys = new Float64Array(n);
  for (let i = 0; i < n; i++) keys[i] = lx.labels[i]! * ly.count + ly.labels[i]!;
  keys.sort();
  const ax = new Float64Array(lx.count), by = new Float64Array(ly.count);
  for (let i = 0; i < n; i++) {
    ax[lx.labels[i]!]!++;
    by[ly.labels[i]!]!++;
  }
  const cells: number[] = [], counts: number[] = [];
  for (let i = 0; i < n; ) {
    let j = i + 1;
    while (j < n && keys[j] === keys[i]) j++;
    cells.push(keys[i]!);
    counts.push(j - i);
    i = j;
  }
  const lnN = Math.log(n);
  let s = 0;
  for (let c = 0; c < cells.length; c++) {
    const key = cells[c]!;
    const i = Math.floor(key / ly.count), j = key - i * ly.count;
    s += miTerm(counts[c]!, ax[i]! * by[j]!, n, lnN);
  }
  return s > 0 ? s : 0;
}

function miTerm(nij: number, outer: number, n: number, lnN: number): number {
  const p = nij / n;
  const t = p * (Math.log(nij) - lnN) + p * (-Math.log(outer) + lnN + lnN);
  return Math.abs(t) < 2.220446049250313e-16 ? 0 : t;
}

function miFromDense(joint: Float64Array, nx: number, ny: number, n: number): number {
  const ax = new Float64Array(nx), by = new Float64Array(ny);
  let kx = 0, ky = 0;
  for (let i = 0; i < nx; i++) {
    const r = i * ny;
    let s = 0;
    for (let j = 0; j < ny; j++) {
      const c = joint[r + j]!;
      s += c;
      by[j]! += c;
    }
    ax[i] = s;
  }
  for (let i = 0; i < nx; i++) if (ax[i]! > 0) kx++;
  for (let j = 0; j < ny; j++) if (by[j]! > 0) ky++;
  if (kx <= 1 || ky <= 1) return 0;
  const lnN = Math.log(n);
  let s = 0;
  for (let i = 0; i < nx; i++) {
    const a = ax[i]!;
    if (a === 0) continue;
    const r = i * ny;
    for (let j = 0; j < ny; j++) {
      const c = joint[r + j]!;
      if (c !== 0) s += miTerm(c, a * by[j]!, n, lnN);
    }
  }
  return s > 0 ? s : 0;
}
