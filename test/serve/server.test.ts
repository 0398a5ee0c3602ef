// `isfuse serve`'s server (src/serve/server.ts) and command, on a real socket: it serves the files of its folder
// and nothing else (no path from the request reaches the file system), refuses an oversized request body (413)
// before reading it, and listens on loopback only unless told otherwise.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { networkInterfaces, tmpdir } from 'node:os';
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DEFAULT_BODY_LIMIT, startWebServer, type WebServer } from '../../src/serve/server.js';

/** A raw request (no URL normalisation by a client library): status and body. */
function request(port: number, method: string, path: string, body?: Buffer): Promise<{ status: number; body: string }> {
  return new Promise((ok, fail) => {
    const req = http.request({ host: '127.0.0.1', port, method, path, headers: body ? { 'content-length': body.length } : {} }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => ok({ status: res.statusCode!, body: text }));
    });
    req.on('error', fail);
    if (body) req.write(body);
    req.end();
  });
}

describe('isfuse serve', () => {
  let dir: string, server: WebServer;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'isfuse-serve-'));
    await mkdir(join(dir, 'app', 'ort'), { recursive: true });
    await writeFile(join(dir, 'app', 'index.html'), '<!doctype html><title>app</title>');
    await writeFile(join(dir, 'app', 'ort', 'x.wasm'), Buffer.from([0, 0x61, 0x73, 0x6d]));
    await writeFile(join(dir, 'secret.txt'), 'outside the served folder');
    server = await startWebServer({ root: join(dir, 'app'), port: 0 });
  });
  after(async () => {
    await server?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('serves its files with their types; / is index.html', async () => {
    const r = await fetch(server.url);
    assert.equal(r.status, 200);
    assert.match(await r.text(), /<title>app<\/title>/);
    assert.match(r.headers.get('content-security-policy') ?? '', /default-src 'self'/);
    const w = await fetch(new URL('ort/x.wasm', server.url));
    assert.equal(w.headers.get('content-type'), 'application/wasm');
  });

  test('refuses every path outside its folder (404), however spelled', async () => {
    for (const p of ['/../secret.txt', '/%2e%2e/secret.txt', '/..%2fsecret.txt', '/ort/../../secret.txt', '//secret.txt', '/secret.txt', `/${join(dir, 'secret.txt')}`, '/index.html%00', '/ort']) {
      const r = await request(server.port, 'GET', p);
      assert.equal(r.status, 404, `${p}: ${r.status}`);
      assert.ok(!r.body.includes('outside the served folder'), p);
    }
  });

  test(`refuses a request body above the cap (${DEFAULT_BODY_LIMIT} bytes) with 413, on any route`, async () => {
    for (const [method, path] of [['POST', '/'], ['PUT', '/upload'], ['GET', '/index.html']] as const) {
      const r = await request(server.port, method, path, Buffer.alloc(DEFAULT_BODY_LIMIT + 1));
      assert.equal(r.status, 413, `${method} ${path}`);
      assert.match(r.body, /too large/);
    }
    assert.equal((await request(server.port, 'POST', '/', Buffer.alloc(10))).status, 404); // small bodies: no route takes one
  });

  test('listens on loopback only by default', async (t) => {
    assert.equal(server.host, '127.0.0.1');
    const other = Object.values(networkInterfaces()).flat().find((a) => a && a.family === 'IPv4' && !a.internal);
    if (!other) return t.skip('this machine has no non-loopback IPv4 address to try');
    const refused = await new Promise<boolean>((ok) => {
      const s = net.connect({ host: other.address, port: server.port });
      s.on('connect', () => { s.destroy(); ok(false); });
      s.on('error', () => ok(true));
    });
    assert.ok(refused, `the server answered on ${other.address}`);
  });

  test('a folder without a built app: a usage error naming npm run build:web', async () => {
    await assert.rejects(startWebServer({ root: join(dir, 'none'), port: 0 }), (e: Error & { kind?: string }) => e.kind === 'usage' && /npm run build:web/.test(e.message));
  });

  test('the command: prints its address, serves, stops on SIGINT (exit 130)', async () => {
    const cli = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'serve', '--port', '0', '--root', join(dir, 'app')], { stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      const url = await new Promise<string>((ok, fail) => {
        let out = '';
        cli.stdout.on('data', (d) => {
          out += d;
          const m = /serving the web app at (http:\/\/127\.0\.0\.1:\d+\/)/.exec(out);
          if (m) ok(m[1]!);
        });
        cli.on('exit', (code) => fail(new Error(`serve exited (${code}) before listening: ${out}`)));
      });
      assert.equal((await fetch(url)).status, 200);
      const code = await new Promise<number | null>((ok) => {
        cli.removeAllListeners('exit');
        cli.on('exit', ok);
        cli.kill('SIGINT');
      });
      assert.equal(code, 130);
    } finally {
      if (cli.exitCode === null) cli.kill('SIGKILL');
    }
  });
});
