// `isfuse compare` end to end on three small synthetic pairs (src/data/synthetic.ts): once as a child process
// through the bin entry (fusing with average, max, lp; table on stdout; contact sheet), then in-process through
// main() for the JSON output, --fused folders with missing stems, and the error cases (exit 2, message naming the
// problem, no output written). Expected ranks are recomputed here from evaluateDirs() on the kept fused folders
// with a naive ranking (count the better values), independent of src/metrics/rank.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { main } from '../../src/cli/program.js';
import { syntheticPair } from '../../src/data/synthetic.js';
import { writeImage } from '../../src/io/encode.js';
import { SHEET_DEFAULTS, sheetSize } from '../../src/io/sheet.js';
import { DEFAULT_COMPARE_METRICS } from '../../src/metrics/compare.js';
import { evaluateDirs } from '../../src/metrics/evaluate.js';

const bin = new URL('../../src/cli/main.ts', import.meta.url).pathname;
const W = 64, H = 48;
const STEMS = ['p1', 'p2', 'p3'];
const METHODS = ['average', 'max', 'lp'];

let dir = '';
let irDir = '', visDir = '', kept = '';

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'isfuse-cli-compare-'));
  irDir = join(dir, 'ir');
  visDir = join(dir, 'vi');
  kept = join(dir, 'kept');
  await mkdir(irDir);
  await mkdir(visDir);
  for (const [i, s] of STEMS.entries()) {
    const { ir, vis } = syntheticPair({ width: W, height: H, seed: 11 + i });
    await writeImage(join(irDir, `${s}.png`), ir);
    await writeImage(join(visDir, `${s}.png`), vis);
  }
});

after(async () => {
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** Runs main() in this process, capturing stderr (and stdout). */
async function run(...args: string[]): Promise<{ code: number; out: string; err: string }> {
  const out: string[] = [], err: string[] = [];
  const [ow, ew] = [process.stdout.write, process.stderr.write];
  process.stdout.write = ((s: string | Uint8Array) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string | Uint8Array) => (err.push(String(s)), true)) as typeof process.stderr.write;
  try {
    const code = await main(args);
    return { code, out: out.join(''), err: err.join('') };
  } finally {
    process.stdout.write = ow;
    process.stderr.write = ew;
  }
}

/** Naive ranks (1 = best, ties averaged) of one metric over methods: 1 + #better + (#equal - 1) / 2. */
function naiveRank(values: number[], i: number, higher: boolean): number {
  const v = values[i]!;
  const better = values.filter((x) => (higher ? x > v : x < v)).length;
  const equal = values.filter((x) => x === v).length;
  return 1 + better + (equal - 1) / 2;
}

test('compare --methods average,max,lp: fuses, prints the ranked table, keeps --fused-out, writes the sheet', async () => {
  const sheet = join(dir, 'sheet.png');
  const r = spawnSync(
    process.execPath,
    ['--import', 'tsx', bin, 'compare', '--ir-dir', irDir, '--vis-dir', visDir, '--methods', METHODS.join(','), '--fused-out', kept, '--sheet', sheet, '--sheet-pairs', '2', '--no-progress'],
    { encoding: 'utf8', timeout: 120_000 },
  );
  assert.equal(r.status, 0, r.stderr);
  for (const m of METHODS) assert.deepEqual(readdirSync(join(kept, m)).sort(), STEMS.map((s) => `${s}.png`));

  // Independent expectation: eval each kept folder, rank naively, order by mean rank (ties: --methods order).
  const metrics = DEFAULT_COMPARE_METRICS.mmif;
  const means = await Promise.all(METHODS.map(async (m) => (await evaluateDirs({ irDir, visDir, fusedDir: join(kept, m), metrics, workers: 1 })).mean));
  const ranks = METHODS.map((_, i) => metrics.map((k) => naiveRank(means.map((v) => v[k]!), i, true))); // all eleven are higher-is-better
  const meanRank = ranks.map((rs) => rs.reduce((a, b) => a + b, 0) / rs.length);
  const order = METHODS.map((_, i) => i).sort((a, b) => meanRank[a]! - meanRank[b]! || a - b);

  const lines = r.stdout.trimEnd().split('\n');
  assert.match(lines[0]!, /^Convention: mmif \(CDDFuse Evaluator\.py\) — 3 methods on 3 image pairs/);
  assert.match(lines[1]!, /^#\s+method\s+EN ↑\s+SD ↑\s+SF ↑\s+AG ↑\s+MI ↑\s+SCD ↑\s+VIF ↑\s+Qabf ↑\s+SSIM ↑\s+CC ↑\s+PSNR ↑\s+mean rank$/);
  assert.equal(lines.length, 5);
  order.forEach((i, pos) => {
    const cells = lines[2 + pos]!.trim().split(/\s{2,}/);
    assert.equal(cells[0], String(pos + 1));
    assert.equal(cells[1], METHODS[i]);
    metrics.forEach((k, j) => {
      const rank = ranks[i]![j]!;
      assert.equal(cells[2 + j], `${means[i]![k]!.toFixed(4)} (${Number.isInteger(rank) ? rank : rank.toFixed(1)})`, `${METHODS[i]} ${k}`);
    });
    assert.equal(cells.at(-1), meanRank[i]!.toFixed(2));
  });

  // The sheet: 2 rows (pairs) x 5 columns (IR, VIS, 3 methods); 64x48 images in a 256 x 192 box.
  assert.match(r.stderr, /contact sheet .*sheet\.png \(\d+x\d+, 2 pairs x 5 columns\)/);
  const meta = await sharp(sheet).metadata();
  const size = sheetSize(2, 5, 256, SHEET_DEFAULTS.tileHeight);
  assert.deepEqual([meta.format, meta.width, meta.height], ['png', size.width, size.height]);
  // Labels are drawn (light text on the dark band) where fontconfig has a font; without fonts the band stays blank.
  const fonts = spawnSync('fc-list', { encoding: 'utf8' });
  if (fonts.status === 0 && fonts.stdout.trim() !== '') {
    const { gap, labelHeight } = SHEET_DEFAULTS;
    const band = await sharp(sheet).extract({ left: gap, top: gap, width: 256, height: labelHeight }).greyscale().raw().toBuffer();
    assert.ok(band.some((v) => v > 150), 'the IR tile has a visible label');
  }
});

test('compare --format json: --fused folders with --methods; a folder lacking a stem is reported and all are scored on the common stems', async () => {
  const partial = join(dir, 'partial');
  await mkdir(partial);
  for (const s of ['p1', 'p3']) await copyFile(join(kept, 'lp', `${s}.png`), join(partial, `${s}.png`));
  const out = join(dir, 'cmp.json');
  const r = await run(
    'compare', '--ir-dir', irDir, '--vis-dir', visDir, '--methods', 'average', '--fused', `lp-kept=${join(kept, 'lp')}`, '--fused', `partial=${partial}`,
    '--metrics', 'EN,SD,MSE', '--format', 'json', '--out', out, '--workers', '1', '--no-progress',
  );
  assert.equal(r.code, 0, r.err);
  assert.equal(r.out, '');
  assert.match(r.err, /warning: partial .* has no fused image for 1 of 3 pairs: p2; every method is scored on the 2 pairs all of them cover/);
  const json = JSON.parse(await readFile(out, 'utf8')) as {
    metrics: string[];
    directions: Record<string, string>;
    count: number;
    stems: string[];
    methods: { position: number; name: string; ranks: Record<string, number>; mean: Record<string, number>; missing: string[] }[];
  };
  assert.deepEqual(json.metrics, ['EN', 'SD', 'MSE']);
  assert.equal(json.directions.MSE, 'lower');
  assert.equal(json.count, 2);
  assert.deepEqual(json.stems, ['p1', 'p3']);
  assert.deepEqual(json.methods.map((m) => m.name).sort(), ['average', 'lp-kept', 'partial']);
  // lp-kept and partial hold the same images on p1, p3: equal means, so they share every rank.
  const lpKept = json.methods.find((m) => m.name === 'lp-kept')!, part = json.methods.find((m) => m.name === 'partial')!;
  assert.deepEqual(lpKept.mean, part.mean);
  assert.deepEqual(lpKept.ranks, part.ranks);
  assert.ok(Object.values(lpKept.ranks).every((v) => v === 1.5 || v === 2.5));
  assert.deepEqual(part.missing, ['p2']);
});

test('compare --fused-out never overwrites: a second run into the same folder is refused before any work', async () => {
  const before = (await stat(join(kept, 'lp', 'p1.png'))).mtimeMs;
  const r = await run('compare', '--ir-dir', irDir, '--vis-dir', visDir, '--methods', 'lp', '--fused-out', kept, '--no-progress');
  assert.equal(r.code, 2);
  assert.match(r.err, /--fused-out .*kept' already holds 3 of the files this run would write .*never overwrites/);
  assert.equal((await stat(join(kept, 'lp', 'p1.png'))).mtimeMs, before);
});

test('compare: usage and input errors exit 2 naming the problem, writing nothing', async () => {
  const base = ['compare', '--ir-dir', irDir, '--vis-dir', visDir, '--no-progress'];
  const lp = `lp=${join(kept, 'lp')}`;
  const irFile = join(irDir, 'p1.png');
  const irBytes = await readFile(irFile);
  const cases: [string[], RegExp][] = [
    [[], /nothing to compare: give folders of fused images \(--fused NAME=DIR/],
    [['--fused', join(kept, 'lp')], /Expected NAME=DIR .* for --fused but received '.*kept\/lp'/],
    [['--fused', `=${join(kept, 'lp')}`], /NAME=DIR with a non-empty NAME for --fused/],
    [['--methods', 'lp', '--fused', `LP=${join(kept, 'max')}`], /duplicate method name 'LP' \(the same as 'lp' ignoring case\): give each method its own name/],
    [['--fused', lp, '--fused', `lp=${join(kept, 'max')}`], /duplicate method name 'lp': give each/],
    [['--fused', `x=${join(dir, 'no-such-folder')}`], /--fused folder of 'x' '.*no-such-folder' cannot be read: folder not found/],
    [['--methods', 'lp', '--ir-dir', join(dir, 'nope')], /--ir-dir '.*nope' cannot be read: folder not found/],
    [['--methods', 'lp,nope'], /Unknown method 'nope'\. Valid methods: average, max, lp/],
    [['--fused', lp, '--metrics', 'EN,Nabf'], /Unknown mmif metric 'Nabf'/],
    [['--fused', lp, '--sheet', join(dir, 'sheet.jpg')], /a file name ending in \.png .* for --sheet but received '.*sheet\.jpg'/],
    [['--fused', lp, '--sheet', irFile], /--sheet '.*p1\.png' is an input image \(--ir-dir\); choose another file/],
    [['--fused', lp, '--out', join(kept, 'lp', 'p2.png')], /--out '.*p2\.png' is an input image \(--fused lp\)/],
    [['--fused', lp, '--out', irDir], /--out '.*ir' is the --ir-dir folder/],
    [['--fused', lp, '--out', join(dir, 'same.png'), '--sheet', join(dir, 'same.png')], /--out and --sheet name the same file/],
    [['--fused', lp, '--format', 'xml'], /format/],
    [['--fused', lp, '--fused-out', join(dir, 'fo')], /--fused-out needs --methods/],
    [['--fused', lp, '--sheet-pairs', '0'], /positive integer for --sheet-pairs/],
  ];
  for (const [args, pattern] of cases) {
    const r = await run(...base, ...args);
    assert.equal(r.code, 2, `${args.join(' ')}: ${r.err}`);
    assert.match(r.err, pattern, args.join(' '));
    assert.doesNotMatch(r.err, /internal error/);
    assert.equal(r.out, '', args.join(' '));
  }
  assert.deepEqual(await readFile(irFile), irBytes);
  assert.equal(existsSync(join(dir, 'same.png')), false);
  assert.equal(existsSync(join(dir, 'fo')), false);
});
