// The dependency rule of docs/ARCHITECTURE.md: a folder of src/ imports only the folders its row of ALLOWED
// names. Checked on the import statements of every source file (static and dynamic imports, type imports
// included). The files at the top of src/ (the package's entry points) may import anything.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

/** Folder -> the folders it may import (the same table as docs/ARCHITECTURE.md). */
const ALLOWED: Record<string, readonly string[]> = {
  core: [],
  filters: ['core'],
  io: ['core'],
  data: ['core', 'io'],
  model: ['core'],
  metrics: ['core', 'filters', 'io'],
  fusion: ['core', 'filters', 'io', 'model'],
  train: ['core', 'data', 'model', 'metrics'],
  bench: ['core', 'model', 'train'],
  robust: ['core', 'filters', 'io', 'train', 'fusion', 'metrics'],
  queue: ['core', 'io', 'fusion', 'metrics'],
  serve: ['core'],
  cli: ['core', 'io', 'data', 'model', 'train', 'fusion', 'metrics', 'bench', 'robust', 'queue', 'serve'],
};

const src = resolve(new URL('../src', import.meta.url).pathname);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

/** The top folder of a path under src/, or null for the entry files at the top. */
const folderOf = (file: string): string | null => {
  const parts = relative(src, file).split('/');
  return parts.length > 1 ? parts[0]! : null;
};

/** Every cross-folder import edge of src/ as 'from -> to', with one example file each. */
function edges(): Map<string, string> {
  const out = new Map<string, string>();
  for (const file of files(src)) {
    const from = folderOf(file);
    if (from === null) continue;
    for (const m of readFileSync(file, 'utf8').matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)) {
      const to = folderOf(resolve(dirname(file), m[1]!));
      if (to !== from) out.set(`${from} -> ${to ?? '(entry)'}`, relative(src, file));
    }
  }
  return out;
}

test('every src/ folder is in the table, and imports only the folders its row allows', () => {
  const folders = readdirSync(src).filter((n) => statSync(join(src, n)).isDirectory()).sort();
  assert.deepEqual(folders, Object.keys(ALLOWED).sort(), 'a new folder needs its row in ALLOWED and in docs/ARCHITECTURE.md');
  const all = edges();
  assert.ok(all.size > 10, `only ${all.size} edges seen: is the pattern right?`);
  const violations = [...all].filter(([edge]) => {
    const [from, to] = edge.split(' -> ') as [string, string];
    return !ALLOWED[from]!.includes(to);
  });
  assert.deepEqual(violations, []);
});

test('the table has no allowance that nothing uses (so it stays the real graph)', () => {
  const all = edges();
  const unused = Object.entries(ALLOWED).flatMap(([from, tos]) => tos.map((to) => `${from} -> ${to}`)).filter((e) => !all.has(e));
  assert.deepEqual(unused, []);
});
