// Every fidelity loss of the registry (src/train/fidelity.ts) against PyTorch (tools/make_fidelity_fixtures.py ->
// test/fixtures/train/fidelity-<name>.safetensors): value, parts and dL/dy, on both implementations of the loss
// ops: TensorFlow.js (cpu backend, gradient by tf.grad) and the ONNX tape (a graph of the loss alone, y a
// differentiable input, run by onnxruntime; its output grad:y). A loss without a fixture fails here.
// Tolerances: values 2e-6 relative (float32 arithmetic against float64 from the same float32 inputs); gradient
// elements 1e-5 of the largest (the fixture's inputs stay away from every kink of |.| and max, so no sign flips).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { loadOnnxRuntime } from '../../src/model/backend.js';
import { parseSafetensors, toFloat32 } from '../../src/model/weights.js';
import { FIDELITY_LOSSES, FIDELITY_LOSS_NAMES, type FidelityLossName } from '../../src/train/fidelity.js';
import { tfLossOps } from '../../src/train/losses.js';
import { Tape, tapeLossOps } from '../../src/train/onnx/tape.js';

function fixture(name: string) {
  const url = new URL(`../fixtures/train/fidelity-${name}.safetensors`, import.meta.url);
  assert.ok(existsSync(url), `no reference fixture for the fidelity loss '${name}': add it to tools/make_fidelity_fixtures.py`);
  const fx = parseSafetensors(new Uint8Array(readFileSync(url)));
  const arr = (k: string): Float32Array => toFloat32(fx.tensors.get(k)!, k, 'fixture');
  const [n, h, w] = fx.tensors.get('y')!.shape as [number, number, number];
  const parts = new Map([...fx.tensors.keys()].filter((k) => k.startsWith('part.')).map((k) => [k.slice(5), arr(k)[0]!]));
  return { n, h, w, vi: arr('vi'), ir: arr('ir'), y: arr('y'), total: arr('L')[0]!, parts, grad: arr('grad.y') };
}

const close = (got: number, want: number, what: string): void => {
  assert.ok(Math.abs(got - want) <= 2e-6 * Math.max(1, Math.abs(want)), `${what}: got ${got}, PyTorch ${want}`);
};

function closeGrad(got: Float32Array, want: Float32Array, what: string): void {
  assert.equal(got.length, want.length);
  const scale = want.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
  assert.ok(scale > 0, `${what}: the reference gradient is zero`);
  got.forEach((v, i) => assert.ok(Math.abs(v - want[i]!) <= 1e-5 * scale, `${what}[${i}]: got ${v}, PyTorch ${want[i]}`));
}

for (const name of FIDELITY_LOSS_NAMES) {
  test(`fidelity loss '${name}': value, parts and gradient against PyTorch (TensorFlow.js)`, async () => {
    await tf.setBackend('cpu');
    const fx = fixture(name);
    const shape: [number, number, number, number] = [fx.n, fx.h, fx.w, 1];
    const vi = tf.tensor4d(fx.vi, shape), ir = tf.tensor4d(fx.ir, shape), y = tf.tensor4d(fx.y, shape);
    const loss = (yy: tf.Tensor): tf.Tensor => tf.addN(Object.values(FIDELITY_LOSSES[name as FidelityLossName].parts(tfLossOps, yy, vi, ir)));
    const parts = FIDELITY_LOSSES[name as FidelityLossName].parts(tfLossOps, y, vi, ir);
    assert.deepEqual(Object.keys(parts).sort(), [...fx.parts.keys()].sort());
    for (const [k, v] of Object.entries(parts)) close(v.dataSync()[0]!, fx.parts.get(k)!, `${name} part ${k}`);
    close(loss(y).dataSync()[0]!, fx.total, `${name} L`);
    closeGrad(tf.grad(loss)(y).dataSync() as Float32Array, fx.grad, `${name} dL/dy`);
    tf.dispose([vi, ir, y]);
  });

  test(`fidelity loss '${name}': value, parts and gradient against PyTorch (ONNX tape on onnxruntime)`, async () => {
    const fx = fixture(name);
    const t = new Tape();
    const shape = [fx.n, 1, fx.h, fx.w];
    const [y, vi, ir] = [t.input('y', shape, true), t.input('vi', shape, false), t.input('ir', shape, false)];
    const parts = FIDELITY_LOSSES[name as FidelityLossName].parts(tapeLossOps(t), y, vi, ir);
    const values = Object.values(parts);
    const total = values.slice(1).reduce((a, b) => t.add(a, b), values[0]!);
    for (const [k, v] of Object.entries(parts)) t.output(`part:${k}`, v);
    t.output('L', total);
    t.acc(total, t.scalar(1));
    t.backward();
    t.output('grad:y', t.grad(y)!);
    const ort = await loadOnnxRuntime();
    const session = await ort.InferenceSession.create(t.g.model(`fidelity_${name}`), { logSeverityLevel: 3 });
    try {
      const out = await session.run({
        y: new ort.Tensor('float32', fx.y, shape), vi: new ort.Tensor('float32', fx.vi, shape), ir: new ort.Tensor('float32', fx.ir, shape),
      });
      const num = (k: string): number => (out[k]!.data as Float32Array)[0]!;
      for (const k of Object.keys(parts)) close(num(`part:${k}`), fx.parts.get(k)!, `${name} part ${k}`);
      close(num('L'), fx.total, `${name} L`);
      closeGrad(out['grad:y']!.data as Float32Array, fx.grad, `${name} dL/dy`);
    } finally {
      await session.release();
    }
  });
}
