/**
 * `isfuse demo`: a synthetic infrared/visible pair, fused offline with the default method and, beside it, the shipped
 * ISFuse model (when the default is another method), plus a contact sheet of the inputs and results.
 */
import { existsSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { inputError } from '../../core/errors.js';
import { syntheticPair } from '../../data/synthetic.js';
import { encodeFor, writeFileAtomic } from '../../io/encode.js';
import { assertNoExistingOutputs, checkOutputFolder, type NamedPath } from '../../io/paths.js';
import { fuse } from '../../fusion/fuse.js';
import { defaultMethod, getMethod } from '../../fusion/registry.js';
import { contactSheet } from '../../io/sheet.js';
import { DEFAULT_MODEL_PATH } from '../../model/shipped-models.js';
import { warn } from '../util.js';

export function demoCommand(): Command {
  return new Command('demo')
    .summary('make a synthetic infrared/visible pair and fuse it (offline)')
    .description(
      'Writes a synthetic dusk street scene: ir.png (hot people and car, smooth background), vis.png (dark, textured,\n' +
        'the warm objects nearly invisible), its fusion with the default method (fused-METHOD.png) and, when that is\n' +
        'not isfuse, with the shipped ISFuse model too (fused-isfuse.png), and sheet.png showing them side by side.\n' +
        'Files already in the folder are not replaced unless --overwrite is given.',
    )
    .option('--out <dir>', 'output folder (created if missing)', 'isfuse-demo')
    .option('-m, --method <name>', 'fuse with this method only (default: the default method, and isfuse beside it)')
    .option('--overwrite', 'replace ir.png, vis.png, fused-METHOD.png and sheet.png when the folder already holds them')
    .action(async (opts: { out: string; method?: string; overwrite?: boolean }) => {
      const methods = opts.method !== undefined ? [getMethod(opts.method).name] : demoMethods();
      // Every check before any work: a folder (or one that can be created), no existing file replaced.
      await checkOutputFolder(opts.out, '--out');
      const dir = resolve(opts.out);
      const irPath = join(dir, 'ir.png');
      const visPath = join(dir, 'vis.png');
      const fusedPaths = methods.map((m) => join(dir, `fused-${m}.png`));
      const sheetPath = join(dir, 'sheet.png');
      const outputs: NamedPath[] = [irPath, visPath, ...fusedPaths, sheetPath].map((path) => ({ path, what: '--out file' }));
      await assertNoExistingOutputs(outputs, opts.overwrite === true, 'pass --overwrite to replace the earlier demo, or another --out folder');
      const { ir, vis } = syntheticPair();
      const results: { method: string; image: typeof ir; ms: number }[] = [];
      for (const method of methods) {
        const t0 = Date.now();
        const r = await fuse(ir, vis, { method, onWarning: warn });
        results.push({ method, image: r.image, ms: Date.now() - t0 });
      }
      const sheet = await contactSheet([[{ image: ir, label: 'infrared' }, { image: vis, label: 'visible' }, ...results.map((r) => ({ image: r.image, label: r.method }))]]);
      const images = [[irPath, ir], [visPath, vis], ...results.map((r, i) => [fusedPaths[i]!, r.image] as const)] as const;
      const files = [
        ...(await Promise.all(images.map(async ([path, img]) => ({ path, bytes: await encodeFor(path, img, { format: 'png' }) })))),
        { path: sheetPath, bytes: sheet.png },
      ];
      try {
        await mkdir(dir, { recursive: true });
      } catch (e) {
        throw inputError(`--out '${opts.out}' cannot be created: ${(e as Error).message}`);
      }
      for (const f of files) await writeFileAtomic(f.path, f.bytes);
      process.stdout.write(
        `isfuse demo: synthetic ${ir.width}x${ir.height} pair fused with ${results.map((r) => `'${r.method}' (${r.ms} ms)`).join(' and ')}\n` +
          `  infrared: ${irPath}\n  visible:  ${visPath}\n` +
          results.map((r, i) => `  fused:    ${fusedPaths[i]}${r.method === defaultMethod() ? '  (the default method)' : ''}\n`).join('') +
          `  side by side: ${sheetPath}\n`,
      );
    });
}

/** The default method, and the ISFuse network beside it when the default is another method and a model ships. */
function demoMethods(): string[] {
  const def = defaultMethod();
  return def !== 'isfuse' && existsSync(DEFAULT_MODEL_PATH) ? [def, 'isfuse'] : [def];
}
