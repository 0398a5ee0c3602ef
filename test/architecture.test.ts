// The layering rule of docs/ARCHITECTURE.md: a folder of src/ never imports a folder above it in the flow
// core -> filters -> io -> data -> model -> train -> fusion -> metrics -> bench -> cli. Checked on the import
// statements of every source file (static and dynamic imports, type imports included).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative, resolve, dirname } from 'node:path';

const LAYERS = ['core', 'filters', 'io', 'data', 'model', 'train', 'fusion', 'metrics', 'bench', 'cli'];
const src = resolve(new URL('../src', import.meta.url).pathname);

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}

const layerOf = (file: string): number => LAYERS.indexOf(relative(src, file).split('/')[0]!);

test('no src/ folder imports a folder above it in the data flow', () => {
  const violations: string[] = [];
  let checked = 0;
  for (const file of files(src)) {
    const from = layerOf(file);
    if (from < 0) continue; // src/index.ts: the public entry sits on top
    const text = readFileSync(file, 'utf8');
    for (const m of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.[^']+)'/g)) {
      const target = resolve(dirname(file), m[1]!);
      const to = layerOf(target);
      checked++;
      if (to > from) violations.push(`${relative(src, file)} imports ${relative(src, target)}`);
    }
  }
  assert.ok(checked > 100, `only ${checked} imports seen: is the pattern right?`);
  assert.deepEqual(violations, []);
});
