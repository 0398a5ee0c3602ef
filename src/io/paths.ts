/**
 * The checks every command makes on the paths it will write, before it does any work: the one place that
 * decides what isfuse refuses to write (README, "What isfuse refuses, and why").
 *
 * - {@link outputFormatOf}: an output file's extension must name a format isfuse writes (.png, .jpg/.jpeg,
 *   .tif/.tiff, .webp), and that format is what is written; no extension, or another one, is a usage error.
 * - {@link assertNotAnInput}: no output is an input, by any name: the same path, a path that resolves to it
 *   (symbolic links, `..`), or a hard link to the same file (same device and inode). Works for files and folders.
 * - {@link outputInsideInput}: an output folder inside an input folder (allowed: pairing reads only a folder's own
 *   files, so no input is replaced or re-read; the CLI warns, since recursive tools would see the outputs as inputs).
 * - {@link assertDistinctOutputs}: two outputs of one run never share a file.
 * - {@link assertNoExistingOutputs}: an existing file is replaced only when the user passed --overwrite.
 * - {@link checkOutputFolder}: a folder option is a folder, or can be created (its nearest existing ancestor is a
 *   writable folder), without creating anything yet.
 *
 * All failures are {@link IsfuseError}s of kind 'usage' (exit status 2) whose message names the option and the file.
 */
import { constants } from 'node:fs';
import { access, lstat, realpath, stat } from 'node:fs/promises';
import { dirname, extname, isAbsolute, join, parse, resolve, sep } from 'node:path';
import { inputError, usageError } from '../core/errors.js';

/** The output formats isfuse encodes, and the extensions that name each (lower case, with the dot). */
export type OutputFormat = 'png' | 'jpeg' | 'tiff' | 'webp';
const OUTPUT_EXTENSIONS: Readonly<Record<string, OutputFormat>> = Object.freeze({
  '.png': 'png',
  '.jpg': 'jpeg',
  '.jpeg': 'jpeg',
  '.tif': 'tiff',
  '.tiff': 'tiff',
  '.webp': 'webp',
});
/** The supported output extensions, for messages. */
const SUPPORTED_OUTPUT_EXTENSIONS = '.png, .jpg/.jpeg, .tif/.tiff, .webp';

/** Extensions of the image files isfuse reads or writes (folders' image files, output names). */
export const IMAGE_FILE_EXTENSIONS: readonly string[] = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** A path and how messages name it: `{ path: 'x.png', what: '-o' }`, `{ path, what: 'the infrared input' }`. */
export interface NamedPath {
  readonly path: string;
  readonly what: string;
}

/**
 * The format an output file name asks for. `expected` (an explicit format) must agree with it.
 * @throws IsfuseError (usage) for no extension, an unsupported one, or one that names another format.
 */
export function outputFormatOf(path: string, what = 'output', expected?: OutputFormat): OutputFormat {
  const ext = extname(path).toLowerCase();
  const format = OUTPUT_EXTENSIONS[ext];
  if (format === undefined) {
    const why = ext === '' ? 'has no file extension' : `has the extension '${ext}', not an output format`;
    throw usageError(`${what} '${path}' ${why}; isfuse writes ${SUPPORTED_OUTPUT_EXTENSIONS} and picks the format from the extension`);
  }
  if (expected !== undefined && expected !== format) {
    throw usageError(`${what} '${path}': the extension '${ext}' names ${format.toUpperCase()}, but ${expected.toUpperCase()} was asked for; isfuse never writes one format under another's name`);
  }
  return format;
}

/**
 * The absolute path the operating system would reach: symbolic links resolved component by component, then
 * `..` applied to the resolved folder (so `link/..` is the link target's parent, as the kernel does it, not
 * the lexical `.`). Components that do not exist yet are appended as written.
 */
export async function resolvePath(path: string): Promise<string> {
  const abs = isAbsolute(path) ? path : `${process.cwd()}${sep}${path}`;
  const root = parse(resolve(abs)).root;
  let real = root;
  let missing = false;
  for (const part of abs.slice(parse(abs).root.length).split(/[\\/]+/)) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      real = dirname(real);
      continue;
    }
    const next = join(real, part);
    if (missing) {
      real = next;
      continue;
    }
    try {
      real = await realpath(next);
    } catch {
      missing = true; // a dangling link or a name still to be created: kept as written
      real = next;
    }
  }
  return real;
}

type Identity = { dev: number; ino: number; folder: boolean } | null;

async function identity(path: string): Promise<Identity> {
  try {
    const s = await stat(path);
    return { dev: s.dev, ino: s.ino, folder: s.isDirectory() };
  } catch {
    return null;
  }
}

/** How `out` and `input` (the same file) are related, for the message. */
async function relation(out: string, input: string): Promise<string> {
  if (resolve(out) === resolve(input)) return 'is';
  if ((await resolvePath(out)) === (await resolvePath(input))) return 'resolves to';
  return 'is a hard link to';
}

/**
 * Refuses any output that is one of the inputs: the same file or folder by path, through symbolic links or `..`,
 * or a hard link (same device and inode). An output that does not exist yet cannot be an input and costs one
 * stat; inputs are stat'ed only when some output exists.
 * @throws IsfuseError (usage) naming both: "-o 'x.png' is the infrared input 'x.png'; ...".
 */
export async function assertNotAnInput(outputs: readonly NamedPath[], inputs: readonly NamedPath[]): Promise<void> {
  let inputIds: Identity[] | undefined;
  for (const out of outputs) {
    const id = await identity(out.path);
    if (id === null) continue;
    inputIds ??= await Promise.all(inputs.map((i) => identity(i.path)));
    const k = inputIds.findIndex((i) => i !== null && i.dev === id.dev && i.ino === id.ino);
    if (k < 0) continue;
    const input = inputs[k]!;
    throw usageError(
      `${out.what} '${out.path}' ${await relation(out.path, input.path)} ${input.what} '${input.path}': isfuse never writes over an input; choose another ${id.folder ? 'folder' : 'name'}`,
    );
  }
}

/**
 * The input folder an output folder lies inside (not equal to: {@link assertNotAnInput} refuses that), or undefined.
 * Both are compared as the operating system resolves them.
 */
export async function outputInsideInput(output: string, inputs: readonly NamedPath[]): Promise<NamedPath | undefined> {
  const out = await resolvePath(output);
  for (const input of inputs) {
    const dir = await resolvePath(input.path);
    if (out.startsWith(dir.endsWith(sep) ? dir : dir + sep)) return input;
  }
  return undefined;
}

/** Refuses two outputs of one run that are the same file (e.g. a gate map named like a fused image). */
export async function assertDistinctOutputs(outputs: readonly NamedPath[]): Promise<void> {
  const seen = new Map<string, NamedPath>();
  for (const out of outputs) {
    const key = await resolvePath(out.path);
    const prev = seen.get(key);
    if (prev) throw usageError(`${out.what} '${out.path}' and ${prev.what} '${prev.path}' are the same file; one run never writes a file twice`);
    seen.set(key, out);
  }
}

/**
 * Refuses outputs that already exist unless `overwrite`; a folder where a file is to go is refused always.
 * @param hint what the user can do instead (default: "pass --overwrite to replace it" / "them").
 */
export async function assertNoExistingOutputs(outputs: readonly NamedPath[], overwrite: boolean, hint?: string): Promise<void> {
  const existing: NamedPath[] = [];
  for (const out of outputs) {
    let s;
    try {
      s = await lstat(out.path);
    } catch {
      continue;
    }
    if (s.isDirectory()) throw usageError(`${out.what} '${out.path}' is a folder; give a file name`);
    existing.push(out);
  }
  if (existing.length === 0 || overwrite) return;
  const first = existing[0]!;
  if (existing.length === 1) throw usageError(`${first.what} '${first.path}' already exists; ${hint ?? 'pass --overwrite to replace it'}`);
  const names = existing.slice(0, 5).map((o) => `'${o.path}'`).join(', ') + (existing.length > 5 ? `, ... (${existing.length - 5} more)` : '');
  throw usageError(`${existing.length} of the ${outputs.length} output files already exist (${names}); ${hint ?? 'pass --overwrite to replace them'}`);
}

/**
 * Checks, without creating anything, that `dir` is a writable folder or can be created: its nearest existing
 * ancestor is a writable folder. A folder still to be created may not be named like an image file
 * (`--out-dir fused.png`): that is a mistaken file name.
 */
export async function checkOutputFolder(dir: string, what: string): Promise<void> {
  let s;
  try {
    s = await stat(dir);
  } catch {
    s = undefined;
  }
  if (s) {
    if (!s.isDirectory()) throw usageError(`${what} '${dir}' is a file, not a folder`);
    await checkAccess(dir, what, dir);
    return;
  }
  if (IMAGE_FILE_EXTENSIONS.includes(extname(dir).toLowerCase())) {
    throw usageError(`${what} '${dir}' names a folder to create, but looks like an image file name; give a folder name without an image extension`);
  }
  let up = resolve(dir);
  for (;;) {
    const parent = dirname(up);
    if (parent === up) break;
    up = parent;
    let ps;
    try {
      ps = await stat(up);
    } catch {
      continue;
    }
    if (!ps.isDirectory()) throw usageError(`${what} '${dir}' cannot be created: '${up}' is a file, not a folder`);
    await checkAccess(up, what, dir);
    return;
  }
}

async function checkAccess(folder: string, what: string, dir: string): Promise<void> {
  try {
    await access(folder, constants.W_OK);
  } catch {
    throw inputError(`${what} '${dir}': folder '${folder}' is not writable (permission denied)`);
  }
}
