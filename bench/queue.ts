/**
 * Throughput of `isfuse submit fuse` with 1 and 2 `isfuse worker`s on this machine, against the local `isfuse fuse`,
 * and the queue's overhead per job (docs/PERFORMANCE.md, "Job queue").
 *
 *   npx tsx bench/queue.ts [--data ../shared/data/MSRS/test] [--pairs 60] [--methods lp] [--runs 3] [--tiny 200] [--json]
 *
 * Starts its own redis-server (free port on 127.0.0.1, temporary folder, no persistence) and stops it. The first
 * --pairs pairs of --data (ir/ and vi/ folders) are linked into a temporary folder. For each method: the local
 * batch (`isfuse fuse --ir-dir ...`), then 1 and 2 workers started once and kept warm, each run a fresh queue and a
 * fresh output folder (nothing reused). Times are the batch's own "fused N of N pairs ... in T s" (from the first
 * job to the last result: no process start-up, no input hashing) and the submitter's whole wall time. --tiny:
 * that many 8x8 pairs fused with 'average' by one worker: the time per job is the queue's overhead (submit,
 * take, lock, result, event) plus a near-zero fusion. Medians over --runs; load average before and after.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { createServer } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { syntheticPair } from '../src/data/synthetic.js';
import { writeImage } from '../src/io/encode.js';

const { values: args } = parseArgs({
  options: {
    data: { type: 'string', default: new URL('../../shared/data/MSRS/test', import.meta.url).pathname },
    pairs: { type: 'string', default: '60' },
    methods: { type: 'string', default: 'lp' },
    runs: { type: 'string', default: '3' },
    tiny: { type: 'string', default: '200' },
    json: { type: 'boolean', default: false },
  },
});
const main = new URL('../src/cli/main.ts', import.meta.url).pathname;
const tmp = mkdtempSync(join(tmpdir(), 'isfuse-bench-queue-'));
const children = new Set<ChildProcess>();

function cli(cliArgs: string[]): { child: ChildProcess; err: () => string; done: Promise<{ code: number | null; err: string; ms: number }> } {
  const t0 = performance.now();
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...cliArgs], { stdio: ['ignore', 'ignore', 'pipe'] });
  children.add(child);
  let err = '';
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; err: string; ms: number }>((r) =>
    child.on('close', (code) => {
      children.delete(child);
      r({ code, err, ms: performance.now() - t0 });
    }),
  );
  return { child, err: () => err, done };
}

async function until(cond: () => boolean): Promise<void> {
  while (!cond()) await new Promise((r) => setTimeout(r, 100));
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

const TICKS = Number(spawnSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).stdout) || 100;

/**
 * CPU seconds (user + system) from /proc/PID/stat: of the process itself, or (`reaped`) of its children that have
 * ended and been waited for (for this script: the local `isfuse fuse` runs and the submitters).
 */
function cpuSeconds(pid: number, reaped = false): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ').map(Number); // f[0] is field 3 (state)
  return (reaped ? f[13]! + f[14]! : f[11]! + f[12]!) / TICKS;
}

/** The batch's own time from its summary line. */
function batchSeconds(err: string): number {
  const m = /fused (\d+) of (\d+) pairs into .* in ([\d.]+) s/.exec(err);
  if (!m || m[1] !== m[2]) throw new Error(`the batch did not fuse every pair:\n${err}`);
  return Number(m[3]);
}

const port = await new Promise<number>((r) => {
  const s = createServer().listen(0, '127.0.0.1', () => {
    const p = (s.address() as { port: number }).port;
    s.close(() => r(p));
  });
});
const redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', tmp], { stdio: 'ignore' });
const url = `redis://127.0.0.1:${port}`;
await until(() => spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' }).stdout?.trim() === 'PONG');

try {
  // The pairs, linked (never copied or written next to the data).
  const n = Number(args.pairs);
  const data = resolve(args.data!);
  const stems = readdirSync(join(data, 'ir')).sort().slice(0, n);
  const set = { ir: join(tmp, 'ir'), vi: join(tmp, 'vi') };
  mkdirSync(set.ir);
  mkdirSync(set.vi);
  for (const f of stems) {
    symlinkSync(join(data, 'ir', f), join(set.ir, f));
    symlinkSync(join(data, 'vi', f), join(set.vi, f));
  }
  const runs = Number(args.runs);
  const loadBefore = loadavg();
  let serial = 0;
  /** One batch: its times, and the CPU seconds per pair of the fusing process or submitter, the workers and Redis. */
  const submit = async (method: string, ir: string, vi: string, queue?: string, workerPids: number[] = []) => {
    const out = join(tmp, `out-${serial++}`);
    const base = ['--ir-dir', ir, '--vis-dir', vi, '--out-dir', out, '-m', method, '--no-progress'];
    const cpu0 = [cpuSeconds(process.pid, true), ...workerPids.map((p) => cpuSeconds(p)), cpuSeconds(redis.pid!)];
    const r = await cli(queue ? ['submit', 'fuse', '--redis', url, '--queue', queue, ...base] : ['fuse', ...base]).done;
    if (r.code !== 0) throw new Error(r.err);
    const cpu1 = [cpuSeconds(process.pid, true), ...workerPids.map((p) => cpuSeconds(p)), cpuSeconds(redis.pid!)];
    const d = cpu1.map((c, i) => (1000 * (c - cpu0[i]!)) / readdirSync(ir).length);
    const t = { batch: batchSeconds(r.err), wall: r.ms / 1000, cpuMsPerPair: { process: d[0]!, workers: d.slice(1, -1).reduce((a, b) => a + b, 0), redis: d.at(-1)! } };
    process.stderr.write(`${queue ?? 'local'} ${method} ${ir}: batch ${t.batch} s, wall ${t.wall.toFixed(1)} s, CPU ms/pair ${JSON.stringify(t.cpuMsPerPair)}, load ${loadavg()[0]!.toFixed(2)}\n`);
    return t;
  };
  type Batch = Awaited<ReturnType<typeof submit>>;
  const summary = (bs: Batch[]) => ({
    batchS: median(bs.map((b) => b.batch)),
    wallS: median(bs.map((b) => b.wall)),
    cpuMsPerPair: { process: median(bs.map((b) => b.cpuMsPerPair.process)), workers: median(bs.map((b) => b.cpuMsPerPair.workers)), redis: median(bs.map((b) => b.cpuMsPerPair.redis)) },
  });
  const results: Record<string, unknown>[] = [];
  for (const method of args.methods!.split(',')) {
    const row: Record<string, unknown> = { method, pairs: stems.length };
    const local = [];
    for (let i = 0; i < runs; i++) local.push(await submit(method, set.ir, set.vi));
    row.local = summary(local);
    for (const k of [1, 2]) {
      const queue = `bench-${method}-${k}`;
      const workers = Array.from({ length: k }, () => cli(['worker', '--redis', url, '--queue', queue]));
      await until(() => workers.every((w) => w.err().includes('waiting for jobs')));
      const times = [];
      // One warm-up batch (the workers' first job loads the method), then the timed runs; a fresh output
      // folder each time, so every run is new work (new job ids).
      const pids = workers.map((w) => w.child.pid!);
      await submit(method, set.ir, set.vi, queue, pids);
      for (let i = 0; i < runs; i++) times.push(await submit(method, set.ir, set.vi, queue, pids));
      row[`workers${k}`] = summary(times);
      for (const w of workers) w.child.kill('SIGTERM');
      await Promise.all(workers.map((w) => w.done));
    }
    results.push(row);
  }
  // The queue's overhead per job: tiny pairs, a trivial method, one worker.
  const tinyN = Number(args.tiny);
  let overhead: { pairs: number; queueMsPerJob: number; localMsPerPair: number; queueCpuMsPerJob: Batch['cpuMsPerPair']; localCpuMsPerPair: number } | undefined;
  if (tinyN > 0) {
    const tiny = { ir: join(tmp, 'tiny-ir'), vi: join(tmp, 'tiny-vi') };
    mkdirSync(tiny.ir);
    mkdirSync(tiny.vi);
    for (let i = 0; i < tinyN; i++) {
      const { ir, vis } = syntheticPair({ width: 8, height: 8, seed: i + 1 });
      await writeImage(join(tiny.ir, `t${i}.png`), ir);
      await writeImage(join(tiny.vi, `t${i}.png`), vis);
    }
    const w = cli(['worker', '--redis', url, '--queue', 'bench-tiny']);
    await until(() => w.err().includes('waiting for jobs'));
    await submit('average', tiny.ir, tiny.vi, 'bench-tiny', [w.child.pid!]);
    const tinyQueue: Batch[] = [], tinyLocal: Batch[] = [];
    for (let i = 0; i < runs; i++) {
      tinyQueue.push(await submit('average', tiny.ir, tiny.vi, 'bench-tiny', [w.child.pid!]));
      tinyLocal.push(await submit('average', tiny.ir, tiny.vi));
    }
    w.child.kill('SIGTERM');
    await w.done;
    const q = summary(tinyQueue), l = summary(tinyLocal);
    overhead = { pairs: tinyN, queueMsPerJob: (1000 * q.batchS) / tinyN, localMsPerPair: (1000 * l.batchS) / tinyN, queueCpuMsPerJob: q.cpuMsPerPair, localCpuMsPerPair: l.cpuMsPerPair.process };
  }
  const report = { data, runs, cpus: cpus().length, loadBefore, loadAfter: loadavg(), results, overhead };
  if (args.json) process.stdout.write(`${JSON.stringify(report, null, 2)}\n`);
  else {
    type Row = ReturnType<typeof summary>;
    const cpu = (c: Row['cpuMsPerPair'], queued: boolean) =>
      queued ? `CPU per pair: workers ${c.workers.toFixed(0)} ms, submitter ${c.process.toFixed(1)} ms, redis ${c.redis.toFixed(1)} ms` : `CPU per pair ${c.process.toFixed(0)} ms`;
    const line = (label: string, t: Row, n: number) =>
      `  ${label.padEnd(10)} ${t.batchS.toFixed(2).padStart(7)} s  ${(n / t.batchS).toFixed(2).padStart(6)} pairs/s  ${((1000 * t.batchS) / n).toFixed(0).padStart(5)} ms/pair  (process wall ${t.wallS.toFixed(1)} s; ${cpu(t.cpuMsPerPair, label !== 'local')})`;
    process.stdout.write(`${stems.length} pairs of ${data}; ${runs} runs, medians; ${cpus().length} CPUs, load ${loadBefore.map((l) => l.toFixed(2)).join(' ')} -> ${report.loadAfter.map((l) => l.toFixed(2)).join(' ')}\n`);
    for (const r of results) {
      process.stdout.write(`${r.method}:\n`);
      for (const [label, key] of [['local', 'local'], ['1 worker', 'workers1'], ['2 workers', 'workers2']] as const) {
        process.stdout.write(`${line(label, r[key] as Row, stems.length)}\n`);
      }
    }
    if (overhead) {
      const c = overhead.queueCpuMsPerJob;
      process.stdout.write(
        `queue overhead (${tinyN} 8x8 pairs, 'average', 1 worker): ${overhead.queueMsPerJob.toFixed(1)} ms per job vs ${overhead.localMsPerPair.toFixed(1)} ms per pair locally; ` +
          `CPU per job: worker ${c.workers.toFixed(1)} ms, submitter ${c.process.toFixed(1)} ms, redis ${c.redis.toFixed(1)} ms vs ${overhead.localCpuMsPerPair.toFixed(1)} ms locally\n`,
      );
    }
  }
} finally {
  for (const c of children) c.kill('SIGKILL');
  redis.kill('SIGTERM');
  rmSync(tmp, { recursive: true, force: true });
}
