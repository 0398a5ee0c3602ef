/**
 * `isfuse submit fuse|eval`: the batch of `isfuse fuse` or `isfuse eval`, with the same options, checks and summary,
 * run by `isfuse worker`s through a job queue (BullMQ on Redis): one job per pair, progress across workers, the
 * outputs in the same files and the same report.
 *
 * Job ids come from the work itself (queue/jobs.ts jobId): the SHA-256 of every input file's bytes, the options,
 * and for fuse the absolute output paths. Content hashes rather than path + size + mtime: a file replaced by
 * another of the same size within the file system's mtime resolution, or copied with its mtime kept (cp -p,
 * rsync -t), is new work, and the hash is the same on every machine whatever the mount point; it costs one read
 * of each input on the submitting machine (docs/PERFORMANCE.md#job-queue).
 */
import { lstat } from 'node:fs/promises';
import { resolve } from 'node:path';
import { Command } from 'commander';
import { inputError, IsfuseError } from '../../core/errors.js';
import type { FuseOptions } from '../../fusion/fuse.js';
import type { ImageRole, ImageValues } from '../../metrics/evaluate.js';
import { writeEncoded } from '../../fusion/to-files.js';
import { fileHash, fromJsonValues, jobId, type EvalJobData, type FuseJobData, type FuseJobResult, type JsonValues } from '../../queue/jobs.js';
import { DEFAULT_ATTEMPTS, inBatches, JobQueue, type JobOutcome, type QueuedJob } from '../../queue/submit.js';
import { addEvalOptions, runEval, type EvalCliOptions, type EvaluatePairsOptions } from './eval.js';
import { addFuseOptions, fuseBatch, type BatchEngine, type BatchPair, type FuseCliOptions } from './fuse.js';
import { addQueueOptions } from './worker.js';
import { parsePositiveInt } from '../util.js';

interface QueueCliOptions {
  redis: string;
  queue: string;
  attempts: number;
  gather?: boolean;
}

function submitOptions(cmd: Command): Command {
  return addQueueOptions(cmd).option(
    '--attempts <n>',
    'runs of a job before it is reported as failed (a worker that failed internally or was killed; a bad input fails at once)',
    parsePositiveInt('--attempts'),
    DEFAULT_ATTEMPTS,
  );
}

export function submitCommand(): Command {
  const fuse = new Command('fuse')
    .summary('fuse a batch on the queue\'s workers (the options of isfuse fuse --ir-dir/--vis-dir/--out-dir)')
    .description(
      'Puts one job per pair on the queue, shows the progress across all workers, waits, and prints the summary of ' +
        '`isfuse fuse`. Paths are made absolute: every worker must see the inputs and --out-dir at the same paths. ' +
        'Submitting the same work again (same input bytes, options and outputs) does no work twice: pairs whose job has ' +
        'finished are reused, unfinished ones are waited for. A pair that fails is reported with its error; the rest go on.',
    );
  submitOptions(addFuseOptions(fuse))
    .option('--gather', 'workers send the fused files back through Redis and this process writes them into --out-dir (workers that see the inputs at the same paths but cannot write --out-dir)')
    .action(async (opts: FuseCliOptions & QueueCliOptions) => {
      const queue = await JobQueue.open(opts.redis, opts.queue);
      try {
        process.exitCode = await fuseBatch(opts, queueFuseEngine(queue, opts));
      } finally {
        await queue.close();
      }
    });

  const evaluate = new Command('eval')
    .summary('evaluate folders on the queue\'s workers (the options of isfuse eval)')
    .description(
      'Puts one job per (infrared, visible, fused) triple on the queue, waits, and prints the report of `isfuse eval` ' +
        '(the same numbers: every triple is computed by the same function). Triples evaluated before (same bytes, ' +
        'convention and metrics) are reused. A triple that fails is reported with its error after the others ran.',
    );
  submitOptions(addEvalOptions(evaluate)).action(async (opts: EvalCliOptions & QueueCliOptions, cmd: Command) => {
    const queue = await JobQueue.open(opts.redis, opts.queue);
    try {
      await runEval(opts, cmd.getOptionValueSource('format') !== 'default', (pairs, o) => queueEvaluate(queue, opts, pairs, o));
    } finally {
      await queue.close();
    }
  });

  return new Command('submit')
    .summary('run isfuse fuse / eval batches on workers across machines (a job queue: BullMQ on Redis)')
    .description('Start `isfuse worker --redis URL` on each machine, then `isfuse submit fuse|eval --redis URL ...` anywhere.')
    .addCommand(fuse)
    .addCommand(evaluate);
}

/**
 * The fuse batch as queue jobs. Workers write the outputs into the shared folder; with --gather they return the
 * encoded files, which are written here, and the job is then removed (its bytes need not stay in Redis): a
 * gathered job that finished but was not written yet (this process stopped) is written by the next submission.
 */
function queueFuseEngine(queue: JobQueue, opts: QueueCliOptions): BatchEngine {
  const jobs = new Map<string, QueuedJob>(); // output path -> job
  let rerun = new Set<string>();
  const gather = opts.gather === true;
  return {
    async producedBefore(pairs, options) {
      const weights = typeof options.methodOptions?.weights === 'string' ? await fileHash(options.methodOptions.weights) : undefined;
      await inBatches(pairs, async (p) => {
        const [ir, vis] = await Promise.all([fileHash(p.ir), fileHash(p.vis)]);
        const data = fuseJobData(p, options, { ir, vis }, gather);
        const identity = { ...data, ir, vis, options: { ...data.options, methodOptions: { ...data.options.methodOptions, weights } } };
        jobs.set(p.output, { id: jobId('fuse', identity), kind: 'fuse', data: { label: p.stem, ...data } });
      });
      const states = await queue.states([...jobs.values()].map((j) => j.id));
      const produced = new Set<string>();
      rerun = new Set();
      if (gather) return produced; // a finished gather job's files are written by this run
      for (const p of pairs) {
        const id = jobs.get(p.output)!.id;
        if (states.get(id) !== 'completed') continue;
        const files = [p.output, ...(p.gates ?? [])];
        const present = await Promise.all(files.map((f) => lstat(f).then(() => true, () => false)));
        // Finished, but its output is gone (removed by hand): run again.
        if (present.every(Boolean)) for (const f of files) produced.add(f);
        else rerun.add(id);
      }
      return produced;
    },
    async run(pairs, _options, done) {
      const byId = new Map(pairs.map((p) => [jobs.get(p.output)!.id, p]));
      const writes: Promise<void>[] = [];
      const { reused } = await queue.run(
        pairs.map((p) => jobs.get(p.output)!),
        {
          attempts: opts.attempts,
          rerun,
          onOutcome: (job, outcome) => {
            const pair = byId.get(job.id)!;
            if (!outcome.ok) return done(pair, { warnings: [], error: outcome.error });
            if (!gather) return done(pair, { warnings: outcome.warnings });
            const files = (outcome.result as FuseJobResult).files ?? [];
            writes.push(
              writeEncoded(files.map((f) => ({ path: f.path, bytes: Buffer.from(f.base64, 'base64') })))
                .then(() => queue.remove([job.id]))
                .then(
                  () => done(pair, { warnings: outcome.warnings }),
                  (e: Error) => done(pair, { warnings: outcome.warnings, error: e instanceof IsfuseError ? e : { message: e.message, kind: 'internal' } }),
                ),
            );
          },
        },
      );
      await Promise.all(writes);
      if (reused > 0) process.stderr.write(`isfuse: ${reused} of ${pairs.length} pairs were fused by an earlier submission of the same work (reused, not redone)\n`);
    },
  };
}

/** A pair as a fuse job: absolute paths, the inputs' hashes, the options without their callback. */
function fuseJobData(p: BatchPair, options: FuseOptions, sha256: FuseJobData['sha256'], gather: boolean): FuseJobData {
  const { onWarning: _, ...rest } = options;
  const methodOptions = { ...rest.methodOptions };
  if (typeof methodOptions.weights === 'string') methodOptions.weights = resolve(methodOptions.weights);
  return {
    ir: resolve(p.ir),
    vis: resolve(p.vis),
    sha256,
    output: resolve(p.output),
    format: p.format,
    quality: p.quality,
    ...(p.gates ? { gates: p.gates.map((g) => resolve(g)) } : {}),
    options: { ...rest, methodOptions },
    ...(gather ? { gather } : {}),
  };
}

/** The eval triples as queue jobs; triples with the same bytes are one job. */
async function queueEvaluate(
  queue: JobQueue,
  opts: QueueCliOptions,
  pairs: { name: string; files: Record<ImageRole, string> }[],
  o: EvaluatePairsOptions,
): Promise<ImageValues[]> {
  const task = { convention: o.convention, metrics: o.metrics, maxPixels: o.maxPixels };
  const ids: string[] = [];
  const jobs = new Map<string, QueuedJob>();
  await inBatches([...pairs.keys()], async (i) => {
    const { name, files } = pairs[i]!;
    const [ir, vis, fused] = await Promise.all([fileHash(files.ir), fileHash(files.vis), fileHash(files.fused)]);
    const id = (ids[i] = jobId('eval', { ...task, files: { ir, vis, fused } }));
    const data: EvalJobData = { name, files: { ir: resolve(files.ir), vis: resolve(files.vis), fused: resolve(files.fused) }, sha256: { ir, vis, fused }, ...task };
    if (!jobs.has(id)) jobs.set(id, { id, kind: 'eval', data: { label: name, ...data } });
  });
  const outcomes = new Map<string, JobOutcome>();
  let done = 0;
  await queue.run([...jobs.values()], {
    attempts: opts.attempts,
    onOutcome: (job, outcome) => {
      outcomes.set(job.id, outcome);
      if (outcome.ok) for (const w of outcome.warnings) o.onWarning(w);
      pairs.forEach((p, i) => {
        if (ids[i] === job.id) o.onProgress({ done: ++done, total: pairs.length, name: p.name });
      });
    },
  });
  const failures = pairs.flatMap((p, i) => {
    const r = outcomes.get(ids[i]!)!;
    return r.ok ? [] : [{ name: p.name, ...r.error }];
  });
  if (failures.length > 0) {
    const lines = failures.map((f) => `${f.name}: ${f.message}`).join('\n  ');
    const message = `${failures.length} of ${pairs.length} triples failed (the others were evaluated; nothing is reported):\n  ${lines}`;
    throw failures.some((f) => f.kind === 'internal') ? new IsfuseError(message, 'internal') : inputError(message);
  }
  return pairs.map((p, i) => {
    const r = outcomes.get(ids[i]!)! as Extract<JobOutcome, { ok: true }>;
    return { name: p.name, values: fromJsonValues(r.result as JsonValues) };
  });
}
