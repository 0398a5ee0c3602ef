// The five-pass step on tiny synthetic pairs (wasm backend, single-threaded and deterministic; the cpu
// backend takes ~30 s per step even at 2 x 20x20 on this machine).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/backend.js';
import { disposeParams, initParams } from '../../src/model/isfuse.js';
import { Rng } from '../../src/core/random.js';
import { installConvGradient } from '../../src/model/conv-gradient.js';
import { drawInterventionMasks } from '../../src/train/masks.js';
import { DEFAULT_TRAIN_CONFIG, activePasses, maskTensors, passInputs } from '../../src/train/interventions.js';
import { Adam, stepGradients, trainStep, type StepBatch } from '../../src/train/step.js';
import { syntheticPair } from '../../src/data/synthetic.js';
import { lumaPlane } from '../../src/data/pairs.js';

const N = 2, S = 24;

async function batch(seed = 1): Promise<StepBatch> {
  await useBackend('wasm');
  installConvGradient();
  const vis: number[] = [], irs: number[] = [];
  for (let k = 0; k < N; k++) {
    const p = syntheticPair({ width: S, height: S, seed: seed + k });
    vis.push(...lumaPlane(p.vis));
    irs.push(...lumaPlane(p.ir));
  }
  const rng = new Rng(seed);
  return {
    vi: tf.tensor4d(vis, [N, S, S, 1]),
    ir: tf.tensor4d(irs, [N, S, S, 1]),
    masks: maskTensors(drawInterventionMasks(rng, N, S, S)),
  };
}

test('interventions are applied: comp masks disjoint in their holes, rand shared, dropout zeroes one input', async () => {
  const b = await batch();
  const [cv, ci] = passInputs('comp', b.vi, b.ir, b.masks).map((t) => t.dataSync());
  const [rv, ri] = passInputs('rand', b.vi, b.ir, b.masks).map((t) => t.dataSync());
  const mv = b.masks.compVi.dataSync(), mi = b.masks.compIr.dataSync(), m = b.masks.rand.dataSync();
  const vi = b.vi.dataSync(), ir = b.ir.dataSync();
  let hiddenV = 0, hiddenI = 0, hiddenR = 0;
  for (let i = 0; i < vi.length; i++) {
    assert.ok(mv[i] === 1 || mi[i] === 1, 'a pixel hidden in both modalities');
    assert.equal(cv[i], mv[i] ? vi[i] : 0);
    assert.equal(ci[i], mi[i] ? ir[i] : 0);
    assert.equal(rv[i], m[i] ? vi[i] : 0);
    assert.equal(ri[i], m[i] ? ir[i] : 0);
    hiddenV += 1 - mv[i]!;
    hiddenI += 1 - mi[i]!;
    hiddenR += 1 - m[i]!;
  }
  assert.ok(hiddenV > 0 && hiddenI > 0 && hiddenR > 0);
  const [nv, nvi] = passInputs('novi', b.vi, b.ir, b.masks);
  assert.equal(tf.max(tf.abs(nv)).dataSync()[0], 0);
  assert.equal(nvi, b.ir);
  const [noi, ni] = passInputs('noir', b.vi, b.ir, b.masks);
  assert.equal(noi, b.vi);
  assert.equal(tf.max(tf.abs(ni)).dataSync()[0], 0);
  assert.deepEqual(activePasses(DEFAULT_TRAIN_CONFIG), ['base', 'comp', 'rand', 'novi', 'noir']);
  assert.deepEqual(activePasses({ ...DEFAULT_TRAIN_CONFIG, rand: false, nec: false }), ['base', 'comp']);
});

test('sequential (one pass alive at a time) gives the joint gradient and the same BatchNorm state', async () => {
  const b = await batch(3);
  const out: { grads: Map<string, Float32Array>; total: number; rm: Float32Array; nbt: number }[] = [];
  for (const mode of ['joint', 'sequential'] as const) {
    const p = initParams(7);
    const r = await stepGradients(p, b, DEFAULT_TRAIN_CONFIG, mode);
    out.push({
      grads: new Map([...r.grads].map(([k, g]) => [k, g.dataSync() as Float32Array])),
      total: r.terms.total,
      rm: p.variables.get('cfi5.refine.1.running_mean')!.dataSync() as Float32Array,
      nbt: p.numBatchesTracked.get('encoder_vis.module1.1.num_batches_tracked')!,
    });
    tf.dispose([...r.grads.values()]);
    disposeParams(p);
  }
  const [j, s] = out as [typeof out[0], typeof out[0]];
  assert.equal(j.total, s.total);
  assert.equal(j.nbt, 5);
  assert.equal(s.nbt, 5);
  assert.deepEqual(Array.from(j.rm), Array.from(s.rm));
  let gmax = 0;
  for (const g of j.grads.values()) for (const v of g) gmax = Math.max(gmax, Math.abs(v));
  assert.equal(j.grads.size, s.grads.size);
  // float32 summation order differs: 1e-5 of the largest gradient value (seen: ~5e-7)
  for (const [k, g] of j.grads) {
    const h = s.grads.get(k)!;
    g.forEach((v, i) => assert.ok(Math.abs(v - h[i]!) <= 1e-5 * gmax, `${k}[${i}]: joint ${v}, sequential ${h[i]}`));
  }
});

test('a few steps on a fixed batch: losses finite and decreasing', async () => {
  const b = await batch(5);
  const p = initParams(11);
  const opt = new Adam(1e-3); // 10x the recipe's rate, so that 6 steps show a clear trend
  const losses: number[] = [];
  for (let k = 0; k < 6; k++) {
    const t = await trainStep(p, opt, b, DEFAULT_TRAIN_CONFIG);
    for (const v of [t.total, t.f, t.inv, t.nec]) assert.ok(Number.isFinite(v));
    losses.push(t.total);
  }
  assert.ok(losses[5]! < losses[0]!, `losses ${losses}`);
  assert.ok(losses.slice(3).reduce((a, c) => a + c, 0) < losses.slice(0, 3).reduce((a, c) => a + c, 0), `losses ${losses}`);
  opt.dispose();
  disposeParams(p);
});

test('noCfi ablation: gates are exactly 0 and the CFI attention weights get no gradient', async () => {
  const b = await batch(2);
  const p = initParams(3);
  const r = await stepGradients(p, b, { ...DEFAULT_TRAIN_CONFIG, cfi: false }, 'sequential');
  for (const [k, g] of r.grads) {
    if (/^cfi\d\.([qkv]_[vi]|gate)\./.test(k)) assert.equal(tf.max(tf.abs(g)).dataSync()[0], 0, k);
  }
  assert.ok(Number.isFinite(r.terms.total));
  assert.ok(Math.abs(r.terms.comp!.sparsity - 0.3) < 1e-6); // mean gate 0 -> |0 - eta|
  tf.dispose([...r.grads.values()]);
  disposeParams(p);
});
