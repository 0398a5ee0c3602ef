import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parameterCounts, stateDictSpec, numel, initParams, disposeParams, paramsToValues } from '../../src/model/isfuse.js';
import {
  parseSafetensors, serializeSafetensors, readIsfuseWeights, serializeIsfuseWeights, writeIsfuseWeights, toFloat32,
  stateValuesFromSafetensors, type TensorToWrite,
} from '../../src/model/weights.js';
import { WEIGHTS_PATH } from './fixtures.js';

const TOOL = fileURLToPath(new URL('../../tools/make_model_fixtures.py', import.meta.url));

test('parameter counts match docs/NETWORK.md: 192,388 used, 231,780 in the state dict', () => {
  assert.deepEqual(parameterCounts(), { used: 192388, all: 231780 });
  const spec = stateDictSpec();
  assert.equal(spec.length, 233); // tensors in the reference state_dict()
  assert.equal(spec.reduce((a, s) => a + numel(s.shape), 0), 233439); // values incl. BatchNorm buffers
});

test('the state-dict names equal those of the PyTorch reference fixture, (same set, same shapes)', () => {
  const file = parseSafetensors(readFileSync(WEIGHTS_PATH));
  const ours = stateDictSpec().map((s) => s.name);
  assert.deepEqual([...file.tensors.keys()].sort(), [...ours].sort());
  for (const s of stateDictSpec()) assert.deepEqual(file.tensors.get(s.name)!.shape, s.shape, s.name);
  for (const n of ['encoder_ir.module1.0.weight', 'cfi3.q_v.bias', 'cfi4.gate.1.running_mean', 'final_decoder.0.weight']) assert.ok(ours.includes(n), n);
});

test('safetensors round trip: read -> write -> read gives identical bytes and values', async () => {
  const values = await readIsfuseWeights(WEIGHTS_PATH);
  const bytes = serializeIsfuseWeights(values);
  const again = stateValuesFromSafetensors(parseSafetensors(bytes), 'round trip');
  for (const [k, v] of values) assert.deepEqual(again.get(k), v, k);
  // the same data section as the file PyTorch wrote (names sorted there, PyTorch order here: compare per tensor)
  const a = parseSafetensors(readFileSync(WEIGHTS_PATH)).tensors;
  const b = parseSafetensors(bytes).tensors;
  for (const [k, t] of a) assert.deepEqual(Buffer.from(b.get(k)!.bytes), Buffer.from(t.bytes), k);
  assert.equal(b.get('cfi3.gate.1.num_batches_tracked')!.dtype, 'I64');
});

test('generic safetensors: header padded to 8 bytes, metadata kept, F64/F16/BF16 converted to float32', () => {
  const t = new Map<string, TensorToWrite>([['a', { shape: [2], data: Float64Array.of(1.5, -2) }], ['b', { shape: [], data: BigInt64Array.of(7n) }]]);
  const bytes = serializeSafetensors(t, { k: 'v' });
  assert.equal(Number(new DataView(bytes.buffer).getBigUint64(0, true)) % 8, 0);
  const p = parseSafetensors(bytes);
  assert.deepEqual(p.metadata, { k: 'v' });
  assert.deepEqual([...toFloat32(p.tensors.get('a')!, 'a', 'x')], [1.5, -2]);
  // F16 1.0 = 0x3c00, -2.5 = 0xc100; BF16 1.0 = 0x3f80
  const f16 = { dtype: 'F16', shape: [2], bytes: Uint8Array.of(0x00, 0x3c, 0x00, 0xc1) };
  assert.deepEqual([...toFloat32(f16, 'h', 'x')], [1, -2.5]);
  assert.deepEqual([...toFloat32({ dtype: 'BF16', shape: [1], bytes: Uint8Array.of(0x80, 0x3f) }, 'b', 'x')], [1]);
});

/** The fixture file with one tensor changed (or removed / renamed / added). */
function mutated(edit: (m: Map<string, TensorToWrite>) => void): Uint8Array {
  const file = parseSafetensors(readFileSync(WEIGHTS_PATH));
  const m = new Map<string, TensorToWrite>();
  for (const [k, t] of file.tensors) {
    m.set(k, { shape: t.shape, data: t.dtype === "I64" ? new BigInt64Array(new Uint8Array(t.bytes).buffer) : toFloat32(t, k, "x") });
  }
  edit(m);
  return serializeSafetensors(m);
}

function loadBytes(bytes: Uint8Array): unknown {
  return stateValuesFromSafetensors(parseSafetensors(bytes, 'w.safetensors'), 'w.safetensors');
}

test('bad weights files give clear errors naming the tensor', () => {
  const full = readFileSync(WEIGHTS_PATH);
  assert.throws(() => parseSafetensors(full.subarray(0, 5), 'w'), /truncated/);
  assert.throws(() => parseSafetensors(full.subarray(0, 1000), 'w'), /truncated.*header length/);
  assert.throws(() => parseSafetensors(full.subarray(0, full.length - 100), 'w'), /truncated: tensor '[^']+' needs bytes/);
  assert.throws(() => loadBytes(mutated((m) => m.set('cfi3.extra.weight', { shape: [1], data: Float32Array.of(0) }))), /unknown tensor 'cfi3\.extra\.weight'/);
  assert.throws(() => loadBytes(mutated((m) => m.delete('cfi4.k_v.bias'))), /missing tensor 'cfi4\.k_v\.bias'/);
  assert.throws(
    () => loadBytes(mutated((m) => m.set('cfi5.gate.0.weight', { shape: [16, 32, 1, 1], data: new Float32Array(512) }))),
    /tensor 'cfi5\.gate\.0\.weight' has shape \[16, 32, 1, 1\], expected \[16, 32, 3, 3\]/,
  );
  assert.throws(
    () => loadBytes(mutated((m) => {
      const d = (m.get('encoder_vis.module2.3.weight')!.data as Float32Array).slice();
      d[17] = NaN;
      m.set('encoder_vis.module2.3.weight', { shape: [32, 32, 3, 3], data: d });
    })),
    /tensor 'encoder_vis\.module2\.3\.weight' holds a non-finite value \(NaN\) at index 17/,
  );
  assert.throws(
    () => loadBytes(mutated((m) => m.set('adjust_channels4.1.running_var', { shape: [32], data: new Float32Array(32).fill(Infinity) }))),
    /'adjust_channels4\.1\.running_var' holds a non-finite value \(Infinity\)/,
  );
  assert.throws(
    () => loadBytes(mutated((m) => m.set('final_decoder.0.bias', { shape: [1], data: Int32Array.of(1) }))),
    /'final_decoder\.0\.bias' has dtype I32; expected a float dtype/,
  );
  const prefixed = mutated((m) => {
    const t = m.get('cfi3.q_v.bias')!;
    m.delete('cfi3.q_v.bias');
    m.set('module.cfi3.q_v.bias', t);
  });
  assert.throws(() => loadBytes(prefixed), /unknown tensor 'module\.cfi3\.q_v\.bias'.*DataParallel/);
});

test('tolerated: F64 weights, missing num_batches_tracked and missing unused blocks (filled for saving)', () => {
  const v = loadBytes(mutated((m) => {
    for (const k of [...m.keys()]) if (k.startsWith('module4.') || k.endsWith('num_batches_tracked')) m.delete(k);
    m.set('cfi3.q_v.bias', { shape: [32], data: Float64Array.from(m.get('cfi3.q_v.bias')!.data as Float32Array) });
  })) as Map<string, Float32Array | number>;
  assert.equal(v.get('cfi3.gate.1.num_batches_tracked'), 0);
  assert.equal((v.get('module4.0.weight') as Float32Array).length, 9216);
  assert.equal(v.size, 233);
});

function torchAvailable(): boolean {
  return spawnSync('/usr/bin/python3', ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;
}

test('a file written here loads in PyTorch with load_state_dict(strict=True)', { skip: !torchAvailable() && 'needs /usr/bin/python3 with torch' }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isfuse-w-'));
  try {
    // 1) the fixture, re-saved: must equal the original tensor for tensor
    const out1 = join(dir, 'resaved.safetensors');
    await writeIsfuseWeights(out1, await readIsfuseWeights(WEIGHTS_PATH));
    const r1 = spawnSync('/usr/bin/python3', [TOOL, '--check', out1, '--against', WEIGHTS_PATH], { encoding: 'utf8' });
    assert.equal(r1.status, 0, r1.stderr + r1.stdout);
    assert.match(r1.stdout, /loads with strict=True \(233 tensors, 231780 parameters\); equal to/);
    // 2) freshly initialised parameters (the training path's save)
    const p = initParams(7);
    const out2 = join(dir, 'init.safetensors');
    await writeIsfuseWeights(out2, p);
    const values = paramsToValues(p);
    disposeParams(p);
    assert.equal(values.size, 233);
    const r2 = spawnSync('/usr/bin/python3', [TOOL, '--check', out2], { encoding: 'utf8' });
    assert.equal(r2.status, 0, r2.stderr + r2.stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
