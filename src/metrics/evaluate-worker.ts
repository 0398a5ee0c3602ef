/**
 * Worker-thread entry for {@link evaluateDirs}: receives {@link EvaluateTask}s one at a time, decodes the three
 * images, computes the metrics and replies with the values (or the error's message and kind). Warnings from
 * decoding are forwarded. Started by evaluate.ts; not meant to be imported.
 */
import { parentPort } from 'node:worker_threads';
import { IsfuseError } from '../core/errors.js';
import { runTask, type WorkerReply, type WorkerRequest } from './evaluate.js';

const port = parentPort;
if (!port) throw new Error('evaluate-worker must run in a worker thread');

port.on('message', (msg: WorkerRequest) => {
  const warn = (message: string): void => port.postMessage({ type: 'warning', message } satisfies WorkerReply);
  runTask(msg.task, warn).then(
    (values) => port.postMessage({ type: 'result', id: msg.id, values } satisfies WorkerReply),
    (e: unknown) => {
      const err = e instanceof Error ? e : new Error(String(e));
      const kind = e instanceof IsfuseError ? e.kind : 'internal';
      port.postMessage({ type: 'error', id: msg.id, message: err.message, kind, stack: err.stack } satisfies WorkerReply);
    },
  );
});
