/**
 * isfuse's WebGPU 3x3 convolution kernels (src/model/webgpu/conv3x3.ts) against TensorFlow.js's stock webgpu
 * kernels, side by side on the same adapter in one headless Chromium: median ms per call and the ratio.
 *
 *   npx tsx bench/webgpu-kernels.ts [--size NxSxC] [--calls K] [--runs R] [--ops a,b] [--gpu] [--json]
 *
 * --size: batch x side x channels (default 1x64x32: the software adapter is slow; a real GPU wants
 * 16x256x32). Ops: forward, dx, dw (one convolution kernel each), block (the training block, forward and
 * backward, with isfuse's convolutions either way: fused BatchNorm against the stock composition), attention
 * (the CFI's pooled attention pair, forward and backward: the one-pass kernel against the stock composition).
 * --ops: which of them (default all). --calls: calls per timed batch (default 5). --runs: timed batches after a warm-up (default 5).
 * Runs on Chromium's software adapter, SwiftShader (a CPU implementation: the times say how each kernel
 * fares on a CPU, not on a GPU), or with --gpu on the GPU that Chromium's Vulkan driver offers.
 */
import { fileURLToPath } from 'node:url';
import { openWebGpuPage } from '../test/webgpu/browser.js';
import { machineInfo } from '../src/bench/stats.js';
import type { KernelOp } from './webgpu-kernels-page.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const [n, s, c] = arg('size', '1x64x32').toLowerCase().split('x').map(Number) as [number, number, number];
const calls = Number(arg('calls', '5'));
const runs = Number(arg('runs', '5'));
if (!(n >= 1 && s >= 3 && c >= 1 && calls >= 1 && runs >= 1)) throw new Error('usage: bench/webgpu-kernels.ts [--size NxSxC] [--calls K] [--runs R] [--json]');

const wg = await openWebGpuPage(fileURLToPath(new URL('./webgpu-kernels-page.ts', import.meta.url)), process.argv.includes('--gpu') ? 'gpu' : 'swiftshader');
type Timed = { medianMs: number; runsMs: number[] };
const call = (op: KernelOp, ours: boolean): Promise<Timed> =>
  wg.page.evaluate((a) => (window as unknown as { timeOp: (...x: unknown[]) => Promise<Timed> }).timeOp(...a), [op, n, s, c, ours, calls, runs] as const);
const adapter = await wg.page.evaluate(() => (window as unknown as { adapterInfo(): Promise<string> }).adapterInfo());
const rows = [];
try {
  const all: KernelOp[] = ['forward', 'dx', 'dw', 'block', 'attention'];
  const ops = arg('ops', all.join(',')).split(',') as KernelOp[];
  if (ops.some((o) => !all.includes(o))) throw new Error(`--ops: any of ${all.join(', ')}`);
  for (const op of ops) {
    // alternate stock and isfuse so that machine noise falls on both
    const stock: number[] = [], ours: number[] = [];
    for (let r = 0; r < 2; r++) {
      stock.push((await call(op, false)).medianMs);
      ours.push((await call(op, true)).medianMs);
    }
    const med = (v: number[]) => [...v].sort((a, b) => a - b)[Math.floor(v.length / 2)]!;
    rows.push({ op, stockMs: med(stock), isfuseMs: med(ours), speedup: med(stock) / med(ours) });
    const errors = wg.takeConsoleErrors();
    if (errors.length) throw new Error(`page errors: ${errors.join('; ')}`);
  }
} finally {
  await wg.close();
}
const result = { adapter, size: `${n}x${s}x${s}x${c}`, calls, runs, machine: machineInfo(), rows };
if (process.argv.includes('--json')) console.log(JSON.stringify(result, null, 2));
else {
  console.log(`WebGPU adapter: ${adapter}; [${n}, ${s}, ${s}, ${c}] -> ${c}, 3x3; median ms per call (${runs} batches of ${calls}, stock and isfuse alternated)`);
  for (const r of rows) console.log(`${r.op.padEnd(8)} stock ${r.stockMs.toFixed(1).padStart(9)}  isfuse ${r.isfuseMs.toFixed(1).padStart(9)}  ${r.speedup.toFixed(2)}x`);
}
