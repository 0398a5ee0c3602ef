/** `isfuse methods`: the registry of fusion methods. */
import { Command } from 'commander';
import { defaultMethod, listMethods } from '../../fusion/registry.js';
import { DEFAULT_MODEL_NAME, shippedModels } from '../../model/shipped-models.js';

export function methodsCommand(): Command {
  return new Command('methods')
    .summary('list the fusion methods, their options and the shipped ISFuse models')
    .option('--json', 'print JSON')
    .action((opts: { json?: boolean }) => {
      const methods = listMethods();
      const def = defaultMethod();
      const models = shippedModels().map(({ name, card }) => ({ name, card, default: name === DEFAULT_MODEL_NAME }));
      if (opts.json) {
        process.stdout.write(`${JSON.stringify({ default: def, methods, models }, null, 2)}\n`);
        return;
      }
      const w = Math.max(...methods.map((m) => m.name.length));
      for (const m of methods) {
        process.stdout.write(`${m.name.padEnd(w)}  ${m.description}${m.name === def ? '  [default]' : ''}\n`);
        if (m.reference) process.stdout.write(`${' '.repeat(w)}  ref: ${m.reference}\n`);
        for (const [k, v] of Object.entries(m.options ?? {})) process.stdout.write(`${' '.repeat(w)}  -O ${k}=...  ${v}\n`);
      }
      process.stdout.write('\nShipped ISFuse models (isfuse fuse --model NAME; the card describes data, loss, budget and scores):\n');
      if (models.length === 0) process.stdout.write('  none (pass --weights FILE)\n');
      for (const m of models) process.stdout.write(`  ${m.name}${m.default ? '  [default for --method isfuse]' : ''}${m.card ? `  card: ${m.card}` : ''}\n`);
    });
}
