/** `isfuse methods`: the registry of fusion methods. */
import { Command } from 'commander';
import { defaultMethod, listMethods } from '../../fusion/registry.js';

export function methodsCommand(): Command {
  return new Command('methods')
    .summary('list the fusion methods and their options')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const methods = listMethods();
      const def = defaultMethod();
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ default: def, methods }, null, 2)}\n`);
        return;
      }
      const w = Math.max(...methods.map((m) => m.name.length));
      for (const m of methods) {
        process.stdout.write(`${m.name.padEnd(w)}  ${m.description}${m.name === def ? '  [default]' : ''}\n`);
        if (m.reference) process.stdout.write(`${' '.repeat(w)}  ref: ${m.reference}\n`);
        for (const [k, v] of Object.entries(m.options ?? {})) process.stdout.write(`${' '.repeat(w)}  -O ${k}=...  ${v}\n`);
      }
    });
}
