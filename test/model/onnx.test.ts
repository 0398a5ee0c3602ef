/**
 * The ONNX graph run by onnxruntime-node (backend 'onnx') against the PyTorch reference: the same
 * fixtures and tolerance as the TensorFlow.js parity test (max |diff| <= 1e-4 on fused and gates), with the
 * attention in one block and in many blocks (the large-image path).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { loadOnnxRuntime, useBackend } from '../../src/model/backend.js';
import { buildIsfuseOnnx } from '../../src/model/onnx.js';
import { createRunner } from '../../src/model/runner.js';
import { readIsfuseWeights } from '../../src/model/weights.js';
import { caseValues, maxAbsDiff, SIZES, TOL, WEIGHTS_PATH } from './fixtures.js';

test('onnx backend: parity with PyTorch on every fixture size (fused and gates)', async () => {
  const runner = await createRunner(await readIsfuseWeights(WEIGHTS_PATH), 'onnx');
  assert.equal(runner.backend.name, 'onnx');
  for (const [h, w] of SIZES) {
    const key = `${h}x${w}`;
    const r = await runner.run({ ir: caseValues(`${key}.ir`), vi: caseValues(`${key}.vi`), height: h, width: w }, { gates: true });
    const got = [r.fused, ...r.gates!.map((g) => g.data)];
    ['fused', 'g3', 'g4', 'g5'].forEach((n, i) => {
      const d = maxAbsDiff(got[i], caseValues(`${key}.${n}`));
      assert.ok(d <= TOL, `onnx ${key} ${n}: max |diff| ${d}`);
    });
    assert.deepEqual([r.gates![0].height, r.gates![0].width], [Math.floor(h / 4), Math.floor(w / 4)]);
  }
  runner.dispose();
});

test('onnx graph with the attention split in blocks gives the same result', async () => {
  const ort = await loadOnnxRuntime();
  const [h, w] = SIZES[1];
  const key = `${h}x${w}`;
  const s = await ort.InferenceSession.create(buildIsfuseOnnx(await readIsfuseWeights(WEIGHTS_PATH), h, w, { attentionRows: 100 }));
  const r = await s.run({
    vi: new ort.Tensor('float32', caseValues(`${key}.vi`), [1, 1, h, w]),
    ir: new ort.Tensor('float32', caseValues(`${key}.ir`), [1, 1, h, w]),
  });
  const d = maxAbsDiff(r.fused.data as Float32Array, caseValues(`${key}.fused`));
  assert.ok(d <= TOL, `max |diff| ${d}`);
  await s.release();
});

test("'auto' picks onnx here (onnxruntime-node is a dependency; no webgpu)", async () => {
  const b = await useBackend('auto');
  assert.equal(b.name, 'onnx');
  assert.ok(b.skipped.some((s) => s.startsWith('webgpu:')), b.skipped.join('; '));
});
