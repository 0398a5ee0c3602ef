// train/run-folder.ts: what a training run may do with an output folder (earlier run, lock, stale temporary
// files). Every refusal is checked to change no file (hashes before and after).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { temporaryFiles } from '../../src/core/cleanup.js';
import { IsfuseError } from '../../src/core/errors.js';
import { writeAtomic } from '../../src/train/checkpoint.js';
import { checkRunFolder, LOCK_FILE, openRunFolder, TEMPORARY_FILE, temporaryPath } from '../../src/train/run-folder.js';

const root = mkdtempSync(join(tmpdir(), 'isfuse-run-folder-'));
/** A pid no process has (above Linux's largest pid_max, 2^22). */
const DEAD_PID = 99_999_999;
const none = { resume: false, overwrite: false };

/** Every entry of `dir`: files by content hash, folders by name. */
function hashes(dir: string): Map<string, string> {
  return new Map(readdirSync(dir).sort().map((n) => [n, statSync(join(dir, n)).isDirectory() ? 'folder' : createHash('sha256').update(readFileSync(join(dir, n))).digest('hex')]));
}

/** A folder holding the given files (name -> content). */
function folder(name: string, files: Record<string, string>): string {
  const dir = join(root, name);
  mkdirSync(dir);
  for (const [f, text] of Object.entries(files)) writeFileSync(join(dir, f), text);
  return dir;
}

const usage = (pattern: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && pattern.test(e.message);

/** Expects `work` to fail with a usage error matching `pattern`, changing no file in `dir`. */
async function refused(dir: string, work: () => Promise<unknown>, pattern: RegExp): Promise<void> {
  const before = hashes(dir);
  await assert.rejects(work(), usage(pattern));
  assert.deepEqual(hashes(dir), before);
}

const lockText = (pid: number, host = hostname()) => JSON.stringify({ pid, host, started: '2024-01-02T03:04:05.000Z', id: 'x' });

test('a folder to create, or one without an earlier run, is fine; a file or a path under a file is refused', async () => {
  await checkRunFolder(join(root, 'new', 'run'), none);
  await checkRunFolder(folder('other-files', { 'notes.txt': 'mine' }), none);
  writeFileSync(join(root, 'a-file'), 'data');
  await refused(root, () => checkRunFolder(join(root, 'a-file'), none), /^--out '.*a-file' is a file, not a folder$/);
  await refused(root, () => checkRunFolder(join(root, 'a-file', 'run'), none), /--out '.*a-file\/run' cannot be created: a part of its path is a file/);
});

test('an earlier run needs --resume (with its checkpoint) or --overwrite; both together are refused', async () => {
  const dir = folder('earlier', { 'checkpoint.safetensors': 'ck', 'weights.safetensors': 'w', 'train.jsonl': '{}\n' });
  await refused(dir, () => checkRunFolder(dir, none), /^--out '.*earlier' holds an earlier training run \(checkpoint\.safetensors, weights\.safetensors, train\.jsonl\); pass --resume to continue it or --overwrite to start over/);
  await checkRunFolder(dir, { resume: true, overwrite: false });
  await checkRunFolder(dir, { resume: false, overwrite: true });
  await refused(dir, () => checkRunFolder(dir, { resume: true, overwrite: true }), /give either --resume \(continue the earlier run\) or --overwrite \(start over\), not both/);
  for (const f of ['weights.safetensors', 'train.jsonl', 'curve.svg']) {
    const only = folder(`only-${f}`, { [f]: 'x' });
    await refused(only, () => checkRunFolder(only, none), new RegExp(`holds an earlier training run \\(${f.replace('.', '\\.')}\\)`));
    await refused(only, () => checkRunFolder(only, { resume: true, overwrite: false }), new RegExp(`--resume: --out '.*' holds no checkpoint\\.safetensors to resume from, but ${f.replace('.', '\\.')} of an earlier run; pass --overwrite`));
  }
});

test('the lock: a second run is refused naming the pid; release removes it; a stale lock is taken over with a note', async () => {
  const dir = folder('locked', {});
  const held = await openRunFolder(dir, none, () => {});
  const lock = JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number; host: string };
  assert.deepEqual([lock.pid, lock.host], [process.pid, hostname()]);
  const message = new RegExp(`^--out '.*locked' is in use by another training run \\(pid ${process.pid} on ${hostname()}, since .*\\): two runs cannot share a folder`);
  await refused(dir, () => checkRunFolder(dir, none), message);
  await refused(dir, () => openRunFolder(dir, none, () => {}), message);
  held.release();
  held.release();
  assert.deepEqual(readdirSync(dir), []);

  // Another host's lock is never judged stale; a lock of this host whose pid is gone is.
  writeFileSync(join(dir, LOCK_FILE), lockText(DEAD_PID, 'elsewhere'));
  await refused(dir, () => openRunFolder(dir, none, () => {}), new RegExp(`pid ${DEAD_PID} on elsewhere`));
  writeFileSync(join(dir, LOCK_FILE), lockText(DEAD_PID));
  await checkRunFolder(dir, none);
  const notes: string[] = [];
  const taken = await openRunFolder(dir, none, (m) => notes.push(m));
  assert.match(notes.join('\n'), new RegExp(`took over the lock of pid ${DEAD_PID} \\(started 2024-01-02T03:04:05.000Z\\), which is no longer running`));
  assert.equal((JSON.parse(readFileSync(join(dir, LOCK_FILE), 'utf8')) as { pid: number }).pid, process.pid);
  taken.release();
  assert.deepEqual(readdirSync(dir), []);

  // A lock replaced by another run's is not removed by this run's release.
  const mine = await openRunFolder(dir, none, () => {});
  writeFileSync(join(dir, LOCK_FILE), lockText(DEAD_PID));
  mine.release();
  assert.ok(existsSync(join(dir, LOCK_FILE)));
});

test('opening: --overwrite removes the earlier run (and only it); stale temporaries of its own kind are removed', async () => {
  assert.match(temporaryPath('/o/checkpoint.safetensors'), new RegExp(`^/o/checkpoint\\.safetensors\\.tmp-${process.pid}$`));
  const own = ['checkpoint.safetensors', 'weights.safetensors', 'train.jsonl', 'curve.svg'].map((f) => `${f}.tmp-${DEAD_PID}`);
  const foreign = ['notes.tmp-1', `image.png.tmp-${DEAD_PID}`, '.a.png.1.2-3.tmp', `checkpoint.safetensors.tmp-${process.pid}`, 'checkpoint.safetensors.tmp-x'];
  for (const n of own) assert.match(n, TEMPORARY_FILE);
  const dir = folder('over', {
    'checkpoint.safetensors': 'ck', 'weights.safetensors': 'w', 'train.jsonl': '{}\n', 'curve.svg': '<svg/>', 'notes.txt': 'mine',
    ...Object.fromEntries([...own, ...foreign].map((n) => [n, 'partial'])),
  });
  const notes: string[] = [];
  const f = await openRunFolder(dir, { resume: false, overwrite: true }, (m) => notes.push(m));
  f.release();
  assert.deepEqual(readdirSync(dir).sort(), ['notes.txt', ...foreign].sort());
  assert.match(notes[0]!, /--overwrite: removed the earlier run in '.*over' \(checkpoint\.safetensors, weights\.safetensors, train\.jsonl, curve\.svg\)/);
  assert.match(notes[1]!, /removed 4 temporary file\(s\) that an interrupted run left in '.*over': checkpoint\.safetensors\.tmp-99999999/);
  // Under the lock the earlier run is checked again (it may have appeared since checkRunFolder).
  const again = folder('appeared', { 'train.jsonl': '{}\n' });
  await refused(again, () => openRunFolder(again, none, () => {}), /holds an earlier training run \(train\.jsonl\)/);
});

test('checkpoint and log writes register their temporary file with core/cleanup.ts (an interrupt removes it)', async () => {
  const dir = folder('atomic', {});
  const path = join(dir, 'checkpoint.safetensors');
  const write = writeAtomic(path, 'bytes');
  assert.deepEqual(temporaryFiles(), [temporaryPath(path)]);
  await write;
  assert.deepEqual(temporaryFiles(), []);
  assert.deepEqual(readdirSync(dir), ['checkpoint.safetensors']);
  // A failed write removes its temporary file and says which file.
  mkdirSync(join(dir, 'weights.safetensors'));
  await assert.rejects(writeAtomic(join(dir, 'weights.safetensors'), 'x'), (e: unknown) => e instanceof IsfuseError && /weights\.safetensors: cannot write/.test(e.message));
  assert.deepEqual(readdirSync(dir).sort(), ['checkpoint.safetensors', 'weights.safetensors']);
});
