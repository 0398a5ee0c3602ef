// The training step as one onnxruntime graph (src/train/onnx/) against the TensorFlow.js step
// (src/train/step.ts, joint plan, cpu backend), which test/train/step.test.ts checks against PyTorch: loss
// terms, the gradient of every parameter, BatchNorm running statistics; the sequential plan (one pass alive at
// a time) against the joint graph; and a killed-and-resumed run on the onnx engine that equals an
// uninterrupted one bit for bit.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/random.js';
import { syntheticPair } from '../../src/data/synthetic.js';
import { lumaPlane, type PairImages } from '../../src/data/pairs.js';
import { useBackend } from '../../src/model/backend.js';
import { disposeParams, initParams, paramsToValues } from '../../src/model/isfuse.js';
import { installConvGradient } from '../../src/model/conv-gradient.js';
import { DEFAULT_TRAIN_CONFIG, maskTensors, type TrainConfig } from '../../src/train/interventions.js';
import { train } from '../../src/train/loop.js';
import { assertSameWeights } from './same-weights.js';
import { drawInterventionMasks } from '../../src/train/masks.js';
import { autoOnnxPlan, OnnxTrainer, stepTerms } from '../../src/train/onnx/trainer.js';
import { Adam, stepGradients } from '../../src/train/step.js';

// 24 x 28 crops: non-square, and level 3 (6 x 7) is smaller than the 8 x 8 token grid (overlapping bins)
const N = 2, H = 24, W = 28;

function batch(seed: number) {
  const rng = new Rng(seed);
  const vi = Float32Array.from({ length: N * H * W }, () => rng.next());
  const ir = Float32Array.from({ length: N * H * W }, () => rng.next());
  return { vi, ir, masks: drawInterventionMasks(rng, N, H, W) };
}

/** Sum of squared differences of `got` from `ref`, and the squared norm of `ref`. */
function squaredError(ref: Float32Array, got: Float32Array): { err: number; norm: number } {
  let err = 0, norm = 0;
  for (let i = 0; i < ref.length; i++) {
    err += (ref[i]! - got[i]!) ** 2;
    norm += ref[i]! ** 2;
  }
  return { err, norm };
}

/**
 * `maxRel`: the largest relative L2 error allowed on any one gradient tensor. Measured (this commit; a float64
 * PyTorch step from the same weights and inputs, tools/isfuse_torch.py, as the reference): with the defaults (seed 1)
 * the worst tensor is cfi5.q_v.bias at 9.4e-6, both engines within 7e-6 of float64; with the ablations (seed 2) it is
 * encoder_ir.module2.4.bias at 1.8e-3 (then encoder_ir.module2.1.weight 1.1e-3), and there the onnx graph is within
 * 3.5e-6 of float64 on every tensor while the TensorFlow.js cpu step is off by that same 1.8e-3: float32 rounding in
 * the TensorFlow.js step (its wasm backend is off by up to 5e-3, on other BatchNorm biases of the same step; the
 * base pass alone shows it; not located further: a candidate is model/train-ops.ts cblTrain's backward, which sums
 * around z rather than z - mean). The bounds below are those measurements rounded up; a wrong formula gives
 * errors of order 1.
 */
function compareWithTfjs(cfg: TrainConfig, seed: number, maxRel: number) {
  return async () => {
    await useBackend('cpu');
    installConvGradient();
    const b = batch(seed);
    const trainer = new OnnxTrainer(cfg);
    const pRef = initParams(seed);
    const pOnnx = initParams(seed);
    try {
      const values = paramsToValues(pOnnx);
      const res = await trainer.run((n) => values.get(n) as Float32Array, b);
      const shape: [number, number, number, number] = [N, H, W, 1];
      const mt = maskTensors(b.masks);
      const ref = await stepGradients(pRef, { vi: tf.tensor4d(b.vi, shape), ir: tf.tensor4d(b.ir, shape), masks: mt }, cfg, 'joint');

      // loss terms
      const terms = stepTerms(res.losses, cfg);
      const flat = (o: object, pre = ''): [string, number][] =>
        Object.entries(o).flatMap(([k, v]) => (typeof v === 'number' ? [[pre + k, v] as [string, number]] : flat(v as object, `${pre}${k}.`)));
      const got = new Map(flat(terms));
      for (const [k, v] of flat(ref.terms)) assert.ok(Math.abs(got.get(k)! - v) <= 1e-5 * Math.max(1, Math.abs(v)), `${k}: ${got.get(k)} vs ${v}`);

      // the same parameters get a gradient (CBL conv biases: exactly 0 on both sides)
      const graphZero = new Set((await trainer.graph(N, H, W)).zeroGrads);
      assert.deepEqual([...ref.grads.keys()].sort(), [...res.grads.keys(), ...graphZero].sort());
      // Per tensor, the relative L2 error (float32 rounding differs between the engines): at most maxRel.
      const errors: number[] = [];
      for (const [name, g] of ref.grads) {
        const a = g.dataSync() as Float32Array;
        if (graphZero.has(name)) {
          assert.ok(a.every((x) => x === 0), name);
          continue;
        }
        const { err: num, norm: den } = squaredError(a, res.grads.get(name)!);
        // the key biases' gradient is 0 in exact arithmetic (a softmax does not see a logit shift common to all
        // tokens): both engines give rounding noise
        if (/\.k_[vi]\.bias$/.test(name)) {
          assert.ok(Math.sqrt(den) < 1e-6 && Math.sqrt(num) < 1e-6, name);
          continue;
        }
        const rel = Math.sqrt(num / den);
        assert.ok(rel <= maxRel, `${name}: relative L2 error ${rel} (bound ${maxRel})`);
        errors.push(rel);
      }
      errors.sort((x, y) => x - y);
      assert.ok(errors[errors.length >> 1]! <= 1e-4, `median relative error ${errors[errors.length >> 1]}`);
      tf.dispose([...ref.grads.values(), mt.compVi, mt.compIr, mt.rand]);

      // a full step: the BatchNorm running statistics and counters agree with the joint step's
      const opt = new Adam();
      await trainer.step(pOnnx, opt, b);
      opt.dispose();
      for (const [name, v] of pRef.variables) {
        if (!/running_(mean|var)$/.test(name)) continue;
        const a = v.dataSync() as Float32Array, o = pOnnx.variables.get(name)!.dataSync() as Float32Array;
        for (let i = 0; i < a.length; i++) assert.ok(Math.abs(a[i]! - o[i]!) <= 1e-4 * Math.max(1, Math.abs(a[i]!)), `${name}[${i}]: ${o[i]} vs ${a[i]}`);
      }
      assert.deepEqual([...pOnnx.numBatchesTracked], [...pRef.numBatchesTracked]);
    } finally {
      await trainer.dispose();
      disposeParams(pRef);
      disposeParams(pOnnx);
    }
  };
}

test('onnx step: losses, every gradient and the BatchNorm statistics equal the TensorFlow.js step', compareWithTfjs(DEFAULT_TRAIN_CONFIG, 1, 2e-5));

test(
  'onnx step, ablations and flipped signs (no CFI, no complementary masking, entropy minimised, necessity maximised)',
  compareWithTfjs({ ...DEFAULT_TRAIN_CONFIG, cfi: false, comp: false, gateEntropy: 'minimise', necessity: 'maximise' }, 2, 2e-3),
);

// the max-intensity + max-gradient fidelity loss (worst tensor cfi5.q_v.bias at 9.8e-6; both engines within 1.2e-5 of a
// float64 PyTorch step)
test('onnx step, fidelity loss maxgrad', compareWithTfjs({ ...DEFAULT_TRAIN_CONFIG, loss: 'maxgrad' }, 5, 2e-5));

function sequentialEqualsJoint(cfg: TrainConfig, seed: number) {
  return async () => {
    await useBackend('cpu');
    const b = batch(seed);
    const p = initParams(seed);
    const values = paramsToValues(p);
    const joint = new OnnxTrainer(cfg, { memory: 'joint' });
    const seq = new OnnxTrainer(cfg, { memory: 'sequential' });
    try {
      const a = await joint.run((n) => values.get(n) as Float32Array, b);
      const s = await seq.run((n) => values.get(n) as Float32Array, b);
      assert.deepEqual([...s.losses.keys()].sort(), [...a.losses.keys()].sort());
      for (const [k, v] of a.losses) assert.ok(Math.abs(s.losses.get(k)! - v) <= 1e-6 * Math.max(1, Math.abs(v)), `${k}: ${s.losses.get(k)} vs ${v}`);
      // the same gradients up to float32 summation order (the parts' contributions are added in another order)
      assert.deepEqual([...s.grads.keys()].sort(), [...a.grads.keys()].sort());
      for (const [name, g] of a.grads) {
        const { err: num, norm: den } = squaredError(g, s.grads.get(name)!);
        // (the key biases' gradient is rounding noise around an exact 0: see compareWithTfjs)
        const floor = /\.k_[vi]\.bias$/.test(name) ? 1e-6 : 1e-9;
        assert.ok(Math.sqrt(num) <= 1e-4 * Math.sqrt(den) + floor, `${name}: ${Math.sqrt(num)} vs norm ${Math.sqrt(den)}`);
      }
      // the BatchNorm statistics of every pass, in the same order
      assert.deepEqual(s.stats.map((x) => [x.pass, [...x.values.keys()]]), a.stats.map((x) => [x.pass, [...x.values.keys()]]));
      a.stats.forEach((x, i) => {
        for (const [bn, v] of x.values) {
          const o = s.stats[i]!.values.get(bn)!;
          assert.equal(o.count, v.count);
          v.mean.forEach((m, j) => assert.ok(Math.abs(o.mean[j]! - m) <= 1e-6 * Math.max(1, Math.abs(m)), `${x.pass} ${bn} mean`));
          v.variance.forEach((m, j) => assert.ok(Math.abs(o.variance[j]! - m) <= 1e-6 * Math.max(1, Math.abs(m)), `${x.pass} ${bn} var`));
        }
      });
      assert.deepEqual((await seq.graph(N, H, W)).zeroGrads, (await joint.graph(N, H, W)).zeroGrads);
    } finally {
      await Promise.all([joint.dispose(), seq.dispose()]);
      disposeParams(p);
    }
  };
}

test('onnx sequential plan (one pass alive at a time) gives the joint graph\'s losses, gradients and statistics', sequentialEqualsJoint(DEFAULT_TRAIN_CONFIG, 3));

test(
  'onnx sequential plan, ablations and flipped signs',
  sequentialEqualsJoint({ ...DEFAULT_TRAIN_CONFIG, cfi: false, comp: false, gateEntropy: 'minimise', necessity: 'maximise' }, 4),
);

test('auto plan: joint when the measured joint footprint fits in half the memory, else sequential', () => {
  const gib = 2 ** 30;
  assert.equal(autoOnnxPlan(8, 128, 128, 23 * gib), 'joint'); // ~6 GiB
  assert.equal(autoOnnxPlan(16, 176, 176, 23 * gib), 'sequential'); // ~23 GiB
  assert.equal(autoOnnxPlan(16, 256, 256, 128 * gib), 'joint'); // ~48 GiB
});

test('onnx engine: resume after a stop gives the same weights, bit for bit, as an uninterrupted run', async () => {
  await useBackend('onnx');
  const data: PairImages[] = [1, 2, 3].map((seed) => {
    const p = syntheticPair({ width: 30, height: 26, seed });
    return { stem: `s${seed}`, width: 30, height: 26, vi: lumaPlane(p.vis), ir: lumaPlane(p.ir) };
  });
  const common = { data, batch: 2, crop: 20, seed: 4, checkpointEvery: 2, engine: 'onnx' } as const;
  const a = await mkdtemp(join(tmpdir(), 'isfuse-onnx-a-'));
  const b = await mkdtemp(join(tmpdir(), 'isfuse-onnx-b-'));
  try {
    const full = await train({ ...common, out: a, steps: 3 });
    await train({ ...common, out: b, steps: 3, stopAfter: 2 });
    const rest = await train({ ...common, out: b, steps: 3, resume: true });
    assert.equal(rest.step, 3);
    assert.ok(full.last && Number.isFinite(full.last.total));
    const wa = await assertSameWeights(full.weightsPath, rest.weightsPath);
    assert.equal(wa.get('encoder_ir.module1.1.num_batches_tracked'), 15); // 3 steps x 5 passes
  } finally {
    await Promise.all([rm(a, { recursive: true, force: true }), rm(b, { recursive: true, force: true })]);
  }
});
