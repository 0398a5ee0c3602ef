/**
 * The pre-run memory estimate: an upper bound of the measured peak, and a clear error for 4096 x 4096 where
 * nothing can run it (TensorFlow.js, or onnx with tiles 'never'); the onnx engine's choice of tiles.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { IsfuseError } from '../../src/core/errors.js';
import { useBackend } from '../../src/model/backend.js';
import { createRunner } from '../../src/model/runner.js';
import { readIsfuseWeights } from '../../src/model/weights.js';
import { WEIGHTS_PATH } from './fixtures.js';
import { initParams, prepareInference, infer, disposeParams } from '../../src/model/isfuse.js';
import { checkInferenceMemory, estimateInferenceBytes, estimateTiledInferenceBytes, planOnnxInference, TILE_ABOVE_PIXELS } from '../../src/model/memory.js';

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

test('onnx: untiled up to 1 MP, tiled above or when the untiled run does not fit; 8192x8192 in tiles under 2 GiB', () => {
  const GiB = 2 ** 30;
  assert.deepEqual(planOnnxInference(768, 1024, { limitBytes: 8 * GiB }), { tiled: false });
  assert.deepEqual(planOnnxInference(1024, 1024, { limitBytes: 8 * GiB }), { tiled: false });
  assert.equal(TILE_ABOVE_PIXELS, 1024 * 1024);
  assert.deepEqual(planOnnxInference(1024, 1025, { limitBytes: 8 * GiB }), { tiled: true, tileSize: 768 });
  assert.deepEqual(planOnnxInference(768, 1024, { limitBytes: 0.8 * GiB }), { tiled: true, tileSize: 256 }); // untiled 1.06 GiB, tiles of 768 too
  assert.deepEqual(planOnnxInference(40, 40, { tiles: 'always', tileSize: 16, limitBytes: GiB }), { tiled: true, tileSize: 16 });
  assert.deepEqual(planOnnxInference(4096, 4096, { tiles: 'never', limitBytes: 40 * GiB }), { tiled: false });
  assert.throws(() => planOnnxInference(4096, 4096, { tiles: 'never', limitBytes: 8 * GiB }), /needs about 1\d\.\d GiB to fuse a 4096x4096 pair on backend 'onnx'.*tiled inference/);
  // the tiled estimate: planes (12 bytes a pixel, 17.25 with gates) and one 848 x 848 tile
  const big = estimateTiledInferenceBytes(8192, 8192);
  assert.ok(big > 12 * 8192 * 8192 && big < 2 * GiB, `${big}`);
  assert.ok(estimateTiledInferenceBytes(8192, 8192, 768, true) - big === 5.25 * 8192 * 8192);
  assert.equal(estimateTiledInferenceBytes(100, 100), estimateInferenceBytes(100, 100, 'onnx') + 12 * 100 * 100);
  assert.deepEqual(planOnnxInference(8192, 8192, { limitBytes: 2 * GiB }), { tiled: true, tileSize: 768 });
  // a tight limit: smaller tiles; below the planes themselves: refused with the figures
  assert.deepEqual(planOnnxInference(8192, 8192, { limitBytes: 1.05 * GiB }), { tiled: true, tileSize: 256 });
  assert.throws(
    () => planOnnxInference(8192, 8192, { limitBytes: 0.5 * GiB }),
    /ISFuse needs about 0\.8 GiB to fuse a 8192x8192 pair on backend 'onnx' even in tiles of 64x64 \(the image planes alone take 0\.8 GiB\), more than 0\.5 GiB available to the configured limit\. Fuse a smaller image \(about \d+x\d+ fits\)/,
  );
});

test('TensorFlow.js does not tile: its runner refuses a 4096x4096 pair before running, naming the figure and the onnx engine', async () => {
  const runner = await createRunner(await readIsfuseWeights(WEIGHTS_PATH), 'wasm');
  const plane = new Float32Array(4096 * 4096);
  await assert.rejects(
    runner.run({ vi: plane, ir: plane, height: 4096, width: 4096 }, { tiles: 'always' }),
    (e: Error) => e instanceof IsfuseError && e.kind === 'input' && /needs about 2\d\.\d GiB .* backend 'wasm'.*backend 'onnx' \(CPU\).*tiles/.test(e.message),
  );
  runner.dispose();
});
