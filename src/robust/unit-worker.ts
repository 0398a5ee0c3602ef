/**
 * Worker-thread entry of `isfuse bench robust`: runs pair units (run.ts `runUnit`) one at a time (core/pool.ts),
 * reporting each fusion as a progress event. Started by run.ts; not meant to be imported.
 */
import { serveTasks } from '../core/pool.js';
import { runUnit, type Unit, type UnitTask } from './run.js';

serveTasks<UnitTask, Unit[], string>('unit-worker', runUnit);
