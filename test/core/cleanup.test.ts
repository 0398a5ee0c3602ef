// core/cleanup.ts: on SIGINT / SIGTERM the temporary files in flight are removed and the process exits 130 / 143,
// whether the writes in flight settle (then at once) or hang (then after SETTLE_MS).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { INTERRUPT_EXIT_CODES, SETTLE_MS, temporaryFiles, withTemporaryFile } from '../../src/core/cleanup.js';

const child = new URL('./cleanup-child.ts', import.meta.url).pathname;

/** Runs the child, signals it once it says "ready"; resolves with its exit status, stderr and the time it took. */
function runAndSignal(mode: string, signal: NodeJS.Signals, paths: string[]): Promise<{ code: number | null; err: string; ms: number }> {
  return new Promise((resolve, reject) => {
    const p = spawn(process.execPath, ['--import', 'tsx', child, mode, ...paths], { stdio: ['ignore', 'pipe', 'pipe'] });
    let err = '';
    let t0 = 0;
    p.stderr.on('data', (d: Buffer) => (err += d.toString()));
    p.stdout.on('data', (d: Buffer) => {
      if (d.toString().includes('ready') && t0 === 0) {
        for (const f of paths) assert.ok(existsSync(f), `${f} exists before the signal`);
        t0 = Date.now();
        p.kill(signal);
      }
    });
    p.on('error', reject);
    p.on('exit', (code) => resolve({ code, err, ms: Date.now() - t0 }));
  });
}

test('exit statuses are 128 + the signal number', () => {
  assert.deepEqual(INTERRUPT_EXIT_CODES, { SIGINT: 130, SIGTERM: 143, SIGHUP: 129 });
});

test('SIGTERM: temporary files in flight are removed, callbacks run, exit 143 once the writes settle', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isfuse-cleanup-'));
  const paths = [join(dir, '.a.png.1.2.tmp'), join(dir, '.b.png.1.2.tmp')];
  const r = await runAndSignal('settle', 'SIGTERM', paths);
  assert.equal(r.code, 143, r.err);
  assert.match(r.err, /callback ran\n[^]*last callback ran; temporary files left: 0\n[^]*isfuse: interrupted by SIGTERM; removed 2 temporary file\(s\)/);
  assert.deepEqual(readdirSync(dir), []);
  assert.ok(r.ms < SETTLE_MS, `settled writes do not wait for the timeout (${r.ms} ms)`);
});

test('SIGINT: a write that never settles is waited for SETTLE_MS, then its file is removed, exit 130', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isfuse-cleanup-'));
  const r = await runAndSignal('hang', 'SIGINT', [join(dir, '.c.png.1.2.tmp')]);
  assert.equal(r.code, 130, r.err);
  assert.match(r.err, /last callback ran; temporary files left: 0\n[^]*interrupted by SIGINT; removed 1 temporary file\(s\)/);
  assert.deepEqual(readdirSync(dir), []);
  assert.ok(r.ms >= SETTLE_MS - 100, `waited ${r.ms} ms`);
});

test('withTemporaryFile registers the file while the work runs and forgets it after, also on failure', async () => {
  let seen: string[] = [];
  await withTemporaryFile('/nowhere/.x.tmp', async () => {
    await new Promise((r) => setImmediate(r)); // as a real write does: the file appears on a later turn
    seen = temporaryFiles();
  });
  assert.deepEqual(seen, ['/nowhere/.x.tmp']);
  assert.deepEqual(temporaryFiles(), []);
  await assert.rejects(withTemporaryFile('/nowhere/.y.tmp', async () => Promise.reject(new Error('disk full'))), /disk full/);
  assert.deepEqual(temporaryFiles(), []);
});
