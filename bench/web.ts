/**
 * In-page fusion time of the web app (docs/PERFORMANCE.md, "The web app"): the built app served by `isfuse
 * serve`'s server, in headless Chromium, fusing one real pair through the page's own controls; the time is the
 * page's (PageResult.times.fuseMs: planes, the network, quantising, colour; not decoding or metrics).
 *
 *   npx tsx bench/web.ts [--pair DIR/STEM] [--engines wasm,webgpu] [--runs N] [--webgpu-runs N] [--crop WxH] [--json]
 *
 * --pair: default ../shared/data/MSRS/test/00004N (480x640, gray infrared, colour visible; reads DIR/ir and DIR/vi).
 * --engines: the page's network engines (wasm: onnxruntime-web's WebAssembly provider; webgpu: its WebGPU provider,
 *   here on Chromium's software adapter SwiftShader). The first run of each engine builds the graph and session
 *   (reported apart as "first"); the median is over the --runs (default 5; --webgpu-runs, default 2) after it.
 * --crop: fuse a top-left crop of the pair instead (sharp), e.g. 160x120.
 * A classical method (lp) is timed too, for scale. Load average before and after is printed: the machines are shared.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildWeb } from '../scripts/build-web.mjs';
import { machineInfo, summarise } from '../src/bench/stats.js';
import { startWebServer } from '../src/serve/server.js';
import { launchChromium } from '../test/webgpu/browser.js';
import type { PageResult } from '../web/main.js';

const arg = (name: string, def: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : def;
};
const pairArg = arg('pair', new URL('../../shared/data/MSRS/test/00004N', import.meta.url).pathname);
const stem = pairArg.split('/').pop()!;
const base = pairArg.slice(0, -stem.length - 1);
const engines = arg('engines', 'wasm,webgpu').split(',');
const runs = Number(arg('runs', '5'));
const webgpuRuns = Number(arg('webgpu-runs', '2'));
const crop = process.argv.includes('--crop') ? arg('crop', '').split('x').map(Number) : undefined;

const dir = await mkdtemp(join(tmpdir(), 'isfuse-bench-web-'));
const files = { ir: join(base, 'ir', `${stem}.png`), vis: join(base, 'vi', `${stem}.png`) };
if (crop) {
  for (const k of ['ir', 'vis'] as const) {
    const out = join(dir, `${k}.png`);
    await sharp(files[k]).extract({ left: 0, top: 0, width: crop[0]!, height: crop[1]! }).png().toFile(out);
    files[k] = out;
  }
}
const load0 = loadavg();
await buildWeb({ outDir: join(dir, 'app') });
const server = await startWebServer({ root: join(dir, 'app'), port: 0 });
const browser = await launchChromium();
type W = { isfuseResult?: PageResult; isfuseError?: string; isfuseReady?: boolean };
const report: Record<string, unknown> = { machine: machineInfo(), pair: files, chromium: browser.version() };
try {
  const page = await browser.newPage();
  await page.goto(server.url);
  await page.waitForFunction(() => (window as W).isfuseReady === true, undefined, { timeout: 60_000 });
  await page.setInputFiles('#file-ir', files.ir);
  await page.setInputFiles('#file-vis', files.vis);
  const once = async (method: string, engine?: string): Promise<PageResult> => {
    await page.selectOption('#method', method);
    if (engine) await page.selectOption('#engine', engine);
    await page.evaluate(() => { (window as W).isfuseResult = undefined; (window as W).isfuseError = undefined; });
    await page.click('#fuse');
    await page.waitForFunction(() => !!((window as W).isfuseResult || (window as W).isfuseError), undefined, { timeout: 0 });
    const r = await page.evaluate(() => ({ result: (window as W).isfuseResult, error: (window as W).isfuseError }));
    if (r.error) throw new Error(r.error);
    return r.result!;
  };
  const rows: Record<string, unknown>[] = [];
  const lp = [];
  for (let i = 0; i < runs; i++) lp.push((await once('lp')).times.fuseMs);
  rows.push({ what: 'lp (classical)', ...summarise(lp) });
  for (const e of engines) {
    const first = await once('isfuse', e);
    const times = [];
    for (let i = 0; i < (e === 'webgpu' ? webgpuRuns : runs); i++) times.push((await once('isfuse', e)).times.fuseMs);
    rows.push({ what: `isfuse ${e}`, engine: first.engine, firstMs: first.times.fuseMs, ...summarise(times) });
    console.error(`${e}: first ${(first.times.fuseMs / 1000).toFixed(2)} s, then ${times.map((t) => (t / 1000).toFixed(2)).join(', ')} s`);
  }
  report.size = `${(await once('lp')).width}x${(await page.evaluate(() => (window as W).isfuseResult!.height))}`;
  report.rows = rows;
} finally {
  await browser.close();
  await server.close();
  await rm(dir, { recursive: true, force: true });
}
report.loadavg = { before: load0.map((x) => +x.toFixed(2)), after: loadavg().map((x) => +x.toFixed(2)) };
if (process.argv.includes('--json')) console.log(JSON.stringify(report, null, 2));
else {
  console.log(`${report.size} (${stem}), ${report.chromium}; load average before ${JSON.stringify((report.loadavg as { before: number[] }).before)}, after ${JSON.stringify((report.loadavg as { after: number[] }).after)}`);
  console.log('| what | engine | first run (s) | median (s) | min..max (s) | runs |\n|---|---|---|---|---|---|');
  for (const r of report.rows as { what: string; engine?: string; firstMs?: number; medianMs: number; minMs: number; maxMs: number; timesMs: number[] }[]) {
    const s = (ms?: number) => (ms === undefined ? '' : (ms / 1000).toFixed(2));
    console.log(`| ${r.what} | ${r.engine ?? 'JavaScript + WebAssembly SIMD (the library)'} | ${s(r.firstMs)} | ${s(r.medianMs)} | ${s(r.minMs)}..${s(r.maxMs)} | ${r.timesMs.length} |`);
  }
}
