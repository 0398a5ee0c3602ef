/** `isfuse demo`: a synthetic infrared/visible pair, fused offline with the best available method. */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { inputError } from '../../core/errors.js';
import { syntheticPair } from '../../data/synthetic.js';
import { writeImage } from '../../io/encode.js';
import { fuse } from '../../fusion/fuse.js';
import { defaultMethod, getMethod } from '../../fusion/registry.js';
import { warn } from '../util.js';

export function demoCommand(): Command {
  return new Command('demo')
    .summary('make a synthetic infrared/visible pair and fuse it (offline)')
    .description(
      'Writes a synthetic dusk street scene: ir.png (hot people and car, smooth background), vis.png (dark, textured,\n' +
        'the warm objects nearly invisible) and the fused result, then prints where they are.',
    )
    .option('--out <dir>', 'output folder (created if missing)', 'isfuse-demo')
    .option('-m, --method <name>', 'fusion method (default: the best available)')
    .action(async (opts: { out: string; method?: string }) => {
      const method = getMethod(opts.method ?? defaultMethod()).name;
      const dir = resolve(opts.out);
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw inputError(`--out '${opts.out}' cannot be created: ${(e as Error).message}`);
      }
      const { ir, vis } = syntheticPair();
      const irPath = join(dir, 'ir.png');
      const visPath = join(dir, 'vis.png');
      const outPath = join(dir, `fused-${method}.png`);
      await writeImage(irPath, ir);
      await writeImage(visPath, vis);
      const t0 = Date.now();
      const r = await fuse(ir, vis, { method, onWarning: warn });
      const ms = Date.now() - t0;
      await writeImage(outPath, r.image);
      process.stdout.write(
        `isfuse demo: synthetic ${ir.width}x${ir.height} pair fused with '${method}' in ${ms} ms\n` +
          `  infrared: ${irPath}\n  visible:  ${visPath}\n  fused:    ${outPath}\n`,
      );
    });
}
