/**
 * Peak resident memory and time of `isfuse fuse` with the default method (isfuse, engine onnx on CPU) per
 * image size, one child process per run (docs/PERFORMANCE.md, "Memory-bounded inference (tiles)").
 *
 *   npx tsx bench/memory.ts [--sizes WxH,...] [--runs N] [--max-runs-mp MP] [--modes auto,tiled,untiled] [--json]
 *
 * --sizes: default 1024x768,2048x1536,4096x4096,8192x8192 (width x height). Inputs: the synthetic street
 *   scene of src/data/synthetic.ts (colour visible, gray infrared) at each size, written as PNG once.
 * --runs: runs per size and mode (default 3), reduced to 1 above --max-runs-mp megapixels (default 8).
 * --modes: auto = the default `isfuse fuse` (untiled up to 1 MP, tiled above); tiled / untiled force one
 *   path (model/runner.ts setDefaultTiling in the child; the CLI has no switch). untiled runs only where the
 *   untiled estimate (model/memory.ts) is below half of this machine's memory. Default: auto,tiled,untiled,
 *   each pair of paths measured once (auto is the same as one of the other two).
 * Each child runs the CLI's main(['fuse', ir, vis, '-o', out]) through tsx and reports its peak resident
 * memory (VmHWM of /proc/self/status, or resourceUsage().maxRSS) and the wall time of main(): decoding,
 * colour, the network, encoding. A child on an 8x8 pair gives the baseline (node, tsx, onnxruntime, weights).
 */
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { loadavg, tmpdir, totalmem } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const self = fileURLToPath(import.meta.url);

interface ChildReport {
  readonly code: number;
  readonly ms: number;
  readonly peakKiB: number;
  readonly plan: string;
}

if (process.argv[2] === '--child') {
  // the child: one `isfuse fuse` in this process, then its peak memory
  const [, , , mode, ir, vis, out, size] = process.argv as string[];
  const { setDefaultTiling } = await import('../src/model/runner.js');
  const { planOnnxInference } = await import('../src/model/memory.js');
  const { main } = await import('../src/cli/program.js');
  const tiles = mode === 'tiled' ? 'always' : mode === 'untiled' ? 'never' : 'auto';
  setDefaultTiling({ tiles });
  const [w, h] = size!.split('x').map(Number) as [number, number];
  let plan: string;
  try {
    const p = planOnnxInference(h, w, { tiles });
    plan = p.tiled ? `tiled ${p.tileSize}` : 'untiled';
  } catch {
    plan = 'refused';
  }
  const t0 = performance.now();
  const code = await main(['fuse', ir!, vis!, '-o', out!]);
  const ms = performance.now() - t0;
  const hwm = /VmHWM:\s+(\d+) kB/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1];
  const report: ChildReport = { code, ms, peakKiB: hwm ? Number(hwm) : process.resourceUsage().maxRSS, plan };
  process.stdout.write(`\n${JSON.stringify(report)}\n`);
  process.exit(0);
}

const { syntheticPair } = await import('../src/data/synthetic.js');
const { writeImage } = await import('../src/io/encode.js');
const { estimateInferenceBytes, planOnnxInference } = await import('../src/model/memory.js');
const { machineInfo, median } = await import('../src/bench/stats.js');

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const json = process.argv.includes('--json');
const sizes = arg('sizes', '1024x768,2048x1536,4096x4096,8192x8192').split(',').map((s) => s.toLowerCase().split('x').map(Number) as [number, number]);
const runs = Number(arg('runs', '3'));
const maxRunsMp = Number(arg('max-runs-mp', '8'));
const modes = arg('modes', 'auto,tiled,untiled').split(',');
const require = createRequire(import.meta.url);
const versions = {
  node: process.version,
  onnxruntime: (require('onnxruntime-node/package.json') as { version: string }).version,
  sharp: (require('sharp/package.json') as { version: string }).version,
};
const log = (s: string) => {
  if (!json) console.log(s);
};

const dir = mkdtempSync(join(tmpdir(), 'isfuse-memory-'));
function child(mode: string, ir: string, vis: string, w: number, h: number): ChildReport {
  const r = spawnSync(process.execPath, ['--import', 'tsx', self, '--child', mode, ir, vis, join(dir, `out-${w}x${h}.png`), `${w}x${h}`], {
    encoding: 'utf8',
    maxBuffer: 2 ** 26,
  });
  const last = r.stdout.trim().split('\n').pop() ?? '';
  if (r.status !== 0 || !last.startsWith('{')) throw new Error(`child ${mode} ${w}x${h} failed (${r.status}): ${r.stderr.slice(-2000)}`);
  const rep = JSON.parse(last) as ChildReport;
  if (rep.code !== 0) throw new Error(`isfuse fuse ${w}x${h} exited ${rep.code}: ${r.stderr.slice(-2000)}`);
  return rep;
}

async function inputs(w: number, h: number): Promise<[string, string]> {
  const { ir, vis } = syntheticPair({ width: w, height: h, seed: 7 });
  const paths: [string, string] = [join(dir, `ir-${w}x${h}.png`), join(dir, `vis-${w}x${h}.png`)];
  await writeImage(paths[0], ir);
  await writeImage(paths[1], vis);
  return paths;
}

interface Row {
  size: string;
  mode: string;
  plan: string;
  runs: number;
  peakMiB: number[];
  seconds: number[];
  medianPeakMiB: number;
  medianSecondsPerMp: number;
  loadavg: number[];
}
const rows: Row[] = [];
try {
  const [bi, bv] = await inputs(8, 8);
  const baseline = child('auto', bi, bv, 8, 8);
  log(`baseline (8x8 pair): peak ${(baseline.peakKiB / 1024).toFixed(0)} MiB; ${versions.node}, onnxruntime-node ${versions.onnxruntime}, sharp ${versions.sharp}`);
  for (const [w, h] of sizes) {
    const [ir, vis] = await inputs(w, h);
    const mp = (w * h) / 1e6;
    const n = mp > maxRunsMp ? 1 : runs;
    const done = new Set<string>();
    for (const mode of modes) {
      if (mode === 'untiled' && estimateInferenceBytes(h, w, 'onnx') > 0.5 * totalmem()) {
        log(`${w}x${h} untiled: skipped (estimate ${(estimateInferenceBytes(h, w, 'onnx') / 2 ** 30).toFixed(1)} GiB > half of this machine's memory)`);
        continue;
      }
      const p = planOnnxInference(h, w, { tiles: mode === 'tiled' ? 'always' : mode === 'untiled' ? 'never' : 'auto' });
      const plan = p.tiled ? `tiled ${p.tileSize}` : 'untiled';
      if (done.has(plan)) continue; // auto is one of the two paths, measured once
      done.add(plan);
      const reps: ChildReport[] = [];
      const load: number[] = [loadavg()[0]!];
      for (let i = 0; i < n; i++) {
        reps.push(child(mode, ir, vis, w, h));
        load.push(loadavg()[0]!);
      }
      const peakMiB = reps.map((r) => r.peakKiB / 1024);
      const seconds = reps.map((r) => r.ms / 1000);
      const row: Row = {
        size: `${w}x${h}`, mode, plan: reps[0]!.plan, runs: reps.length, peakMiB, seconds,
        medianPeakMiB: median(peakMiB), medianSecondsPerMp: median(seconds) / mp, loadavg: load.map((x) => +x.toFixed(2)),
      };
      rows.push(row);
      log(
        `${row.size} ${mode} (${row.plan}): peak ${row.medianPeakMiB.toFixed(0)} MiB (${peakMiB.map((x) => x.toFixed(0)).join(', ')}), ` +
          `${row.medianSecondsPerMp.toFixed(2)} s/MP (${seconds.map((x) => x.toFixed(1)).join(', ')} s), load ${row.loadavg.join(' ')}`,
      );
    }
    rmSync(ir);
    rmSync(vis);
  }
  if (json) console.log(JSON.stringify({ machine: machineInfo(), versions, baselinePeakMiB: baseline.peakKiB / 1024, rows }, null, 2));
  else console.log(`machine: ${JSON.stringify(machineInfo())}`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
