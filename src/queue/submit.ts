/**
 * The submitting side (`isfuse submit`): puts one job per unit of work on the BullMQ queue, follows them to the
 * end across all workers, and returns each one's outcome.
 *
 * Idempotent: job ids are derived from the work (queue/jobs.ts jobId), and BullMQ adds no job whose id exists, so
 * submitting the same work again adds nothing: a finished job's stored result is reused (no work is done), a job
 * still waiting or running is waited for. A job that failed for good earlier is retried once more from the start
 * (a fresh set of attempts), since a resubmission asks for it again. Finished jobs are kept for
 * {@link KEEP_SECONDS}, so resubmissions within that time find them.
 */
import type { Queue, QueueEvents } from 'bullmq';
import type { Redis } from 'ioredis';
import type { ErrorKind } from '../core/errors.js';
import { parseFailure } from './jobs.js';
import type { JobReturn } from './worker.js';
import { connectRedis, DEFAULT_QUEUE } from './redis.js';

/** How long finished jobs (and their results) stay in Redis: resubmissions within this time reuse them. */
export const KEEP_SECONDS = 7 * 24 * 3600;
/** Attempts per job (a worker's internal failure or a killed worker; bad inputs fail at once). */
export const DEFAULT_ATTEMPTS = 3;

/** One unit of work: `kind` names a queue/jobs.ts kind; `data.label` names it in logs and progress. */
export interface QueuedJob {
  readonly id: string;
  readonly kind: string;
  readonly data: { readonly label: string } & Record<string, unknown>;
}

export type JobOutcome =
  | { readonly ok: true; readonly result: unknown; readonly warnings: readonly string[] }
  | { readonly ok: false; readonly error: { readonly message: string; readonly kind: ErrorKind } };

export interface RunOptions {
  /** Attempts per job (default {@link DEFAULT_ATTEMPTS}). */
  attempts?: number;
  /** Jobs finished earlier that must run again (their output is gone): removed, then added anew. */
  rerun?: ReadonlySet<string>;
  /** Called once per job when it has finished, in any order; `reused` when it had finished before this run. */
  onOutcome?: (job: QueuedJob, outcome: JobOutcome, reused: boolean) => void;
}

/** A queue opened for submitting. */
export class JobQueue {
  private constructor(
    private readonly connection: Redis,
    private readonly queue: Queue,
  ) {}

  /** Connects (an input error when Redis cannot be reached) and opens queue `name`. */
  static async open(redis: string, name = DEFAULT_QUEUE): Promise<JobQueue> {
    const connection = await connectRedis(redis);
    const { Queue } = await import('bullmq');
    const queue = new Queue(name, { connection });
    await queue.waitUntilReady();
    return new JobQueue(connection, queue);
  }

  /** The state of each job ('completed', 'failed', 'waiting', 'active', ..., 'unknown' when there is none). */
  async states(ids: readonly string[]): Promise<Map<string, string>> {
    const out = new Map<string, string>();
    await inBatches(ids, async (id) => void out.set(id, await this.queue.getJobState(id)));
    return out;
  }

  /** Submits `jobs` (ids unique) and waits until every one has finished; outcomes in the order of `jobs`. */
  async run(jobs: readonly QueuedJob[], options: RunOptions = {}): Promise<{ outcomes: JobOutcome[]; reused: number }> {
    if (jobs.length === 0) return { outcomes: [], reused: 0 };
    const { QueueEvents } = await import('bullmq');
    const byId = new Map(jobs.map((j, i) => [j.id, i]));
    const outcomes: (JobOutcome | undefined)[] = new Array(jobs.length);
    let reused = 0;
    let settle: () => void = () => {};
    const allDone = new Promise<void>((r) => (settle = r));
    let left = jobs.length;
    const finish = (i: number, outcome: JobOutcome, wasReused: boolean): void => {
      if (outcomes[i]) return;
      outcomes[i] = outcome;
      if (wasReused) reused++;
      options.onOutcome?.(jobs[i]!, outcome, wasReused);
      if (--left === 0) settle();
    };
    /** Looks a job up; records its outcome when it has finished. */
    const check = async (id: string, wasReused = false): Promise<void> => {
      const i = byId.get(id);
      if (i === undefined || outcomes[i]) return;
      const outcome = await this.outcomeOf(id);
      if (outcome) finish(i, outcome, wasReused);
    };

    // Listen first, then add: an event of a job that ends while it is being added is not lost.
    const events: QueueEvents = new QueueEvents(this.queue.name, { connection: this.connection });
    let lastEvent = Date.now();
    const onEvent = ({ jobId }: { jobId: string }): void => {
      lastEvent = Date.now();
      void check(jobId).catch(() => {});
    };
    events.on('completed', onEvent);
    events.on('failed', onEvent);
    try {
      await events.waitUntilReady();
      const before = await this.states(jobs.map((j) => j.id));
      const rerun = options.rerun ?? new Set<string>();
      await this.remove([...rerun]);
      // Jobs that failed for good before: a fresh set of attempts.
      await inBatches(
        jobs.filter((j) => before.get(j.id) === 'failed' && !rerun.has(j.id)),
        async (j) => (await this.queue.getJob(j.id))?.retry('failed', { resetAttemptsMade: true, resetAttemptsStarted: true }),
      );
      const attempts = options.attempts ?? DEFAULT_ATTEMPTS;
      const fresh = jobs.filter((j) => rerun.has(j.id) || before.get(j.id) === 'unknown');
      for (let k = 0; k < fresh.length; k += 1000) {
        await this.queue.addBulk(
          fresh.slice(k, k + 1000).map((j) => ({
            name: j.kind,
            data: j.data,
            opts: {
              jobId: j.id,
              attempts,
              backoff: { type: 'exponential', delay: 1000 },
              removeOnComplete: { age: KEEP_SECONDS },
              removeOnFail: { age: KEEP_SECONDS },
            },
          })),
        );
      }
      // Finished before this run: reused as they are.
      await inBatches(jobs.filter((j) => before.get(j.id) === 'completed' && !rerun.has(j.id)), (j) => check(j.id, true));
      // The rest end with an event; a missed event (a dropped connection) is caught by looking again when idle.
      const sweep = setInterval(() => {
        if (Date.now() - lastEvent < 5000) return;
        lastEvent = Date.now();
        void inBatches(jobs.filter((_, i) => !outcomes[i]), (j) => check(j.id)).catch(() => {});
      }, 1000);
      try {
        await inBatches(jobs, (j) => check(j.id));
        await allDone;
      } finally {
        clearInterval(sweep);
      }
    } finally {
      await events.close();
    }
    return { outcomes: outcomes as JobOutcome[], reused };
  }

  /** Removes jobs (their results with them). */
  async remove(ids: readonly string[]): Promise<void> {
    await inBatches(ids, (id) => this.queue.remove(id));
  }

  /**
   * The outcome of a job that has finished for good; undefined while it may still run. The state is read first:
   * a job read before it finished would have no result yet.
   */
  private async outcomeOf(id: string): Promise<JobOutcome | undefined> {
    const state = await this.queue.getJobState(id);
    if (state !== 'completed' && state !== 'failed' && state !== 'unknown') return undefined;
    const job = state === 'unknown' ? undefined : await this.queue.getJob(id);
    // Called only for jobs that were added: one that is gone was removed by someone else (or expired).
    if (!job) return { ok: false, error: { kind: 'internal', message: `job ${id} is no longer in the queue (removed by another submitter, or expired); submit again` } };
    if (state === 'failed') return { ok: false, error: parseFailure(job.failedReason) };
    const r = job.returnvalue as JobReturn;
    return { ok: true, result: r.result, warnings: r.warnings ?? [] };
  }

  async close(): Promise<void> {
    await this.queue.close();
    await this.connection.quit().catch(() => {});
  }
}

/** Runs `fn` over `items`, 64 at a time (round trips to Redis overlap; a 15k-job batch does not flood it). */
export async function inBatches<T>(items: readonly T[], fn: (item: T) => Promise<unknown>): Promise<void> {
  for (let k = 0; k < items.length; k += 64) await Promise.all(items.slice(k, k + 64).map(fn));
}
