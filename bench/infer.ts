/**
 * ISFuse inference benchmark: warm median time per pair of the network alone (no decoding, colour or
 * encoding), with backend and machine metadata.
 *
 *   npx tsx bench/infer.ts [--size HxW] [--backend NAME[,NAME...]] [--runs N] [--threads N] [--torch] [--json]
 *
 * --size: default 480x640. --backend: any of src/model/backend.ts (default auto); a comma list runs each in
 * turn. --runs: timed runs after one warm-up (default 5). --threads: onnxruntime intra-op threads (default 1).
 * --torch: also time the PyTorch reference (tools/bench_torch_infer.py, 2 threads) in the same run.
 * Weights: random (PyTorch default initialisation); speed does not depend on them.
 */
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { benchInfer, type BenchInferResult } from '../src/bench/infer.js';
import { machineInfo } from '../src/bench/stats.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const [h, w] = arg('size', '480x640').toLowerCase().split('x').map(Number) as [number, number];
const runs = Number(arg('runs', '5'));
const threads = Number(arg('threads', '1'));
const backends = arg('backend', 'auto').split(',');
if (!(h >= 4 && w >= 4 && runs >= 1)) throw new Error('usage: bench/infer.ts [--size HxW] [--backend NAME] [--runs N] [--json]');

const results: BenchInferResult[] = [];
for (const backend of backends) {
  const r = await benchInfer({ height: h, width: w, backend, runs, threads });
  results.push(r);
  if (!flag('json')) console.log(`${r.backend} (${r.description}) ${r.size}: median ${r.medianMs.toFixed(0)} ms (min ${r.minMs.toFixed(0)}, max ${r.maxMs.toFixed(0)}, first ${r.firstMs.toFixed(0)}, ${runs} runs)`);
}

let torch: unknown;
if (flag('torch')) {
  const tool = fileURLToPath(new URL('../tools/bench_torch_infer.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [tool, '--size', `${h}x${w}`, '--runs', String(runs), '--json'], { encoding: 'utf8' });
  torch = r.status === 0 ? JSON.parse(r.stdout) : { error: r.stderr.trim().split('\n').pop() };
  if (!flag('json')) console.log(r.status === 0 ? `PyTorch: median ${(torch as { median_ms: number }).median_ms.toFixed(0)} ms` : `PyTorch: ${(torch as { error: string }).error}`);
}

const machine = machineInfo();
if (flag('json')) console.log(JSON.stringify({ machine, results, torch }, null, 2));
else console.log(`machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, load ${(machine.loadavg as number[]).join(' ')}, node ${machine.node}`);
