/**
 * Intensity inversions of fused images, measured against both sources (docs/QUALITY.md#inversions).
 *
 *   npx tsx bench/inversions.ts --ir-dir D/ir --vis-dir D/vi --fused NAME=DIR [--fused NAME=DIR ...] [--block 32] [--json]
 *
 * Two per-pair rates, on the mmif gray read (values 0..255), averaged over the pairs:
 * - `local`: the share of blocks (block x block pixels; both sources textured: SD >= 2 grey levels) where the fused
 *   image correlates negatively with both sources (Pearson r < 0 with each): structure that neither input has the
 *   polarity of, e.g. a dark object turned bright or a halo.
 * - `order`: the share of neighbouring block pairs whose brightness order both sources agree on (both block-mean
 *   differences >= 8 grey levels and of one sign) that the fused image reverses (difference of the other sign,
 *   >= 4 grey levels): a region made brighter than its neighbour where both inputs show it darker.
 * - `outside`: the share of pixels where the fused value lies more than 16 grey levels outside the sources' range
 *   [min(ir, vis), max(ir, vis)] there: intensity that neither input shows, e.g. a black background turned grey, or
 *   a halo.
 * All three are 0 for any per-pixel convex combination of the sources with fixed weights, whatever the weights
 * (`outside` for every per-pixel convex combination).
 */
import { loadavg } from 'node:os';
import { pairByStem } from '../src/io/folders.js';
import { loadMmif } from '../src/metrics/load.js';
import type { Plane64 } from '../src/metrics/types.js';

interface Rates {
  local: number;
  order: number;
  outside: number;
}

const RATE_NAMES = ['local', 'order', 'outside'] as const;

function args(): { ir: string; vis: string; fused: { name: string; dir: string }[]; block: number; json: boolean } {
  const a = process.argv.slice(2);
  const get = (k: string): string | undefined => {
    const i = a.indexOf(k);
    return i >= 0 ? a[i + 1] : undefined;
  };
  const fused = a.flatMap((v, i) => (a[i - 1] === '--fused' ? [v] : [])).map((v) => {
    const eq = v.indexOf('=');
    if (eq <= 0) throw new Error(`--fused wants NAME=DIR, got '${v}'`);
    return { name: v.slice(0, eq), dir: v.slice(eq + 1) };
  });
  const ir = get('--ir-dir'), vis = get('--vis-dir');
  if (!ir || !vis || fused.length === 0) throw new Error('usage: bench/inversions.ts --ir-dir D --vis-dir D --fused NAME=DIR [...] [--block 32] [--json]');
  return { ir, vis, fused, block: Number(get('--block') ?? 32), json: a.includes('--json') };
}

/** Block means, and per block the Pearson correlation of f with each source (NaN where a source is flat). */
function blocks(ir: Plane64, vis: Plane64, f: Plane64, b: number): { mean: Float64Array[]; rows: number; cols: number; local: number } {
  const rows = Math.floor(ir.height / b), cols = Math.floor(ir.width / b);
  const mean = [new Float64Array(rows * cols), new Float64Array(rows * cols), new Float64Array(rows * cols)];
  let textured = 0, inverted = 0;
  const planes = [ir.data, vis.data, f.data];
  for (let by = 0; by < rows; by++) {
    for (let bx = 0; bx < cols; bx++) {
      const s = [0, 0, 0], ss = [0, 0, 0], sf = [0, 0];
      for (let y = by * b; y < (by + 1) * b; y++) {
        for (let x = bx * b; x < (bx + 1) * b; x++) {
          const i = y * ir.width + x;
          const v = [planes[0]![i]!, planes[1]![i]!, planes[2]![i]!];
          for (let k = 0; k < 3; k++) { s[k]! += v[k]!; ss[k]! += v[k]! * v[k]!; }
          sf[0]! += v[0]! * v[2]!; sf[1]! += v[1]! * v[2]!;
        }
      }
      const n = b * b;
      for (let k = 0; k < 3; k++) mean[k]![by * cols + bx] = s[k]! / n;
      const vr = s.map((sk, k) => ss[k]! / n - (sk / n) ** 2);
      if (Math.sqrt(Math.max(0, vr[0]!)) < 2 || Math.sqrt(Math.max(0, vr[1]!)) < 2 || vr[2]! <= 0) continue;
      textured++;
      const r = [0, 1].map((k) => (sf[k]! / n - (s[k]! / n) * (s[2]! / n)) / Math.sqrt(vr[k]! * vr[2]!));
      if (r[0]! < 0 && r[1]! < 0) inverted++;
    }
  }
  return { mean, rows, cols, local: textured > 0 ? inverted / textured : 0 };
}

function rates(ir: Plane64, vis: Plane64, f: Plane64, b: number): Rates {
  const { mean, rows, cols, local } = blocks(ir, vis, f, b);
  let ordered = 0, reversed = 0;
  const visit = (p: number, q: number): void => {
    const dI = mean[0]![p]! - mean[0]![q]!, dV = mean[1]![p]! - mean[1]![q]!, dF = mean[2]![p]! - mean[2]![q]!;
    if (Math.abs(dI) < 8 || Math.abs(dV) < 8 || Math.sign(dI) !== Math.sign(dV)) return;
    ordered++;
    if (Math.sign(dF) === -Math.sign(dI) && Math.abs(dF) >= 4) reversed++;
  };
  for (let y = 0; y < rows; y++) {
    for (let x = 0; x < cols; x++) {
      if (x + 1 < cols) visit(y * cols + x, y * cols + x + 1);
      if (y + 1 < rows) visit(y * cols + x, (y + 1) * cols + x);
    }
  }
  let out = 0;
  for (let i = 0; i < f.data.length; i++) {
    const a = ir.data[i]!, v = vis.data[i]!, x = f.data[i]!;
    if (x > Math.max(a, v) + 16 || x < Math.min(a, v) - 16) out++;
  }
  return { local, order: ordered > 0 ? reversed / ordered : 0, outside: out / f.data.length };
}

async function main(): Promise<void> {
  const o = args();
  const load0 = loadavg()[0]!;
  const pairing = await pairByStem([{ dir: o.ir, what: '--ir-dir' }, { dir: o.vis, what: '--vis-dir' }, ...o.fused.map((m) => ({ dir: m.dir, what: m.name }))]);
  const result: Record<string, Rates & { pairs: number }> = {};
  const sums: Rates[] = o.fused.map(() => ({ local: 0, order: 0, outside: 0 }));
  for (const row of pairing.pairs) {
    const [ir, vis] = await Promise.all([loadMmif(row.paths[0]!), loadMmif(row.paths[1]!)]);
    for (let m = 0; m < o.fused.length; m++) {
      const r = rates(ir, vis, await loadMmif(row.paths[m + 2]!), o.block);
      for (const k of RATE_NAMES) sums[m]![k] += r[k];
    }
  }
  const n = pairing.pairs.length;
  o.fused.forEach((m, i) => (result[m.name] = { local: sums[i]!.local / n, order: sums[i]!.order / n, outside: sums[i]!.outside / n, pairs: n }));
  if (o.json) {
    process.stdout.write(`${JSON.stringify({ block: o.block, load: [load0, loadavg()[0]], methods: result }, null, 2)}\n`);
    return;
  }
  process.stdout.write(`| method | local inversions (share of textured ${o.block}x${o.block} blocks) | order reversals (share of ordered neighbour pairs) | outside the sources' range (share of pixels) | pairs |\n|---|---:|---:|---:|---:|\n`);
  const pct = (x: number): string => `${(100 * x).toFixed(2)}%`;
  for (const [name, r] of Object.entries(result)) process.stdout.write(`| ${name} | ${pct(r.local)} | ${pct(r.order)} | ${pct(r.outside)} | ${r.pairs} |\n`);
}

await main();
