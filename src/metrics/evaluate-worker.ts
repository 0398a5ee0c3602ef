/**
 * Worker-thread entry for {@link evaluateDirs}: receives {@link EvaluateTask}s one at a time (core/pool.ts), decodes
 * the three images, computes the metrics and replies with the values; warnings from decoding are forwarded as
 * events. Started by evaluate.ts; not meant to be imported.
 */
import { serveTasks } from '../core/pool.js';
import { runTask, type EvaluateTask } from './evaluate.js';

serveTasks<EvaluateTask, Record<string, number>, string>('evaluate-worker', (task, warn) => runTask(task, warn));
