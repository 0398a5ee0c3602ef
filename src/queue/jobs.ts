/**
 * The kinds of job a worker runs, by name: each is one unit of a local command, run with the library's own
 * function, so that a queue gives the same bytes and numbers as one machine:
 *
 * - `fuse`: one pair into its output file(s), `fusion/to-files.ts` (what `isfuse fuse` does for each pair);
 * - `eval`: one (infrared, visible, fused) triple's metric values, `metrics/evaluate.ts` runTask (what `isfuse eval`
 *   does for each triple).
 *
 * A new kind (e.g. a robustness-benchmark cell) is one {@link JobKind} added with {@link registerJobKind} in this
 * file's list: its data and result must survive JSON (BullMQ stores both as JSON in Redis).
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { inputError, IsfuseError, type ErrorKind } from '../core/errors.js';
import type { OutputFormat } from '../io/paths.js';
import type { FuseOptions } from '../fusion/fuse.js';
import { fuseEncoded, writeEncoded } from '../fusion/to-files.js';
import { runTask, type EvaluateTask } from '../metrics/evaluate.js';

/** One kind of job: what a worker does with a job's data. */
export interface JobKind<Data = unknown, Result = unknown> {
  readonly name: string;
  /** Runs one job; `onWarning` collects non-fatal notes, returned to the submitter with the result. */
  run(data: Data, onWarning: (message: string) => void): Promise<Result>;
}

const kinds = new Map<string, JobKind>();

/** Adds a kind of job (the name is BullMQ's job name). */
export function registerJobKind<D, R>(kind: JobKind<D, R>): void {
  kinds.set(kind.name, kind as JobKind);
}

/** The kind of job named `name`; an internal error (the worker is older than the submitter) when unknown. */
export function jobKind(name: string): JobKind {
  const kind = kinds.get(name);
  if (!kind) throw new IsfuseError(`unknown job kind '${name}' (known: ${[...kinds.keys()].join(', ')}); is this worker an older isfuse than the submitter?`, 'internal');
  return kind;
}

/** A fuse job: absolute paths (every worker must see them at the same paths), and the options without callbacks. */
export interface FuseJobData {
  readonly ir: string;
  readonly vis: string;
  /** The inputs' SHA-256 as the submitter read them (the job id is made of them); the worker checks them. */
  readonly sha256: { readonly ir: string; readonly vis: string };
  readonly output: string;
  readonly format: OutputFormat;
  readonly quality: number;
  readonly gates?: readonly string[];
  readonly options: Omit<FuseOptions, 'onWarning'>;
  /** Return the encoded files in the result instead of writing them (the submitter writes them). */
  readonly gather?: boolean;
}

/** What a fuse job returns: the image is in its output file, or, for a gather job, in `files`. */
export interface FuseJobResult {
  readonly method: string;
  readonly width: number;
  readonly height: number;
  readonly colorFrom: 'vis' | 'ir' | 'none';
  /** Gather jobs: the files to write (the image, then the gate maps), base64. */
  readonly files?: readonly { readonly path: string; readonly base64: string }[];
}

registerJobKind<FuseJobData, FuseJobResult>({
  name: 'fuse',
  async run(d, onWarning) {
    await checkHashes({ ir: d.ir, vis: d.vis }, d.sha256);
    const { result: r, files } = await fuseEncoded(d.ir, d.vis, d, { ...d.options, onWarning });
    if (!d.gather) await writeEncoded(files);
    const meta = { method: r.method, width: r.image.width, height: r.image.height, colorFrom: r.colorFrom };
    return d.gather ? { ...meta, files: files.map((f) => ({ path: f.path, base64: f.bytes.toString('base64') })) } : meta;
  },
});

/** An eval job: the task of `isfuse eval` for one triple, with the files' SHA-256 as the submitter read them. */
export type EvalJobData = EvaluateTask & { readonly sha256: Readonly<Record<keyof EvaluateTask['files'], string>> };

/** Metric values as JSON can hold them: NaN and the infinities (PSNR of a copy) as strings. */
export type JsonValues = Record<string, number | 'NaN' | 'Infinity' | '-Infinity'>;

registerJobKind<EvalJobData, JsonValues>({
  name: 'eval',
  async run(task, onWarning) {
    await checkHashes(task.files, task.sha256);
    return toJsonValues(await runTask(task, onWarning));
  },
});

export function toJsonValues(values: Record<string, number>): JsonValues {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number.isFinite(v) ? v : (String(v) as 'NaN')]));
}

/**
 * Refuses files whose bytes differ from what the submitter hashed (another copy of the data set at that path on
 * this machine, a stale network-file-system cache): the job id promises a result of those bytes.
 */
async function checkHashes(files: Readonly<Record<string, string>>, expected: Readonly<Record<string, string>>): Promise<void> {
  for (const [role, path] of Object.entries(files)) {
    const h = await fileHash(path);
    if (h !== expected[role]) {
      throw inputError(`${path}: this worker reads other bytes than the submitter did (SHA-256 ${h.slice(0, 12)}... instead of ${expected[role]?.slice(0, 12)}...); every machine must see the same files at the same paths`);
    }
  }
}

/** Back from {@link JsonValues}: exactly the numbers the worker computed (JSON keeps every double). */
export function fromJsonValues(values: JsonValues): Record<string, number> {
  return Object.fromEntries(Object.entries(values).map(([k, v]) => [k, Number(v)]));
}

/** The SHA-256 of a file's bytes (hex); an input error naming the file when it cannot be read. */
export async function fileHash(path: string): Promise<string> {
  const hash = createHash('sha256');
  try {
    for await (const chunk of createReadStream(path)) hash.update(chunk as Buffer);
  } catch (e) {
    throw inputError(`${path}: cannot read: ${(e as Error).message}`, e);
  }
  return hash.digest('hex');
}

/**
 * A job id from everything the result depends on (`identity`: the inputs' content hashes, the options, the
 * output paths), so that the same work submitted again is the same job (BullMQ adds no job whose id exists).
 * Keys are sorted, so the id does not depend on the order options were given in.
 */
export function jobId(kind: string, identity: unknown): string {
  return `${kind}-${createHash('sha256').update(canonicalJson(identity)).digest('hex').slice(0, 40)}`;
}

function canonicalJson(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  if (v !== null && typeof v === 'object') {
    const entries = Object.entries(v).filter(([, x]) => x !== undefined).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, x]) => `${JSON.stringify(k)}:${canonicalJson(x)}`).join(',')}}`;
  }
  return JSON.stringify(v) ?? 'null';
}

/**
 * A job's failure as BullMQ stores it (one string): the error's kind first, so that the submitter reports it with
 * the exit status the local command would have (input 2, internal 1). Reasons BullMQ writes itself (a job stalled
 * too often) have no kind: internal.
 */
export function failureReason(e: unknown): string {
  return e instanceof IsfuseError ? `${e.kind}: ${e.message}` : `internal: ${(e as Error)?.message ?? String(e)}`;
}

export function parseFailure(reason: string | undefined): { message: string; kind: ErrorKind } {
  const m = /^(usage|input|internal): ([\s\S]*)$/.exec(reason ?? '');
  return m ? { kind: m[1] as ErrorKind, message: m[2]! } : { kind: 'internal', message: reason || 'failed without a reason' };
}
