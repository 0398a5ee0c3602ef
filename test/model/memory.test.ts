/** The pre-run memory estimate: an upper bound of the measured peak, and a clear error for 4096 x 4096. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../../src/model/backend.js';
import { initParams, prepareInference, infer, disposeParams } from '../../src/model/isfuse.js';
import { checkInferenceMemory, estimateInferenceBytes } from '../../src/model/memory.js';

test('estimate bounds the measured TensorFlow.js peak (tf.profile, 160x192, wasm) within 1.6x', async () => {
  await useBackend('wasm');
  const p = initParams(1);
  const net = prepareInference(p);
  disposeParams(p);
  const [h, w] = [160, 192];
  const vi = tf.randomUniform([1, h, w, 1]) as tf.Tensor4D;
  const ir = tf.randomUniform([1, h, w, 1]) as tf.Tensor4D;
  const info = await tf.profile(() => tf.tidy(() => { infer(net, vi, ir); }));
  const weights = [...net.convs.values()].reduce((a, c) => a + 4 * (c.filter.size + c.bias.size), 0);
  const measured = info.peakBytes - tf.memory().numBytes + weights; // activations only
  const est = estimateInferenceBytes(h, w, 'tfjs') - 64 * 2 ** 20; // without the fixed allowance
  assert.ok(est >= measured && est <= 1.6 * measured, `estimate ${est} vs measured peak ${measured}`);
  tf.dispose([vi, ir]);
  net.dispose();
});

test('a 4096x4096 pair fails before running with a message naming the memory it needs', () => {
  assert.throws(
    () => checkInferenceMemory(4096, 4096, { name: 'wasm', engine: 'tfjs' }),
    /ISFuse needs about 2\d\.\d GiB to fuse a 4096x4096 pair on backend 'wasm', more than 3\.5 GiB available to the wasm heap.*about \d+x\d+ fits/,
  );
  assert.throws(() => checkInferenceMemory(4096, 4096, { name: 'onnx', engine: 'onnx' }, 8 * 2 ** 30), /needs about 1\d\.\d GiB.*more than 8\.0 GiB/);
  assert.doesNotThrow(() => checkInferenceMemory(480, 640, { name: 'wasm', engine: 'tfjs' }));
});
