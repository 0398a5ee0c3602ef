/** `isfuse serve`: the web app (fuse, compare and score pairs in the browser) on this machine. */
import { Command } from 'commander';
import { onInterrupt } from '../../core/cleanup.js';
import { DEFAULT_HOST, DEFAULT_PORT } from '../../serve/defaults.js';
import { invalidParameter } from '../../core/errors.js';
import { warn } from '../util.js';

/** 0..65535; 0 takes any free port (printed). */
function parsePort(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0 || n > 65535) throw invalidParameter('--port', 'an integer from 0 to 65535', value);
  return n;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|localhost)$/;

export function serveCommand(): Command {
  return new Command('serve')
    .summary('serve the web app: fuse, compare and score image pairs in the browser')
    .description(
      'Serves the built web app (npm run build:web writes dist-web/) on this machine: open the printed address, ' +
        'drop an infrared and a visible image, fuse (in the browser: nothing is uploaded), compare and score. ' +
        `Binds to ${DEFAULT_HOST} (this machine only) unless --host says otherwise. Ctrl-C stops it.`,
    )
    .option('--port <n>', 'port (0: any free port)', parsePort, DEFAULT_PORT)
    .option('--host <address>', 'address to listen on (0.0.0.0: every interface, reachable from other machines)', DEFAULT_HOST)
    .option('--root <dir>', 'folder of a built web app (default: the package\'s dist-web/)')
    .action(async (opts: { port: number; host: string; root?: string }) => {
      const { startWebServer } = await import('../../serve/server.js'); // fastify loads only for this command
      const server = await startWebServer({ port: opts.port, host: opts.host, root: opts.root });
      if (!LOOPBACK.test(opts.host)) warn(`listening on ${opts.host}: other machines on the network can open this page`);
      process.stdout.write(`isfuse: serving the web app at ${server.url} (${server.files} files from ${server.root}); Ctrl-C stops\n`);
      await new Promise<void>((done) => onInterrupt(() => void server.close().then(done)));
    });
}
