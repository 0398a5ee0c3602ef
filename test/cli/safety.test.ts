// "Never destroy a user's data": each refusal of the CLI (README, "What isfuse refuses, and why") checked end to end
// on a child process: the exit status, the message, and that no input and no earlier output changed (every file
// under the work folder hashed before and after).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, readlinkSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import sharp from 'sharp';
import { syntheticPair } from '../../src/data/synthetic.js';
import { decodeImage } from '../../src/io/decode.js';
import { writeImage } from '../../src/io/encode.js';

const main = new URL('../../src/cli/main.ts', import.meta.url).pathname;
// The children run in the work folder (relative names as a user types them), where 'tsx' alone would not resolve.
const tsx = import.meta.resolve('tsx');
const root = mkdtempSync(join(tmpdir(), 'isfuse-safety-'));

/** Runs `isfuse ...args` in `root`. */
function isfuse(...args: string[]) {
  const r = spawnSync(process.execPath, ['--import', tsx, main, ...args], { cwd: root, encoding: 'utf8', timeout: 120_000 });
  return { code: r.status, out: r.stdout, err: r.stderr };
}

/** Every entry under `dir`: files by content hash and inode, links by target, folders by name. */
function snapshot(dir = root): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const s = lstatSync(p);
      const key = relative(root, p);
      if (s.isSymbolicLink()) out.set(key, `link -> ${readlinkSync(p)}`);
      else if (s.isDirectory()) {
        out.set(key, 'folder');
        walk(p);
      } else out.set(key, `${createHash('sha256').update(readFileSync(p)).digest('hex')} ino ${s.ino}`);
    }
  };
  walk(dir);
  return out;
}

/** Runs the command, expects a refusal: exit 2, the message, and nothing under root changed. */
function refused(args: string[], message: RegExp): void {
  const before = snapshot();
  const r = isfuse(...args);
  assert.equal(r.code, 2, `isfuse ${args.join(' ')}: expected exit 2, got ${r.code}\n${r.err}`);
  assert.match(r.err, message, `isfuse ${args.join(' ')}`);
  assert.doesNotMatch(r.err, /internal error/);
  assert.deepEqual(snapshot(), before, `isfuse ${args.join(' ')} changed files`);
}

const { ir, vis } = syntheticPair({ width: 64, height: 48 });
await writeImage(join(root, 'x.png'), ir);
await writeImage(join(root, 'vis.png'), vis);
mkdirSync(join(root, 'd', 'ir'), { recursive: true });
mkdirSync(join(root, 'd', 'vi'));
for (const s of ['a', 'b']) {
  copyFileSync(join(root, 'x.png'), join(root, 'd', 'ir', `${s}.png`));
  copyFileSync(join(root, 'vis.png'), join(root, 'd', 'vi', `${s}.png`));
}
symlinkSync('x.png', join(root, 'link.png'));
linkSync(join(root, 'x.png'), join(root, 'hard.png'));
symlinkSync('d/vi', join(root, 'vlink'));
mkdirSync(join(root, 'sub'));

test('case 1: fuse -o that is an input (same name, symbolic link, .., hard link) is refused before any work, exit 2', () => {
  refused(['fuse', 'x.png', 'vis.png', '-o', 'x.png', '-m', 'average'], /^isfuse: error: -o 'x\.png' is the infrared input 'x\.png': isfuse never writes over an input; choose another name$/m);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'vis.png', '-m', 'average', '--overwrite'], /-o 'vis\.png' is the visible input 'vis\.png'/);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'link.png', '-m', 'average'], /-o 'link\.png' resolves to the infrared input 'x\.png'/);
  refused(['fuse', 'link.png', 'vis.png', '-o', 'x.png', '-m', 'average'], /-o 'x\.png' resolves to the infrared input 'link\.png'/);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'sub/../x.png', '-m', 'average'], /-o 'sub\/\.\.\/x\.png' is the infrared input 'x\.png'/);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'hard.png', '-m', 'average', '--overwrite'], /-o 'hard\.png' is a hard link to the infrared input 'x\.png'/);
});

test('case 2: --out-dir that is, or resolves to, an input folder is refused; one inside an input folder is allowed with a warning', () => {
  const batch = ['fuse', '--ir-dir', 'd/ir', '--vis-dir', 'd/vi', '-m', 'average', '--no-progress'];
  refused([...batch, '--out-dir', 'd/vi'], /^isfuse: error: --out-dir 'd\/vi' is --vis-dir 'd\/vi': isfuse never writes over an input; choose another folder$/m);
  refused([...batch, '--out-dir', 'd/ir', '--overwrite'], /--out-dir 'd\/ir' is --ir-dir 'd\/ir'/);
  refused([...batch, '--out-dir', 'vlink'], /--out-dir 'vlink' resolves to --vis-dir 'd\/vi'/);
  refused([...batch, '--out-dir', './d/ir/../vi/'], /--out-dir '\.\/d\/ir\/\.\.\/vi\/' is --vis-dir 'd\/vi'/);
  // Inside an input folder: no input can be replaced (batches read only a folder's own files); said on stderr.
  const before = snapshot(join(root, 'd', 'vi'));
  const r = isfuse(...batch, '--out-dir', 'd/vi/fused');
  assert.equal(r.code, 0, r.err);
  assert.match(r.err, /warning: --out-dir 'd\/vi\/fused' is inside --vis-dir 'd\/vi'; no input is replaced/);
  assert.deepEqual(readdirSync(join(root, 'd', 'vi', 'fused')).sort(), ['a.png', 'b.png']);
  const after = snapshot(join(root, 'd', 'vi'));
  for (const [k, v] of before) assert.equal(after.get(k), v, k);
});

test('case 3: eval --out that is an input file (any of the three folders, also by link) is refused; --out is written atomically', async () => {
  mkdirSync(join(root, 'ev', 'ir'), { recursive: true });
  mkdirSync(join(root, 'ev', 'vi'));
  mkdirSync(join(root, 'ev', 'fu'));
  for (const s of ['p0', 'p1']) {
    copyFileSync(join(root, 'x.png'), join(root, 'ev', 'ir', `${s}.png`));
    copyFileSync(join(root, 'vis.png'), join(root, 'ev', 'vi', `${s}.png`));
    copyFileSync(join(root, 'vis.png'), join(root, 'ev', 'fu', `${s}.png`));
  }
  writeFileSync(join(root, 'ev', 'fu', 'notes.txt'), 'my notes');
  const ev = ['eval', '--ir-dir', 'ev/ir', '--vis-dir', 'ev/vi', '--fused-dir', 'ev/fu', '--metrics', 'EN', '--workers', '1', '--no-progress'];
  refused([...ev, '--out', 'ev/ir/p0.png'], /^isfuse: error: --out 'ev\/ir\/p0\.png' is the --ir-dir file 'ev\/ir\/p0\.png': isfuse never writes over an input; choose another name$/m);
  refused([...ev, '--out', 'ev/fu/p1.png', '--overwrite'], /--out 'ev\/fu\/p1\.png' is the --fused-dir file/);
  refused([...ev, '--out', 'ev/fu/notes.txt', '--overwrite'], /--out 'ev\/fu\/notes\.txt' is the --fused-dir file/);
  refused([...ev, '--out', 'ev/vi/../fu/p0.png'], /is the --fused-dir file 'ev\/fu\/p0\.png'/);
  // A new image name is refused too: the report is text, and an image name in a folder would be read as an image.
  refused([...ev, '--out', 'ev/new.png'], /--out 'ev\/new\.png' is an image file name, but eval writes a text report/);
  refused([...ev, '--out', 'ev/r.csv', '--format', 'json'], /--out 'ev\/r\.csv': the extension '\.csv' names the csv format, but --format is json/);
  const ok = isfuse(...ev, '--out', 'ev/r.json');
  assert.equal(ok.code, 0, ok.err);
  assert.equal((JSON.parse(readFileSync(join(root, 'ev', 'r.json'), 'utf8')) as { convention: string }).convention, 'mmif', '.json asks for JSON');
  assert.deepEqual(readdirSync(join(root, 'ev')).filter((f) => f.endsWith('.tmp')), [], 'atomic: no temporary file left');
  refused([...ev, '--out', 'ev/r.json'], /--out 'ev\/r\.json' already exists; pass --overwrite to replace it/);
  const again = isfuse(...ev, '--out', 'ev/r.json', '--overwrite');
  assert.equal(again.code, 0, again.err);
});

test('case 4: output extensions: .tif, .tiff, .webp are written as such; .xyz, none, a folder named like an image are refused', async () => {
  for (const name of ['o.tif', 'o.tiff', 'o.webp', 'o.jpeg']) {
    const r = isfuse('fuse', 'x.png', 'vis.png', '-o', name, '-m', 'average');
    assert.equal(r.code, 0, r.err);
    const meta = await sharp(join(root, name)).metadata();
    assert.equal(meta.format, name.endsWith('.webp') ? 'webp' : name.endsWith('.jpeg') ? 'jpeg' : 'tiff', name);
  }
  refused(['fuse', 'x.png', 'vis.png', '-o', 'f.xyz', '-m', 'average'], /^isfuse: error: -o 'f\.xyz' has the extension '\.xyz', not an output format; isfuse writes \.png, \.jpg\/\.jpeg, \.tif\/\.tiff, \.webp/m);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'f', '-m', 'average'], /-o 'f' has no file extension; isfuse writes \.png, \.jpg\/\.jpeg, \.tif\/\.tiff, \.webp/);
  refused(['fuse', 'x.png', 'vis.png', '-o', 'f.png', '--format', 'jpg', '-m', 'average'], /--format is for batches; one pair's output format comes from -o's extension/);
  refused(['fuse', '--ir-dir', 'd/ir', '--vis-dir', 'd/vi', '--out-dir', 'f.xyz', '--format', 'gif'], /argument 'gif' is invalid.*png, jpg, tif, webp/s);
  refused(['fuse', '--ir-dir', 'd/ir', '--vis-dir', 'd/vi', '--out-dir', 'out.png', '-m', 'average'], /--out-dir 'out\.png' names a folder to create, but looks like an image file name/);
  refused(['demo', '--out', 'demo.png', '-m', 'average'], /--out 'demo\.png' names a folder to create, but looks like an image file name/);
  // Batch --format tif writes TIFF files named .tif.
  const r = isfuse('fuse', '--ir-dir', 'd/ir', '--vis-dir', 'd/vi', '--out-dir', 'tifs', '--format', 'tif', '-m', 'average', '--no-progress');
  assert.equal(r.code, 0, r.err);
  assert.deepEqual(readdirSync(join(root, 'tifs')).sort(), ['a.tif', 'b.tif']);
  assert.equal((await sharp(join(root, 'tifs', 'a.tif')).metadata()).format, 'tiff');
});

test('existing outputs: fuse (one pair, batch) and demo refuse them unless --overwrite; --skip-existing resumes a batch', () => {
  writeFileSync(join(root, 'earlier.png'), 'an earlier result');
  refused(['fuse', 'x.png', 'vis.png', '-o', 'earlier.png', '-m', 'average'], /^isfuse: error: -o 'earlier\.png' already exists; pass --overwrite to replace it$/m);
  const over = isfuse('fuse', 'x.png', 'vis.png', '-o', 'earlier.png', '-m', 'average', '--overwrite');
  assert.equal(over.code, 0, over.err);
  assert.notEqual(readFileSync(join(root, 'earlier.png'), 'utf8'), 'an earlier result');

  const batch = ['fuse', '--ir-dir', 'd/ir', '--vis-dir', 'd/vi', '--out-dir', 'bo', '-m', 'average', '--no-progress'];
  mkdirSync(join(root, 'bo'));
  writeFileSync(join(root, 'bo', 'a.png'), 'kept');
  refused(batch, /--out-dir output 'bo\/a\.png' already exists; pass --overwrite to replace, --skip-existing to fuse only the missing outputs, or another --out-dir/);
  refused([...batch, '--overwrite', '--skip-existing'], /give --overwrite or --skip-existing, not both/);
  const skip = isfuse(...batch, '--skip-existing');
  assert.equal(skip.code, 0, skip.err);
  assert.match(skip.err, /--skip-existing: 1 of 2 pairs already have an output in bo; fusing the other 1/);
  assert.equal(readFileSync(join(root, 'bo', 'a.png'), 'utf8'), 'kept');
  assert.ok(existsSync(join(root, 'bo', 'b.png')));
  const all = isfuse(...batch, '--overwrite');
  assert.equal(all.code, 0, all.err);
  assert.notEqual(readFileSync(join(root, 'bo', 'a.png'), 'utf8'), 'kept');

  const demo = isfuse('demo', '--out', 'dm', '-m', 'average');
  assert.equal(demo.code, 0, demo.err);
  refused(['demo', '--out', 'dm', '-m', 'average'], /4 of the 4 output files already exist \('.*dm\/ir\.png', '.*dm\/vis\.png', '.*dm\/fused-average\.png', '.*dm\/sheet\.png'\); pass --overwrite to replace the earlier demo, or another --out folder/);
  const demo2 = isfuse('demo', '--out', 'dm', '-m', 'average', '--overwrite');
  assert.equal(demo2.code, 0, demo2.err);
});

test('case 10: --save-gates at an existing file is refused before anything is written; the 4x4 minimum names the input files', async () => {
  writeFileSync(join(root, 'gates-file'), 'not a folder');
  refused(['fuse', 'x.png', 'vis.png', '-o', 'g.png', '-m', 'isfuse', '--save-gates', 'gates-file'], /^isfuse: error: --save-gates 'gates-file' is a file, not a folder$/m);
  assert.ok(!existsSync(join(root, 'g.png')));
  refused(['fuse', 'x.png', 'vis.png', '-o', 'g.png', '-m', 'isfuse', '--save-gates', 'gates-file/sub'], /--save-gates 'gates-file\/sub' cannot be created: '.*gates-file' is a file, not a folder/);
  // Gate maps may not land on an input either (nor on the fused output).
  copyFileSync(join(root, 'x.png'), join(root, 'gx-gate3.png'));
  refused(['fuse', 'gx-gate3.png', 'vis.png', '-o', 'gx.jpg', '-m', 'isfuse', '--save-gates', '.'], /--save-gates map 'gx-gate3\.png' is the infrared input 'gx-gate3\.png'/);
  await sharp({ create: { width: 3, height: 3, channels: 3, background: '#808080' } }).png().toFile(join(root, 'tiny-ir.png'));
  await sharp({ create: { width: 3, height: 3, channels: 3, background: '#404040' } }).png().toFile(join(root, 'tiny-vis.png'));
  refused(['fuse', 'tiny-ir.png', 'tiny-vis.png', '-o', 'tiny.png', '-m', 'isfuse'], /^isfuse: error: tiny-ir\.png \+ tiny-vis\.png: the isfuse method needs images of at least 4x4 pixels \(two 2x2 poolings\), got 3x3$/m);
});

test('case 9: SIGINT during a fuse batch exits 130 and leaves no temporary file; finished outputs are whole, inputs unchanged', async () => {
  const { ir: bigIr, vis: bigVis } = syntheticPair({ width: 256, height: 192 });
  mkdirSync(join(root, 'big', 'ir'), { recursive: true });
  mkdirSync(join(root, 'big', 'vi'));
  await writeImage(join(root, 'big', 'ir', 'p0.png'), bigIr);
  await writeImage(join(root, 'big', 'vi', 'p0.png'), bigVis);
  for (let i = 1; i < 60; i++) {
    copyFileSync(join(root, 'big', 'ir', 'p0.png'), join(root, 'big', 'ir', `p${i}.png`));
    copyFileSync(join(root, 'big', 'vi', 'p0.png'), join(root, 'big', 'vi', `p${i}.png`));
  }
  const inputsBefore = snapshot(join(root, 'big'));
  const outDir = join(root, 'big-out');
  const child = spawn(process.execPath, ['--import', tsx, main, 'fuse', '--ir-dir', 'big/ir', '--vis-dir', 'big/vi', '--out-dir', 'big-out', '-m', 'gff'], {
    cwd: root,
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  // Signal once the first output exists: the batch is then mid-way (60 pairs of ~0.1 s each).
  const deadline = Date.now() + 90_000;
  let done = false;
  void exited.then(() => (done = true));
  while (!done && Date.now() < deadline && !(existsSync(outDir) && readdirSync(outDir).some((f) => f.endsWith('.png') && !f.startsWith('.')))) {
    await new Promise((r) => setTimeout(r, 10));
  }
  assert.ok(!done, `the batch ended before it could be interrupted:\n${err}`);
  child.kill('SIGINT');
  const code = await exited;
  assert.equal(code, 130, err);
  assert.match(err, /isfuse: interrupted by SIGINT; (removed \d+ temporary file\(s\)|no temporary file was left)/);
  const left = readdirSync(outDir);
  assert.deepEqual(left.filter((f) => f.endsWith('.tmp') || f.startsWith('.')), [], 'no temporary file remains');
  assert.ok(left.length >= 1 && left.length < 60, `${left.length} outputs: interrupted mid-way`);
  for (const f of left) {
    const img = await decodeImage(join(outDir, f));
    assert.deepEqual([img.width, img.height], [256, 192], `${f} is whole`);
  }
  assert.deepEqual(snapshot(join(root, 'big')), inputsBefore);
});
