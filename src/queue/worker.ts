/**
 * A queue worker (`isfuse worker`): takes jobs from the BullMQ queue in Redis and runs them with their kind's
 * function (queue/jobs.ts). Any number of workers, on any machines that reach the Redis server and see the job
 * paths, share one queue; BullMQ gives each job to one worker at a time.
 *
 * A worker holds a lock on each job it runs and renews it every half `lockDurationMs`. A worker that dies
 * (SIGKILL, a lost machine) stops renewing; after the lock expires, the next stalled-job check of any other worker
 * (every `lockDurationMs`) puts the job back in the queue, up to `maxStalledCount` times. The lock must outlast the
 * longest stretch a job keeps the event loop busy (the classical methods compute synchronously), or a live worker's
 * job would be taken for stalled and run twice (harmless to the output, which is written atomically, but wasted).
 */
import type { Job, Worker } from 'bullmq';
import { IsfuseError } from '../core/errors.js';
import { failureReason, jobKind } from './jobs.js';
import { connectRedis, DEFAULT_QUEUE, redactedUrl } from './redis.js';

export interface WorkerOptions {
  /** Redis URL, e.g. redis://host:6379. */
  redis: string;
  /** Queue name (default 'isfuse'). */
  queue?: string;
  /** Jobs run at once by this process (default 1). */
  concurrency?: number;
  /** How long a job stays claimed by a worker that stopped answering (default 60 s). */
  lockDurationMs?: number;
  /** Called with one line per job (done or failed). */
  onLog?: (line: string) => void;
  /** Tests only: wait this long before each job (a job that is in flight long enough to kill its worker). */
  testDelayMs?: number;
}

export const DEFAULT_LOCK_MS = 60_000;

/** What a job returns: its kind's result and the warnings it gave. */
export interface JobReturn {
  readonly result: unknown;
  readonly warnings: readonly string[];
}

/** Starts a worker; it runs until `close()` (which waits for the jobs in flight). */
export async function startWorker(options: WorkerOptions): Promise<{ worker: Worker; close(): Promise<void> }> {
  const connection = await connectRedis(options.redis);
  const { Worker, UnrecoverableError } = await import('bullmq');
  const lockDuration = options.lockDurationMs ?? DEFAULT_LOCK_MS;
  const log = options.onLog ?? (() => {});
  const processor = async (job: Job): Promise<JobReturn> => {
    const t0 = Date.now();
    if (options.testDelayMs) await new Promise((r) => setTimeout(r, options.testDelayMs));
    const warnings: string[] = [];
    try {
      const result = await jobKind(job.name).run(job.data, (m) => warnings.push(m));
      log(`${job.name} ${job.data?.label ?? job.id} done in ${Date.now() - t0} ms`);
      return { result, warnings };
    } catch (e) {
      log(`${job.name} ${job.data?.label ?? job.id} failed (attempt ${job.attemptsMade + 1}): ${(e as Error)?.message ?? e}`);
      // A bad input or option fails the same way every time: no retry. Anything else is retried (bounded).
      if (e instanceof IsfuseError && e.kind !== 'internal') throw new UnrecoverableError(failureReason(e));
      throw new Error(failureReason(e));
    }
  };
  const worker = new Worker(options.queue ?? DEFAULT_QUEUE, processor, {
    connection,
    concurrency: options.concurrency ?? 1,
    lockDuration,
    stalledInterval: lockDuration,
    maxStalledCount: 2,
  });
  worker.on('error', (e) => log(`error: ${e.message}`));
  await worker.waitUntilReady();
  log(`waiting for jobs on queue '${options.queue ?? DEFAULT_QUEUE}' at ${redactedUrl(options.redis)} (concurrency ${options.concurrency ?? 1})`);
  return {
    worker,
    async close() {
      await worker.close();
      await connection.quit().catch(() => {});
    },
  };
}
