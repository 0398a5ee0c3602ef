#!/usr/bin/env node
// Builds the web app (web/) into a static folder that any static host can serve (default dist-web/):
// index.html, style.css, app.js (web/main.ts bundled with the library code it imports), onnxruntime-web's
// WebAssembly runtime under ort/, and every shipped model (models/*.safetensors with its card) listed in
// models.json. Written to a temporary folder and renamed, so a failed build leaves the previous one whole.
// Usage: node scripts/build-web.mjs [--out DIR]
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const DEFAULT_WEB_DIR = join(ROOT, 'dist-web');
/** The one onnxruntime-web runtime the page loads: its JSEP build runs both the WebGPU and the wasm providers. */
export const ORT_FILES = ['ort-wasm-simd-threaded.jsep.mjs', 'ort-wasm-simd-threaded.jsep.wasm'];

/**
 * Library modules the page imports also hold Node-only code (file reads, worker threads, sharp decoding) that it
 * never calls: those imports resolve to an empty module so that the rest bundles.
 */
const nodeOnly = {
  name: 'node-only',
  setup(b) {
    b.onResolve({ filter: /^(node:.*|sharp|fast-bmp)$/ }, (a) => ({ path: a.path, namespace: 'node-only' }));
    b.onLoad({ filter: /.*/, namespace: 'node-only' }, () => ({ contents: 'module.exports = {};', loader: 'js' }));
  },
};

/** The shipped models: every models/*.safetensors, with the title of its card (models/<name>.md) when it has one. */
async function models() {
  const dir = join(ROOT, 'models');
  const out = [];
  for (const f of (await readdir(dir)).filter((n) => n.endsWith('.safetensors')).sort()) {
    const name = basename(f, '.safetensors');
    const card = join(dir, `${name}.md`);
    const text = await readFile(card, 'utf8').catch(() => '');
    const title = /^#\s+(.+)$/m.exec(text)?.[1]?.trim() ?? name;
    out.push({ name, title, file: `models/${f}`, card: text ? `models/${name}.md` : undefined, bytes: (await stat(join(dir, f))).size });
  }
  return out;
}

export async function buildWeb({ outDir = DEFAULT_WEB_DIR, minify = true } = {}) {
  const out = resolve(outDir);
  const tmp = `${out}.tmp-${process.pid}`;
  await rm(tmp, { recursive: true, force: true });
  try {
    await mkdir(join(tmp, 'ort'), { recursive: true });
    await mkdir(join(tmp, 'models'), { recursive: true });
    await build({
      entryPoints: [join(ROOT, 'web', 'main.ts')],
      outfile: join(tmp, 'app.js'),
      bundle: true,
      format: 'esm',
      platform: 'browser',
      target: 'es2022',
      minify,
      sourcemap: false,
      legalComments: 'none',
      logLevel: 'error',
      plugins: [nodeOnly],
    });
    for (const f of ['index.html', 'style.css']) await cp(join(ROOT, 'web', f), join(tmp, f));
    const ortDist = join(ROOT, 'node_modules', 'onnxruntime-web', 'dist');
    for (const f of ORT_FILES) await cp(join(ortDist, f), join(tmp, 'ort', f));
    const list = await models();
    for (const m of list) {
      await cp(join(ROOT, m.file), join(tmp, m.file));
      if (m.card) await cp(join(ROOT, m.card), join(tmp, m.card));
    }
    await writeFile(join(tmp, 'models.json'), `${JSON.stringify(list, null, 2)}\n`);
    await rm(out, { recursive: true, force: true });
    await rename(tmp, out);
  } catch (e) {
    await rm(tmp, { recursive: true, force: true });
    throw e;
  }
  return out;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const i = process.argv.indexOf('--out');
  const t0 = Date.now();
  const out = await buildWeb({ outDir: i > 0 ? process.argv[i + 1] : DEFAULT_WEB_DIR });
  console.log(`web app built in ${out} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
