// The training loop: checkpoint + resume gives bit-identical weights to an uninterrupted run (wasm backend,
// single-threaded and deterministic), the log and the curve are written, and the weights file loads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../../src/model/backend.js';
import { syntheticPair } from '../../src/data/synthetic.js';
import { lumaPlane, type PairImages } from '../../src/data/pairs.js';
import { train } from '../../src/train/loop.js';
import { parseSafetensors } from '../../src/model/weights.js';
import { assertSameWeights } from './same-weights.js';
import { IsfuseError } from '../../src/core/errors.js';
import { TrainingDiverged } from '../../src/train/diverged.js';

const data: PairImages[] = [1, 2, 3].map((seed) => {
  const p = syntheticPair({ width: 30, height: 26, seed });
  return { stem: `s${seed}`, width: 30, height: 26, vi: lumaPlane(p.vis), ir: lumaPlane(p.ir) };
});
const common = { data, batch: 2, crop: 20, seed: 4, checkpointEvery: 2 } as const;

test('resume after a stop gives the same weights, bit for bit, as an uninterrupted run', async () => {
  await useBackend('wasm');
  const a = await mkdtemp(join(tmpdir(), 'isfuse-train-a-'));
  const b = await mkdtemp(join(tmpdir(), 'isfuse-train-b-'));
  try {
    const full = await train({ ...common, out: a, steps: 3 });
    assert.equal(full.step, 3);
    // The checkpoint holds the weights under weights.safetensors' names, dtypes and bytes (plus the optimizer's).
    const w = parseSafetensors(await readFile(full.weightsPath));
    const ck = parseSafetensors(await readFile(join(a, 'checkpoint.safetensors')));
    const ckWeights = [...ck.tensors].filter(([name]) => !name.startsWith('optimizer.'));
    assert.deepEqual(ckWeights.map(([name, t]) => [name, t.dtype, t.shape]), [...w.tensors].map(([name, t]) => [name, t.dtype, t.shape]));
    for (const [name, t] of ckWeights) assert.deepEqual(t.bytes, w.tensors.get(name)!.bytes, name);
    const part = await train({ ...common, out: b, steps: 3, stopAfter: 2 });
    assert.equal(part.step, 2);
    const rest = await train({ ...common, out: b, steps: 3, resume: true });
    assert.equal(rest.step, 3);
    const wa = await assertSameWeights(full.weightsPath, rest.weightsPath);
    assert.equal(wa.get('encoder_ir.module1.1.num_batches_tracked'), 15); // 3 steps x 5 passes
    const log = (await readFile(join(b, 'train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(log.map((l) => l.step), [1, 2, 3]);
    const logA = (await readFile(join(a, 'train.jsonl'), 'utf8')).trim().split('\n').map((l) => JSON.parse(l));
    assert.deepEqual(logA.map((l) => l.total), log.map((l) => l.total));
    assert.match(await readFile(join(b, 'curve.svg'), 'utf8'), /^<svg/);
    await assert.rejects(train({ ...common, batch: 3, out: b, steps: 4, resume: true }), /batch is 3 but the checkpoint/);
  } finally {
    await rm(a, { recursive: true, force: true });
    await rm(b, { recursive: true, force: true });
  }
});

test('training and checkpoints read tensor values asynchronously (webgpu in Node has no synchronous read)', async () => {
  // Emulates the webgpu backend's rule: dataSync() works only on values already fetched with data()
  // (or never on the GPU at all: tensors made from host arrays, which webgpu keeps on the host until used).
  await useBackend('wasm');
  const tf = await import('@tensorflow/tfjs');
  const proto = tf.Tensor.prototype as unknown as { data: () => Promise<unknown>; dataSync: () => unknown; dataId: object };
  const { data, dataSync } = proto;
  const fetched = new WeakSet<object>();
  const synced: string[] = [];
  proto.data = async function (this: { dataId: object }) {
    const v = await data.call(this);
    fetched.add(this.dataId);
    return v;
  };
  proto.dataSync = function (this: { dataId: object; shape: number[] }) {
    if (!fetched.has(this.dataId)) synced.push(`[${this.shape}]`);
    return dataSync.call(this);
  };
  const out = await mkdtemp(join(tmpdir(), 'isfuse-train-async-'));
  try {
    const res = await train({ ...common, out, steps: 2 });
    assert.equal(res.step, 2);
  } finally {
    proto.data = data;
    proto.dataSync = dataSync;
    await rm(out, { recursive: true, force: true });
  }
  assert.deepEqual(synced, [], `synchronous reads of values never fetched: ${synced.slice(0, 5).join(', ')}`);
});

/** Rewrites the training state in a checkpoint's metadata (the safetensors header is JSON; the data stays). */
async function editCheckpointState(path: string, edit: (state: { run: { config: Record<string, unknown> } }) => void): Promise<void> {
  const bytes = await readFile(path);
  const n = Number(bytes.readBigUInt64LE(0));
  const header = JSON.parse(bytes.subarray(8, 8 + n).toString('utf8')) as { __metadata__: Record<string, string> };
  const state = JSON.parse(header.__metadata__['isfuse.train']!) as { run: { config: Record<string, unknown> } };
  edit(state);
  header.__metadata__['isfuse.train'] = JSON.stringify(state);
  let h = Buffer.from(JSON.stringify(header), 'utf8');
  h = Buffer.concat([h, Buffer.alloc(-h.length & 7, 0x20)]);
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(h.length));
  await writeFile(path, Buffer.concat([len, h, bytes.subarray(8 + n)]));
}

test('a checkpoint saved before the fidelity-loss option resumes as the paper loss; an unknown loss is a usage error', async () => {
  await useBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'isfuse-train-old-'));
  try {
    await train({ ...common, out, steps: 2, stopAfter: 1 });
    await editCheckpointState(join(out, 'checkpoint.safetensors'), (s) => {
      assert.equal(s.run.config.loss, 'paper');
      delete s.run.config.loss;
    });
    const rest = await train({ ...common, out, steps: 2, resume: true });
    assert.equal(rest.step, 2);
    const line = JSON.parse((await readFile(join(out, 'train.jsonl'), 'utf8')).trim().split('\n')[1]!) as Record<string, number>;
    assert.deepEqual(Object.keys(line).filter((k) => k.startsWith('f.')), ['f.ir', 'f.vi', 'f.grad']);
    assert.ok(Math.abs(line['f.ir']! + line['f.vi']! + line['f.grad']! - line.f!) < 1e-9);
    await assert.rejects(train({ ...common, out, steps: 3, config: { loss: 'nope' as never } }), /Expected one of paper.* for loss but received 'nope'/);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

/** The files of a folder with their contents. */
async function contents(dir: string): Promise<Map<string, string>> {
  const names = (await readdir(dir)).sort();
  return new Map(await Promise.all(names.map(async (n) => [n, (await readFile(join(dir, n))).toString('base64')] as [string, string])));
}

test('library: an earlier run is refused (before the data is read) unless resume or overwrite; overwrite starts over', async () => {
  await useBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'isfuse-train-folder-'));
  try {
    await train({ ...common, out, steps: 1 });
    const before = await contents(out);
    const isUsage = (re: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && re.test(e.message);
    await assert.rejects(train({ ...common, out, steps: 2 }), isUsage(/holds an earlier training run \(checkpoint\.safetensors, weights\.safetensors, train\.jsonl, curve\.svg\); pass --resume to continue it or --overwrite/));
    await assert.rejects(train({ ...common, data: join(out, 'no-such-dataset'), out, steps: 2 }), isUsage(/holds an earlier training run/));
    await assert.rejects(train({ ...common, out, steps: 2, resume: true, overwrite: true }), isUsage(/not both/));
    assert.deepEqual(await contents(out), before);
    const notes: string[] = [];
    const res = await train({ ...common, out, steps: 2, overwrite: true, onNote: (m) => notes.push(m) });
    assert.equal(res.step, 2);
    assert.match(notes.join('\n'), /--overwrite: removed the earlier run/);
    assert.deepEqual((await readdir(out)).sort(), ['checkpoint.safetensors', 'curve.svg', 'train.jsonl', 'weights.safetensors']);
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});

test('library: a learning rate that makes training diverge throws TrainingDiverged naming the step; the last checkpoint stays', async () => {
  await useBackend('wasm');
  const out = await mkdtemp(join(tmpdir(), 'isfuse-train-diverge-'));
  try {
    await assert.rejects(train({ ...common, out, steps: 4, lr: 1e9, checkpointEvery: 1 }), (e: unknown) => e instanceof TrainingDiverged && e.kind === 'internal' && e.step === 2 && e.keptStep === 1);
    const ck = parseSafetensors(await readFile(join(out, 'weights.safetensors')));
    assert.equal(ck.metadata['isfuse.step'], '1');
    assert.deepEqual((await readdir(out)).sort(), ['checkpoint.safetensors', 'train.jsonl', 'weights.safetensors'], 'no lock, no temporary file left');
  } finally {
    await rm(out, { recursive: true, force: true });
  }
});
