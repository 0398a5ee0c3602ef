// Headless Chromium with its software WebGPU adapter (SwiftShader), for the WebGPU kernel tests: CI has no
// GPU, and this is the adapter Chrome itself falls back to. Needs Debian's `chromium` (.ci/run installs it);
// without it the tests say so and skip. The page code is bundled with esbuild and served from 127.0.0.1
// (WebGPU needs a secure context; a localhost origin is one).
import { existsSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { build } from 'esbuild';
import { after, before } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The Chromium executable, or undefined when none is installed. */
export function chromiumPath(): string | undefined {
  return CANDIDATES.find((p): p is string => !!p && existsSync(p));
}

export const SKIP_REASON = 'no Chromium (install Debian chromium, or set CHROMIUM_PATH) for the WebGPU kernel tests';

/** Chromium started but offers no WebGPU adapter (an environment without SwiftShader or GPU): tests skip. */
export class NoWebGpuAdapter extends Error {}

/** Flags that give headless Chromium WebGPU, keep it off the network and let long GPU work finish. */
const FLAGS = [
  '--no-sandbox',
  '--enable-unsafe-webgpu',
  '--enable-features=Vulkan',
  '--disable-gpu-watchdog',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--disable-quic',
  '--no-first-run',
];

/**
 * Opens `entry` for a test suite: the page, or the reason to skip (no Chromium, no WebGPU adapter in it).
 * Other failures throw.
 */
export async function openForTests(entry: string): Promise<WebGpuPage | string> {
  if (!chromiumPath()) return SKIP_REASON;
  try {
    return await openWebGpuPage(entry);
  } catch (e) {
    if (e instanceof NoWebGpuAdapter) return e.message;
    throw e;
  }
}

/** A suite's page: `wg` once opened, or `skip` with the reason. */
export interface SuitePage {
  wg?: WebGpuPage;
  skip?: string;
}

/** Inside a describe: opens `entry` before the suite's tests (or records why they skip) and closes it after. */
export function suitePage(entry: string): SuitePage {
  const s: SuitePage = {};
  before(async () => {
    const r = await openForTests(entry);
    if (typeof r === 'string') s.skip = r;
    else s.wg = r;
  });
  after(async () => {
    await s.wg?.close();
  });
  return s;
}

export interface WebGpuPage {
  readonly page: Page;
  /** Console errors and warnings of the page since the last call (WebGPU validation and shader errors land here). */
  takeConsoleErrors(): string[];
  close(): Promise<void>;
}

/** Chromium's software adapter (the default: what CI has), or whatever GPU its Vulkan driver offers. */
const ADAPTER_FLAGS = { swiftshader: ['--use-vulkan=swiftshader', '--use-webgpu-adapter=swiftshader'], gpu: [] as string[] };

/** Headless Chromium with these tests' flags (off the network; WebGPU on the chosen adapter). */
export function launchChromium(adapter: keyof typeof ADAPTER_FLAGS = 'swiftshader'): Promise<Browser> {
  const exe = chromiumPath();
  if (!exe) throw new Error(SKIP_REASON);
  return chromium.launch({ executablePath: exe, headless: true, args: [...FLAGS, ...ADAPTER_FLAGS[adapter]] });
}

/** Bundles `entry` for the browser, serves it on 127.0.0.1 and opens it in headless Chromium. */
export async function openWebGpuPage(entry: string, adapter: keyof typeof ADAPTER_FLAGS = 'swiftshader'): Promise<WebGpuPage> {
  const exe = chromiumPath();
  if (!exe) throw new Error(SKIP_REASON);
  const bundle = await build({ entryPoints: [entry], bundle: true, format: 'esm', platform: 'browser', write: false, logLevel: 'error' });
  const js = bundle.outputFiles[0]!.text;
  const server = http.createServer((req, res) => {
    if (req.url === '/page.js') {
      res.setHeader('content-type', 'text/javascript');
      res.end(js);
    } else {
      res.setHeader('content-type', 'text/html');
      res.end('<!doctype html><meta charset="utf-8"><script type="module" src="/page.js"></script>');
    }
  });
  await new Promise<void>((ok) => server.listen(0, '127.0.0.1', ok));
  let browser: Browser | undefined;
  try {
    browser = await launchChromium(adapter);
    const page = await browser.newPage();
    const errors: string[] = [];
    let console: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    page.on('console', (m) => {
      if (m.type() === 'error' || m.type() === 'warning') console.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    type Status = { pageReady?: boolean; pageError?: string; pageNoAdapter?: string };
    await page.waitForFunction(() => {
      const w = window as Status;
      return w.pageReady === true || !!w.pageError || !!w.pageNoAdapter;
    }, undefined, { timeout: 60_000 });
    const status = await page.evaluate(() => {
      const w = window as Status;
      return { error: w.pageError, noAdapter: w.pageNoAdapter };
    });
    if (status.noAdapter) throw new NoWebGpuAdapter(`${status.noAdapter}: the WebGPU tests skip`);
    if (status.error || errors.length) throw new Error(`WebGPU test page failed: ${status.error ?? errors.join('; ')}`);
    const b = browser;
    return {
      page,
      takeConsoleErrors: () => {
        const out = console;
        console = [];
        return out;
      },
      close: async () => {
        await b.close();
        server.close();
      },
    };
  } catch (e) {
    await browser?.close();
    server.close();
    throw e;
  }
}
