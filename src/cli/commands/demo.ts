/** `isfuse demo`: a synthetic infrared/visible pair, fused offline with the best available method. */
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { inputError } from '../../core/errors.js';
import { syntheticPair } from '../../data/synthetic.js';
import { encodeFor, writeFileAtomic } from '../../io/encode.js';
import { assertNoExistingOutputs, checkOutputFolder, type NamedPath } from '../../io/paths.js';
import { fuse } from '../../fusion/fuse.js';
import { defaultMethod, getMethod } from '../../fusion/registry.js';
import { warn } from '../util.js';

export function demoCommand(): Command {
  return new Command('demo')
    .summary('make a synthetic infrared/visible pair and fuse it (offline)')
    .description(
      'Writes a synthetic dusk street scene: ir.png (hot people and car, smooth background), vis.png (dark, textured,\n' +
        'the warm objects nearly invisible) and the fused result, then prints where they are. Files already in the\n' +
        'folder are not replaced unless --overwrite is given.',
    )
    .option('--out <dir>', 'output folder (created if missing)', 'isfuse-demo')
    .option('-m, --method <name>', 'fusion method (default: the best available)')
    .option('--overwrite', 'replace ir.png, vis.png and fused-METHOD.png when the folder already holds them')
    .action(async (opts: { out: string; method?: string; overwrite?: boolean }) => {
      const method = getMethod(opts.method ?? defaultMethod()).name;
      // Every check before any work: a folder (or one that can be created), no existing file replaced.
      await checkOutputFolder(opts.out, '--out');
      const dir = resolve(opts.out);
      const irPath = join(dir, 'ir.png');
      const visPath = join(dir, 'vis.png');
      const outPath = join(dir, `fused-${method}.png`);
      const outputs: NamedPath[] = [irPath, visPath, outPath].map((path) => ({ path, what: '--out file' }));
      await assertNoExistingOutputs(outputs, opts.overwrite === true, 'pass --overwrite to replace the earlier demo, or another --out folder');
      const { ir, vis } = syntheticPair();
      const t0 = Date.now();
      const r = await fuse(ir, vis, { method, onWarning: warn });
      const ms = Date.now() - t0;
      const files = await Promise.all(
        ([[irPath, ir], [visPath, vis], [outPath, r.image]] as const).map(async ([path, img]) => ({ path, bytes: await encodeFor(path, img, { format: 'png' }) })),
      );
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw inputError(`--out '${opts.out}' cannot be created: ${(e as Error).message}`);
      }
      for (const f of files) await writeFileAtomic(f.path, f.bytes);
      process.stdout.write(
        `isfuse demo: synthetic ${ir.width}x${ir.height} pair fused with '${method}' in ${ms} ms\n` +
          `  infrared: ${irPath}\n  visible:  ${visPath}\n  fused:    ${outPath}\n`,
      );
    });
}
