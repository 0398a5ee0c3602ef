// `isfuse worker` and `isfuse submit` against a real redis-server (BullMQ's Lua scripts need the real server; no
// mock): started here on a free port with a temporary folder and no persistence, stopped at the end. Workers are
// the CLI in child processes (through tsx), so that one can be killed with SIGKILL; submitters and the local
// commands run the CLI's main() in this process.
// Skips, saying so, when redis-server is not installed (Debian: apt-get install redis-server; .ci/run does).
import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { syntheticPair } from '../../src/data/synthetic.js';
import { writeImage } from '../../src/io/encode.js';
import { main } from '../../src/cli/program.js';

const cliMain = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const hasRedis = spawnSync('redis-server', ['--version']).status === 0;
const skip = hasRedis ? false : 'redis-server is not installed (Debian: apt-get install redis-server)';

const dir = mkdtempSync(join(tmpdir(), 'isfuse-queue-'));
let redis: ChildProcess | undefined;
let url = '';
const children = new Set<ChildProcess>();

/** A free TCP port on 127.0.0.1 (the OS picks it; closed again before redis-server binds it). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer().listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

/** The CLI in a child process; `log` collects its stderr as it comes (workers run until killed). */
function start(args: string[]): { child: ChildProcess; log: () => string; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, ['--import', 'tsx', cliMain, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '', err = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) =>
    child.on('close', (code) => {
      children.delete(child);
      resolve({ code, out, err });
    }),
  );
  return { child, log: () => err, done };
}

/**
 * The CLI's main() in this process (the submitters and the local commands: no process start-up), with its stdout
 * and stderr captured; one at a time.
 */
async function isfuse(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const [stdout, stderr] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((c: string | Uint8Array) => out.push(String(c)) > 0) as typeof process.stdout.write;
  process.stderr.write = ((c: string | Uint8Array) => err.push(String(c)) > 0) as typeof process.stderr.write;
  try {
    return { code: await main(args), out: out.join(''), err: err.join('') };
  } finally {
    [process.stdout.write, process.stderr.write] = [stdout, stderr];
    process.exitCode = 0;
  }
}

async function until(what: string, cond: () => boolean | Promise<boolean>, ms = 30_000): Promise<void> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > ms) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

/** A worker on `queue`, ready when it says so. */
async function worker(queue: string, ...extra: string[]) {
  const w = start(['worker', '--redis', url, '--queue', queue, ...extra]);
  await until('a worker to start', () => w.log().includes('waiting for jobs'));
  return { ...w, jobsDone: () => (w.log().match(/ done in /g) ?? []).length };
}

/** Every file of a folder: name -> bytes. */
const filesIn = (d: string) => new Map(readdirSync(d).sort().map((n) => [n, readFileSync(join(d, n))]));

const set = { ir: join(dir, 'set/ir'), vi: join(dir, 'set/vi') };
const local = join(dir, 'local');
let localJson = '';

before(async () => {
  if (!hasRedis) return;
  const port = await freePort();
  redis = spawn('redis-server', ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir], { stdio: 'ignore' });
  url = `redis://127.0.0.1:${port}`;
  await until('redis-server', async () => {
    const c = new Redis(url, { lazyConnect: true, retryStrategy: () => null, maxRetriesPerRequest: 0 });
    c.on('error', () => {});
    try {
      await c.connect();
      return (await c.ping()) === 'PONG';
    } catch {
      return false;
    } finally {
      c.disconnect();
    }
  });
  // 40 small, distinct pairs, and the single-machine results to compare with.
  mkdirSync(set.ir, { recursive: true });
  mkdirSync(set.vi, { recursive: true });
  for (let i = 0; i < 40; i++) {
    const { ir, vis } = syntheticPair({ width: 64, height: 48, seed: 100 + i });
    await writeImage(join(set.ir, `p${i}.png`), ir);
    await writeImage(join(set.vi, `p${i}.png`), vis);
  }
  const f = await isfuse('fuse', '--ir-dir', set.ir, '--vis-dir', set.vi, '--out-dir', local, '-m', 'lp', '--no-progress');
  assert.equal(f.code, 0, f.err);
  const e = await isfuse('eval', '--ir-dir', set.ir, '--vis-dir', set.vi, '--fused-dir', local, '--format', 'json', '--per-image', '--no-progress');
  assert.equal(e.code, 0, e.err);
  localJson = e.out;
});

after(() => {
  for (const c of children) c.kill('SIGKILL');
  redis?.kill('SIGTERM');
  rmSync(dir, { recursive: true, force: true });
});

test('two workers fuse (also --gather) and evaluate 40 pairs as the local commands do; resubmitting does no work twice; a corrupt pair fails alone', { skip }, async () => {
  // Each job waits 50 ms first, so that both workers take part.
  const [a, b] = await Promise.all([worker('q1', '--test-delay-ms', '50'), worker('q1', '--test-delay-ms', '50')]);
  const out = join(dir, 'queued');
  const submit = ['--redis', url, '--queue', 'q1', '--no-progress'];
  const fuse = ['fuse', ...submit, '--ir-dir', set.ir, '--vis-dir', set.vi, '--out-dir', out, '-m', 'lp'];
  const evaluate = ['eval', ...submit, '--ir-dir', set.ir, '--vis-dir', set.vi, '--fused-dir', out, '--format', 'json', '--per-image'];
  const f = await isfuse('submit', ...fuse);
  assert.equal(f.code, 0, f.err);
  assert.match(f.err, /fused 40 of 40 pairs into/);
  assert.deepEqual(filesIn(out), filesIn(local));
  const e = await isfuse('submit', ...evaluate);
  assert.equal(e.code, 0, e.err);
  assert.equal(e.out, localJson);
  assert.equal(a.jobsDone() + b.jobsDone(), 80);
  assert.ok(a.jobsDone() > 0 && b.jobsDone() > 0, `both workers work: ${a.jobsDone()} and ${b.jobsDone()} jobs`);

  // The same work again: every job is found finished; nothing runs, no output is rewritten.
  const mtimes = readdirSync(out).map((n) => statSync(join(out, n)).mtimeMs);
  const f2 = await isfuse('submit', ...fuse);
  const e2 = await isfuse('submit', ...evaluate);
  assert.equal(f2.code, 0, f2.err);
  assert.match(f2.err, /40 of 40 pairs were fused by an earlier submission of the same work/);
  assert.equal(e2.code, 0, e2.err);
  assert.equal(e2.out, localJson);
  assert.equal(a.jobsDone() + b.jobsDone(), 80);
  assert.deepEqual(readdirSync(out).map((n) => statSync(join(out, n)).mtimeMs), mtimes);

  // Other work into the same folder (another method) is refused as the local command refuses it. --gather: the
  // workers send the files back, the submitter writes them.
  const gathered = join(dir, 'gathered');
  const other = await isfuse('submit', ...fuse.slice(0, -1), 'average');
  const g = await isfuse('submit', 'fuse', ...submit, '--ir-dir', set.ir, '--vis-dir', set.vi, '--out-dir', gathered, '-m', 'lp', '--gather');
  assert.equal(other.code, 2);
  assert.match(other.err, /40 of the 40 output files already exist/);
  assert.equal(g.code, 0, g.err);
  assert.deepEqual(filesIn(gathered), filesIn(local));
  assert.equal(a.jobsDone() + b.jobsDone(), 120);

  // A corrupt pair fails alone, at once (a bad input fails the same way every time), with its message.
  const bad = { ir: join(dir, 'bad/ir'), vi: join(dir, 'bad/vi') };
  mkdirSync(bad.ir, { recursive: true });
  mkdirSync(bad.vi, { recursive: true });
  for (const s of ['p0', 'p1', 'p2']) {
    copyFileSync(join(set.ir, `${s}.png`), join(bad.ir, `${s}.png`));
    copyFileSync(join(set.vi, `${s}.png`), join(bad.vi, `${s}.png`));
  }
  writeFileSync(join(bad.ir, 'broken.png'), 'not a png');
  copyFileSync(join(set.vi, 'p3.png'), join(bad.vi, 'broken.png'));
  const badOut = join(dir, 'bad-out');
  const r = await isfuse('submit', 'fuse', ...submit, '--ir-dir', bad.ir, '--vis-dir', bad.vi, '--out-dir', badOut, '-m', 'lp');
  const unreachable = await isfuse('submit', 'fuse', '--redis', 'redis://127.0.0.1:1', '--ir-dir', bad.ir, '--vis-dir', bad.vi, '--out-dir', join(dir, 'never'));
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /fused 3 of 4 pairs/);
  assert.match(r.err, /1 pair\(s\) failed:\n {2}broken: .*broken\.png/);
  for (const s of ['p0', 'p1', 'p2']) assert.deepEqual(readFileSync(join(badOut, `${s}.png`)), readFileSync(join(local, `${s}.png`)));
  assert.deepEqual(readdirSync(badOut).sort(), ['p0.png', 'p1.png', 'p2.png']);
  assert.equal((`${a.log()}${b.log()}`.match(/fuse broken failed/g) ?? []).length, 1);
  assert.equal(unreachable.code, 2);
  assert.match(unreachable.err, /--redis 'redis:\/\/127\.0\.0\.1:1': cannot reach Redis/);

  a.child.kill('SIGTERM');
  b.child.kill('SIGTERM');
  await Promise.all([a.done, b.done]);
});

test('a worker killed with SIGKILL mid-job loses nothing: another worker takes its job over', { skip }, async () => {
  const few = { ir: join(dir, 'few/ir'), vi: join(dir, 'few/vi') };
  mkdirSync(few.ir, { recursive: true });
  mkdirSync(few.vi, { recursive: true });
  for (const s of ['p4', 'p5', 'p6']) {
    copyFileSync(join(set.ir, `${s}.png`), join(few.ir, `${s}.png`));
    copyFileSync(join(set.vi, `${s}.png`), join(few.vi, `${s}.png`));
  }
  // Worker a holds each job for a minute; its lock lasts 1 s, renewed while it lives.
  const a = await worker('q2', '--test-delay-ms', '60000', '--lock-duration', '1');
  const out = join(dir, 'killed');
  const submit = isfuse('submit', 'fuse', '--redis', url, '--queue', 'q2', '--ir-dir', few.ir, '--vis-dir', few.vi, '--out-dir', out, '-m', 'lp', '--no-progress');
  const queue = new Queue('q2', { connection: { url } });
  try {
    await until('worker a to take a job', async () => (await queue.getActiveCount()) === 1);
    a.child.kill('SIGKILL');
    await a.done;
    const b = await worker('q2', '--lock-duration', '2');
    const r = await submit;
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, /fused 3 of 3 pairs/);
    assert.equal(b.jobsDone(), 3);
    assert.equal(a.jobsDone(), 0);
    for (const s of ['p4', 'p5', 'p6']) assert.deepEqual(readFileSync(join(out, `${s}.png`)), readFileSync(join(local, `${s}.png`)));
    b.child.kill('SIGTERM');
    await b.done;
  } finally {
    await queue.close();
  }
});
