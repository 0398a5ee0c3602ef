// The web app in headless Chromium (SwiftShader for WebGPU), served by `isfuse serve`'s server from a fresh
// `npm run build:web` build: a real MSRS pair fused in the page equals `isfuse fuse` (identical samples for a
// classical method, at most one grey level for ISFuse on wasm and on WebGPU), the page's scores equal
// `isfuse eval`'s, the downloads hold them, and a bad file gets the CLI's message.
// Skips, saying so, without Chromium or without ../shared/data.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
import type { Browser, Page } from 'playwright-core';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildWeb } from '../../scripts/build-web.mjs';
import { decodeBuffer, decodeImage } from '../../src/io/decode.js';
import { writeImage } from '../../src/io/encode.js';
import { fuse } from '../../src/fusion/fuse.js';
import { evaluate } from '../../src/metrics/evaluate.js';
import type { RasterImage } from '../../src/core/image.js';
import { startWebServer, type WebServer } from '../../src/serve/server.js';
import { chromiumPath, launchChromium, SKIP_REASON } from '../webgpu/browser.js';
import type { PageResult } from '../../web/main.js';

const DATA = new URL('../../../shared/data/MSRS_128/train/', import.meta.url).pathname;
const PAIR = { ir: join(DATA, 'ir', '00001D.png'), vis: join(DATA, 'vi', '00001D.png') };
const skip = !chromiumPath() ? SKIP_REASON : !existsSync(PAIR.ir) ? `no real data at ${DATA} (../shared/data): the web app tests skip` : false;

type W = { isfuseResult?: PageResult; isfuseError?: string; isfuseReady?: boolean };

/** Samples as RGB (gray replicated), to compare a decoded download with the CLI's raster. */
function rgb(img: RasterImage): number[] {
  if (img.channels === 3) return [...img.data];
  return [...img.data].flatMap((v) => [v, v, v]);
}

describe('web app (headless Chromium): page = CLI', { skip }, () => {
  let dir: string, server: WebServer, browser: Browser, page: Page;
  const small = { ir: '', vis: '' };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isfuse-web-'));
    await buildWeb({ outDir: join(dir, 'app'), minify: false });
    server = await startWebServer({ root: join(dir, 'app'), port: 0 });
    // ISFuse on SwiftShader's WebGPU takes ~80 s at 128x128 on this project's 2-core machines: a 48x48 crop of the pair (the metrics' smallest size is 41x41)
    for (const k of ['ir', 'vis'] as const) {
      small[k] = join(dir, `small-${k}.png`);
      await sharp(PAIR[k]).extract({ left: 40, top: 40, width: 48, height: 48 }).png().toFile(small[k]);
    }
    browser = await launchChromium();
    page = await (await browser.newContext({ acceptDownloads: true })).newPage();
    await page.goto(server.url);
    await page.waitForFunction(() => (window as W).isfuseReady === true, undefined, { timeout: 60_000 });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  async function fuseInPage(files: { ir: string | { name: string; buffer: Buffer }; vis: string }, method: string, engine?: string): Promise<{ result?: PageResult; error?: string }> {
    await page.setInputFiles('#file-ir', typeof files.ir === 'string' ? files.ir : { ...files.ir, mimeType: 'image/png' });
    await page.setInputFiles('#file-vis', files.vis);
    await page.selectOption('#method', method);
    if (engine) await page.selectOption('#engine', engine);
    await page.evaluate(() => { (window as W).isfuseResult = undefined; (window as W).isfuseError = undefined; });
    await page.click('#fuse');
    await page.waitForFunction(() => !!((window as W).isfuseResult || (window as W).isfuseError), undefined, { timeout: 240_000 });
    return page.evaluate(() => ({ result: (window as W).isfuseResult, error: (window as W).isfuseError }));
  }

  /**
   * The page's scores equal `isfuse eval` on the CLI's fused file, in both conventions, every metric: mmif to the
   * bit; vifb to 1e-14 relative (Chromium's V8 and Node's differ in the last bit of a few Math functions, seen in
   * Qcb, Qcv, Mutinf).
   */
  async function assertScoresEqualEval(got: PageResult, cli: RasterImage, ir: string, vis: string): Promise<void> {
    const fusedFile = join(dir, `cli-${got.method}.png`);
    await writeImage(fusedFile, cli);
    assert.deepEqual(got.scores.mmif, await evaluate(ir, vis, fusedFile, { convention: 'mmif' }), 'mmif scores');
    const want = await evaluate(ir, vis, fusedFile, { convention: 'vifb' });
    assert.deepEqual(Object.keys(got.scores.vifb ?? {}), Object.keys(want), 'vifb metrics');
    for (const [m, v] of Object.entries(want)) {
      const g = got.scores.vifb![m]!;
      assert.ok(Object.is(g, v) || Math.abs(g - v) <= 1e-14 * Math.abs(v), `vifb ${m}: page ${g}, isfuse eval ${v}`);
    }
  }

  test('lp (classical): the same samples as isfuse fuse, the scores of isfuse eval, downloads of both', async () => {
    const { result, error } = await fuseInPage(PAIR, 'lp');
    assert.equal(error, undefined);
    const cli = (await fuse(PAIR.ir, PAIR.vis, { method: 'lp' })).image;
    assert.equal(result!.channels, cli.channels);
    assert.deepEqual(result!.fused, [...cli.data], 'fused samples differ from isfuse fuse');
    await assertScoresEqualEval(result!, cli, PAIR.ir, PAIR.vis);
    // the download: a PNG that decodes (as the CLI decodes) to the same pixels; the scores JSON is isfuse eval's
    const [png] = await Promise.all([page.waitForEvent('download'), page.click('#dl-png')]);
    assert.match(png.suggestedFilename(), /^00001D-lp\.png$/);
    assert.deepEqual(rgb(await decodeImage((await png.path())!)), rgb(cli));
    const [json] = await Promise.all([page.waitForEvent('download'), page.click('#dl-vifb-json')]);
    const doc = JSON.parse(await readFile((await json.path())!, 'utf8'));
    assert.equal(doc.convention, 'vifb');
    assert.deepEqual(doc.images[0].values, result!.scores.vifb);
    assert.deepEqual(doc.mean, result!.scores.vifb);
  });

  test('isfuse on WebAssembly: within one grey level of isfuse fuse (onnxruntime-node), scores of isfuse eval', async () => {
    const { result, error } = await fuseInPage(PAIR, 'isfuse', 'wasm');
    assert.equal(error, undefined);
    assert.match(result!.engine!, /^WebAssembly/);
    const cli = (await fuse(PAIR.ir, PAIR.vis, { method: 'isfuse', methodOptions: { backend: 'onnx' } })).image;
    let worst = 0, differ = 0;
    for (let i = 0; i < cli.data.length; i++) {
      const d = Math.abs(result!.fused[i]! - cli.data[i]!);
      worst = Math.max(worst, d);
      if (d) differ++;
    }
    assert.ok(worst <= 1, `page and CLI differ by ${worst} grey levels`);
    console.log(`# wasm vs CLI: ${differ} of ${cli.data.length} samples differ (at most ${worst})`);
    // its scores are those of its own image: isfuse eval on the page's samples
    const own: RasterImage = { ...cli, data: Uint8Array.from(result!.fused) };
    await assertScoresEqualEval(result!, own, PAIR.ir, PAIR.vis);
    // the gate overlays exist (g3, g4, g5)
    assert.equal(await page.locator('#gate').isDisabled(), false);
  });

  test('isfuse on WebGPU (SwiftShader), 48x48 crop: within one grey level of isfuse fuse', async () => {
    const { result, error } = await fuseInPage(small, 'isfuse', 'webgpu');
    assert.equal(error, undefined);
    assert.match(result!.engine!, /^WebGPU/);
    const cli = (await fuse(small.ir, small.vis, { method: 'isfuse', methodOptions: { backend: 'onnx' } })).image;
    let worst = 0;
    for (let i = 0; i < cli.data.length; i++) worst = Math.max(worst, Math.abs(result!.fused[i]! - cli.data[i]!));
    assert.ok(worst <= 1, `page (WebGPU) and CLI differ by ${worst} grey levels`);
  });

  test('JPEG (RoadScene): the browser decodes the samples sharp decodes (average fused in the page = isfuse fuse)', async (t) => {
    const road = new URL('../../../shared/data/RoadScene/test/', import.meta.url).pathname;
    const jpeg = { ir: join(road, 'ir', 'FLIR_00211.jpg'), vis: join(road, 'vi', 'FLIR_00211.jpg') };
    if (!existsSync(jpeg.ir)) return t.skip(`no RoadScene pair at ${road}`);
    const { result, error } = await fuseInPage(jpeg, 'average');
    assert.equal(error, undefined);
    assert.deepEqual(result!.fused, [...(await fuse(jpeg.ir, jpeg.vis, { method: 'average' })).image.data]);
  });

  test('a folder of pairs: paired by file name from ir/ and vi/, partnerless files named', async () => {
    const folder = join(dir, 'set');
    await mkdir(join(folder, 'ir'), { recursive: true });
    await mkdir(join(folder, 'vi'), { recursive: true });
    for (const s of ['b', 'a']) {
      await copyFile(small.ir, join(folder, 'ir', `${s}.png`));
      await copyFile(small.vis, join(folder, 'vi', `${s}.png`));
    }
    await copyFile(small.ir, join(folder, 'ir', 'lonely.png'));
    await page.setInputFiles('#folder', folder);
    await page.waitForFunction(() => (document.getElementById('pairs') as HTMLSelectElement).options.length === 2);
    assert.deepEqual(await page.locator('#pairs option').allTextContents(), ['a', 'b']);
    assert.match((await page.locator('#message').textContent())!, /1 file\(s\) without a partner: lonely/);
    await page.waitForFunction(() => document.getElementById('name-vis')!.textContent!.startsWith('a.png'));
  });

  test('bad files: the CLI\'s messages (not an image; sizes differ)', async () => {
    const junk = Buffer.from('this is not an image');
    const { error } = await fuseInPage({ ir: { name: 'junk.png', buffer: junk }, vis: PAIR.vis }, 'lp');
    const cliMessage = await decodeBuffer(junk, 'junk.png').then(() => '', (e: Error) => e.message);
    const prefix = 'junk.png: not a readable image (unsupported format or corrupt file)';
    assert.ok(cliMessage.startsWith(prefix), cliMessage);
    assert.ok(error?.startsWith(`error: ${prefix}`), error);
    assert.equal(await page.locator('#message').textContent(), error);
    // different sizes: the same sentence as isfuse fuse, with the page's file names
    const sizes = await fuseInPage({ ir: PAIR.ir, vis: small.vis }, 'lp');
    const cli = await fuse(PAIR.ir, small.vis, { method: 'lp' }).then(() => '', (e: Error) => e.message);
    assert.equal(sizes.error, `error: ${cli.replace(PAIR.ir, '00001D.png').replace(small.vis, 'small-vis.png')}`);
  });
});
