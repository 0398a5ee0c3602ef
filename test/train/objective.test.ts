// The objective (src/train/objective.ts) on small random stand-ins for the passes' outputs, TensorFlow.js cpu
// backend: the differentiable loss summed over the passes equals the host report's total, and both equal
// L_f + 0.1 L_inv ± 0.05 L_nec from the single terms of src/train/losses.ts, for each sign and ablation; the
// parts are named as logged.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { Rng } from '../../src/core/random.js';
import { DEFAULT_TRAIN_CONFIG, type PassName, type TrainConfig } from '../../src/train/interventions.js';
import { fusionLoss, invarianceTerm, necessityLoss, tfLossOps } from '../../src/train/losses.js';
import { LOSS_WEIGHTS, passLoss, reportTerms, trainingObjective } from '../../src/train/objective.js';

const N = 2, H = 12, W = 10;

function image(rng: Rng, h = H, w = W): tf.Tensor4D {
  return tf.tensor4d(Float32Array.from({ length: N * h * w }, () => 0.05 + 0.9 * rng.next()), [N, h, w, 1]);
}

const configs: [string, TrainConfig][] = [
  ['defaults', DEFAULT_TRAIN_CONFIG],
  ['both signs flipped', { ...DEFAULT_TRAIN_CONFIG, gateEntropy: 'minimise', necessity: 'maximise' }],
  ['no complementary masking, no dropout', { ...DEFAULT_TRAIN_CONFIG, comp: false, drop: false }],
  ['no L_inv', { ...DEFAULT_TRAIN_CONFIG, inv: false }],
];

for (const [label, cfg] of configs) {
  test(`objective (${label}): passLoss sums to reportTerms' total and to the formula`, async () => {
    await tf.setBackend('cpu');
    const rng = new Rng(3);
    const [vi, ir, y] = [image(rng), image(rng), image(rng)];
    const outs = new Map<PassName, { fused: tf.Tensor4D; gates: tf.Tensor4D[] }>();
    for (const p of ['comp', 'rand', 'novi', 'noir'] as const) outs.set(p, { fused: image(rng), gates: [image(rng, 3, 3), image(rng, 6, 5), image(rng)] });
    const obj = trainingObjective(cfg);
    const recorded = new Map<string, number>();
    let total = 0;
    for (const pass of obj.passes) {
      const l = passLoss(obj, tfLossOps, pass, { y, vi, ir, out: outs.get(pass) }, (k, v) => recorded.set(k, v.dataSync()[0]!));
      total += l.dataSync()[0]!;
    }
    const terms = reportTerms(obj, recorded);
    assert.ok(Math.abs(terms.total - total) <= 1e-6 * Math.abs(total), `${terms.total} vs ${total}`);
    assert.deepEqual(Object.keys(terms.parts), [...recorded.keys()]);

    // the same from the single terms
    const f = fusionLoss(y, vi, ir);
    assert.deepEqual(Object.keys(terms.parts).filter((k) => k.startsWith('f.')), ['f.ir', 'f.vi', 'f.grad']);
    const masking = obj.passes.filter((p) => p === 'comp' || p === 'rand');
    const inv = masking.map((p) => invarianceTerm(outs.get(p)!.fused, y, outs.get(p)!.gates, cfg.gateEntropy).total.dataSync()[0]!);
    const invMean = inv.length ? inv.reduce((a, b) => a + b, 0) / inv.length : 0;
    const dropout = obj.passes.includes('novi');
    const nec = dropout ? necessityLoss(y, outs.get('novi')!.fused, outs.get('noir')!.fused).dataSync()[0]! : 0;
    const sN = cfg.necessity === 'minimise' ? 1 : -1;
    const want = f.total.dataSync()[0]! + LOSS_WEIGHTS.inv * invMean + sN * LOSS_WEIGHTS.nec * nec;
    for (const [what, got, ref] of [['total', terms.total, want], ['f', terms.f, f.total.dataSync()[0]!], ['inv', terms.inv, invMean], ['nec', terms.nec, nec]] as const) {
      assert.ok(Math.abs(got - ref) <= 1e-6 * Math.max(1, Math.abs(ref)), `${what}: ${got} vs ${ref}`);
    }
    assert.equal(terms.comp !== undefined, masking.includes('comp'));
    assert.equal(terms.rand !== undefined, masking.includes('rand'));
    if (terms.rand) {
      const { stability, sparsity, entropy } = terms.rand;
      assert.ok(Math.abs(terms.rand.total - (stability + sparsity + (cfg.gateEntropy === 'maximise' ? -1 : 1) * entropy)) < 1e-12);
    }
    assert.equal('novi' in terms.parts, dropout);
  });
}

test('objective: an unknown fidelity loss is named in the error', () => {
  assert.throws(() => trainingObjective({ ...DEFAULT_TRAIN_CONFIG, loss: 'nope' as never }), /unknown fidelity loss 'nope' \(known: paper/);
});
