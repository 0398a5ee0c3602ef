/**
 * The output folder of a training run (`isfuse train --out`, `train({ out })`): what a run may do with the files
 * already there, and the lock that keeps two runs out of one folder (README, "What isfuse refuses, and why").
 *
 * - {@link checkRunFolder} writes nothing: the CLI calls it before loading anything, train() before loading data.
 *   An earlier run's files ({@link RUN_FILES}) are continued only with `resume` and replaced only with
 *   `overwrite`; a folder locked by a live run is refused, naming its pid.
 * - {@link openRunFolder}: creates the folder, takes the lock, checks again under it, removes the earlier run for
 *   `overwrite`, and removes the temporary files that killed runs left ({@link TEMPORARY_FILE}).
 *
 * The lock, `OUT/.isfuse-train.lock`, is created with O_EXCL and holds `{"pid","host","started","id"}`. It is
 * removed when the run ends or fails ({@link RunFolder.release}) and when it is interrupted (SIGINT, SIGTERM,
 * SIGHUP: core/cleanup.ts, after the temporary files). A lock of this host whose pid is not alive is stale (a
 * killed run) and is taken over with a note; a lock of another host is never judged stale.
 *
 * Failures are IsfuseErrors of kind 'usage' (exit status 2) naming `--out`, or 'input' for a folder that cannot be
 * read or created.
 */
import { readFileSync, unlinkSync } from 'node:fs';
import { link, mkdir, readdir, readFile, rename, stat, unlink, writeFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { onInterrupt, pidAlive, removeStaleTemporaries } from '../core/cleanup.js';
import { inputError, usageError } from '../core/errors.js';

/** The files a run writes: their presence means an earlier run. */
export const RUN_FILES = ['checkpoint.safetensors', 'weights.safetensors', 'train.jsonl', 'curve.svg'] as const;
export const LOCK_FILE = '.isfuse-train.lock';

/** The temporary files of a run's atomic writes: `<run file>.tmp-<pid>` ({@link temporaryPath}). */
export const TEMPORARY_FILE = /^(?:checkpoint\.safetensors|weights\.safetensors|train\.jsonl|curve\.svg)\.tmp-(\d+)$/;
/** A stale lock being taken over: `.isfuse-train.lock.stale-<pid>`. */
const ASIDE_FILE = /^\.isfuse-train\.lock\.stale-(\d+)$/;

/** The temporary file of an atomic write of `path` (a run file) by this process. */
export function temporaryPath(path: string): string {
  return `${path}.tmp-${process.pid}`;
}

export interface RunFolderOptions {
  /** continue the earlier run from its checkpoint */
  readonly resume: boolean;
  /** start over: the earlier run's files are removed */
  readonly overwrite: boolean;
}

interface LockHolder {
  readonly pid: number;
  readonly host: string;
  readonly started: string;
  readonly id: string;
}

/** Could the holder still be running? Another host's process cannot be checked: yes. */
function holderAlive(h: LockHolder): boolean {
  return h.host !== hostname() || pidAlive(h.pid);
}

/** The lock's holder; undefined when there is no lock; 'unreadable' when it is empty or not ours (after retries). */
async function readHolder(path: string): Promise<LockHolder | 'unreadable' | undefined> {
  for (let attempt = 0; ; attempt++) {
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw e;
    }
    try {
      const h = JSON.parse(text) as LockHolder;
      if (Number.isInteger(h.pid) && typeof h.host === 'string') return h;
    } catch {
      // empty or partial: its writer may be between open and write
    }
    if (attempt === 5) return 'unreadable';
    await new Promise((r) => setTimeout(r, 50));
  }
}

function lockedError(out: string, h: LockHolder | 'unreadable'): Error {
  const lock = join(out, LOCK_FILE);
  if (h === 'unreadable') return usageError(`--out '${out}' is locked by another training run (${lock} is unreadable); if no run uses the folder, remove that file`);
  return usageError(
    `--out '${out}' is in use by another training run (pid ${h.pid} on ${h.host}, since ${h.started}): two runs cannot share a folder; ` +
      `wait for it to end or choose another --out (if pid ${h.pid} is no isfuse run, remove ${lock})`,
  );
}

/** Refuses an earlier run's files unless resume or overwrite says what to do with them. */
function checkEarlierRun(out: string, names: readonly string[], o: RunFolderOptions): void {
  const earlier = RUN_FILES.filter((f) => names.includes(f));
  if (earlier.length === 0 || o.overwrite) return;
  if (!o.resume) {
    throw usageError(`--out '${out}' holds an earlier training run (${earlier.join(', ')}); pass --resume to continue it or --overwrite to start over (replacing those files), or choose another --out`);
  }
  if (!earlier.includes('checkpoint.safetensors')) {
    throw usageError(`--resume: --out '${out}' holds no checkpoint.safetensors to resume from, but ${earlier.join(', ')} of an earlier run; pass --overwrite to start over, or choose another --out`);
  }
}

/** The names in `out` ([] when it does not exist yet). */
async function folderNames(out: string): Promise<string[]> {
  try {
    return await readdir(out);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') return [];
    if (code === 'ENOTDIR') {
      const isFile = await stat(out).then((s) => !s.isDirectory(), () => false);
      throw usageError(isFile ? `--out '${out}' is a file, not a folder` : `--out '${out}' cannot be created: a part of its path is a file, not a folder`);
    }
    throw inputError(`--out '${out}' cannot be read: ${(e as Error).message}`, e);
  }
}

/**
 * The checks before any work (writes nothing): `out` is a folder or does not exist yet, is not locked by a live
 * run, and holds no earlier run unless `resume` (which needs its checkpoint) or `overwrite` says what to do with it.
 * @throws IsfuseError (usage) naming --out, the files found and the options; resume and overwrite together.
 */
export async function checkRunFolder(out: string, o: RunFolderOptions): Promise<void> {
  if (o.resume && o.overwrite) throw usageError('give either --resume (continue the earlier run) or --overwrite (start over), not both');
  const names = await folderNames(out);
  if (names.includes(LOCK_FILE)) {
    const h = await readHolder(join(out, LOCK_FILE));
    if (h !== undefined && (h === 'unreadable' || holderAlive(h))) throw lockedError(out, h);
  }
  checkEarlierRun(out, names, o);
}

/** An output folder held by this run. */
export interface RunFolder {
  readonly out: string;
  /** Removes the lock (if it is still this run's). Idempotent; synchronous, so that it can run on interrupt. */
  release(): void;
}

/** Creates the lock file with O_EXCL, taking over a stale one; returns its exact content. */
async function takeLock(out: string, note: (m: string) => void): Promise<string> {
  const path = join(out, LOCK_FILE);
  const mine = JSON.stringify({ pid: process.pid, host: hostname(), started: new Date().toISOString(), id: Math.random().toString(36).slice(2) } satisfies LockHolder);
  for (let attempt = 0; attempt < 5; attempt++) {
    try {
      await writeFile(path, mine, { flag: 'wx' });
      return mine;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw inputError(`--out '${out}': cannot create the lock file ${path}: ${(e as Error).message}`, e);
    }
    const h = await readHolder(path);
    if (h === undefined) continue; // released meanwhile
    if (h === 'unreadable' || holderAlive(h)) throw lockedError(out, h);
    // Stale. Move it aside (atomic), then make sure what was moved is the stale lock read above, not a lock
    // another process made meanwhile (if it is, put it back).
    const aside = join(out, `${LOCK_FILE}.stale-${process.pid}`);
    try {
      await rename(path, aside);
    } catch {
      continue;
    }
    const moved = await readHolder(aside);
    if (moved !== undefined && moved !== 'unreadable' && moved.id === h.id && moved.pid === h.pid) {
      note(`--out '${out}': took over the lock of pid ${h.pid} (started ${h.started}), which is no longer running`);
    } else {
      await link(aside, path).catch(() => {});
    }
    await unlink(aside).catch(() => {});
  }
  throw usageError(`--out '${out}': could not take the lock ${path} (other runs keep taking it)`);
}

/**
 * Takes `out` for a run: creates it, takes the lock, checks the earlier run again under the lock, removes the
 * earlier run's files for `overwrite`, and the stale temporary files of killed runs (with a note). The lock is
 * registered with core/cleanup.ts, so an interrupted CLI removes it. The caller releases it in a `finally`.
 */
export async function openRunFolder(out: string, o: RunFolderOptions, note: (m: string) => void): Promise<RunFolder> {
  try {
    await mkdir(out, { recursive: true });
  } catch (e) {
    throw inputError(`--out '${out}' cannot be created: ${(e as Error).message}`, e);
  }
  const path = join(out, LOCK_FILE);
  const mine = await takeLock(out, note);
  let held = true;
  const release = (): void => {
    if (!held) return;
    held = false;
    forget();
    try {
      if (readFileSync(path, 'utf8') === mine) unlinkSync(path);
    } catch {
      // already gone
    }
  };
  const forget = onInterrupt(release, 'last');
  try {
    const names = await readdir(out);
    checkEarlierRun(out, names, o);
    const earlier = RUN_FILES.filter((f) => names.includes(f));
    if (o.overwrite && earlier.length > 0) {
      for (const f of earlier) {
        await unlink(join(out, f)).catch((e: Error) => {
          throw inputError(`--overwrite: cannot remove ${join(out, f)}: ${e.message}`, e);
        });
      }
      note(`--overwrite: removed the earlier run in '${out}' (${earlier.join(', ')})`);
    }
    const stale = await removeStaleTemporaries(out, [TEMPORARY_FILE, ASIDE_FILE]);
    if (stale.length > 0) note(`removed ${stale.length} temporary file(s) that an interrupted run left in '${out}': ${stale.join(', ')}`);
  } catch (e) {
    release();
    throw e;
  }
  return { out, release };
}
