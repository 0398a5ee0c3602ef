/** `isfuse worker`: runs fuse and eval jobs from a Redis-backed job queue (BullMQ) until stopped. */
import { Command, Option } from 'commander';
import { invalidParameter } from '../../core/errors.js';
import { DEFAULT_QUEUE } from '../../queue/redis.js';
import { parsePositiveInt } from '../util.js';

/** --redis and --queue, shared by `isfuse worker` and `isfuse submit`. */
export function addQueueOptions(cmd: Command): Command {
  return cmd
    .requiredOption('--redis <url>', 'Redis server of the job queue, e.g. redis://host:6379 (redis://:password@host:6379/0)')
    .option('--queue <name>', 'queue name (several independent queues can share one Redis)', DEFAULT_QUEUE);
}

function parseSeconds(name: string) {
  return (v: string): number => {
    const s = Number(v);
    if (!Number.isFinite(s) || s <= 0) throw invalidParameter(name, 'a positive number of seconds', v);
    return s;
  };
}

export function workerCommand(): Command {
  const cmd = new Command('worker')
    .summary('run fusion and evaluation jobs from a job queue (BullMQ on Redis) until stopped')
    .description(
      'Takes the jobs that `isfuse submit` puts on the queue and runs them with the same functions as `isfuse fuse` and ' +
        '`isfuse eval`; start one on each machine (several per machine for more cores: a process computes the classical ' +
        'methods on one core). Input and output paths are those the submitter saw: every worker must see the files ' +
        'at the same paths (a shared folder). Outputs are written atomically. Stop with Ctrl-C or SIGTERM: a job in ' +
        'flight is then taken over by another worker once its lock expires (--lock-duration), as for a killed worker.',
    );
  return addQueueOptions(cmd)
    .option('--concurrency <n>', 'jobs run at once by this process', parsePositiveInt('--concurrency'), 1)
    .option(
      '--lock-duration <s>',
      'seconds a job stays claimed by a worker that stopped answering before another worker takes it; must exceed the longest computation of one image',
      parseSeconds('--lock-duration'),
      60,
    )
    .addOption(new Option('--test-delay-ms <ms>', 'tests: wait before each job').argParser(parsePositiveInt('--test-delay-ms')).hideHelp())
    .action(async (opts: { redis: string; queue: string; concurrency: number; lockDuration: number; testDelayMs?: number }) => {
      const { startWorker } = await import('../../queue/worker.js');
      await startWorker({
        redis: opts.redis,
        queue: opts.queue,
        concurrency: opts.concurrency,
        lockDurationMs: Math.round(opts.lockDuration * 1000),
        testDelayMs: opts.testDelayMs,
        onLog: (line) => process.stderr.write(`isfuse worker: ${line}\n`),
      });
      // Runs until SIGINT / SIGTERM (core/cleanup.ts exits 130 / 143).
      await new Promise<never>(() => {});
    });
}
