/**
 * Quick vifb micro-benchmark: median milliseconds per metric and per triple over a few MSRS test triples
 * (../shared/data/MSRS/test: 1-channel infrared, RGB visible, fused = floor((ir + vi_k + 1) / 2) per channel, as
 * bench/metrics.ts builds it), with the machine's load average before and after.
 *
 *   npx tsx bench/vifb.ts [--n 5] [--repeats 5] [--only Qcb,Ssim] [--save FILE] [--check FILE]
 *
 * --n: triples (default 5). --repeats: timed passes after one warm-up pass (default 5); each metric's time per
 * triple is the median over passes, and the reported figure the median over triples. --only: a subset of metrics.
 * --save FILE: write the metric values (JSON); --check FILE: compare the values with a saved file and print the
 * largest relative difference per metric (a regression check for speed work: values must not move beyond 1e-9).
 * `ISFUSE_NO_WASM=1` in the environment times the JavaScript fallbacks of the WebAssembly SIMD kernels.
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import path from 'node:path';
import { plane64 } from '../src/core/image.js';
import type { Plane64, VifbInputs } from '../src/metrics/types.js';
import { loadVifb } from '../src/metrics/load.js';
import { vifbInputs, vifbMetrics } from '../src/metrics/vifb/index.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}

const SET = path.resolve('..', 'shared', 'data', 'MSRS', 'test');
const n = Number(arg('n', '5'));
const repeats = Number(arg('repeats', '5'));
const only = arg('only', '');
const metrics = only ? vifbMetrics.filter((m) => only.split(',').includes(m.name)) : vifbMetrics;
const names = readdirSync(path.join(SET, 'ir')).filter((f) => f.endsWith('.png')).sort().slice(0, n);

const average = (a: Plane64, b: Plane64): Plane64 => plane64(a.width, a.height, a.data.map((v, i) => Math.floor((v + b.data[i]! + 1) / 2)));
const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

const triples: VifbInputs[] = [];
for (const name of names) {
  const ir = await loadVifb(path.join(SET, 'ir', name));
  const vis = await loadVifb(path.join(SET, 'vi', name));
  triples.push(vifbInputs(ir, vis, vis.map((v, k) => average(ir.length === 1 ? ir[0]! : ir[k]!, v))));
}

const load0 = loadavg();
const times = new Map<string, number[][]>(metrics.map((m) => [m.name, triples.map(() => [])]));
const values: Record<string, number[]> = Object.fromEntries(metrics.map((m) => [m.name, triples.map(() => NaN)]));
for (let pass = 0; pass <= repeats; pass++) {
  triples.forEach((t, ti) => {
    for (const m of metrics) {
      const t0 = performance.now();
      const v = m.compute(t);
      const dt = performance.now() - t0;
      if (pass > 0) times.get(m.name)![ti]!.push(dt);
      values[m.name]![ti] = v;
    }
  });
}
const load1 = loadavg();

let total = 0;
const totals = triples.map(() => 0);
for (const m of metrics) {
  const perTriple = times.get(m.name)!.map(median);
  perTriple.forEach((v, i) => (totals[i]! += v));
  const med = median(perTriple);
  total += med;
  console.log(`${m.name.padEnd(18)} ${med.toFixed(1).padStart(8)} ms`);
}
console.log(`${'sum of medians'.padEnd(18)} ${total.toFixed(1).padStart(8)} ms;  median per-triple total ${(median(totals) / 1000).toFixed(3)} s`);
console.log(`load average before ${load0.map((v) => v.toFixed(2)).join(' ')}, after ${load1.map((v) => v.toFixed(2)).join(' ')}; ${triples.length} triples x ${repeats} repeats`);

const save = arg('save', '');
if (save) writeFileSync(save, JSON.stringify(values, null, 1));
const check = arg('check', '');
if (check) {
  const ref = JSON.parse(readFileSync(check, 'utf8')) as Record<string, number[]>;
  let worst = 0;
  for (const m of metrics) {
    const a = ref[m.name], b = values[m.name]!;
    if (!a) continue;
    let d = 0;
    b.forEach((v, i) => {
      const r = a[i]!;
      d = Math.max(d, r === v || (Number.isNaN(r) && Number.isNaN(v)) ? 0 : Math.abs(v - r) / Math.max(Math.abs(r), 1e-300));
    });
    worst = Math.max(worst, d);
    console.log(`check ${m.name.padEnd(18)} max rel diff ${d.toExponential(2)}`);
  }
  console.log(`check worst ${worst.toExponential(2)} ${worst <= 1e-9 ? 'OK' : 'FAIL'}`);
}
