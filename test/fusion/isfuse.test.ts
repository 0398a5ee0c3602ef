import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { plane } from '../../src/core/image.js';
import { isfuse, fuseWithGates, clearIsfuseCache, DEFAULT_WEIGHTS_PATH, upsampleGate, type IsfusePlane } from '../../src/fusion/isfuse.js';
import { caseValues, maxAbsDiff, TOL, WEIGHTS_PATH } from '../model/fixtures.js';

const [H, W] = [37, 45];
const ir = plane(W, H, caseValues(`${H}x${W}.ir`));
const vis = plane(W, H, caseValues(`${H}x${W}.vi`));

for (const backend of ['wasm', 'onnx']) {
  test(`Fuser 'isfuse' on ${backend} equals the PyTorch reference (1e-4) and leaks no tensors`, async () => {
    const out = await isfuse.fuse(ir, vis, { weights: WEIGHTS_PATH, backend });
    assert.deepEqual([out.width, out.height], [W, H]);
    assert.ok(maxAbsDiff(out.data, caseValues(`${H}x${W}.fused`)) <= TOL);
    const before = tf.memory().numTensors;
    await isfuse.fuse(ir, vis, { weights: WEIGHTS_PATH, backend }); // cached network, second run
    assert.equal(tf.memory().numTensors, before);
  });
}

test('gates: three maps at image size; g5 is the level-1 gate itself, g3/g4 bilinear (half-pixel) upsampled', async () => {
  const r = await fuseWithGates(ir, vis, { weights: WEIGHTS_PATH, backend: 'wasm' });
  assert.equal(r.gates.length, 3);
  for (const g of r.gates) assert.deepEqual([g.width, g.height], [W, H]);
  assert.ok(maxAbsDiff(r.gates[2].data, caseValues(`${H}x${W}.g5`)) <= TOL);
  // g3 upsampled here == TensorFlow.js resizeBilinear(halfPixelCenters) of the reference g3
  const [h3, w3] = [Math.floor(H / 4), Math.floor(W / 4)];
  const ref = tf.tidy(() => tf.image.resizeBilinear(tf.tensor4d(caseValues(`${H}x${W}.g3`), [1, h3, w3, 1]), [H, W], false, true).dataSync());
  assert.ok(maxAbsDiff(r.gates[0].data, ref) <= TOL);
  const viaOption = (await isfuse.fuse(ir, vis, { weights: WEIGHTS_PATH, backend: 'wasm', gates: true })) as IsfusePlane;
  assert.ok(viaOption.gates && maxAbsDiff(viaOption.gates[1].data, r.gates[1].data) === 0);
  const id = upsampleGate({ width: 3, height: 2, data: Float32Array.of(1, 2, 3, 4, 5, 6) }, 3, 2);
  assert.deepEqual(Array.from(id.data), [1, 2, 3, 4, 5, 6]);
});

test('clear errors: no weights and no default model; unknown option; bad backend; size mismatch', async () => {
  if (!existsSync(DEFAULT_WEIGHTS_PATH)) {
    await assert.rejects(isfuse.fuse(ir, vis), /ISFuse needs weights: no weights file given \(--weights FILE\.safetensors\) and no default model at .*isfuse-paper\.safetensors/);
  }
  await assert.rejects(isfuse.fuse(ir, vis, { weights: 'nope.safetensors' }), /ISFuse weights file not found: nope\.safetensors/);
  await assert.rejects(isfuse.fuse(ir, vis, { weight: WEIGHTS_PATH }), /Unknown option 'weight' for isfuse\. Valid options: weights, model, backend, gates, maxMemoryBytes/);
  await assert.rejects(isfuse.fuse(ir, vis, { weights: WEIGHTS_PATH, backend: 'gpu' }), /Unknown backend 'gpu'/);
  await assert.rejects(isfuse.fuse(ir, plane(W + 1, H), { weights: WEIGHTS_PATH }), /differ in size/);
});

test('a 4096x4096 pair on wasm fails up front naming the memory it needs', async () => {
  const big = plane(4096, 4096);
  await assert.rejects(
    isfuse.fuse(big, big, { weights: WEIGHTS_PATH, backend: 'wasm' }),
    /ISFuse needs about \d+\.\d GiB to fuse a 4096x4096 pair on backend 'wasm', more than 3\.5 GiB/,
  );
  await clearIsfuseCache();
});
