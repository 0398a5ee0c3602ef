/**
 * Parity of the TensorFlow.js ISFuse with the PyTorch reference (tools/make_model_fixtures.py):
 * eval mode on backends cpu and wasm, max |diff| <= 1e-4 on the [0,1] outputs (fused and three gates) for
 * every fixture size (odd sizes included); training mode (BatchNorm batch statistics, running statistics,
 * gradients) against the float64 PyTorch result.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/backend.js';
import { readIsfuseWeights } from '../../src/model/weights.js';
import { forward, infer, paramsFromValues, prepareInference, disposeParams, trainableVariables, stateDictSpec } from '../../src/model/isfuse.js';
import { caseTensors, caseValues, maxAbsDiff, SIZES, TOL, WEIGHTS_PATH } from './fixtures.js';

for (const backend of ['cpu', 'wasm'] as const) {
  test(`eval-mode parity with PyTorch on ${backend} (folded BatchNorm), all fixture sizes`, async () => {
    await useBackend(backend);
    const net = prepareInference(await readIsfuseWeights(WEIGHTS_PATH));
    const before = tf.memory().numTensors;
    for (const [h, w] of SIZES) {
      const key = `${h}x${w}`;
      const out = tf.tidy(() => {
        const o = infer(net, tf.tensor4d(caseValues(`${key}.vi`), [1, h, w, 1]), tf.tensor4d(caseValues(`${key}.ir`), [1, h, w, 1]));
        return [o.fused, ...o.gates];
      });
      const names = ['fused', 'g3', 'g4', 'g5'];
      const diffs = out.map((t, i) => maxAbsDiff(t.dataSync(), caseValues(`${key}.${names[i]}`)));
      assert.deepEqual(out[1].shape, [1, Math.floor(Math.floor(h / 2) / 2), Math.floor(Math.floor(w / 2) / 2), 1]);
      tf.dispose(out);
      for (let i = 0; i < 4; i++) assert.ok(diffs[i] <= TOL, `${backend} ${key} ${names[i]}: max |diff| ${diffs[i]}`);
    }
    assert.equal(tf.memory().numTensors, before, 'no tensors leaked');
    net.dispose();
  });
}

test('eval-mode forward from the variables (BatchNorm folded on the fly) matches too (wasm)', async () => {
  await useBackend('wasm');
  const p = paramsFromValues(await readIsfuseWeights(WEIGHTS_PATH));
  const [h, w] = SIZES[1];
  const key = `${h}x${w}`;
  const d = tf.tidy(() => {
    const o = forward(p, tf.tensor4d(caseValues(`${key}.vi`), [1, h, w, 1]), tf.tensor4d(caseValues(`${key}.ir`), [1, h, w, 1]));
    return maxAbsDiff(o.fused.dataSync(), caseValues(`${key}.fused`));
  });
  assert.ok(d <= TOL, `max |diff| ${d}`);
  disposeParams(p);
});

function trainInputs(): [tf.Tensor4D, tf.Tensor4D] {
  return [tf.tensor4d(caseValues('train.vi'), [2, 24, 30, 1]), tf.tensor4d(caseValues('train.ir'), [2, 24, 30, 1])];
}

test('training-mode forward on wasm: batch-statistics BatchNorm and running-stat updates match PyTorch', async () => {
  await useBackend('wasm');
  const p = paramsFromValues(await readIsfuseWeights(WEIGHTS_PATH));
  const counter0 = p.numBatchesTracked.get('cfi5.gate.1.num_batches_tracked')!;
  const d = tf.tidy(() => {
    const [vi, ir] = trainInputs();
    const o = forward(p, vi, ir, { training: true });
    return [o.fused, ...o.gates].map((t, i) => maxAbsDiff(t.dataSync(), caseValues(`train.${['fused', 'g3', 'g4', 'g5'][i]}`)));
  });
  for (const x of d) assert.ok(x <= TOL, `train-mode output max |diff| ${x}`);
  assert.equal(p.numBatchesTracked.get('cfi5.gate.1.num_batches_tracked'), counter0 + 1);
  for (const [k, t] of caseTensors()) {
    if (!k.startsWith('train.state.')) continue;
    const name = k.slice('train.state.'.length);
    if (name.endsWith('num_batches_tracked')) {
      assert.equal(p.numBatchesTracked.get(name), Number(new DataView(t.bytes.buffer, t.bytes.byteOffset, 8).getBigInt64(0, true)), name);
    } else {
      const diff = maxAbsDiff(p.variables.get(name)!.dataSync(), caseValues(k));
      assert.ok(diff <= 1e-5, `${name}: max |diff| ${diff}`);
    }
  }
  disposeParams(p);
});

test('training-mode gradients match PyTorch (float64 reference) on cpu', async () => {
  // wasm has no Conv2DBackpropFilter kernel (docs/ENGINES.md), so gradients are checked on cpu
  await useBackend('cpu');
  const p = paramsFromValues(await readIsfuseWeights(WEIGHTS_PATH));
  const vars = trainableVariables(p);
  assert.equal(vars.reduce((a, v) => a + v.size, 0), 192388);
  const [vi, ir] = trainInputs();
  const { value, grads } = tf.variableGrads(() => {
    const o = forward(p, vi, ir, { training: true });
    return tf.addN([tf.mean(tf.square(tf.sub(o.fused, vi))), tf.mean(o.gates[0]), tf.mean(o.gates[1]), tf.mean(o.gates[2])]) as tf.Scalar;
  }, vars);
  assert.ok(Math.abs(value.dataSync()[0] - caseValues('train.loss')[0]) <= 1e-5);
  let checked = 0;
  for (const k of caseTensors().keys()) {
    if (!k.startsWith('train.grad.')) continue;
    const name = k.slice('train.grad.'.length);
    const ref = caseValues(k);
    const scale = Math.max(1e-3, ...Array.from(ref, Math.abs));
    const diff = maxAbsDiff(grads[p.variables.get(name)!.name].dataSync(), ref);
    // relative to the tensor's largest gradient: float32 through batch-statistics BatchNorm on a batch of 2
    // (PyTorch's own float32 gradients are off the float64 ones by up to 2.5% of that; ours by < 0.02%)
    assert.ok(diff / scale <= 1e-3, `${name}: max |diff| ${diff} (largest |grad| ${scale})`);
    checked++;
  }
  assert.ok(checked > 100, `${checked} gradient tensors checked`);
  assert.ok(stateDictSpec().length > 0);
  tf.dispose([value, vi, ir, ...Object.values(grads)]);
  disposeParams(p);
});
