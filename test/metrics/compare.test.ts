// Ranking (src/metrics/rank.ts) on hand-made tables, and compareDirs / formatComparison / comparisonSheet
// (src/metrics/compare.ts) on small seeded images in a temporary folder. Expected means come from evaluate() on the
// same files (exact equality: the same code path must give the same numbers).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { IsfuseError } from '../../src/core/errors.js';
import type { RasterImage } from '../../src/core/image.js';
import { writeImage } from '../../src/io/encode.js';
import { SHEET_DEFAULTS, sheetSize } from '../../src/io/sheet.js';
import { evaluate } from '../../src/metrics/evaluate.js';
import { mmifPlane } from '../../src/metrics/load.js';
import {
  compareDirs,
  comparisonSheet,
  DEFAULT_COMPARE_METRICS,
  formatComparison,
  rankMethods,
  rankValues,
  spreadIndices,
  type Comparison,
} from '../../src/metrics/compare.js';
import { getMetric, listMetrics } from '../../src/metrics/registry.js';
import { rng } from './mmif/helpers.js';

const isError = (kind: 'usage' | 'input', pattern: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === kind && pattern.test(e.message);

// --------------------------------------------------------------------------------------------------------------
// Ranking

test('rankValues: 1 = best for the direction; ties share the average rank; NaN ranks last', () => {
  assert.deepEqual(rankValues([5, 7, 7, 3], 'higher'), [3, 1.5, 1.5, 4]);
  assert.deepEqual(rankValues([5, 7, 7, 3], 'lower'), [2, 3.5, 3.5, 1]);
  assert.deepEqual(rankValues([2, 2, 2], 'higher'), [2, 2, 2]);
  assert.deepEqual(rankValues([NaN, 1, NaN, 0], 'higher'), [3.5, 1, 3.5, 2]);
  assert.deepEqual(rankValues([NaN, 1, 0], 'lower'), [3, 2, 1]);
  assert.deepEqual(rankValues([Infinity, 40, -Infinity], 'higher'), [1, 2, 3]);
  assert.deepEqual(rankValues([], 'higher'), []);
  assert.throws(() => rankValues([1], 'up' as never), isError('usage', /'higher' or 'lower' for direction/));
});

test('rankMethods: per-metric ranks with a lower-is-better metric and ties, mean rank, sorted best first', () => {
  const means = {
    A: { EN: 7.0, SSIM: 0.9, MSE: 0.05, extra: 1 },
    B: { EN: 7.0, SSIM: 0.8, MSE: 0.02 },
    C: { EN: 6.0, SSIM: 0.95, MSE: 0.08 },
    D: { EN: 5.0, SSIM: 0.8, MSE: 0.02 },
  };
  const r = rankMethods(means, { EN: 'higher', SSIM: 'higher', MSE: 'lower' });
  // EN: A,B tie for 1-2 -> 1.5; C 3; D 4. SSIM: C 1, A 2, B,D tie for 3-4 -> 3.5. MSE (lower): B,D tie for 1-2 -> 1.5; A 3; C 4.
  const byName = Object.fromEntries(r.map((m) => [m.name, m]));
  assert.deepEqual(byName.A!.ranks, { EN: 1.5, SSIM: 2, MSE: 3 });
  assert.deepEqual(byName.B!.ranks, { EN: 1.5, SSIM: 3.5, MSE: 1.5 });
  assert.deepEqual(byName.C!.ranks, { EN: 3, SSIM: 1, MSE: 4 });
  assert.deepEqual(byName.D!.ranks, { EN: 4, SSIM: 3.5, MSE: 1.5 });
  assert.equal(byName.A!.meanRank, 6.5 / 3);
  assert.equal(byName.B!.meanRank, 6.5 / 3);
  assert.equal(byName.C!.meanRank, 8 / 3);
  assert.equal(byName.D!.meanRank, 9 / 3);
  // A and B tie on mean rank: the input order decides (A before B); then C, then D.
  assert.deepEqual(r.map((m) => m.name), ['A', 'B', 'C', 'D']);
  const swapped = rankMethods({ B: means.B, A: means.A, C: means.C, D: means.D }, { EN: 'higher', SSIM: 'higher', MSE: 'lower' });
  assert.deepEqual(swapped.map((m) => m.name), ['B', 'A', 'C', 'D']);
  // Ranks per metric always sum to n(n+1)/2, ties or not.
  for (const k of ['EN', 'SSIM', 'MSE']) assert.equal(r.reduce((s, m) => s + m.ranks[k]!, 0), 10);
});

test('rankMethods: a flipped direction flips the ranks; one method ranks 1 everywhere', () => {
  const means = { x: { V: 1 }, y: { V: 2 }, z: { V: 3 } };
  assert.deepEqual(rankMethods(means, { V: 'higher' }).map((m) => [m.name, m.ranks.V]), [['z', 1], ['y', 2], ['x', 3]]);
  assert.deepEqual(rankMethods(means, { V: 'lower' }).map((m) => [m.name, m.ranks.V]), [['x', 1], ['y', 2], ['z', 3]]);
  assert.deepEqual(rankMethods({ only: { V: NaN } }, { V: 'higher' }), [{ name: 'only', ranks: { V: 1 }, meanRank: 1 }]);
});

test('rankMethods: usage errors for no metric, a missing value, a bad direction', () => {
  assert.throws(() => rankMethods({ a: { V: 1 } }, {}), isError('usage', /at least one metric/));
  assert.throws(() => rankMethods({ a: { V: 1 }, b: {} }, { V: 'higher' }), isError('usage', /the V value of method 'b'/));
  assert.throws(() => rankMethods({ a: { V: 1 } }, { V: 'best' as never }), isError('usage', /'higher' or 'lower'/));
});

test('spreadIndices: evenly spread rows, all when there are fewer items', () => {
  assert.deepEqual(spreadIndices(25, 4), [3, 9, 15, 21]);
  assert.deepEqual(spreadIndices(3, 4), [0, 1, 2]);
  assert.deepEqual(spreadIndices(10, 1), [5]);
  assert.deepEqual(spreadIndices(4, 2), [1, 3]);
});

test('DEFAULT_COMPARE_METRICS names registry metrics: the papers’ mmif set (all but MSE), all of vifb', () => {
  assert.deepEqual(DEFAULT_COMPARE_METRICS.mmif, ['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM', 'CC', 'PSNR']);
  for (const m of DEFAULT_COMPARE_METRICS.mmif) assert.equal(getMetric('mmif', m).name, m);
  assert.deepEqual([...DEFAULT_COMPARE_METRICS.vifb].sort(), listMetrics('vifb').map((m) => m.name).sort());
});

// --------------------------------------------------------------------------------------------------------------
// compareDirs on files

const W = 48, H = 44; // VIF needs at least 41x41

function raster(seed: number, channels: 1 | 3 = 1): RasterImage {
  const r = rng(seed);
  const data = new Uint8Array(W * H * channels);
  for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) for (let c = 0; c < channels; c++) {
    data[(y * W + x) * channels + c] = Math.min(255, Math.floor(4 * x + 2 * y + 50 * r() + 15 * c));
  }
  return { width: W, height: H, channels, bitDepth: 8, data };
}

function averageRaster(a: RasterImage, b: RasterImage): RasterImage {
  const ga = mmifPlane(a).data, gb = mmifPlane(b).data;
  return { width: W, height: H, channels: 1, bitDepth: 8, data: Uint8Array.from(ga, (v, i) => Math.floor((v + gb[i]! + 1) / 2)) };
}

const flat: RasterImage = { width: W, height: H, channels: 1, bitDepth: 8, data: new Uint8Array(W * H).fill(90) };

let tmp = '';
const d = { ir: '', vis: '', avg: '', copy: '', flat: '' };
const METRICS = ['EN', 'SD', 'CC', 'MSE'];

before(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'isfuse-compare-'));
  for (const k of Object.keys(d) as (keyof typeof d)[]) await mkdir((d[k] = path.join(tmp, k)));
  // Sources a, b, c; 'd' only in ir. Methods: avg (a, b, c), copy = the visible image (a, b only), flat (a, b, c).
  for (const [i, s] of ['a', 'b', 'c'].entries()) {
    const ir = raster(10 + i), vis = raster(20 + i, 3);
    await writeImage(path.join(d.ir, `${s}.png`), ir);
    await writeImage(path.join(d.vis, `${s}.png`), vis);
    await writeImage(path.join(d.avg, `${s}.png`), averageRaster(ir, vis));
    if (s !== 'c') await writeImage(path.join(d.copy, `${s}.png`), vis);
    await writeImage(path.join(d.flat, `${s}.png`), flat);
  }
  await writeImage(path.join(d.ir, 'd.png'), raster(13));
});

after(async () => {
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

const fusedAll = () => [
  { name: 'avg', dir: d.avg },
  { name: 'copy', dir: d.copy },
  { name: 'flat', dir: d.flat },
];

let shared: Comparison | undefined;
async function comparison(): Promise<Comparison> {
  shared ??= await compareDirs({ irDir: d.ir, visDir: d.vis, fused: fusedAll(), metrics: METRICS, workers: 1 });
  return shared;
}

test('compareDirs: every method scored on the common stems, means exactly those of evaluate(), missing stems reported', async () => {
  const warnings: string[] = [];
  const c = await compareDirs({ irDir: d.ir, visDir: d.vis, fused: fusedAll(), metrics: METRICS, workers: 1, onWarning: (m) => warnings.push(m) });
  assert.equal(c.convention, 'mmif');
  assert.deepEqual(c.metrics, METRICS);
  assert.deepEqual(c.directions, { EN: 'higher', SD: 'higher', CC: 'higher', MSE: 'lower' });
  assert.equal(c.pairs, 3);
  assert.deepEqual(c.stems, ['a', 'b']);
  assert.deepEqual(c.unpairedSources, [{ name: 'd', lacks: 'vis' }]);
  assert.equal(warnings.length, 1);
  assert.match(warnings[0]!, /copy .* has no fused image for 1 of 3 pairs: c; every method is scored on the 2 pairs all of them cover/);
  for (const m of c.methods) {
    const per = await Promise.all(['a', 'b'].map((s) => evaluate(path.join(d.ir, `${s}.png`), path.join(d.vis, `${s}.png`), path.join(m.dir, `${s}.png`), { metrics: METRICS })));
    for (const k of METRICS) {
      const mean = (per[0]![k]! + per[1]![k]!) / 2;
      if (Number.isNaN(mean)) assert.ok(Number.isNaN(m.mean[k]!), `${m.name} ${k}`);
      else assert.equal(m.mean[k], mean, `${m.name} ${k}`);
    }
    assert.deepEqual(m.missing, m.name === 'copy' ? ['c'] : []);
  }
  // The flat image: SD 0 and CC NaN rank last; positions follow the mean rank.
  const flatRow = c.methods.find((m) => m.name === 'flat')!;
  assert.equal(flatRow.mean.SD, 0);
  assert.ok(Number.isNaN(flatRow.mean.CC!));
  assert.equal(flatRow.ranks.SD, 3);
  assert.equal(flatRow.ranks.CC, 3);
  // MSE is lower-is-better: the smallest mean MSE has rank 1.
  const minMse = c.methods.reduce((a, b) => (a.mean.MSE! <= b.mean.MSE! ? a : b));
  assert.equal(minMse.ranks.MSE, 1);
  assert.deepEqual(c.methods.map((m) => m.position), [1, 2, 3]);
  for (let i = 1; i < c.methods.length; i++) assert.ok(c.methods[i - 1]!.meanRank <= c.methods[i]!.meanRank);
  for (const m of c.methods) assert.equal(m.meanRank, METRICS.reduce((s, k) => s + m.ranks[k]!, 0) / METRICS.length);
  shared = c;
});

test('compareDirs: worker threads give the same result as the calling thread', async () => {
  const pooled = await compareDirs({ irDir: d.ir, visDir: d.vis, fused: fusedAll(), metrics: METRICS, workers: 2 });
  assert.deepEqual(pooled, await comparison());
});

test('compareDirs: default metrics are the convention’s DEFAULT_COMPARE_METRICS', async () => {
  const c = await compareDirs({ irDir: d.ir, visDir: d.vis, fused: [{ name: 'avg', dir: d.avg }], workers: 1 });
  assert.deepEqual(c.metrics, DEFAULT_COMPARE_METRICS.mmif);
  assert.ok(c.metrics.every((m) => c.methods[0]!.ranks[m] === 1));
});

test('compareDirs: errors name the problem', async () => {
  const base = { irDir: d.ir, visDir: d.vis, metrics: METRICS, workers: 1 };
  await assert.rejects(compareDirs({ ...base, fused: [] }), isError('usage', /at least one/));
  await assert.rejects(compareDirs({ ...base, fused: [{ name: 'gff', dir: d.avg }, { name: 'GFF', dir: d.flat }] }), isError('usage', /duplicate method name 'GFF' \(the same as 'gff' ignoring case\)/));
  await assert.rejects(compareDirs({ ...base, fused: [{ name: '', dir: d.avg }] }), isError('usage', /non-empty string for a method name/));
  await assert.rejects(compareDirs({ ...base, fused: fusedAll(), metrics: ['EN', 'Nabf'] }), isError('usage', /Unknown mmif metric 'Nabf'/));
  await assert.rejects(compareDirs({ ...base, fused: fusedAll(), metric: ['EN'] } as never), isError('usage', /compareDirs option but received 'metric'/));
  await assert.rejects(
    compareDirs({ ...base, fused: [{ name: 'gone', dir: path.join(tmp, 'nope') }] }),
    isError('input', /fused folder of 'gone' .*nope' cannot be read: folder not found/),
  );
  await mkdir(path.join(tmp, 'empty'), { recursive: true });
  await assert.rejects(
    compareDirs({ ...base, fused: [{ name: 'avg', dir: d.avg }, { name: 'none', dir: path.join(tmp, 'empty') }] }),
    isError('input', /no stem of the 3 pairs is common to all \(avg covers 3, none covers 0\)/),
  );
});

test('formatComparison: table and Markdown rank rows with (rank) cells and direction arrows; CSV and JSON keep full precision', async () => {
  const c = await comparison();
  const table = formatComparison(c, 'table');
  assert.match(table, /^Convention: mmif \(CDDFuse Evaluator\.py\) — 3 methods on 2 of 3 image pairs \(those every method covers\)/);
  assert.match(table, /EN ↑ .*MSE ↓ .*mean rank/);
  const rows = table.split('\n').slice(2, 5);
  c.methods.forEach((m, i) => {
    assert.match(rows[i]!, new RegExp(`^${m.position}  ${m.name}\\b`));
    assert.ok(rows[i]!.endsWith(m.meanRank.toFixed(2)), rows[i]);
  });
  assert.match(table, /NaN \(3\)/);
  assert.match(table, /copy: no fused image for 1 of 3 pairs \(c\)/);
  assert.match(table, /Source images without a partner, not scored: d \(no vis\)/);

  const md = formatComparison(c, 'md');
  assert.match(md, /^\*\*Convention: mmif/);
  assert.match(md, /\| # \| method \| EN ↑ \| SD ↑ \| CC ↑ \| MSE ↓ \| mean rank \|/);
  assert.match(md, /\| ---: \| --- \|( ---: \|){5}/);
  // The best value of each metric is bold: exactly one bold cell per metric here (no ties for first).
  assert.equal((md.match(/\*\*[0-9.]+ \(1\)\*\*/g) ?? []).length, METRICS.length);

  const csv = formatComparison(c, 'csv').trim().split('\n');
  assert.equal(csv[0], 'convention,position,method,mean_rank,EN,EN_std,EN_rank,SD,SD_std,SD_rank,CC,CC_std,CC_rank,MSE,MSE_std,MSE_rank');
  assert.equal(csv.length, 4);
  assert.equal(csv[1]!.split(',')[2], c.methods[0]!.name);
  assert.equal(Number(csv[1]!.split(',')[4]), c.methods[0]!.mean.EN);

  const json = JSON.parse(formatComparison(c, 'json')) as {
    convention: string;
    metrics: string[];
    directions: Record<string, string>;
    count: number;
    pairs: number;
    stems: string[];
    methods: { position: number; name: string; meanRank: number; mean: Record<string, number | null>; ranks: Record<string, number>; missing: string[] }[];
    unpairedSources: unknown[];
  };
  assert.equal(json.convention, 'mmif');
  assert.deepEqual(json.directions, c.directions);
  assert.equal(json.count, 2);
  assert.equal(json.pairs, 3);
  assert.deepEqual(json.stems, ['a', 'b']);
  assert.deepEqual(json.methods.map((m) => m.name), c.methods.map((m) => m.name));
  const flatJson = json.methods.find((m) => m.name === 'flat')!;
  assert.equal(flatJson.mean.CC, null);
  assert.equal(flatJson.ranks.CC, 3);
  assert.deepEqual(json.methods.find((m) => m.name === 'copy')!.missing, ['c']);
  assert.deepEqual(json.unpairedSources, [{ name: 'd', lacks: 'vis' }]);
  assert.throws(() => formatComparison(c, 'xml' as never), isError('usage', /format/));
});

test('comparisonSheet: rows of IR, VIS and the methods in rank order, at the asked tile height', async () => {
  const c = await comparison();
  const tileHeight = 44;
  const sheet = await comparisonSheet(c, { pairs: 1, tileHeight });
  const meta = await sharp(sheet.png).metadata();
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', sheet.width, sheet.height]);
  // 48x44 images at height 44: a 48 x 44 box; 5 columns (IR, VIS, 3 methods).
  assert.deepEqual({ width: sheet.width, height: sheet.height }, sheetSize(1, 5, 48, tileHeight));
  assert.equal(sheet.height, SHEET_DEFAULTS.labelHeight + tileHeight + 2 * SHEET_DEFAULTS.gap);
  await assert.rejects(comparisonSheet(c, { pairs: 0 }), isError('usage', /positive integer for pairs/));
});
