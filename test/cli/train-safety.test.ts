// "Never destroy a user's data", the training part (README, "What isfuse refuses, and why"): each refusal of
// `isfuse train` checked end to end on a child process: the exit status, the message, that it comes before
// anything is loaded, and that no earlier output changed (every file under the work folder hashed before and after).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync, type SpawnSyncOptions } from 'node:child_process';
import { createHash } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { syntheticPair } from '../../src/data/synthetic.js';
import { writeImage } from '../../src/io/encode.js';
import { parseSafetensors, toFloat32 } from '../../src/model/weights.js';
import { countNonFinite } from '../../src/train/diverged.js';
import { LOCK_FILE, TEMPORARY_FILE } from '../../src/train/run-folder.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const tsx = import.meta.resolve('tsx');
const root = mkdtempSync(join(tmpdir(), 'isfuse-train-safety-'));
chmodSync(root, 0o755); // readable by the unprivileged user of the read-only case
/** A pid no process has (above Linux's largest pid_max, 2^22). */
const DEAD_PID = 99_999_999;
/** Small and fast: 2 pairs of 40x32, batch 1, 24x24 crops, the deterministic wasm backend. */
const fast = ['--data', 'data', '--batch', '1', '--crop', '24', '--backend', 'wasm'];

function isfuse(args: string[], extra: SpawnSyncOptions = {}) {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000, ...extra });
  return { code: r.status, out: String(r.stdout), err: String(r.stderr), error: r.error };
}

/** Every entry under `dir`: files by content hash, folders by name. */
function snapshot(dir = root): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const key = relative(root, p);
      if (statSync(p).isDirectory()) {
        out.set(key, 'folder');
        walk(p);
      } else out.set(key, createHash('sha256').update(readFileSync(p)).digest('hex'));
    }
  };
  walk(dir);
  return out;
}

/** Runs `isfuse train ...`, expects exit 2 with the message before anything is loaded, and no file changed. */
function refused(args: string[], message: RegExp, extra: SpawnSyncOptions = {}): void {
  const before = snapshot();
  const r = isfuse(['train', ...fast, ...args], extra);
  assert.equal(r.code, 2, `train ${args.join(' ')}: expected exit 2, got ${r.code}\n${r.err}`);
  assert.match(r.err, message, `train ${args.join(' ')}`);
  assert.doesNotMatch(r.err, /internal error|^\s+at /m);
  assert.doesNotMatch(r.err, /training on/, 'refused before the backend and the data are loaded');
  assert.deepEqual(snapshot(), before, `train ${args.join(' ')} changed files`);
}

/** Runs `isfuse train ...` and expects exit 0. */
function trained(args: string[]): string {
  const r = isfuse(['train', ...fast, ...args]);
  assert.equal(r.code, 0, `train ${args.join(' ')}: ${r.err}`);
  return r.err;
}

const runFiles = (dir: string) => readdirSync(join(root, dir)).sort();
const logSteps = (dir: string) => readFileSync(join(root, dir, 'train.jsonl'), 'utf8').trim().split('\n').map((l) => (JSON.parse(l) as { step: number }).step);
const lockText = (pid: number) => JSON.stringify({ pid, host: hostname(), started: '2024-01-02T03:04:05.000Z', id: 'test' });

mkdirSync(join(root, 'data', 'ir'), { recursive: true });
mkdirSync(join(root, 'data', 'vi'));
for (const seed of [1, 2]) {
  const p = syntheticPair({ width: 40, height: 32, seed });
  await writeImage(join(root, 'data', 'ir', `p${seed}.png`), p.ir);
  await writeImage(join(root, 'data', 'vi', `p${seed}.png`), p.vis);
}
// The earlier run the refusals protect.
trained(['--out', 'run1', '--steps', '1']);

test('case 5: --out that is a file, lies under a file, or is not writable: exit 2 naming the path, before loading data', (t) => {
  writeFileSync(join(root, 'a-file'), 'my data');
  refused(['--out', 'a-file', '--steps', '1'], /^isfuse: error: --out 'a-file' is a file, not a folder$/m);
  refused(['--out', 'a-file/run', '--steps', '1'], /^isfuse: error: --out 'a-file\/run' cannot be created: '.*\/a-file' is a file, not a folder$/m);
  mkdirSync(join(root, 'ro'));
  writeFileSync(join(root, 'ro', 'kept.txt'), 'mine');
  chmodSync(join(root, 'ro'), 0o555);
  // Root may write into a read-only folder: as root, run the command as the unprivileged user 'nobody'.
  const asUser: SpawnSyncOptions = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  const probe = isfuse(['--version'], asUser);
  if (probe.code !== 0) {
    t.skip(`running as root and cannot run a child as uid 65534 (${probe.error?.message ?? probe.err}): a read-only folder would be writable`);
    return;
  }
  refused(['--out', 'ro/run', '--steps', '1'], /^isfuse: error: --out 'ro\/run': folder '.*\/ro' is not writable \(permission denied\)$/m, asUser);
  refused(['--out', 'ro', '--steps', '1'], /^isfuse: error: --out 'ro': folder 'ro' is not writable \(permission denied\)$/m, asUser);
});

test('options are checked before anything is written: --val, --val-every, --out naming the dataset', () => {
  refused(['--out', 'v1', '--val', 'missing', '--steps', '1'], /^isfuse: error: --val: dataset folder 'missing' does not exist or is not a folder$/m);
  refused(['--out', 'v1', '--val-every', '2', '--steps', '1'], /^isfuse: error: --val-every needs --val/m);
  refused(['--out', 'data', '--steps', '1'], /^isfuse: error: --out 'data' is --data 'data': isfuse never writes over an input; choose another folder$/m);
  refused(['--out', 'v1', '--steps', '1', '--epochs', '1'], /give either --steps or --epochs, not both/);
  assert.ok(!existsSync(join(root, 'v1')));
});

test('case 6: an earlier run is refused without --resume or --overwrite; the message gives both', () => {
  assert.deepEqual(runFiles('run1'), ['checkpoint.safetensors', 'curve.svg', 'train.jsonl', 'weights.safetensors']);
  refused(['--out', 'run1', '--steps', '2'], /^isfuse: error: --out 'run1' holds an earlier training run \(checkpoint\.safetensors, weights\.safetensors, train\.jsonl, curve\.svg\); pass --resume to continue it or --overwrite to start over \(replacing those files\), or choose another --out$/m);
  refused(['--out', 'run1', '--steps', '2', '--resume', '--overwrite'], /give either --resume \(continue the earlier run\) or --overwrite \(start over\), not both/);
  mkdirSync(join(root, 'only-log'));
  writeFileSync(join(root, 'only-log', 'train.jsonl'), '{"type":"step","step":1}\n');
  refused(['--out', 'only-log', '--steps', '2', '--resume'], /--resume: --out 'only-log' holds no checkpoint\.safetensors to resume from, but train\.jsonl of an earlier run; pass --overwrite to start over/);
});

test('case 6: the lock: a live holder is refused naming its pid; a stale one is taken over; the lock is removed at the end', () => {
  writeFileSync(join(root, 'run1', LOCK_FILE), lockText(process.pid)); // this test process: alive
  refused(['--out', 'run1', '--steps', '2', '--resume'], new RegExp(`^isfuse: error: --out 'run1' is in use by another training run \\(pid ${process.pid} on ${hostname()}, since 2024-01-02T03:04:05\\.000Z\\): two runs cannot share a folder; wait for it to end or choose another --out`, 'm'));
  writeFileSync(join(root, 'run1', LOCK_FILE), lockText(DEAD_PID));
  const err = trained(['--out', 'run1', '--steps', '2', '--resume']);
  assert.match(err, new RegExp(`warning: --out 'run1': took over the lock of pid ${DEAD_PID} \\(started 2024-01-02T03:04:05\\.000Z\\), which is no longer running`));
  assert.deepEqual(logSteps('run1'), [1, 2]);
  assert.ok(!existsSync(join(root, 'run1', LOCK_FILE)), 'the lock is removed at the end');
});

test('case 6: --overwrite starts over (the earlier run is removed first, other files stay)', () => {
  writeFileSync(join(root, 'run1', 'notes.txt'), 'mine');
  const before = snapshot(join(root, 'run1'));
  const err = trained(['--out', 'run1', '--steps', '1', '--overwrite']);
  assert.match(err, /warning: --overwrite: removed the earlier run in 'run1' \(checkpoint\.safetensors, weights\.safetensors, train\.jsonl, curve\.svg\)/);
  assert.deepEqual(logSteps('run1'), [1]);
  assert.equal(snapshot(join(root, 'run1')).get('run1/notes.txt'), before.get('run1/notes.txt'));
  assert.deepEqual(runFiles('run1'), ['checkpoint.safetensors', 'curve.svg', 'notes.txt', 'train.jsonl', 'weights.safetensors']);
});

test('case 7: --lr 1e9 stops at the first non-finite step, exit 1 without a stack trace; the last good checkpoint stays', async () => {
  trained(['--out', 'div', '--steps', '1', '--lr', '1e9']);
  const before = snapshot(join(root, 'div'));
  const r = isfuse(['train', ...fast, '--out', 'div', '--steps', '5', '--lr', '1e9', '--resume', '--checkpoint-every', '1']);
  assert.equal(r.code, 1, r.err);
  assert.match(r.err, /^isfuse: error: training diverged at step 2: the loss is not finite \(.*total = NaN\); 'div' keeps the checkpoint and weights of step 1 \(nothing non-finite was written\); lower the learning rate \(--lr\) and --resume, or --overwrite to start over$/m);
  assert.doesNotMatch(r.err, /internal error|^\s+at /m);
  assert.deepEqual(snapshot(join(root, 'div')), before, 'checkpoint, weights and log of step 1 unchanged, lock removed');
  for (const file of ['weights.safetensors', 'checkpoint.safetensors']) {
    const st = parseSafetensors(readFileSync(join(root, 'div', file)), file);
    for (const [name, t] of st.tensors) if (t.dtype === 'F32') assert.equal(countNonFinite(toFloat32(t, name, file)), 0, `${file}: ${name}`);
  }
});

test('case 9: stale temporaries of its own kind are removed by --resume (others kept)', () => {
  const own = ['checkpoint.safetensors', 'train.jsonl', 'weights.safetensors'].map((f) => `${f}.tmp-${DEAD_PID}`);
  const foreign = [`notes.tmp-${DEAD_PID}`, '.fused.png.1.2-3.tmp', 'train.jsonl.tmp-abc'];
  for (const n of [...own, ...foreign]) writeFileSync(join(root, 'run1', n), 'partial');
  const err = trained(['--out', 'run1', '--steps', '2', '--resume']);
  assert.match(err, new RegExp(`warning: removed 3 temporary file\\(s\\) that an interrupted run left in 'run1': ${own.join(', ').replace(/\./g, '\\.')}`));
  assert.deepEqual(runFiles('run1'), ['checkpoint.safetensors', 'curve.svg', 'notes.txt', 'train.jsonl', 'weights.safetensors', ...foreign].sort());
});

/**
 * Starts a long run, waits until it has taken a step (its progress bar counts one) and the log holds two, runs
 * `during`, then signals it; resolves with its exit status and stderr.
 */
function interrupt(args: string[], signal: NodeJS.Signals, during: (pid: number) => void): Promise<{ code: number | null; err: string }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', tsx, main, 'train', ...fast, ...args], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const log = join(root, 'sig', 'train.jsonl');
    const poll = setInterval(() => {
      const lines = existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').filter(Boolean).length : 0;
      if (lines < 2 || !/\| [1-9]\d*\/\d+ \|/.test(err) || p.pid === undefined) return;
      clearInterval(poll);
      during(p.pid);
      p.kill(signal);
    }, 50);
    p.on('error', reject);
    p.on('exit', (code) => {
      clearInterval(poll);
      resolve({ code, err });
    });
  });
}

test('case 9 and the lock: SIGTERM and SIGINT exit 143 and 130, leaving no lock and no temporary file; a run in progress refuses a second', async () => {
  const check = (r: { code: number | null; err: string }, code: number, signal: string) => {
    assert.equal(r.code, code, r.err);
    assert.match(r.err, new RegExp(`isfuse: interrupted by ${signal}`));
    const left = readdirSync(join(root, 'sig'));
    assert.deepEqual(left.filter((n) => n === LOCK_FILE || TEMPORARY_FILE.test(n)), []);
    assert.ok(left.includes('checkpoint.safetensors'));
    parseSafetensors(readFileSync(join(root, 'sig', 'checkpoint.safetensors')), 'checkpoint.safetensors');
  };
  const r1 = await interrupt(['--out', 'sig', '--steps', '1000', '--checkpoint-every', '1'], 'SIGTERM', (pid) => {
    // (The running run keeps writing its files meanwhile, so no snapshot here.)
    const second = isfuse(['train', ...fast, '--out', 'sig', '--steps', '1000', '--resume']);
    assert.equal(second.code, 2, second.err);
    assert.match(second.err, new RegExp(`^isfuse: error: --out 'sig' is in use by another training run \\(pid ${pid} on ${hostname()}, since .*\\): two runs cannot share a folder`, 'm'));
    assert.doesNotMatch(second.err, /training on/);
    assert.equal((JSON.parse(readFileSync(join(root, 'sig', LOCK_FILE), 'utf8')) as { pid: number }).pid, pid, 'the lock is still the first run\'s');
  });
  check(r1, 143, 'SIGTERM');
  const r2 = await interrupt(['--out', 'sig', '--steps', '1000', '--checkpoint-every', '1', '--resume'], 'SIGINT', () => {});
  check(r2, 130, 'SIGINT');
});

test('train --help tells the refusals and the options', () => {
  const h = isfuse(['train', '--help']);
  assert.equal(h.code, 0);
  const text = h.out.replace(/\s+/g, ' ');
  assert.match(text, /--overwrite start over in an OUT that holds an earlier run/);
  assert.match(text, /refused unless --resume \(continue it\) or --overwrite \(start over\)/);
  assert.match(text, /Training stops with exit status 1 at the first step whose loss, gradient or weights are not finite/);
});
