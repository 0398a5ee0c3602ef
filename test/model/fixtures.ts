/**
 * Loader of the PyTorch parity fixtures made by tools/make_model_fixtures.py (see its docstring):
 * test/fixtures/model/weights.safetensors (a reference state dict with random weights) and
 * cases.safetensors (inputs and outputs of the reference network in eval and train mode).
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseSafetensors, toFloat32, type RawTensor } from '../../src/model/weights.js';

export const WEIGHTS_PATH = fileURLToPath(new URL('../fixtures/model/weights.safetensors', import.meta.url));
export const CASES_PATH = fileURLToPath(new URL('../fixtures/model/cases.safetensors', import.meta.url));
/** Eval-mode fixture sizes [H, W] (odd ones included). */
export const SIZES: readonly [number, number][] = [[32, 32], [37, 45], [64, 48]];
/** Tolerance on [0,1] outputs against the PyTorch float32 eval-mode reference. */
export const TOL = 1e-4;

let cases: Map<string, RawTensor> | undefined;
export function caseTensors(): Map<string, RawTensor> {
  cases ??= parseSafetensors(readFileSync(CASES_PATH), CASES_PATH).tensors;
  return cases;
}
export function caseValues(name: string): Float32Array {
  const t = caseTensors().get(name);
  if (!t) throw new Error(`fixture tensor ${name} missing`);
  return toFloat32(t, name, CASES_PATH);
}
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) throw new Error(`length ${a.length} vs ${b.length}`);
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}
