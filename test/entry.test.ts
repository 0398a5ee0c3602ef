// The main entry (`import 'isfuse'`) and the CLI start-up load neither TensorFlow.js nor onnxruntime: each is
// imported in a child Node whose module-resolution hook logs every URL it resolves (a hook sees static and
// dynamic imports alike, so only what loads at import time appears). The WebGPU kernel installers, which do load
// TensorFlow.js, live in the subpath entry 'isfuse/webgpu'.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = new URL('../', import.meta.url);
// The job queue's BullMQ and ioredis load only in `isfuse worker` / `isfuse submit` (src/queue/).
const HEAVY = ['/node_modules/@tensorflow/', '/node_modules/onnxruntime-node/', '/node_modules/bullmq/', '/node_modules/ioredis/'];

// Runs in the hooks thread: writeSync to stderr so that no line is lost or reordered when the child exits.
const LOG_RESOLVED_HOOK = `
import { writeSync } from 'node:fs';
export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  writeSync(2, 'resolved ' + result.url + ' from ' + context.parentURL + '\\n');
  return result;
}`;

/** The URLs (with their importers) that importing `entry` resolves, in a fresh Node with tsx. */
function resolvedBy(entry: string): string[] {
  const script =
    `import { register } from 'node:module';` +
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(LOG_RESOLVED_HOOK)}`)});` +
    `await import(${JSON.stringify(new URL(entry, root).href)});`;
  const r = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(root),
    encoding: 'utf8',
    timeout: 60_000,
  });
  assert.equal(r.status, 0, `importing ${entry} failed:\n${r.stderr}`);
  return r.stderr.split('\n').filter((l) => l.startsWith('resolved ')).map((l) => l.slice('resolved '.length));
}

for (const entry of ['src/index.ts', 'src/cli/program.ts']) {
  test(`importing ${entry} loads neither TensorFlow.js nor onnxruntime`, () => {
    const resolved = resolvedBy(entry);
    // The hook must have seen the entry's own imports, or an empty list would pass vacuously.
    assert.ok(resolved.some((l) => l.includes('/src/fusion/fuse.ts')), `hook saw too little:\n${resolved.join('\n')}`);
    assert.deepEqual(resolved.filter((l) => HEAVY.some((h) => l.includes(h))), []);
  });
}

test("the WebGPU kernel installers are in 'isfuse/webgpu', not in the main entry", async () => {
  const pkg = JSON.parse(readFileSync(new URL('package.json', root), 'utf8')) as { exports: Record<string, { types: string; default: string }> };
  const sub = pkg.exports['./webgpu'];
  assert.deepEqual(sub, { types: './dist/webgpu.d.ts', default: './dist/webgpu.js' });
  // dist/ mirrors src/ (tsconfig.build.json), so the subpath's source is src/webgpu.ts.
  assert.ok(existsSync(new URL(sub.default.replace('./dist/', 'src/').replace(/\.js$/, '.ts'), root)));
  const webgpu = await import('../src/webgpu.js');
  assert.equal(typeof webgpu.installWebGpuKernels, 'function');
  assert.equal(typeof webgpu.uninstallWebGpuKernels, 'function');
  const main: Record<string, unknown> = await import('../src/index.js');
  assert.equal(main.installWebGpuKernels, undefined);
});
