// The output-path checks of src/io/paths.ts: formats by extension, no output that is an input (by path, symbolic
// link, `..`, hard link), output folders inside input folders, distinct and not-yet-existing outputs, folders.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, linkSync, mkdirSync, mkdtempSync, realpathSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { IsfuseError } from '../../src/core/errors.js';
import {
  assertDistinctOutputs,
  assertNoExistingOutputs,
  assertNotAnInput,
  checkOutputFolder,
  outputFormatOf,
  outputInsideInput,
  resolvePath,
} from '../../src/io/paths.js';

const dir = realpathSync(mkdtempSync(join(tmpdir(), 'isfuse-paths-')));
mkdirSync(join(dir, 'd', 'ir'), { recursive: true });
mkdirSync(join(dir, 'd', 'vi'));
mkdirSync(join(dir, 'other', 'deep'), { recursive: true });
writeFileSync(join(dir, 'x.png'), 'infrared');
writeFileSync(join(dir, 'd', 'vi', 'a.png'), 'visible');
symlinkSync(join(dir, 'x.png'), join(dir, 'link.png'));
linkSync(join(dir, 'x.png'), join(dir, 'hard.png'));
symlinkSync(join(dir, 'd', 'vi'), join(dir, 'vlink'));
// 'up' points two levels down; 'up/..' is then other/, not the folder holding 'up' (the kernel's rule).
symlinkSync(join(dir, 'other', 'deep'), join(dir, 'up'));

const isUsage = (re: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && re.test(e.message);
const inputs = [
  { path: join(dir, 'x.png'), what: 'the infrared input' },
  { path: join(dir, 'd', 'vi', 'a.png'), what: 'the visible input' },
];

test('outputFormatOf: the extension names the format (any case); none, another, or a disagreeing format is refused naming the supported ones', () => {
  assert.equal(outputFormatOf('f.png'), 'png');
  assert.equal(outputFormatOf('f.JPG'), 'jpeg');
  assert.equal(outputFormatOf('f.jpeg'), 'jpeg');
  assert.equal(outputFormatOf('f.tif'), 'tiff');
  assert.equal(outputFormatOf('dir.v2/f.TIFF'), 'tiff');
  assert.equal(outputFormatOf('f.webp'), 'webp');
  assert.throws(() => outputFormatOf('f.xyz', '-o'), isUsage(/^-o 'f\.xyz' has the extension '\.xyz', not an output format; isfuse writes \.png, \.jpg\/\.jpeg, \.tif\/\.tiff, \.webp/));
  assert.throws(() => outputFormatOf('f', '-o'), isUsage(/^-o 'f' has no file extension; isfuse writes \.png, \.jpg/));
  assert.throws(() => outputFormatOf('out.d/f', '-o'), isUsage(/no file extension/));
  assert.throws(() => outputFormatOf('f.bmp', '-o'), isUsage(/'\.bmp', not an output format/));
  assert.throws(() => outputFormatOf('f.png', 'output', 'jpeg'), isUsage(/'\.png' names PNG, but JPEG was asked for; isfuse never writes one format under another's name/));
});

test('resolvePath: symbolic links first, then `..` on the resolved folder; missing tails as written', async () => {
  assert.equal(await resolvePath(join(dir, 'link.png')), join(dir, 'x.png'));
  assert.equal(await resolvePath(join(dir, 'd', '..', 'x.png')), join(dir, 'x.png'));
  assert.equal(await resolvePath(join(dir, 'vlink', 'a.png')), join(dir, 'd', 'vi', 'a.png'));
  assert.equal(await resolvePath(`${dir}/up/../x.png`), join(dir, 'other', 'x.png'), 'up/.. is the link target\'s parent');
  assert.equal(await resolvePath(join(dir, 'vlink', 'new', 'f.png')), join(dir, 'd', 'vi', 'new', 'f.png'));
  const cwd = process.cwd();
  try {
    process.chdir(join(dir, 'd'));
    assert.equal(await resolvePath('../x.png'), join(dir, 'x.png'));
    assert.equal(await resolvePath('./vi'), join(dir, 'd', 'vi'));
  } finally {
    process.chdir(cwd);
  }
});

test('assertNotAnInput: the same path, a symbolic link, `..` or a hard link to an input is refused, naming both', async () => {
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'x.png'), what: '-o' }], inputs), isUsage(/^-o '.*x\.png' is the infrared input '.*x\.png': isfuse never writes over an input; choose another name$/));
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'link.png'), what: '-o' }], inputs), isUsage(/^-o '.*link\.png' resolves to the infrared input '.*x\.png'/));
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'vlink', 'a.png'), what: '-o' }], inputs), isUsage(/vlink\/a\.png' resolves to the visible input/));
  await assert.rejects(assertNotAnInput([{ path: `${dir}/d/vi/../../x.png`, what: '-o' }], inputs), isUsage(/is the infrared input/));
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'hard.png'), what: '-o' }], inputs), isUsage(/^-o '.*hard\.png' is a hard link to the infrared input '.*x\.png'/));
  // The input given through a link, the output by its real name: refused too.
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'x.png'), what: '-o' }], [{ path: join(dir, 'link.png'), what: 'IR' }]), isUsage(/x\.png' resolves to IR '.*link\.png'/));
  // New files, and existing files that are no input, pass.
  await assertNotAnInput([{ path: join(dir, 'new.png'), what: '-o' }, { path: join(dir, 'vlink', 'b.png'), what: '-o' }], inputs);
  writeFileSync(join(dir, 'earlier.png'), 'an earlier output');
  await assertNotAnInput([{ path: join(dir, 'earlier.png'), what: '-o' }], inputs);
  await assertNotAnInput([{ path: join(dir, 'x.png'), what: '-o' }], []);
});

test('assertNotAnInput on folders: an output folder that is, or resolves to, an input folder is refused', async () => {
  const dirs = [
    { path: join(dir, 'd', 'ir'), what: '--ir-dir' },
    { path: join(dir, 'd', 'vi'), what: '--vis-dir' },
  ];
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'd', 'vi'), what: '--out-dir' }], dirs), isUsage(/^--out-dir '.*d\/vi' is --vis-dir '.*d\/vi': .*choose another folder$/));
  await assert.rejects(assertNotAnInput([{ path: `${dir}/d/vi/`, what: '--out-dir' }], dirs), isUsage(/is --vis-dir/));
  await assert.rejects(assertNotAnInput([{ path: join(dir, 'vlink'), what: '--out-dir' }], dirs), isUsage(/vlink' resolves to --vis-dir/));
  await assert.rejects(assertNotAnInput([{ path: `${dir}/d/ir/../vi`, what: '--out-dir' }], dirs), isUsage(/is --vis-dir/));
  await assertNotAnInput([{ path: join(dir, 'd', 'fused'), what: '--out-dir' }, { path: join(dir, 'd'), what: '--out-dir' }], dirs);
});

test('outputInsideInput: a folder inside an input folder (also through a link) is found; beside or above is not', async () => {
  const dirs = [{ path: join(dir, 'd', 'vi'), what: '--vis-dir' }];
  assert.equal((await outputInsideInput(join(dir, 'd', 'vi', 'fused'), dirs))?.what, '--vis-dir');
  assert.equal((await outputInsideInput(join(dir, 'vlink', 'fused', 'deeper'), dirs))?.what, '--vis-dir');
  assert.equal(await outputInsideInput(join(dir, 'd', 'vi-fused'), dirs), undefined, 'a name that only starts like the input folder');
  assert.equal(await outputInsideInput(join(dir, 'd'), dirs), undefined);
  assert.equal(await outputInsideInput(join(dir, 'd', 'vi'), dirs), undefined);
});

test('assertDistinctOutputs: two outputs that are one file (by any name) are refused', async () => {
  await assertDistinctOutputs([{ path: join(dir, 'a.png'), what: '-o' }, { path: join(dir, 'b.png'), what: '-o' }]);
  await assert.rejects(
    assertDistinctOutputs([{ path: join(dir, 'd', 'vi', 'n.png'), what: '--out-dir output' }, { path: join(dir, 'vlink', 'n.png'), what: '--save-gates map' }]),
    isUsage(/^--save-gates map '.*vlink\/n\.png' and --out-dir output '.*d\/vi\/n\.png' are the same file/),
  );
});

test('assertNoExistingOutputs: existing files are refused unless overwrite, listing them; a folder in the way always', async () => {
  const fresh = { path: join(dir, 'fresh.png'), what: '-o' };
  const old = { path: join(dir, 'earlier.png'), what: '-o' };
  await assertNoExistingOutputs([fresh], false);
  await assert.rejects(assertNoExistingOutputs([fresh, old], false), isUsage(/^-o '.*earlier\.png' already exists; pass --overwrite to replace it$/));
  await assertNoExistingOutputs([fresh, old], true);
  await assert.rejects(
    assertNoExistingOutputs([old, { path: join(dir, 'x.png'), what: '-o' }, fresh], false, 'or else'),
    isUsage(/^2 of the 3 output files already exist \('.*earlier\.png', '.*x\.png'\); or else$/),
  );
  await assert.rejects(assertNoExistingOutputs([{ path: join(dir, 'd'), what: '-o' }], true), isUsage(/'.*d' is a folder; give a file name/));
  // A dangling link is an existing name too (writing would replace the link).
  symlinkSync(join(dir, 'nowhere.png'), join(dir, 'dangling.png'));
  await assert.rejects(assertNoExistingOutputs([{ path: join(dir, 'dangling.png'), what: '-o' }], false), isUsage(/already exists/));
});

test('checkOutputFolder: a folder, or one that can be created, passes without creating it; a file, a file above, an image name do not', async () => {
  await checkOutputFolder(join(dir, 'd'), '--out-dir');
  await checkOutputFolder(join(dir, 'new', 'deeper'), '--out-dir');
  await checkOutputFolder(join(dir, 'vlink', 'new'), '--out-dir');
  assert.ok(!existsSync(join(dir, 'new')) && !existsSync(join(dir, 'd', 'vi', 'new')), 'checks create nothing');
  await assert.rejects(checkOutputFolder(join(dir, 'x.png'), '--save-gates'), isUsage(/^--save-gates '.*x\.png' is a file, not a folder$/));
  await assert.rejects(checkOutputFolder(join(dir, 'x.png', 'sub'), '--out-dir'), isUsage(/cannot be created: '.*x\.png' is a file, not a folder/));
  await assert.rejects(checkOutputFolder(join(dir, 'fused.png'), '--out'), isUsage(/^--out '.*fused\.png' names a folder to create, but looks like an image file name/));
  if (process.getuid?.() !== 0) {
    mkdirSync(join(dir, 'ro'));
    chmodSync(join(dir, 'ro'), 0o500);
    await assert.rejects(checkOutputFolder(join(dir, 'ro', 'out'), '--out-dir'), (e: unknown) => e instanceof IsfuseError && /not writable/.test(e.message));
  }
});
