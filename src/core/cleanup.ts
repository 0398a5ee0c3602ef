/**
 * What an interrupted process must undo: the one registry of temporary files in flight and of cleanup callbacks,
 * and the SIGINT/SIGTERM/SIGHUP handlers that run them.
 *
 * Every atomic write (temporary file + rename: `io/encode.ts` writeFileAtomic, `train/checkpoint.ts` writeAtomic)
 * runs its temporary file through {@link withTemporaryFile}. When the CLI has called
 * {@link installInterruptCleanup} and the process receives SIGINT (Ctrl-C), SIGTERM or SIGHUP:
 *
 * 1. the {@link onInterrupt} callbacks run (synchronously: stop a progress bar, restore the cursor), but those
 *    registered `'last'`;
 * 2. every temporary file in flight is removed, no new one may start (a later withTemporaryFile throws);
 * 3. the writes in flight are given up to {@link SETTLE_MS} to settle (a file being created on a thread-pool
 *    thread could appear after step 2), and their temporary files are removed again;
 * 4. the {@link onInterrupt} callbacks registered `'last'` run (release a lock: only once no write of this process
 *    is in flight any more);
 * 5. one line goes to stderr and the process exits 128 + the signal number: 130 (SIGINT), 143 (SIGTERM), 129 (SIGHUP).
 *
 * A second signal while step 3 waits exits at once (after removing the temporary files). A library user's
 * process gets no handlers unless it calls installInterruptCleanup itself: a library does not take over signals.
 */
import { unlinkSync } from 'node:fs';
import { readdir, rename, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError, IsfuseError } from './errors.js';

/** Exit statuses of an interrupted run: 128 + the signal number, as shells report them. */
export const INTERRUPT_EXIT_CODES = Object.freeze({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 } as const);
export type InterruptSignal = keyof typeof INTERRUPT_EXIT_CODES;

/** How long an interrupted process waits for the writes in flight before it exits anyway. */
export const SETTLE_MS = 2000;

const temporaries = new Map<string, Promise<unknown>>();
const callbacks = new Set<() => void>();
const lastCallbacks = new Set<() => void>();
let interruptedBy: InterruptSignal | undefined;
let installed = false;

/**
 * Runs `work` (which creates `tmp` and normally renames it away) with `tmp` registered, so that an interrupt
 * removes it. `work` is started synchronously, before any signal handler can run.
 * @throws IsfuseError (internal) when the process is already being interrupted: no new temporary file starts.
 */
export async function withTemporaryFile<T>(tmp: string, work: () => Promise<T>): Promise<T> {
  if (interruptedBy !== undefined) throw new IsfuseError(`interrupted by ${interruptedBy}: not writing ${tmp}`, 'internal');
  const p = work();
  temporaries.set(tmp, p);
  try {
    return await p;
  } finally {
    if (temporaries.get(tmp) === p) temporaries.delete(tmp);
  }
}

/**
 * Replaces `path` atomically: writes `tmp` (a name of the caller's scheme, in the same folder), renames it over
 * `path`; the temporary is removed on failure and on SIGINT/SIGTERM. Errors other than IsfuseErrors become input
 * errors naming `path`. The one atomic write of isfuse (images, reports, checkpoints).
 */
export async function replaceFileAtomically(path: string, tmp: string, data: Uint8Array | string): Promise<void> {
  try {
    await withTemporaryFile(tmp, async () => {
      await writeFile(tmp, data);
      await rename(tmp, path);
    });
  } catch (e) {
    await unlink(tmp).catch(() => {});
    if (e instanceof IsfuseError) throw e;
    throw inputError(`${path}: cannot write: ${(e as Error).message}`, e);
  }
}

/** The temporary files in flight (for tests and messages). */
export function temporaryFiles(): string[] {
  return [...temporaries.keys()];
}

/**
 * Registers a synchronous callback run on interrupt; returns its remover. `'first'` (default): before the
 * temporary files are removed (e.g. stop a progress bar); `'last'`: after they are removed and the writes in
 * flight have settled, just before the exit (e.g. remove a lock file, so that no other process takes the lock
 * while this one still writes).
 */
export function onInterrupt(fn: () => void, when: 'first' | 'last' = 'first'): () => void {
  const set = when === 'last' ? lastCallbacks : callbacks;
  set.add(fn);
  return () => void set.delete(fn);
}

function runCallbacks(set: ReadonlySet<() => void>): void {
  for (const fn of set) {
    try {
      fn();
    } catch {
      // a cleanup callback must not stop the others
    }
  }
}

/** Removes every registered temporary file that exists; returns how many were removed. */
function removeTemporaries(removed: Set<string>): void {
  for (const tmp of temporaries.keys()) {
    try {
      unlinkSync(tmp);
      removed.add(tmp);
    } catch {
      // not created yet, or already renamed away
    }
  }
}

function finish(signal: InterruptSignal, removed: Set<string>): never {
  removeTemporaries(removed);
  runCallbacks(lastCallbacks);
  const what = removed.size === 0 ? 'no temporary file was left' : `removed ${removed.size} temporary file(s)`;
  process.stderr.write(`\nisfuse: interrupted by ${signal}; ${what}\n`);
  process.exit(INTERRUPT_EXIT_CODES[signal]);
}

function handle(signal: InterruptSignal): void {
  const removed = new Set<string>();
  if (interruptedBy !== undefined) finish(interruptedBy, removed);
  interruptedBy = signal;
  runCallbacks(callbacks);
  removeTemporaries(removed);
  const pending = [...temporaries.values()];
  if (pending.length === 0) finish(signal, removed);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SETTLE_MS);
  });
  void Promise.race([Promise.allSettled(pending), timeout]).then(() => {
    clearTimeout(timer);
    finish(signal, removed);
  });
}

/** Installs the SIGINT, SIGTERM and SIGHUP handlers (once per process; later calls do nothing). */
export function installInterruptCleanup(): void {
  if (installed) return;
  installed = true;
  for (const signal of Object.keys(INTERRUPT_EXIT_CODES) as InterruptSignal[]) process.on(signal, () => handle(signal));
}

/** Whether `pid` is a running process of this machine (EPERM: it exists, under another user). */
export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Removes from `dir` the temporary files of processes that are gone (a killed run's, or those a worker thread was
 * writing when its pool stopped, once that process has ended): names matching one of `patterns`, whose group 1 is
 * the writer's pid. Returns their names, sorted.
 */
export async function removeStaleTemporaries(dir: string, patterns: readonly RegExp[]): Promise<string[]> {
  const removed: string[] = [];
  for (const name of (await readdir(dir)).sort()) {
    const m = patterns.map((p) => p.exec(name)).find((x) => x !== null);
    if (!m || pidAlive(Number(m[1]))) continue;
    try {
      await unlink(join(dir, name));
      removed.push(name);
    } catch {
      // gone already
    }
  }
  return removed;
}
