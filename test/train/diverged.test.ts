// train/diverged.ts: what the step check names when a value becomes non-finite (loss terms, gradients through
// Adam's moments, parameters, BatchNorm running statistics), and the error it makes (kind 'internal': exit 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/backend.js';
import { disposeParams, initParams } from '../../src/model/isfuse.js';
import { countNonFinite, divergence, nonFiniteTerms, TrainingDiverged } from '../../src/train/diverged.js';
import { Adam, namedTrainables } from '../../src/train/step.js';

const finite = { total: 1, f: 1, inv: 0, nec: 0, parts: { 'f.ir': 0.5, 'f.vi': 0.5 } };

test('countNonFinite and nonFiniteTerms', () => {
  assert.equal(countNonFinite(new Float32Array([0, 1, -3e38, NaN, Infinity, -Infinity])), 3);
  assert.deepEqual(nonFiniteTerms(finite), []);
  assert.deepEqual(nonFiniteTerms({ ...finite, total: NaN, f: NaN, parts: { 'f.ir': 0.5, 'f.grad': Infinity } }), ['f.grad = Infinity', 'f = NaN', 'total = NaN']);
});

test('divergence names the loss terms, else the gradient, squared gradient, parameter or running statistic', async () => {
  await useBackend('cpu');
  const p = initParams(0);
  const opt = new Adam(1e-4);
  const named = namedTrainables(p);
  const zeros = new Map([...named].map(([k, v]) => [k, tf.zerosLike(v)]));
  opt.apply(named, zeros);
  tf.dispose([...zeros.values()]);
  try {
    assert.equal(await divergence(finite, p, opt), undefined);
    assert.match((await divergence({ ...finite, total: NaN, parts: { 'f.ir': NaN } }, p, opt))!, /^the loss is not finite \(f\.ir = NaN, total = NaN\)$/);
    const set = (v: tf.Variable, value: number, k = 1): void => {
      const a = v.dataSync().slice() as Float32Array;
      a.fill(value, 0, k);
      v.assign(tf.tensor(a, v.shape));
    };
    const rv = p.variables.get('encoder_ir.module1.4.running_var')!;
    set(rv, Infinity, rv.size);
    assert.equal(await divergence(finite, p, opt), `the BatchNorm running statistic 'encoder_ir.module1.4.running_var' is not finite (${rv.size} infinite of ${rv.size} values)`);
    const w = p.variables.get('encoder_ir.module1.0.weight')!;
    set(w, NaN, 2);
    assert.equal(await divergence(finite, p, opt), `the parameter 'encoder_ir.module1.0.weight' is not finite (2 NaN of ${w.size} values), and 1 other tensor`);
    const { m, v } = opt.moments();
    set(v.get('encoder_ir.module1.0.weight')!, Infinity);
    assert.match((await divergence(finite, p, opt))!, /^the squared gradient of 'encoder_ir\.module1\.0\.weight' \(Adam's second moment: a gradient beyond ~1\.8e19\) is not finite \(1 infinite of 288 values\), and 2 other tensors$/);
    set(m.get('encoder_vis.module1.0.weight')!, NaN);
    assert.match((await divergence(finite, p, opt))!, /^the gradient of 'encoder_vis\.module1\.0\.weight' is not finite \(1 NaN of 288 values\), and 3 other tensors$/);
  } finally {
    opt.dispose();
    disposeParams(p);
  }
});

test('TrainingDiverged: kind internal (exit 1), names the step and the checkpoint kept', () => {
  const e = new TrainingDiverged(7, "the parameter 'x' is not finite (1 NaN of 2 values)", 5, 'runs/a');
  assert.equal(e.kind, 'internal');
  assert.equal(e.step, 7);
  assert.equal(e.keptStep, 5);
  assert.equal(e.message, "training diverged at step 7: the parameter 'x' is not finite (1 NaN of 2 values); 'runs/a' keeps the checkpoint and weights of step 5 (nothing non-finite was written); lower the learning rate (--lr) and --resume, or --overwrite to start over");
  assert.match(new TrainingDiverged(1, 'x', undefined, 'o').message, /; no checkpoint had been written yet, and none was;/);
});
