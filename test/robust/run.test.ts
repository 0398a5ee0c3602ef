// bench robust's runner and report on a tiny synthetic dataset with two fast classical methods: the report formats,
// resume (finished cells are not recomputed), refusal of an out folder holding another run, the CLI's exit statuses.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { RasterImage } from '../../src/core/image.js';
import { writeImage } from '../../src/io/encode.js';
import { unitPath, PSNR_CAP, runRobust, stabilityOf, type RobustOptions } from '../../src/robust/run.js';
import { estimate, plotQuantities, plotSvg, reportJson, reportMarkdown, robustSheet, summariseRun } from '../../src/robust/report.js';

function texture(width: number, height: number, channels: 1 | 3, phase: number): RasterImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 0.5 + 0.3 * Math.sin(x * 0.2 + phase) * Math.cos(y * 0.15 - phase) + (((x >> 3) + (y >> 3)) % 2 ? 0.1 : -0.1);
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = Math.round(255 * Math.min(1, Math.max(0, v + 0.04 * c)));
    }
  }
  return { width, height, channels, bitDepth: 8, data };
}

const root = mkdtempSync(join(tmpdir(), 'isfuse-robust-'));
const data = join(root, 'data');
mkdirSync(join(data, 'ir'), { recursive: true });
mkdirSync(join(data, 'vi'), { recursive: true });
for (const [k, stem] of ['a', 'b', 'c'].entries()) {
  await writeImage(join(data, 'ir', `${stem}.png`), texture(64, 56, 1, k));
  await writeImage(join(data, 'vi', `${stem}.png`), texture(64, 56, 3, 2 * k + 0.5));
}

const base = (out: string): RobustOptions => ({
  irDir: join(data, 'ir'), visDir: join(data, 'vi'), out,
  methods: [{ name: 'average', method: 'average' }, { name: 'max', method: 'max' }],
  corruptions: ['noise-ir', 'shift-ir', 'missing-vis'], severities: [1, 3], metrics: ['SSIM', 'MI'], seed: 0,
});

test('a run: one cell per method x (clean + corruption x severity), stability and drops, every report format', async () => {
  const out = join(root, 'run1');
  const run = await runRobust(base(out));
  // clean + noise-ir 1,3 + shift-ir 1,3 + missing-vis (one level) = 6 cells per method
  assert.equal(run.cells.length, 12);
  assert.equal(run.computed, 6, 'three pairs x two methods');
  for (const c of run.cells) assert.equal(c.pairs.length, 3);
  const report = summariseRun(run);
  const missing = report.corruptions.find((c) => c.method === 'average' && c.corruption === 'missing-vis')!;
  assert.deepEqual(missing.severities, [1]);
  assert.ok(missing.stability.SSIM.mean < 0.9, 'dropping the visible image moves the average fusion');
  const shift1 = report.cells.find((c) => c.method === 'max' && c.corruption === 'shift-ir' && c.severity === 1)!;
  const shift3 = report.cells.find((c) => c.method === 'max' && c.corruption === 'shift-ir' && c.severity === 3)!;
  assert.ok(shift3.stability!.PSNR.mean < shift1.stability!.PSNR.mean, 'a 4 px shift moves the fusion more than 1 px');
  assert.equal(shift1.level, '1 px');

  const json = JSON.parse(reportJson(report));
  assert.equal(json.convention, 'mmif');
  assert.equal(json.cells.length, 12);
  assert.equal(json.raw[0].pairs[0].name, 'a');
  const md = reportMarkdown(report);
  assert.match(md, /## Clean inputs/);
  assert.match(md, /\| missing-vis \| 0\.\d+ ± 0\.\d+ \| 0\.\d+ ± 0\.\d+ \| [+-]0\.\d+ ± 0\.\d+ \|/);
  assert.match(md, /## Drop of MI from clean/);
  assert.deepEqual(plotQuantities(report), ['stability-SSIM', 'stability-PSNR', 'SSIM', 'MI']);
  for (const q of plotQuantities(report)) {
    const svg = plotSvg(report, q);
    assert.match(svg, /^<svg [^>]*>/);
    assert.equal((svg.match(/<polyline /g) ?? []).length, 2 * 2, `${q}: a line per method in each five-level panel`);
    assert.equal((svg.match(/stroke-dasharray/g) ?? []).length, 2, `${q}: missing-vis as a dashed line per method`);
  }
  const png = await robustSheet(run.sheet, report.methods, 32);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual(run.sheet.rows.map((r) => r.label), ['clean', 'noise-ir s3', 'shift-ir s3', 'missing-vis']);
});

test('resume: a second run computes only the missing cells; another run\'s options are refused unless overwrite', async () => {
  const out = join(root, 'run2');
  await runRobust(base(out));
  const removed = unitPath(out, 'max', 'b');
  rmSync(removed);
  const kept = unitPath(out, 'average', 'b');
  const before = statSync(kept).mtimeMs;
  let total = -1;
  // A killed run's half-written temporary (its writer, pid 2^22 + 1, above Linux's pid limit, is gone) is removed.
  const stale = join(out, 'cells', 'max', `.b.json.${2 ** 22 + 1}.1700000000000-3.tmp`);
  writeFileSync(stale, '{"half');
  // jobs 1: the calling thread runs the units (the other tests use the default, a worker per CPU).
  const again = await runRobust({ ...base(out), jobs: 1, onProgress: (done, t) => void (done === 0 && (total = t)) });
  assert.ok(!existsSync(stale), 'the stale temporary is removed');
  assert.equal(again.computed, 1);
  assert.equal(total, 6, 'one pair under one method: clean + 5 corrupted inputs');
  assert.equal(statSync(kept).mtimeMs, before, 'finished units are not rewritten');
  assert.ok(statSync(removed).isFile());
  assert.deepEqual(readdirSync(join(out, 'cells', 'max')).filter((n) => n.includes('.tmp')), []);
  assert.ok(readdirSync(join(out, 'cells', 'max')).includes('sheet-shift-ir-3.png'), "the first pair's sheet tiles are kept");
  assert.deepEqual(summariseRun(again).cells, summariseRun(await runRobust(base(join(root, 'run2-fresh')))).cells, 'a resumed run reports what a fresh one does');

  // Another method added: only its units run; the earlier ones are read back.
  const added = await runRobust({ ...base(out), methods: [...base(out).methods, { name: 'lp', method: 'lp' }] });
  assert.equal(added.computed, 3);
  assert.equal(added.cells.length, 18);
  await assert.rejects(runRobust({ ...base(out), methods: [{ name: 'max', method: 'average' }] }), /other options/, 'a name redefined is another run');
  await assert.rejects(runRobust({ ...base(out), seed: 1 }), /holds a bench robust run with other options.*--overwrite/);
  const replaced = await runRobust({ ...base(out), seed: 1, overwrite: true });
  assert.equal(replaced.computed, 6);
  assert.equal(JSON.parse(readFileSync(join(out, 'run.json'), 'utf8')).seed, 1);

  const other = join(root, 'not-a-run');
  mkdirSync(other);
  writeFileSync(join(other, 'notes.txt'), 'mine');
  await assert.rejects(runRobust(base(other)), /not a bench robust run/);
  await assert.rejects(runRobust({ ...base(other), overwrite: true }), /not a bench robust run/);
  assert.equal(readFileSync(join(other, 'notes.txt'), 'utf8'), 'mine');
});

test('stability of identical images: SSIM 1, PSNR at its cap; t-interval of three values', () => {
  const g = texture(32, 32, 1, 0).data as Uint8Array;
  assert.deepEqual(stabilityOf(g, g, 32, 32), { SSIM: 1, PSNR: PSNR_CAP });
  const e = estimate([1, 2, 3]);
  assert.equal(e.mean, 2);
  assert.ok(Math.abs(e.ci95 - (4.303 * 1) / Math.sqrt(3)) < 1e-12);
});

test('CLI: bench robust writes the report files; bad options exit 2', () => {
  const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
  const cli = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', main, 'bench', 'robust', ...args], { encoding: 'utf8', timeout: 120_000 });
  const out = join(root, 'cli');
  const ok = cli('--data', data, '--methods', 'average', '--corruptions', 'jpeg,missing-ir', '--severities', '5', '--pairs', '2', '--metrics', 'MI', '--out', out, '--no-progress');
  assert.equal(ok.status, 0, ok.stderr);
  for (const f of ['run.json', 'report.json', 'report.md', 'sheet.png', 'plots/stability-SSIM.svg', 'plots/MI.svg']) assert.ok(statSync(join(out, f)).isFile(), f);
  assert.match(ok.stderr, /2 pair x method units \(2 computed now, 0 from earlier\), 3 cells/);
  const resumed = cli('--data', data, '--methods', 'average', '--corruptions', 'jpeg,missing-ir', '--severities', '5', '--pairs', '2', '--metrics', 'MI', '--out', out, '--no-progress');
  assert.match(resumed.stderr, /2 pair x method units \(0 computed now, 2 from earlier\), 3 cells/);
  for (const bad of [['--severities', '0,6'], ['--methods', 'nosuch']]) {
    const r = cli('--data', data, '--out', join(root, 'bad'), ...bad);
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.match(r.stderr, /isfuse: error:|error: option/);
  }
  const noData = cli('--data', join(root, 'nowhere'), '--out', join(root, 'bad'));
  assert.equal(noData.status, 2);
  assert.match(noData.stderr, /must hold the folders ir\/ and vi\//);
});

test('smallest: with pairs N, the N pairs with the fewest pixels (what --quick runs)', async () => {
  const d = join(root, 'sizes');
  mkdirSync(join(d, 'ir'), { recursive: true });
  mkdirSync(join(d, 'vi'), { recursive: true });
  for (const [stem, w] of [['x', 64], ['y', 32], ['z', 48]] as const) {
    await writeImage(join(d, 'ir', `${stem}.png`), texture(w, 40, 1, 0));
    await writeImage(join(d, 'vi', `${stem}.png`), texture(w, 40, 3, 1));
  }
  const run = await runRobust({ ...base(join(root, 'small')), irDir: join(d, 'ir'), visDir: join(d, 'vi'), pairs: 2, smallest: true, methods: [{ name: 'average', method: 'average' }], corruptions: ['missing-ir'], metrics: ['MI'] });
  assert.deepEqual(run.record.pairs, ['y', 'z']);
});

test('jobs: worker threads write the same unit files as the calling thread (a classical method and the network)', async () => {
  const weights = new URL('../../models/isfuse-ablation-full.safetensors', import.meta.url).pathname;
  const o = (out: string, jobs: number): RobustOptions => ({
    ...base(out), jobs, corruptions: ['noise-ir', 'occlusion-vis'], severities: [3],
    methods: [{ name: 'average', method: 'average' }, { name: 'net', method: 'isfuse', methodOptions: { weights } }],
  });
  let ticks = 0;
  const inline = await runRobust(o(join(root, 'jobs1'), 1));
  const pooled = await runRobust({ ...o(join(root, 'jobs2'), 2), onProgress: (done) => void (done > 0 && ticks++) });
  assert.equal(pooled.computed, 6);
  assert.equal(ticks, 3 * 2 * 3, 'a progress tick per pair, method and input version, sent from the workers');
  for (const m of ['average', 'net']) {
    for (const p of ['a', 'b', 'c']) {
      assert.equal(readFileSync(unitPath(join(root, 'jobs2'), m, p), 'utf8'), readFileSync(unitPath(join(root, 'jobs1'), m, p), 'utf8'), `${m} ${p}`);
    }
  }
  assert.deepEqual(summariseRun(pooled).cells, summariseRun(inline).cells);
  assert.deepEqual(pooled.sheet.rows.map((r) => r.label), inline.sheet.rows.map((r) => r.label));
  for (const [i, row] of pooled.sheet.rows.entries()) {
    for (const [j, f] of row.fused.entries()) assert.deepEqual(f.data, inline.sheet.rows[i]!.fused[j]!.data, `sheet ${row.label} method ${j}`);
  }
});

test('jobs: an unreadable pair fails the run with its input error, sent from the worker thread', async () => {
  const d = join(root, 'broken');
  mkdirSync(join(d, 'ir'), { recursive: true });
  mkdirSync(join(d, 'vi'), { recursive: true });
  for (const stem of ['a', 'b']) {
    await writeImage(join(d, 'ir', `${stem}.png`), texture(48, 40, 1, 0));
    await writeImage(join(d, 'vi', `${stem}.png`), texture(48, 40, 3, 1));
  }
  writeFileSync(join(d, 'ir', 'c.png'), 'not a png');
  writeFileSync(join(d, 'vi', 'c.png'), 'not a png');
  const out = join(root, 'broken-run');
  await assert.rejects(
    runRobust({ ...base(out), irDir: join(d, 'ir'), visDir: join(d, 'vi'), jobs: 2, methods: [{ name: 'average', method: 'average' }], corruptions: ['missing-ir'], metrics: ['MI'] }),
    (e: Error & { kind?: string }) => e.kind === 'input' && /c\.png/.test(e.message),
  );
  await assert.rejects(runRobust({ ...base(out), jobs: 0 }), /jobs must be a positive integer/);
  // A callback that throws on a worker's event fails the run (it does not crash the process or hang it).
  await assert.rejects(
    runRobust({ ...base(join(root, 'throwing')), jobs: 2, onProgress: (done) => { if (done === 2) throw new Error('progress display broke'); } }),
    /progress display broke/,
  );
});
