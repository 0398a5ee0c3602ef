/**
 * Folders of images paired by file stem (the file name without its extension), as every fusion dataset
 * and every batch command pairs them. The one implementation used by `fuse` batches, `eval` and the
 * training data pipeline.
 */
import { readdir } from 'node:fs/promises';
import { basename, extname, join } from 'node:path';
import { inputError } from '../core/errors.js';
import { IMAGE_FILE_EXTENSIONS as IMAGE_EXTENSIONS, type NamedPath } from './paths.js';

/** Natural order ('2' before '10'), so lists follow the datasets' numbering. */
const collator = new Intl.Collator('en', { numeric: true });

/** A folder's entries; an input error naming the folder when it cannot be read. */
async function readFolder(dir: string, what: string) {
  try {
    return await readdir(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'folder not found' : code === 'ENOTDIR' ? 'not a folder' : (e as Error).message;
    throw inputError(`${what} '${dir}' cannot be read: ${why}`, e);
  }
}

/**
 * Image files of a folder, keyed by stem. Hidden files (e.g. macOS '._x.png') and other extensions are
 * ignored; two images with one stem make pairing ambiguous: an input error naming them.
 * @param what how the folder is named in messages (e.g. '--ir-dir', 'infrared folder').
 */
export async function imagesByStem(dir: string, what: string): Promise<Map<string, string>> {
  const entries = await readFolder(dir, what);
  const out = new Map<string, string>();
  const clashes: string[] = [];
  for (const e of entries.sort((a, b) => collator.compare(a.name, b.name))) {
    if (!e.isFile() && !e.isSymbolicLink()) continue;
    const ext = extname(e.name);
    if (!IMAGE_EXTENSIONS.includes(ext.toLowerCase()) || e.name.startsWith('.')) continue;
    const stem = basename(e.name, ext);
    const prev = out.get(stem);
    if (prev !== undefined) clashes.push(`${basename(prev)} and ${e.name}`);
    out.set(stem, join(dir, e.name));
  }
  if (clashes.length > 0) throw inputError(`${what} '${dir}': several images share a file stem, so pairing is ambiguous: ${clashes.join('; ')}`);
  return out;
}

export interface StemPairing {
  /** Complete sets, in natural stem order: one path per folder, in the order the folders were given. */
  readonly pairs: { readonly stem: string; readonly paths: readonly string[] }[];
  /** Incomplete stems: the paths found (undefined where missing) and the names of the folders lacking it. */
  readonly unpaired: { readonly stem: string; readonly paths: readonly (string | undefined)[]; readonly lacks: readonly string[] }[];
}

/** Pairs two or more folders by file stem. */
export async function pairByStem(folders: readonly { dir: string; what: string }[]): Promise<StemPairing> {
  const maps = await Promise.all(folders.map((f) => imagesByStem(f.dir, f.what)));
  const stems = new Set<string>();
  for (const m of maps) for (const s of m.keys()) stems.add(s);
  const pairs: StemPairing['pairs'] = [];
  const unpaired: StemPairing['unpaired'] = [];
  for (const stem of [...stems].sort(collator.compare)) {
    const paths = maps.map((m) => m.get(stem));
    if (paths.every((p) => p !== undefined)) pairs.push({ stem, paths: paths as string[] });
    else unpaired.push({ stem, paths, lacks: folders.filter((_, i) => paths[i] === undefined).map((f) => f.what) });
  }
  return { pairs, unpaired };
}

/**
 * Every file of a folder (not its sub-folders), images or not, hidden ones included: what an output must never
 * be (`assertNotAnInput`). `what` names the folder in messages, e.g. "a file of --ir-dir".
 */
export async function filesOf(dir: string, what: string): Promise<NamedPath[]> {
  const entries = await readFolder(dir, what);
  return entries.filter((e) => !e.isDirectory()).map((e) => ({ path: join(dir, e.name), what: `the ${what} file` }));
}
