/**
 * Metric benchmark: seconds per image pair for each metric of the mmif and vifb conventions on the MSRS test set
 * (../shared/data/MSRS/test, 361 pairs of 640x480), with the Python reference of the mmif convention measured in
 * the same run as the baseline.
 *
 *   npx tsx bench/metrics.ts [--convention mmif|vifb] [--limit N] [--repeats R] [--python N] [--json] [--out FILE]
 *
 * --convention: one convention (default: both). --limit: first N pairs (default all). --repeats: timed passes
 * over the pairs after the warm-up (default 3); each pair's time is the median of its repeats. --python: pairs
 * for the Python baseline (tools/mmif_reference.py bench, numpy/scipy/scikit-image/scikit-learn/OpenCV, the same
 * formulas and float32 arrays as CDDFuse's Evaluator.py; default 3, 0 = off; needs /usr/bin/python3 with those
 * packages). --json: print only the JSON document; --out: also write it to FILE.
 *
 * The fused image is computed in-process (no fused folder ships with the data): the rounded per-pixel average
 * of the two sources (mmif: floor((A + B + 1) / 2) on the gray reads; vifb: the same per RGB channel, the
 * 1-channel infrared image reused for each channel). Decoding is timed separately and is not part of the metric
 * times. Reported per metric: median, p10 and p90 over pairs of the per-pair median, and the mean; per pair: the
 * sum over metrics (same statistics), plus wall and CPU time of the whole timed loop divided by the pair count
 * (the CPU time shows how much a loaded machine inflated the wall time). Single thread; `isfuse eval` spreads
 * pairs over worker threads on top of this.
 */
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { plane64 } from '../src/core/image.js';
import { loadMmif, loadVifb } from '../src/metrics/load.js';
import { mmifMetrics } from '../src/metrics/mmif/index.js';
import type { MmifInputs, Plane64, VifbInputs } from '../src/metrics/types.js';
import { vifbInputs, vifbMetrics } from '../src/metrics/vifb/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);
const jsonOnly = flag('json');
const log = (s: string): void => {
  if (!jsonOnly) console.log(s);
};

const SET = path.resolve('..', 'shared', 'data', 'MSRS', 'test');
if (!existsSync(SET)) {
  console.error(`bench/metrics.ts: ${SET} absent (the MSRS test set of the shared data pack is needed)`);
  process.exit(1);
}
const conventionArg = arg('convention', 'both');
if (!['mmif', 'vifb', 'both'].includes(conventionArg)) throw new Error(`--convention: expected mmif, vifb or both but received ${conventionArg}`);
const conventions = conventionArg === 'both' ? ['mmif', 'vifb'] : [conventionArg];
const names = readdirSync(path.join(SET, 'ir')).filter((n) => n.endsWith('.png')).sort();
const limit = Number(arg('limit', String(names.length)));
const repeats = Number(arg('repeats', '3'));
const pythonPairs = Number(arg('python', '3'));
if (!(limit >= 1 && repeats >= 1 && pythonPairs >= 0)) throw new Error('usage: bench/metrics.ts [--convention mmif|vifb] [--limit N] [--repeats R] [--python N] [--json] [--out FILE]');
const pairs = names.slice(0, limit);

const quantile = (sorted: number[], q: number): number => {
  const i = (sorted.length - 1) * q, lo = Math.floor(i), hi = Math.ceil(i);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (i - lo);
};
const median = (a: number[]): number => quantile([...a].sort((x, y) => x - y), 0.5);
function stats(a: number[]): { median_s: number; p10_s: number; p90_s: number; mean_s: number } {
  const s = [...a].sort((x, y) => x - y);
  return { median_s: quantile(s, 0.5), p10_s: quantile(s, 0.1), p90_s: quantile(s, 0.9), mean_s: a.reduce((x, y) => x + y, 0) / a.length };
}

interface Suite<I> {
  metrics: { name: string; compute(i: I): number }[];
  load(name: string): Promise<I>;
}

const average = (a: Plane64, b: Plane64): Plane64 => plane64(a.width, a.height, a.data.map((v, i) => Math.floor((v + b.data[i]! + 1) / 2)));

const suites: Record<string, Suite<MmifInputs> | Suite<VifbInputs>> = {
  mmif: {
    metrics: mmifMetrics,
    async load(name) {
      const ir = await loadMmif(path.join(SET, 'ir', name)), vis = await loadMmif(path.join(SET, 'vi', name));
      return { ir, vis, fused: average(ir, vis) };
    },
  } satisfies Suite<MmifInputs>,
  vifb: {
    metrics: vifbMetrics,
    async load(name) {
      const ir = await loadVifb(path.join(SET, 'ir', name)), vis = await loadVifb(path.join(SET, 'vi', name));
      const fused = vis.map((v, k) => average(ir.length === 1 ? ir[0]! : ir[k]!, v));
      return vifbInputs(ir, vis, fused);
    },
  } satisfies Suite<VifbInputs>,
};

async function run<I>(conv: string, suite: Suite<I>): Promise<Record<string, unknown>> {
  log(`\n${conv}: ${pairs.length} pairs, ${repeats} repeat(s)`);
  const t0 = performance.now();
  const inputs: I[] = [];
  for (const name of pairs) inputs.push(await suite.load(name));
  const decodePerPair = (performance.now() - t0) / 1000 / pairs.length;
  // Warm-up: every metric on the first three pairs (JIT compilation), not timed.
  for (const inp of inputs.slice(0, 3)) for (const m of suite.metrics) m.compute(inp);
  const times: number[][][] = suite.metrics.map(() => pairs.map(() => []));
  const cpu0 = process.cpuUsage();
  const w0 = performance.now();
  for (let r = 0; r < repeats; r++) {
    for (let p = 0; p < inputs.length; p++) {
      for (let k = 0; k < suite.metrics.length; k++) {
        const t = performance.now();
        suite.metrics[k]!.compute(inputs[p]!);
        times[k]![p]!.push((performance.now() - t) / 1000);
      }
    }
  }
  const wallPerPair = (performance.now() - w0) / 1000 / (repeats * pairs.length);
  const cpu = process.cpuUsage(cpu0);
  const cpuPerPair = (cpu.user + cpu.system) / 1e6 / (repeats * pairs.length);
  const perPairMedian = times.map((byPair) => byPair.map(median));
  const perMetric: Record<string, ReturnType<typeof stats>> = {};
  suite.metrics.forEach((m, k) => (perMetric[m.name] = stats(perPairMedian[k]!)));
  const totals = pairs.map((_, p) => perPairMedian.reduce((s, byPair) => s + byPair[p]!, 0));
  const total = stats(totals);
  for (const m of suite.metrics) {
    const s = perMetric[m.name]!;
    log(`  ${m.name.padEnd(18)} median ${(s.median_s * 1000).toFixed(2).padStart(8)} ms  p10 ${(s.p10_s * 1000).toFixed(2).padStart(8)}  p90 ${(s.p90_s * 1000).toFixed(2).padStart(8)}`);
  }
  log(`  ${'all metrics'.padEnd(18)} median ${(total.median_s * 1000).toFixed(1).padStart(8)} ms per pair (p10 ${(total.p10_s * 1000).toFixed(1)}, p90 ${(total.p90_s * 1000).toFixed(1)}); wall ${(wallPerPair * 1000).toFixed(1)} ms, CPU ${(cpuPerPair * 1000).toFixed(1)} ms per pair; decoding ${(decodePerPair * 1000).toFixed(1)} ms per pair`);
  return { convention: conv, pairs: pairs.length, repeats, per_metric: perMetric, total_per_pair: total, wall_per_pair_s: wallPerPair, cpu_per_pair_s: cpuPerPair, decode_per_pair_s: decodePerPair };
}

const loadStart = loadavg();

// The Python baseline runs first, right before our mmif pass, so that both see similar machine load; the CPU
// times (less sensitive to load than wall times) are compared as well.
let python: Record<string, unknown> | undefined;
if (conventions.includes('mmif') && pythonPairs > 0) {
  const tool = fileURLToPath(new URL('../tools/mmif_reference.py', import.meta.url));
  const n = Math.min(pythonPairs, pairs.length);
  log(`Python reference (mmif, first ${n} pairs)...`);
  const r = spawnSync('/usr/bin/python3', [tool, 'bench', SET, '--limit', String(n)], { encoding: 'utf8' });
  if (r.status === 0) {
    python = JSON.parse(r.stdout) as Record<string, unknown>;
    log(`  Python: ${((python.total_median_s as number) * 1000).toFixed(0)} ms per pair (median wall), CPU ${((python.cpu_per_pair_s as number) * 1000).toFixed(0)} ms per pair`);
    for (const [k, v] of Object.entries(python.median_s as Record<string, number>)) log(`    ${k.padEnd(6)} ${(v * 1000).toFixed(1)} ms`);
  } else {
    python = { error: (r.stderr || String(r.error)).trim().split('\n').pop() };
    log(`  Python reference unavailable: ${python.error as string}`);
  }
}

const results: Record<string, unknown>[] = [];
for (const c of conventions) results.push(await run(c, suites[c] as Suite<unknown>));

if (python && !python.error) {
  const ours = results.find((x) => x.convention === 'mmif')!;
  const wall = (python.total_median_s as number) / (ours.total_per_pair as { median_s: number }).median_s;
  const cpu = (python.cpu_per_pair_s as number) / (ours.cpu_per_pair_s as number);
  python.speedup_wall_median = wall;
  python.speedup_cpu = cpu;
  log(`\nmmif speed-up over the Python reference: ${wall.toFixed(1)}x (median wall per pair), ${cpu.toFixed(1)}x (CPU per pair)`);
}

const machine = {
  cpu: cpus()[0]?.model, logicalCpus: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadavg_start: loadStart.map((x) => +x.toFixed(2)), loadavg_end: loadavg().map((x) => +x.toFixed(2)),
  node: process.version, v8: process.versions.v8, platform: `${process.platform}-${process.arch}`, date: new Date().toISOString(),
};
const doc = { benchmark: 'isfuse metrics', data: 'MSRS/test (640x480)', machine, results, python_reference: python };
log(`\nmachine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, load ${machine.loadavg_start.join(' ')} -> ${machine.loadavg_end.join(' ')}, node ${machine.node}`);
if (jsonOnly) console.log(JSON.stringify(doc, null, 2));
const out = arg('out', '');
if (out) writeFileSync(out, `${JSON.stringify(doc, null, 2)}\n`);
