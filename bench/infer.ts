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
import { cpus, loadavg, totalmem } from 'node:os';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { initStateValues } from '../src/model/isfuse.js';
import { createRunner } from '../src/model/runner.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1] : fallback;
}
const flag = (name: string): boolean => process.argv.includes(`--${name}`);

const [h, w] = arg('size', '480x640').toLowerCase().split('x').map(Number);
const runs = Number(arg('runs', '5'));
const threads = Number(arg('threads', '1'));
const backends = arg('backend', 'auto').split(',');
if (!(h >= 4 && w >= 4 && runs >= 1)) throw new Error('usage: bench/infer.ts [--size HxW] [--backend NAME] [--runs N] [--json]');

const values = initStateValues(0);
const vi = Float32Array.from({ length: h * w }, (_, i) => ((i * 2654435761) % 1000) / 1000);
const ir = Float32Array.from({ length: h * w }, (_, i) => ((i * 40503) % 997) / 997);

const median = (a: number[]): number => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

const results: Record<string, unknown>[] = [];
for (const name of backends) {
  const runner = await createRunner(values, name, { threads });
  const t0 = performance.now();
  await runner.run(vi, ir, h, w);
  const firstMs = performance.now() - t0;
  const times: number[] = [];
  for (let i = 0; i < runs; i++) {
    const t = performance.now();
    await runner.run(vi, ir, h, w);
    times.push(performance.now() - t);
  }
  runner.dispose();
  const r = {
    backend: runner.backend.name, description: runner.backend.description, size: `${h}x${w}`, runs,
    median_ms: median(times), min_ms: Math.min(...times), max_ms: Math.max(...times), first_ms: firstMs, times_ms: times,
    ...(runner.backend.engine === 'onnx' ? { threads } : {}),
  };
  results.push(r);
  if (!flag('json')) console.log(`${r.backend} (${r.description}) ${r.size}: median ${r.median_ms.toFixed(0)} ms (min ${r.min_ms.toFixed(0)}, max ${r.max_ms.toFixed(0)}, first ${firstMs.toFixed(0)}, ${runs} runs)`);
}

let torch: unknown;
if (flag('torch')) {
  const tool = fileURLToPath(new URL('../tools/bench_torch_infer.py', import.meta.url));
  const r = spawnSync('/usr/bin/python3', [tool, '--size', `${h}x${w}`, '--runs', String(runs), '--json'], { encoding: 'utf8' });
  torch = r.status === 0 ? JSON.parse(r.stdout) : { error: r.stderr.trim().split('\n').pop() };
  if (!flag('json')) console.log(r.status === 0 ? `PyTorch: median ${(torch as { median_ms: number }).median_ms.toFixed(0)} ms` : `PyTorch: ${(torch as { error: string }).error}`);
}

const machine = {
  cpu: cpus()[0]?.model, logicalCpus: cpus().length, memGiB: +(totalmem() / 2 ** 30).toFixed(1),
  loadavg: loadavg().map((x) => +x.toFixed(2)), node: process.version, platform: `${process.platform}-${process.arch}`,
  date: new Date().toISOString(),
};
if (flag('json')) console.log(JSON.stringify({ machine, results, torch }, null, 2));
else console.log(`machine: ${machine.cpu}, ${machine.logicalCpus} logical CPUs, load ${machine.loadavg.join(' ')}, node ${machine.node}`);
