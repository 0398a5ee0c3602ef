import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { adapterKind, BACKEND_NAMES, useBackend } from '../../src/model/backend.js';
import { IsfuseError } from '../../src/core/errors.js';

test('unknown backend name: usage error listing the valid names', async () => {
  await assert.rejects(useBackend('tpu'), (e: unknown) => {
    assert.ok(e instanceof IsfuseError && e.kind === 'usage');
    assert.match((e as Error).message, /Unknown backend 'tpu'\. Valid backends: auto, onnx, wasm, cpu, webgpu, tfjs-node/);
    return true;
  });
  assert.deepEqual([...BACKEND_NAMES], ['auto', 'onnx', 'wasm', 'cpu', 'webgpu', 'tfjs-node']);
});

test('wasm starts in Node and finds its .wasm files in node_modules by itself', async () => {
  const b = await useBackend('wasm');
  assert.equal(b.name, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.deepEqual(Array.from(tf.tidy(() => tf.add(tf.tensor1d([1, 2]), 1).dataSync())), [2, 3]);
});

test('cpu backend is selectable and reported', async () => {
  const b = await useBackend('cpu');
  assert.deepEqual([b.name, b.engine, b.tfBackend], ['cpu', 'tfjs', 'cpu']);
});

test('optional backends that are not installed fail with a message naming the package', async () => {
  // neither `webgpu` nor @tensorflow/tfjs-node is a dependency of isfuse
  await assert.rejects(useBackend('webgpu'), /webgpu.*(npm install webgpu|tfjs-backend-webgpu|no WebGPU adapter)/);
  await assert.rejects(useBackend('tfjs-node'), /needs the package @tensorflow\/tfjs-node/);
});

test("adapterKind: software WebGPU adapters (which 'auto' passes over) are told from GPUs", () => {
  assert.equal(adapterKind({ info: { vendor: 'google', architecture: 'swiftshader', description: 'SwiftShader driver 5.0.0' } }).software, true);
  assert.equal(adapterKind({ info: { vendor: 'mesa', description: 'llvmpipe (LLVM 15.0.6, 256 bits)' } }).software, true);
  assert.equal(adapterKind({ isFallbackAdapter: true, info: {} }).software, true);
  const gpu = adapterKind({ info: { vendor: 'nvidia', architecture: 'hopper', description: 'NVIDIA H100 80GB HBM3' } });
  assert.deepEqual(gpu, { text: 'nvidia hopper NVIDIA H100 80GB HBM3', software: false });
  assert.equal(adapterKind({}).text, 'unnamed adapter');
});
