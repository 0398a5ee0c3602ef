// End-to-end tests of the `isfuse` command line, run as a child process (through tsx, from src/).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, mkdirSync, readdirSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import { syntheticPair } from '../../src/data/synthetic.js';
import { writeImage } from '../../src/io/encode.js';
import { decodeImage } from '../../src/io/decode.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
function isfuse(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', 'tsx', main, ...args], { encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

const dir = mkdtempSync(join(tmpdir(), 'isfuse-cli-'));
const { ir, vis } = syntheticPair({ width: 64, height: 48 });
const irPath = join(dir, 'ir.png');
const visPath = join(dir, 'vis.png');
await writeImage(irPath, ir);
await writeImage(visPath, vis);

test('--version and --help exit 0', () => {
  const v = isfuse('--version');
  assert.equal(v.code, 0);
  assert.match(v.out, /^\d+\.\d+\.\d+/);
  for (const cmd of [[], ['fuse'], ['methods'], ['demo']]) {
    const h = isfuse(...cmd, '--help');
    assert.equal(h.code, 0, `help of ${cmd.join(' ')}`);
    assert.match(h.out, /Usage: isfuse/);
  }
});

test('fuse one pair: colour output from the colour visible image, every classical method', () => {
  for (const m of ['average', 'max', 'lp', 'dwt', 'gff']) {
    const out = join(dir, `f-${m}.png`);
    const r = isfuse('fuse', irPath, visPath, '-o', out, '--method', m);
    assert.equal(r.code, 0, r.err);
    assert.match(r.err, new RegExp(`${m} fused .* colour from vis`));
    assert.ok(existsSync(out));
  }
});

test('methods lists the registry; unknown method is a usage error listing valid names', () => {
  const r = isfuse('methods', '--json');
  assert.equal(r.code, 0);
  const names = (JSON.parse(r.out) as { methods: { name: string }[] }).methods.map((m) => m.name);
  assert.deepEqual(names.slice(0, 5), ['average', 'max', 'lp', 'dwt', 'gff']);
  const bad = isfuse('fuse', irPath, visPath, '-o', join(dir, 'x.png'), '--method', 'nope');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /Unknown method 'nope'\. Valid methods: average, max, lp, dwt, gff/);
});

test('train and bench train: a crop too small for the hole masks is a usage error (exit 2), before any work', () => {
  for (const cmd of [['bench', 'train'], ['train', '--data', dir, '--out', join(dir, 'run-small-crop')]]) {
    const r = isfuse(...cmd, '--crop', '16');
    assert.equal(r.code, 2, `${cmd.join(' ')}: ${r.err}`);
    assert.match(r.err, /at least 17 .*for --crop but received .16./);
    assert.doesNotMatch(r.err, /internal error/);
  }
  assert.ok(!existsSync(join(dir, 'run-small-crop')));
});

test('train --loss: the fidelity losses of the registry, listed in the help; another name is a usage error', () => {
  const h = isfuse('train', '--help');
  assert.equal(h.code, 0);
  assert.match(h.out.replace(/\s+/g, ' '), /--loss <name> fidelity loss L_f .*paper = .*\(choices: "paper"/);
  const r = isfuse('train', '--data', dir, '--out', join(dir, 'run-bad-loss'), '--loss', 'nope');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /argument 'nope' is invalid\. Allowed choices are paper/);
  assert.ok(!existsSync(join(dir, 'run-bad-loss')));
});

test('bad input exits 2 naming the file and the problem, leaving no output', async () => {
  const out = join(dir, 'bad.png');
  let r = isfuse('fuse', join(dir, 'missing.png'), visPath, '-o', out);
  assert.equal(r.code, 2);
  assert.match(r.err, /missing\.png: cannot read: file not found/);
  writeFileSync(join(dir, 'corrupt.png'), Buffer.from('\x89PNG\r\n\x1a\nnot really'));
  r = isfuse('fuse', join(dir, 'corrupt.png'), visPath, '-o', out);
  assert.equal(r.code, 2);
  assert.match(r.err, /corrupt\.png: not a readable image/);
  writeFileSync(join(dir, 'x.gif'), await sharp({ create: { width: 4, height: 4, channels: 3, background: '#000' } }).gif().toBuffer());
  r = isfuse('fuse', join(dir, 'x.gif'), visPath, '-o', out);
  assert.equal(r.code, 2);
  assert.match(r.err, /x\.gif: unsupported format 'gif'/);
  r = isfuse('fuse', irPath, visPath, '-o', join(dir, 'no', 'such', 'dir', 'o.png'));
  assert.equal(r.code, 2);
  assert.match(r.err, /output folder .*no\/such\/dir' does not exist/);
  r = isfuse('fuse', irPath, visPath, '-o', out, '--max-pixels', '100');
  assert.equal(r.code, 2);
  assert.match(r.err, /ir\.png: image is 64x48 \(3072 pixels\), above the limit of 100 pixels; raise it with --max-pixels/);
  r = isfuse('fuse', irPath, '-o', out);
  assert.equal(r.code, 2);
  assert.equal(existsSync(out), false);
});

test('different sizes: error naming both sizes, --resize resamples', async () => {
  const small = join(dir, 'small.png');
  await sharp(visPath).resize(32, 24).toFile(small);
  const out = join(dir, 'resized.png');
  let r = isfuse('fuse', irPath, small, '-o', out);
  assert.equal(r.code, 2);
  assert.match(r.err, /sizes differ: .*ir\.png is 64x48, .*small\.png is 32x24; .*--resize/);
  assert.equal(existsSync(out), false);
  r = isfuse('fuse', irPath, small, '-o', out, '--resize', 'vis-to-ir');
  assert.equal(r.code, 0, r.err);
  const img = await decodeImage(out);
  assert.deepEqual([img.width, img.height, img.channels], [64, 48, 3]);
});

test('batch: pairs by stem, lists partnerless files, fuses the rest, exits 2', async () => {
  const irDir = join(dir, 'b-ir'), visDir = join(dir, 'b-vis'), outDir = join(dir, 'b-out');
  mkdirSync(irDir);
  mkdirSync(visDir);
  for (const s of ['a', 'b', 'c']) {
    await writeImage(join(irDir, `${s}.png`), ir);
    await writeImage(join(visDir, `${s}.jpg`), vis);
  }
  await writeImage(join(irDir, 'lonely.png'), ir);
  const r = isfuse('fuse', '--ir-dir', irDir, '--vis-dir', visDir, '--out-dir', outDir, '--method', 'average');
  assert.equal(r.code, 2, r.err);
  assert.match(r.err, /fused 3 of 3 pairs/);
  assert.match(r.err, /lonely: no partner in --vis-dir/);
  assert.deepEqual(readdirSync(outDir).sort(), ['a.png', 'b.png', 'c.png']);
  // The same --out-dir again: the outputs exist, so only --overwrite replaces them (test/cli/safety.test.ts has the refusals).
  const ok = isfuse('fuse', '--ir-dir', visDir, '--vis-dir', visDir, '--out-dir', outDir, '--method', 'max', '--overwrite');
  assert.equal(ok.code, 0, ok.err);
  assert.match(ok.err, /^fusing \[/m, 'a batch shows its progress bar by default');
  const quiet = isfuse('fuse', '--ir-dir', visDir, '--vis-dir', visDir, '--out-dir', join(dir, 'b-quiet'), '--method', 'max', '--no-progress');
  assert.equal(quiet.code, 0, quiet.err);
  assert.doesNotMatch(quiet.err, /fusing \[/);
  assert.match(quiet.err, /fused 3 of 3 pairs/);
  assert.deepEqual(readdirSync(join(dir, 'b-quiet')).sort(), ['a.png', 'b.png', 'c.png']);
});

test('bench train: --runs sets the timed steps; --repeats, its old name, still does and warns', () => {
  const bad = isfuse('bench', 'train', '--runs', '0');
  assert.equal(bad.code, 2);
  assert.match(bad.err, /positive integer for --runs/);
  assert.doesNotMatch(isfuse('bench', 'train', '--help').out, /--repeats/);
  // The smallest step the onnx engine runs (batch 1, 17x17, one thread): a few seconds, most of it building the graph.
  const r = isfuse('bench', 'train', '--batch', '1', '--crop', '17', '--backend', 'onnx', '--threads', '1', '--warmup', '0', '--runs', '5', '--repeats', '1', '--json');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: --repeats is deprecated: use --runs/);
  const result = JSON.parse(r.out) as { runs: number; timesMs: number[] };
  assert.equal(result.runs, 1, 'the later of --runs 5 --repeats 1 wins');
  assert.equal(result.timesMs.length, 1);
});

test('demo writes the synthetic pair, the default method\'s and the network\'s fusion and a sheet, and says where', () => {
  const out = join(dir, 'demo');
  const r = isfuse('demo', '--out', out);
  assert.equal(r.code, 0, r.err);
  assert.match(r.out, /fused:\s+.*fused-lp\.png  \(the default method\)/);
  assert.match(r.out, /fused:\s+.*fused-isfuse\.png/);
  assert.deepEqual(readdirSync(out).sort(), ['fused-isfuse.png', 'fused-lp.png', 'ir.png', 'sheet.png', 'vis.png']);
});

test('isfuse with --weights fuses and --save-gates writes three heatmaps at image size; gates need isfuse', async () => {
  const weights = new URL('../fixtures/model/weights.safetensors', import.meta.url).pathname;
  const out = join(dir, 'isf.png');
  const gates = join(dir, 'gates');
  const r = isfuse('fuse', irPath, visPath, '-o', out, '--method', 'isfuse', '--weights', weights, '--save-gates', gates);
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(gates).sort(), ['isf-gate3.png', 'isf-gate4.png', 'isf-gate5.png']);
  const g = await decodeImage(join(gates, 'isf-gate3.png'));
  assert.deepEqual([g.width, g.height, g.channels], [64, 48, 3]);
  const bad = isfuse('fuse', irPath, visPath, '-o', out, '--method', 'gff', '--save-gates', gates);
  assert.equal(bad.code, 2);
  assert.match(bad.err, /--save-gates is an option of the isfuse method, not of 'gff'/);
});
