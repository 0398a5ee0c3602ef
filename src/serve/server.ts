/**
 * `isfuse serve`: the built web app (dist-web/, `npm run build:web`) over HTTP with fastify. Safe by default:
 * it binds to 127.0.0.1 unless told otherwise; it serves only the files of its folder as listed at start-up
 * (a request's path is looked up in that list, never joined to a file system path); it answers GET and HEAD
 * only, and refuses a request body above the cap (413) before reading it: the app uploads nothing.
 */
import { createReadStream } from 'node:fs';
import { readdir, stat } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { extname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import Fastify from 'fastify';
import { usageError } from '../core/errors.js';
import { DEFAULT_BODY_LIMIT, DEFAULT_HOST, DEFAULT_PORT } from './defaults.js';

export { DEFAULT_BODY_LIMIT, DEFAULT_HOST, DEFAULT_PORT };

/** The folder `npm run build:web` writes (scripts/build-web.mjs), at the package root. */
export const DEFAULT_WEB_ROOT = fileURLToPath(new URL('../../dist-web', import.meta.url));

const TYPES: Readonly<Record<string, string>> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.wasm': 'application/wasm',
  '.md': 'text/markdown; charset=utf-8',
  '.png': 'image/png',
  '.safetensors': 'application/octet-stream',
};

// The page's own scripts and WebAssembly only; no inline code, no other origin.
const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'content-security-policy':
    "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'; img-src 'self' blob: data:; style-src 'self'; connect-src 'self'; " +
    "worker-src 'self' blob:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'",
};

export interface WebFile {
  readonly path: string;
  readonly type: string;
  readonly size: number;
}

/**
 * The files to serve, keyed by URL path ('/index.html', '/ort/x.wasm'): every regular file under `root` (links
 * and dot-files left out). A usage error, saying how to build it, when `root` holds no built app.
 */
export async function listWebFiles(root: string): Promise<Map<string, WebFile>> {
  const files = new Map<string, WebFile>();
  const walk = async (dir: string): Promise<void> => {
    for (const e of await readdir(dir, { withFileTypes: true })) {
      if (e.name.startsWith('.')) continue;
      const p = join(dir, e.name);
      if (e.isDirectory()) await walk(p);
      else if (e.isFile()) {
        const url = `/${relative(root, p).split(sep).join('/')}`;
        files.set(url, { path: p, type: TYPES[extname(p).toLowerCase()] ?? 'application/octet-stream', size: (await stat(p)).size });
      }
    }
  };
  try {
    await walk(root);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!files.has('/index.html')) throw usageError(`no built web app in ${root}: build it with \`npm run build:web\` (or pass --root DIR)`);
  return files;
}

export interface WebServerOptions {
  /** Folder of the built app (default {@link DEFAULT_WEB_ROOT}). */
  readonly root?: string;
  /** Address to bind (default 127.0.0.1: this machine only). */
  readonly host?: string;
  /** Port (default 8080; 0: any free port). */
  readonly port?: number;
  /** Request body cap in bytes (default {@link DEFAULT_BODY_LIMIT}). */
  readonly bodyLimit?: number;
}

export interface WebServer {
  readonly url: string;
  readonly host: string;
  readonly port: number;
  readonly root: string;
  readonly files: number;
  close(): Promise<void>;
}

/** Starts serving; resolves once listening. Throws a usage error when the port is taken or the app is not built. */
export async function startWebServer(o: WebServerOptions = {}): Promise<WebServer> {
  const root = resolve(o.root ?? DEFAULT_WEB_ROOT);
  const host = o.host ?? DEFAULT_HOST;
  const bodyLimit = o.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const files = await listWebFiles(root);
  const app = Fastify({ logger: false, bodyLimit });
  // The cap applies to every request, found or not, from its declared length, before any byte of it is read;
  // a body of unknown length (chunked) is refused too, as no route takes one.
  app.addHook('onRequest', async (req, reply) => {
    const length = Number(req.headers['content-length'] ?? 0);
    if (length > bodyLimit || (req.headers['transfer-encoding'] !== undefined && length === 0)) {
      reply.header('connection', 'close');
      return reply.code(413).type('text/plain').send(`request body too large: this server accepts at most ${bodyLimit} bytes\n`);
    }
  });
  app.get('/*', async (req, reply) => {
    const path = req.url.split('?')[0]!; // as sent: no decoding, no normalising; it only has to equal a listed path
    const f = files.get(path === '/' ? '/index.html' : path);
    reply.headers(SECURITY_HEADERS);
    if (!f) return reply.code(404).type('text/plain').send('not found\n');
    reply.type(f.type).header('content-length', f.size).header('cache-control', 'no-cache');
    return reply.send(createReadStream(f.path));
  });
  try {
    await app.listen({ host, port: o.port ?? DEFAULT_PORT });
  } catch (e) {
    await app.close();
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'EADDRINUSE') throw usageError(`port ${o.port ?? DEFAULT_PORT} on ${host} is in use: choose another with --port`);
    if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw usageError(`cannot listen on host '${host}': no such address on this machine`);
    throw e;
  }
  const addr = app.server.address() as AddressInfo;
  const shown = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  return { url: `http://${shown}:${addr.port}/`, host: addr.address, port: addr.port, root, files: files.size, close: () => app.close() };
}
