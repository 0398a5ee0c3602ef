/**
 * The web app's screenshots in docs/web/ (README and docs/WEB.md show them): the empty page, a pair fused with
 * ISFuse with the g5 gate overlay, and a bad-file message. Needs Debian's Chromium. The pair is isfuse's synthetic
 * street scene (the benchmark images are not redistributed, so committed pictures never show them).
 *
 *   npx tsx tools/web-screenshots.ts [--pair DIR/STEM]   (DIR/ir/STEM.png and DIR/vi/STEM.png; default: the synthetic pair)
 *
 * Writes small palette PNGs (sharp, 256 colours), replacing the earlier ones.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import sharp from 'sharp';
// @ts-expect-error: a plain JavaScript build script, without type declarations
import { buildWeb } from '../scripts/build-web.mjs';
import { replaceFileAtomically } from '../src/core/cleanup.js';
import { syntheticPair } from '../src/data/synthetic.js';
import { encodeFor } from '../src/io/encode.js';
import { startWebServer } from '../src/serve/server.js';
import { launchChromium } from '../test/webgpu/browser.js';

const i = process.argv.indexOf('--pair');
const dir = await mkdtemp(join(tmpdir(), 'isfuse-shots-'));
const pair = i > 0 ? process.argv[i + 1]! : await writeSyntheticPair(dir);
const stem = pair.split('/').pop()!;
const base = pair.slice(0, -stem.length - 1);
const outDir = new URL('../docs/web/', import.meta.url).pathname;

/** The demo's synthetic pair as DIR/synthetic/{ir,vi}/street.png; returns DIR/synthetic/street. */
async function writeSyntheticPair(root: string): Promise<string> {
  const { ir, vis } = syntheticPair({ width: 640, height: 480 });
  for (const [sub, img] of [['ir', ir], ['vi', vis]] as const) {
    await mkdir(join(root, 'synthetic', sub), { recursive: true });
    await writeFile(join(root, 'synthetic', sub, 'street.png'), await encodeFor('street.png', img, { format: 'png' }));
  }
  return join(root, 'synthetic', 'street');
}
type W = { isfuseResult?: unknown; isfuseError?: string; isfuseReady?: boolean };
try {
  await buildWeb({ outDir: join(dir, 'app') });
  const server = await startWebServer({ root: join(dir, 'app'), port: 0 });
  const browser = await launchChromium();
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await page.goto(server.url);
    await page.waitForFunction(() => (window as W).isfuseReady === true, undefined, { timeout: 60_000 });
    const shot = async (name: string) => {
      const png = await sharp(await page.screenshot({ fullPage: true })).resize({ width: 1000 }).png({ palette: true, colours: 256, compressionLevel: 9 }).toBuffer();
      const path = join(outDir, name);
      await replaceFileAtomically(path, `${path}.tmp`, png);
      console.log(`${path}: ${(png.length / 1024).toFixed(0)} KiB`);
    };
    await shot('empty.png');
    const fuseNow = async () => {
      await page.evaluate(() => { (window as W).isfuseResult = undefined; (window as W).isfuseError = undefined; });
      await page.click('#fuse');
      await page.waitForFunction(() => !!((window as W).isfuseResult || (window as W).isfuseError), undefined, { timeout: 0 });
    };
    await page.setInputFiles('#file-ir', join(base, 'ir', `${stem}.png`));
    await page.setInputFiles('#file-vis', join(base, 'vi', `${stem}.png`));
    await page.selectOption('#method', 'isfuse');
    await page.selectOption('#engine', 'wasm');
    await fuseNow();
    await page.selectOption('#gate', '2');
    await shot('fused-gates.png');
    await page.setInputFiles('#file-ir', { name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') });
    await page.selectOption('#method', 'gff');
    await fuseNow();
    await page.evaluate(() => window.scrollTo(0, 0));
    await page.screenshot({ path: join(dir, 'e.png'), clip: { x: 0, y: 0, width: 1280, height: 420 } });
    const png = await sharp(join(dir, 'e.png')).resize({ width: 1000 }).png({ palette: true, colours: 256, compressionLevel: 9 }).toBuffer();
    await replaceFileAtomically(join(outDir, 'error.png'), join(outDir, 'error.png.tmp'), png);
    console.log(`${join(outDir, 'error.png')}: ${(png.length / 1024).toFixed(0)} KiB`);
  } finally {
    await browser.close();
    await server.close();
  }
} finally {
  await rm(dir, { recursive: true, force: true });
}
