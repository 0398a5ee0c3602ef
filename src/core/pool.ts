/**
 * A small pool of worker threads that run independent tasks of one kind: the metric evaluation of `evaluateDirs`
 * (metrics/evaluate-worker.ts) and the pair units of `isfuse bench robust` (robust/unit-worker.ts).
 *
 * Written here rather than taken from a library: the pool must start TypeScript workers under tsx (below), rebuild
 * isfuse's error kinds from a worker, and forward a task's events (warnings, progress) as they happen; the
 * well-kept pools (piscina, workerpool) do none of the first two and need wrapping for the third.
 *
 * A worker module calls {@link serveTasks} with its task function; the parent calls {@link runPool} with the module's
 * URL. Tasks are fed one at a time to whichever worker is free, so long and short tasks balance themselves.
 */
import { createRequire } from 'node:module';
import { parentPort, Worker } from 'node:worker_threads';
import { IsfuseError, type ErrorKind } from './errors.js';

/** Messages between the pool and its workers. */
export type PoolRequest<T> = { readonly type: 'task'; readonly id: number; readonly task: T };
export type PoolReply<R, E> =
  | { readonly type: 'result'; readonly id: number; readonly value: R }
  | { readonly type: 'error'; readonly id: number; readonly message: string; readonly kind: ErrorKind; readonly stack?: string }
  | { readonly type: 'event'; readonly event: E };

/**
 * Starts the worker module `file` (a `.js` name, resolved next to the caller's own module). From the compiled
 * package that is the file itself. From TypeScript sources run through tsx (tests,
 * `npx tsx`) it is the sibling `.ts`: Node 20 does not apply the parent's `--import tsx` hooks to a worker, so a tiny
 * bootstrap registers tsx's hooks in the worker (ESM, for the entry and for dynamic imports such as the registry's
 * lazy methods; CommonJS for require) and then imports the .ts file.
 * @param caller the calling module's `import.meta.url`; @param file the worker's file name, e.g. `evaluate-worker.js`.
 */
function startPoolWorker(caller: string, file: string): Worker {
  if (!caller.endsWith('.ts')) return new Worker(new URL(`./${file}`, caller));
  const require = createRequire(caller);
  const cjs = require.resolve('tsx/cjs/api');
  const esm = import.meta.resolve('tsx/esm/api');
  const entry = new URL(`./${file.replace(/\.js$/, '.ts')}`, caller).href;
  const code = `require(${JSON.stringify(cjs)}).register(); import(${JSON.stringify(esm)}).then((m) => { m.register(); return import(${JSON.stringify(entry)}); });`;
  return new Worker(code, { eval: true });
}

function rebuildError(reply: { message: string; kind: ErrorKind; stack?: string }): IsfuseError {
  const e = new IsfuseError(reply.message, reply.kind);
  if (reply.stack) e.stack = reply.stack;
  return e;
}

export interface PoolOptions<R, E> {
  /** The caller's `import.meta.url` and the worker's file name (see {@link startPoolWorker}). */
  readonly caller: string;
  readonly file: string;
  /** Worker threads to start (at most one per task). */
  readonly size: number;
  /** What the pool's errors call a worker, e.g. 'evaluation worker'. */
  readonly what: string;
  readonly onResult: (index: number, value: R) => void;
  readonly onEvent?: (event: E) => void;
}

/**
 * Runs `tasks` on `size` worker threads. Resolves when every task has its result; rejects with the first task's
 * error (its kind kept) or a worker's failure, and stops the other workers then.
 */
export function runPool<T, R, E = never>(tasks: readonly T[], o: PoolOptions<R, E>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (!(Number.isInteger(o.size) && o.size >= 1)) return reject(new IsfuseError(`internal: a pool of ${o.size} ${o.what}s`, 'internal'));
    if (tasks.length === 0) return resolve();
    const pool: Worker[] = [];
    let next = 0, done = 0, settled = false;
    const settle = (err?: Error): void => {
      if (settled) return;
      settled = true;
      for (const w of pool) void w.terminate();
      if (err) reject(err);
      else resolve();
    };
    // A task that cannot be sent (not cloneable) or a callback that throws fails the pool instead of the process.
    const guarded = (f: () => void): void => {
      try {
        f();
      } catch (e) {
        settle(e instanceof Error ? e : new Error(String(e)));
      }
    };
    const feed = (w: Worker): void => {
      if (next < tasks.length) {
        const id = next++;
        w.postMessage({ type: 'task', id, task: tasks[id]! } satisfies PoolRequest<T>);
      }
    };
    for (let k = 0; k < Math.min(o.size, tasks.length) && !settled; k++) {
      let w: Worker;
      try {
        w = startPoolWorker(o.caller, o.file);
      } catch (e) {
        settle(new IsfuseError(`could not start the ${o.what}: ${(e as Error).message}`, 'internal', { cause: e }));
        return;
      }
      pool.push(w);
      w.on('message', (m: PoolReply<R, E>) => {
        if (settled) return;
        guarded(() => {
          if (m.type === 'event') o.onEvent?.(m.event);
          else if (m.type === 'error') settle(rebuildError(m));
          else {
            o.onResult(m.id, m.value);
            if (++done === tasks.length) settle();
            else feed(w);
          }
        });
      });
      w.on('error', (e) => settle(new IsfuseError(`${o.what} failed: ${e.message}`, 'internal', { cause: e })));
      w.on('exit', (code) => {
        if (!settled) settle(new IsfuseError(`${o.what} exited early (code ${code})`, 'internal'));
      });
      guarded(() => feed(w));
    }
  });
}

/**
 * The worker side: answers each task with `run(task, emit)`'s value, or with its error's message and kind.
 * `emit` sends an event to the parent's `onEvent` at once. Call once, at the top of the worker module.
 */
export function serveTasks<T, R, E = never>(what: string, run: (task: T, emit: (event: E) => void) => Promise<R>): void {
  const port = parentPort;
  if (!port) throw new Error(`${what} must run in a worker thread`);
  port.on('message', (msg: PoolRequest<T>) => {
    const emit = (event: E): void => port.postMessage({ type: 'event', event } satisfies PoolReply<R, E>);
    run(msg.task, emit).then(
      (value) => port.postMessage({ type: 'result', id: msg.id, value } satisfies PoolReply<R, E>),
      (e: unknown) => {
        const err = e instanceof Error ? e : new Error(String(e));
        const kind = e instanceof IsfuseError ? e.kind : 'internal';
        port.postMessage({ type: 'error', id: msg.id, message: err.message, kind, stack: err.stack } satisfies PoolReply<R, E>);
      },
    );
  });
}
