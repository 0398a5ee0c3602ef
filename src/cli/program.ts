/**
 * The `isfuse` command line: `main` runs it (the bin entry, main.ts, calls it). Exit status: 0 success, 2 bad usage or bad input, 1 anything else,
 * 130 / 143 / 129 when interrupted by SIGINT / SIGTERM / SIGHUP (after removing the temporary files in flight).
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { installInterruptCleanup } from '../core/cleanup.js';
import { IsfuseError } from '../core/errors.js';
import { fuseCommand } from './commands/fuse.js';
import { methodsCommand } from './commands/methods.js';
import { demoCommand } from './commands/demo.js';
import { evalCommand } from './commands/eval.js';
import { trainCommand } from './commands/train.js';
import { benchCommand } from './commands/bench.js';
import { compareCommand } from './commands/compare.js';
import { workerCommand } from './commands/worker.js';
import { submitCommand } from './commands/submit.js';

// dist/cli/program.js and src/cli/program.ts both sit two levels below package.json.
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };

function buildProgram(): Command {
  const program = new Command('isfuse')
    .description('Multi-modal image fusion (infrared + visible, MRI + CT/PET/SPECT): ISFuse, classical baselines, exact metrics.')
    .version(pkg.version, '-V, --version')
    .showHelpAfterError('(run with --help for usage)')
    .exitOverride();
  for (const cmd of [fuseCommand(), methodsCommand(), demoCommand(), evalCommand(), compareCommand(), trainCommand(), benchCommand(), workerCommand(), submitCommand()]) program.addCommand(cmd);
  overrideExits(program);
  return program;
}

/** Commander errors become exceptions (mapped to exit statuses in main), at every level of sub-commands. */
function overrideExits(cmd: Command): void {
  for (const sub of cmd.commands) {
    sub.exitOverride().showHelpAfterError('(run with --help for usage)');
    overrideExits(sub);
  }
}

export async function main(argv: string[]): Promise<number> {
  // Ctrl-C / SIGTERM: remove the temporary files of the atomic writes in flight, exit 130 / 143 (core/cleanup.ts).
  installInterruptCleanup();
  try {
    process.exitCode = 0;
    await buildProgram().parseAsync(argv, { from: 'user' });
    return typeof process.exitCode === 'number' ? process.exitCode : 0;
  } catch (e) {
    if (e instanceof CommanderError) {
      // Commander has already printed its message (or the help / version).
      // Asked-for help and version exit 0; help shown because a command was missing is a usage error.
      return e.code === 'commander.helpDisplayed' || e.code === 'commander.version' ? 0 : 2;
    }
    if (e instanceof IsfuseError) {
      process.stderr.write(`isfuse: error: ${e.message}\n`);
      return e.kind === 'internal' ? 1 : 2;
    }
    process.stderr.write(`isfuse: internal error: ${(e as Error)?.stack ?? String(e)}\n`);
    return 1;
  }
}

