// The job kinds without Redis: ids, the workers' check of the submitter's hashes, values through JSON.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { syntheticPair } from '../../src/data/synthetic.js';
import { writeImage } from '../../src/io/encode.js';
import { IsfuseError } from '../../src/core/errors.js';
import { failureReason, fileHash, fromJsonValues, jobId, jobKind, parseFailure, toJsonValues } from '../../src/queue/jobs.js';

test('job ids: the same work (options in any order) is one id; other work another', () => {
  const a = jobId('fuse', { ir: 'h1', vis: 'h2', options: { method: 'lp', stretch: false } });
  assert.equal(a, jobId('fuse', { options: { stretch: false, method: 'lp' }, vis: 'h2', ir: 'h1' }));
  assert.notEqual(a, jobId('fuse', { ir: 'h1', vis: 'h2', options: { method: 'average', stretch: false } }));
  assert.notEqual(a, jobId('eval', { ir: 'h1', vis: 'h2', options: { method: 'lp', stretch: false } }));
  assert.match(a, /^fuse-[0-9a-f]{40}$/); // BullMQ refuses ':' in ids
});

test('failure reasons keep the error kind (the exit status of the local command)', () => {
  assert.deepEqual(parseFailure(failureReason(new IsfuseError('x.png: bad', 'input'))), { kind: 'input', message: 'x.png: bad' });
  assert.deepEqual(parseFailure(failureReason(new Error('out of memory'))), { kind: 'internal', message: 'out of memory' });
  assert.deepEqual(parseFailure('job stalled more than allowable limit'), { kind: 'internal', message: 'job stalled more than allowable limit' });
});

test('a worker refuses inputs whose bytes differ from those the submitter hashed; with matching hashes it fuses', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'isfuse-jobs-'));
  try {
    const { ir, vis } = syntheticPair({ width: 32, height: 24 });
    await writeImage(join(dir, 'ir.png'), ir);
    await writeImage(join(dir, 'vis.png'), vis);
    const sha256 = { ir: await fileHash(join(dir, 'ir.png')), vis: await fileHash(join(dir, 'vis.png')) };
    const data = { ir: join(dir, 'ir.png'), vis: join(dir, 'vis.png'), output: join(dir, 'f.png'), format: 'png', quality: 95, options: { method: 'lp' } };
    await assert.rejects(jobKind('fuse').run({ ...data, sha256: { ...sha256, vis: sha256.ir } }, () => {}), (e: IsfuseError) => {
      assert.equal(e.kind, 'input');
      assert.match(e.message, /vis\.png: this worker reads other bytes than the submitter did/);
      return true;
    });
    assert.deepEqual(readdirSync(dir).sort(), ['ir.png', 'vis.png']);
    const r = (await jobKind('fuse').run({ ...data, sha256, gather: true }, () => {})) as { files: { path: string; base64: string }[] };
    assert.equal(r.files.length, 1);
    assert.equal(r.files[0]!.path, data.output);
    assert.deepEqual(readdirSync(dir).sort(), ['ir.png', 'vis.png'], 'a gather job writes nothing');
    await jobKind('fuse').run({ ...data, sha256 }, () => {});
    assert.deepEqual(readdirSync(dir).sort(), ['f.png', 'ir.png', 'vis.png']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('metric values survive JSON exactly, NaN and infinities included', () => {
  const values = { EN: 6.761412345678901, CC: NaN, PSNR: Infinity, X: -Infinity, Y: 1e-300 };
  assert.deepEqual(fromJsonValues(JSON.parse(JSON.stringify(toJsonValues(values)))), values);
});
