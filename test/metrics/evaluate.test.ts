// evaluate() / evaluateDirs() (src/metrics/evaluate.ts), the report formats (src/metrics/report.ts) and the
// `isfuse eval` command (src/cli/commands/eval.ts). Images are synthetic (seeded), written to a temporary folder
// as PNG / JPEG with sharp. Expected values come from calling the metric functions directly on the same planes
// (exact equality: the same code path must give the same numbers) and from docs/METRICS.md#edge-cases for constant
// images.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { IsfuseError } from '../../src/core/errors.js';
import type { RasterImage } from '../../src/core/image.js';
import { evaluate, evaluateDirs, summarise, type DirEvaluation } from '../../src/metrics/evaluate.js';
import { mmifPlane } from '../../src/metrics/load.js';
import { mmifMetrics } from '../../src/metrics/mmif/index.js';
import { listMetrics } from '../../src/metrics/registry.js';
import { formatResult } from '../../src/metrics/report.js';
import { evalCommand } from '../../src/cli/commands/eval.js';
import { rng } from './mmif/helpers.js';

const W = 48, H = 44;

function raster(seed: number, channels: 1 | 3 = 1, w = W, h = H): RasterImage {
  const r = rng(seed);
  const data = new Uint8Array(w * h * channels);
  // Smooth-ish content: a gradient plus noise, so every metric has something to measure.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) for (let c = 0; c < channels; c++) {
    data[(y * w + x) * channels + c] = Math.min(255, Math.floor(3 * x + 2 * y + 40 * r() + 20 * c));
  }
  return { width: w, height: h, channels, bitDepth: 8, data };
}

function constantRaster(v: number): RasterImage {
  return { width: W, height: H, channels: 1, bitDepth: 8, data: new Uint8Array(W * H).fill(v) };
}

function averageRaster(a: RasterImage, b: RasterImage): RasterImage {
  const ga = mmifPlane(a).data, gb = mmifPlane(b).data;
  return { width: a.width, height: a.height, channels: 1, bitDepth: 8, data: Uint8Array.from(ga, (v, i) => Math.floor((v + gb[i]! + 1) / 2)) };
}

async function writeImage(file: string, img: RasterImage): Promise<void> {
  const s = sharp(Buffer.from(img.data), { raw: { width: img.width, height: img.height, channels: img.channels } });
  await (file.endsWith('.jpg') ? s.jpeg({ quality: 90 }) : s.png()).toFile(file);
}

let tmp = '';
const dirs = { ir: '', vis: '', fused: '' };

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'isfuse-eval-'));
  for (const k of ['ir', 'vis', 'fused'] as const) await mkdir((dirs[k] = path.join(tmp, k)));
  // a, b, c complete (b's fused is a JPEG: another extension); d lacks vis and fused; e lacks ir and fused.
  for (const [i, stem] of ['a', 'b', 'c', 'd'].entries()) await writeImage(path.join(dirs.ir, `${stem}.png`), raster(10 + i));
  for (const [i, stem] of ['a', 'b', 'c', 'e'].entries()) await writeImage(path.join(dirs.vis, `${stem}.png`), raster(20 + i, 3));
  for (const [i, stem] of ['a', 'b', 'c'].entries()) {
    await writeImage(path.join(dirs.fused, stem === 'b' ? 'b.jpg' : `${stem}.png`), averageRaster(raster(10 + i), raster(20 + i, 3)));
  }
  await writeFile(path.join(dirs.fused, 'notes.txt'), 'not an image');
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const isError = (kind: 'usage' | 'input', pattern: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === kind && pattern.test(e.message);

test('evaluate: decoded images give exactly the metric functions’ values, in registry order', async () => {
  const ir = raster(1), vis = raster(2, 3), fused = averageRaster(ir, vis);
  const v = await evaluate(ir, vis, fused);
  const inputs = { ir: mmifPlane(ir), vis: mmifPlane(vis), fused: mmifPlane(fused) };
  assert.deepEqual(Object.keys(v), mmifMetrics.map((m) => m.name));
  for (const m of mmifMetrics) assert.equal(v[m.name], m.compute(inputs), m.name);
});

test('evaluate: file paths give the same values as the decoded images (PNG is lossless)', async () => {
  const files = ['ir', 'vis', 'fused'].map((r) => path.join(tmp, `single-${r}.png`));
  const ir = raster(3), vis = raster(4, 3), fused = averageRaster(ir, vis);
  await Promise.all([writeImage(files[0]!, ir), writeImage(files[1]!, vis), writeImage(files[2]!, fused)]);
  assert.deepEqual(await evaluate(files[0]!, files[1]!, files[2]!), await evaluate(ir, vis, fused));
});

test('evaluate: metric subset in the given order, case-insensitive, VIFF alias reported as VIF', async () => {
  const ir = raster(5), vis = raster(6), fused = averageRaster(ir, vis);
  const v = await evaluate(ir, vis, fused, { metrics: ['ssim', 'VIFF', 'EN'] });
  assert.deepEqual(Object.keys(v), ['SSIM', 'VIF', 'EN']);
});

test('evaluate: a size mismatch is an input error naming both files and both sizes', async () => {
  const small = path.join(tmp, 'small.png'), big = path.join(tmp, 'big.png');
  await writeImage(small, raster(7, 1, 40, 40));
  await writeImage(big, raster(8));
  await assert.rejects(evaluate(big, big, small), isError('input', new RegExp(`${W}x${H}.*big\\.png.*small\\.png.*40x40`)));
});

test('evaluate: bad options are usage errors (unknown key, metric, convention)', async () => {
  const a = raster(9);
  await assert.rejects(evaluate(a, a, a, { metric: ['EN'] } as never), isError('usage', /Expected one of convention, metrics, maxPixels, onWarning for evaluate option but received 'metric'/));
  await assert.rejects(evaluate(a, a, a, { metrics: ['Nabf'] }), isError('usage', /Unknown mmif metric 'Nabf'/));
  await assert.rejects(evaluate(a, a, a, { convention: 'cddfuse' as never }), isError('usage', /Unknown convention 'cddfuse'/));
  await assert.rejects(evaluate('/nonexistent/x.png', a, a), isError('input', /nonexistent\/x\.png.*file not found/));
  // two bad inputs: the error names the first in argument order (visible before fused), whichever decode fails first
  await assert.rejects(evaluate(a, '/nonexistent/vis.png', '/nonexistent/fused.png'), isError('input', /nonexistent\/vis\.png/));
});

test('evaluate: constant images never crash and follow docs/METRICS.md#edge-cases (CC/SCD NaN, MI 0, VIF 1 per constant source)', async () => {
  const c = constantRaster(100), f = raster(11);
  const v = await evaluate(c, c, f);
  assert.ok(Number.isNaN(v.CC) && Number.isNaN(v.SCD));
  assert.equal(v.MI, 0);
  assert.equal(v.VIF, 2);
  assert.ok(Number.isFinite(v.SSIM!) && Number.isFinite(v.Qabf!));
  const z = await evaluate(constantRaster(0), constantRaster(0), constantRaster(0));
  assert.ok(Number.isNaN(z.PSNR) && Number.isNaN(z.Qabf) && z.EN === 0 && z.MSE === 0);
});

test('evaluate: the vifb convention computes the vifb metrics on RGB channels', async () => {
  const ir = raster(12, 3), vis = raster(13, 3), fused = raster(14, 3);
  const v = await evaluate(ir, vis, fused, { convention: 'vifb' });
  assert.deepEqual(Object.keys(v), listMetrics('vifb').map((m) => m.name));
  assert.ok(Object.values(v).every((x) => typeof x === 'number' && !Number.isNaN(x)));
});

async function expectedRows(): Promise<{ name: string; values: Record<string, number> }[]> {
  const rows = [];
  for (const [stem, fusedName] of [['a', 'a.png'], ['b', 'b.jpg'], ['c', 'c.png']] as const) {
    rows.push({ name: stem, values: await evaluate(path.join(dirs.ir, `${stem}.png`), path.join(dirs.vis, `${stem}.png`), path.join(dirs.fused, fusedName)) });
  }
  return rows;
}

test('evaluateDirs: pairs by stem (fused may be .jpg), reports missing partners, population std', async () => {
  const progress: string[] = [];
  const r = await evaluateDirs({ irDir: dirs.ir, visDir: dirs.vis, fusedDir: dirs.fused, workers: 1, onProgress: (p) => progress.push(`${p.done}/${p.total}`) });
  const expected = await expectedRows();
  assert.equal(r.convention, 'mmif');
  assert.deepEqual(r.metrics, mmifMetrics.map((m) => m.name));
  assert.deepEqual(r.images, expected);
  assert.equal(r.count, 3);
  assert.deepEqual(progress, ['1/3', '2/3', '3/3']);
  assert.deepEqual(r.missing.map((m) => [m.name, m.lacks]), [['d', ['vis', 'fused']], ['e', ['ir', 'fused']]]);
  // mean and population std (ddof = 0) by hand for one metric
  const en = expected.map((e) => e.values.EN!);
  const mu = en.reduce((s, x) => s + x, 0) / 3;
  assert.ok(Math.abs(r.mean.EN! - mu) <= 1e-12 * mu);
  const sd = Math.sqrt(en.reduce((s, x) => s + (x - mu) ** 2, 0) / 3);
  assert.ok(Math.abs(r.std.EN! - sd) <= 1e-12 * sd);
});

test('evaluateDirs: two worker threads (the TypeScript worker path under tsx) give identical results', async () => {
  const opts = { irDir: dirs.ir, visDir: dirs.vis, fusedDir: dirs.fused, metrics: ['EN', 'Qabf', 'VIF', 'SSIM'] };
  const one = await evaluateDirs({ ...opts, workers: 1 });
  const two = await evaluateDirs({ ...opts, workers: 2 });
  assert.deepEqual(two, one);
  assert.deepEqual(one.metrics, ['EN', 'Qabf', 'VIF', 'SSIM']);
  const lean = await evaluateDirs({ ...opts, workers: 2, perImage: false });
  assert.deepEqual(lean.images, []);
  assert.deepEqual(lean.mean, one.mean);
});

test('evaluateDirs: an error in a worker rejects with the input error (size mismatch names the files)', async () => {
  const d = { ir: path.join(tmp, 'bad-ir'), vis: path.join(tmp, 'bad-vis'), fused: path.join(tmp, 'bad-fused') };
  for (const x of Object.values(d)) await mkdir(x);
  for (const stem of ['p', 'q', 'r']) {
    await writeImage(path.join(d.ir, `${stem}.png`), raster(30));
    await writeImage(path.join(d.vis, `${stem}.png`), raster(31));
    await writeImage(path.join(d.fused, `${stem}.png`), stem === 'q' ? raster(32, 1, 44, 44) : raster(33));
  }
  await assert.rejects(
    evaluateDirs({ irDir: d.ir, visDir: d.vis, fusedDir: d.fused, workers: 2, metrics: ['EN'] }),
    isError('input', /bad-ir\/q\.png.*bad-fused\/q\.png but received 44x44/),
  );
});

test('evaluateDirs: unreadable folders, ambiguous stems and bad options are errors', async () => {
  await assert.rejects(evaluateDirs({ irDir: path.join(tmp, 'nope'), visDir: dirs.vis, fusedDir: dirs.fused }), isError('input', /infrared image folder '.*nope' cannot be read: folder not found/));
  const dup = path.join(tmp, 'dup');
  await mkdir(dup);
  await writeImage(path.join(dup, 'a.png'), raster(40));
  await writeImage(path.join(dup, 'a.jpg'), raster(40));
  await assert.rejects(evaluateDirs({ irDir: dirs.ir, visDir: dirs.vis, fusedDir: dup }), isError('input', /share a file stem.*a\.(png|jpg) and a\.(png|jpg)/));
  await assert.rejects(evaluateDirs({ irDir: dirs.ir, visDir: dirs.vis, fusedDir: dirs.fused, workers: 0 }), isError('usage', /Expected a positive integer for workers but received 0/));
});

test('summarise: NaN propagates to mean and std; an empty set gives NaN', () => {
  const r = summarise(['X'], [{ name: 'a', values: { X: 1 } }, { name: 'b', values: { X: NaN } }]);
  assert.ok(Number.isNaN(r.mean.X) && Number.isNaN(r.std.X));
  assert.ok(Number.isNaN(summarise(['X'], []).mean.X));
  assert.deepEqual(summarise(['X'], [{ name: 'a', values: { X: 1 } }, { name: 'b', values: { X: 3 } }]), { mean: { X: 2 }, std: { X: 1 } });
});

const sample: DirEvaluation = {
  convention: 'mmif',
  metrics: ['EN', 'MSE', 'CC'],
  images: [{ name: 'x,1', values: { EN: 6.5, MSE: 100.25, CC: NaN } }, { name: 'y', values: { EN: 7, MSE: 50, CC: Infinity } }],
  count: 2,
  mean: { EN: 6.75, MSE: 75.125, CC: NaN },
  std: { EN: 0.25, MSE: 25.125, CC: NaN },
  missing: [{ name: 'z', lacks: ['fused'], files: { ir: 'ir/z.png', vis: 'vi/z.png' } }],
};

test('report: every format names the convention; JSON has the documented shape with null for NaN/inf', () => {
  const json = JSON.parse(formatResult(sample, 'json')) as Record<string, unknown>;
  assert.equal(json.convention, 'mmif');
  assert.deepEqual(json.metrics, ['EN', 'MSE', 'CC']);
  assert.deepEqual(json.images, [{ name: 'x,1', values: { EN: 6.5, MSE: 100.25, CC: null } }, { name: 'y', values: { EN: 7, MSE: 50, CC: null } }]);
  assert.deepEqual(json.mean, { EN: 6.75, MSE: 75.125, CC: null });
  assert.deepEqual(json.std, { EN: 0.25, MSE: 25.125, CC: null });
  assert.deepEqual(json.missing, sample.missing);
  const table = formatResult(sample, 'table');
  assert.match(table.split('\n')[0]!, /^Convention: mmif \(CDDFuse Evaluator\.py\) — 2 images; 1 skipped/);
  assert.match(table, /EN ↑ +MSE ↓ +CC ↑/);
  assert.match(table, /x,1 +6\.5000 +100\.2500 +NaN/);
  assert.match(table, /y +7\.0000 +50\.0000 +inf/);
  assert.match(table, /Skipped: z \(no fused\)/);
  const md = formatResult(sample, 'md');
  assert.match(md, /^\*\*Convention: mmif/);
  assert.match(md, /\| image \| EN ↑ \| MSE ↓ \| CC ↑ \|\n\| --- \| ---: \| ---: \| ---: \|/);
  const csv = formatResult(sample, 'csv').trimEnd().split('\n');
  assert.deepEqual(csv, ['convention,row,image,EN,MSE,CC', 'mmif,image,"x,1",6.5,100.25,NaN', 'mmif,image,y,7,50,inf', 'mmif,mean,,6.75,75.125,NaN', 'mmif,std,,0.25,25.125,NaN']);
  assert.deepEqual(formatResult(sample, 'csv', { perImage: false }).trimEnd().split('\n').length, 3);
  assert.throws(() => formatResult(sample, 'xml' as never), isError('usage', /Expected one of table, csv, json, md for format but received 'xml'/));
});

test('isfuse eval: writes the JSON result atomically to --out; bad options are usage errors', async () => {
  const out = path.join(tmp, 'result.json');
  const args = ['--ir-dir', dirs.ir, '--vis-dir', dirs.vis, '--fused-dir', dirs.fused, '--no-progress', '--workers', '1'];
  await evalCommand().exitOverride().parseAsync([...args, '--metrics', 'EN,viff', '--format', 'json', '--per-image', '--out', out], { from: 'user' });
  const doc = JSON.parse(await readFile(out, 'utf8')) as { convention: string; metrics: string[]; images: unknown[]; missing: unknown[] };
  assert.equal(doc.convention, 'mmif');
  assert.deepEqual(doc.metrics, ['EN', 'VIF']);
  assert.equal(doc.images.length, 3);
  assert.equal(doc.missing.length, 2);
  await assert.rejects(evalCommand().exitOverride().parseAsync([...args, '--metrics', 'EN,Nabf'], { from: 'user' }), isError('usage', /Unknown mmif metric 'Nabf'/));
  await assert.rejects(evalCommand().exitOverride().parseAsync([...args, '--convention', 'matlab'], { from: 'user' }), isError('usage', /Unknown convention 'matlab'/));
  await assert.rejects(evalCommand().exitOverride().parseAsync([...args, '--format', 'xml'], { from: 'user' }), isError('usage', /format/));
  await assert.rejects(
    evalCommand().exitOverride().parseAsync(['--ir-dir', dirs.ir, '--vis-dir', dirs.ir, '--fused-dir', path.join(tmp, 'bad-vis-none'), '--no-progress'], { from: 'user' }),
    isError('input', /bad-vis-none/),
  );
});
