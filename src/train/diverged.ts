/**
 * Divergence: training stops at the first step after which the loss, a loss term, a gradient, a parameter or a
 * BatchNorm running statistic is not finite, with a {@link TrainingDiverged} error naming the step and what went
 * non-finite. ./loop.ts checks after every step ({@link divergence}), before anything of that step is logged or
 * saved, so the output folder keeps the last good checkpoint and weights; ./checkpoint.ts refuses to write
 * non-finite values as well ({@link countNonFinite}).
 *
 * Gradients are checked through Adam's moments: m (the running mean of the gradient) is non-finite exactly when a
 * gradient was, v (of its square) also when a gradient is finite but beyond ~1.8e19, whose square overflows
 * float32. The loss terms are host numbers; the tensors (parameters, running statistics, m, v: 470 tensors,
 * 0.62 M values, whatever the batch and crop) are read to the host and scanned once a step: measured 3-6 ms
 * (median; TensorFlow.js cpu and wasm backends, this 2-CPU machine) against 0.8 s for a step at batch 1, 24x24,
 * 1.1-4.5 s at batch 2, 64x64 and ~9 s at the default batch 8, 128x128 (README, "What isfuse refuses, and why").
 *
 * Exit status: a divergence is neither a bad option nor bad data (the same options can train on other data), so
 * the error is of kind 'internal': the CLI prints its message on one line, without a stack trace, and exits 1.
 */
import type * as tf from '@tensorflow/tfjs';
import { IsfuseError } from '../core/errors.js';
import type { IsfuseParams } from '../model/isfuse.js';
import type { LossTerms } from './objective.js';
import type { Adam } from './step.js';

/** Training stopped because a value became non-finite; `what` names it, `keptStep` is the checkpoint left in place. */
export class TrainingDiverged extends IsfuseError {
  constructor(readonly step: number, readonly what: string, readonly keptStep: number | undefined, out: string) {
    const kept = keptStep === undefined
      ? `no checkpoint had been written yet, and none was`
      : `'${out}' keeps the checkpoint and weights of step ${keptStep} (nothing non-finite was written)`;
    super(`training diverged at step ${step}: ${what}; ${kept}; lower the learning rate (--lr) and --resume, or --overwrite to start over`, 'internal');
    this.name = 'TrainingDiverged';
  }
}

/** How many values of `a` are NaN or infinite (x - x is 0 only for finite x). */
export function countNonFinite(a: ArrayLike<number>): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (x - x !== 0) n++;
  }
  return n;
}

/** "3 NaN and 2 infinite of 288 values". */
function describeValues(a: ArrayLike<number>): string {
  let nan = 0, inf = 0;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    if (Number.isNaN(x)) nan++;
    else if (!Number.isFinite(x)) inf++;
  }
  const parts = [nan ? `${nan} NaN` : '', inf ? `${inf} infinite` : ''].filter(Boolean);
  return `${parts.join(' and ')} of ${a.length} value${a.length === 1 ? '' : 's'}`;
}

/** The non-finite loss values of a step, parts first ("f.grad = NaN"), then the sums (f, inv, nec, total). */
export function nonFiniteTerms(t: LossTerms): string[] {
  const all: [string, number][] = [...Object.entries(t.parts), ['f', t.f], ['inv', t.inv], ['nec', t.nec], ['total', t.total]];
  return all.filter(([, v]) => !Number.isFinite(v)).map(([k, v]) => `${k} = ${v}`);
}

/**
 * What went non-finite in the step just taken, or undefined: the loss terms, else (in this order) the gradients
 * (Adam's m), the squared gradients (v), the parameters, the BatchNorm running statistics. Reads every tensor once.
 */
export async function divergence(terms: LossTerms, params: IsfuseParams, opt: Adam): Promise<string | undefined> {
  const bad = nonFiniteTerms(terms);
  if (bad.length > 0) return `the loss is not finite (${bad.length > 5 ? `${bad.slice(0, 4).join(', ')}, ${bad.length - 5} more, ${bad.at(-1)!}` : bad.join(', ')})`;
  const { m, v } = opt.moments();
  const stat = (name: string): boolean => name.endsWith('.running_mean') || name.endsWith('.running_var');
  const groups: [(name: string) => string, [string, tf.Tensor][]][] = [
    [(n) => `the gradient of '${n}'`, [...m]],
    [(n) => `the squared gradient of '${n}' (Adam's second moment: a gradient beyond ~1.8e19)`, [...v]],
    [(n) => `the parameter '${n}'`, [...params.variables].filter(([n]) => !stat(n))],
    [(n) => `the BatchNorm running statistic '${n}'`, [...params.variables].filter(([n]) => stat(n))],
  ];
  const values = await Promise.all(groups.map(([, list]) => Promise.all(list.map(([, t]) => t.data()))));
  let first: string | undefined;
  let others = 0;
  groups.forEach(([label, list], g) => {
    list.forEach(([name], k) => {
      const a = values[g]![k]!;
      if (countNonFinite(a) === 0) return;
      if (first === undefined) first = `${label(name)} is not finite (${describeValues(a)})`;
      else others++;
    });
  });
  if (first === undefined) return undefined;
  return others > 0 ? `${first}, and ${others} other tensor${others === 1 ? '' : 's'}` : first;
}
