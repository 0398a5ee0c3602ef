/**
 * One pair fused into files: the unit of work of `isfuse fuse` (one pair or each pair of a batch) and of a queue
 * worker's fuse job (queue/jobs.ts), so that both write the same bytes. Everything is encoded before the first
 * file is written (an encoder failure writes nothing); every file is written atomically (io/encode.ts).
 * The caller has checked the output paths (io/paths.ts) before.
 */
import { mkdir } from 'node:fs/promises';
import { dirname } from 'node:path';
import { inputError, IsfuseError } from '../core/errors.js';
import type { Plane } from '../core/image.js';
import { encodeFor, writeFileAtomic } from '../io/encode.js';
import { heatmap } from '../io/heatmap.js';
import type { OutputFormat } from '../io/paths.js';
import { fuse, type FuseOptions, type FuseResult } from './fuse.js';

export interface FuseTarget {
  /** The fused image file. */
  readonly output: string;
  /** Its format (the one its extension names: io/paths.ts outputFormatOf). */
  readonly format: OutputFormat;
  /** JPEG quality. */
  readonly quality: number;
  /** The three gate-map PNG files (levels 3, 4, 5), when the method returns gates (ISFuse with `gates: true`). */
  readonly gates?: readonly string[];
}

/** A file to write: its path and its encoded bytes. */
export interface EncodedFile {
  readonly path: string;
  readonly bytes: Buffer;
}

/** Fuses `ir` with `vis` and writes the image (and its gate maps) to `target`; returns the fusion result. */
export async function fuseToFiles(ir: string, vis: string, target: FuseTarget, options: FuseOptions): Promise<FuseResult> {
  const { result, files } = await fuseEncoded(ir, vis, target, options);
  await writeEncoded(files);
  return result;
}

/** Fuses and encodes the files of `target`, writing nothing: the image first, then the gate maps. */
export async function fuseEncoded(ir: string, vis: string, target: FuseTarget, options: FuseOptions): Promise<{ result: FuseResult; files: EncodedFile[] }> {
  const result = await fuse(ir, vis, options);
  const image = { path: target.output, bytes: await encodeFor(target.output, result.image, { format: target.format, quality: target.quality }) };
  const gates = target.gates ? await encodeGates(target.gates, result.gates) : [];
  return { result, files: [image, ...gates] };
}

/** Writes encoded files atomically, in order, creating the gate maps' folder (the image's was checked and made). */
export async function writeEncoded(files: readonly EncodedFile[]): Promise<void> {
  for (const [i, f] of files.entries()) {
    if (i === 1) {
      const dir = dirname(f.path);
      await mkdir(dir, { recursive: true }).catch((e: Error) => {
        throw inputError(`--save-gates '${dir}' cannot be created: ${e.message}`);
      });
    }
    await writeFileAtomic(f.path, f.bytes);
  }
}

/** The gate maps as heatmap PNG bytes, one per planned file. */
async function encodeGates(files: readonly string[], gates: readonly Plane[] | undefined): Promise<EncodedFile[]> {
  if (!gates || gates.length !== files.length) throw new IsfuseError('the method returned no gate maps', 'internal');
  return Promise.all(files.map(async (path, i) => ({ path, bytes: await encodeFor(path, heatmap(gates[i]!), { format: 'png' }) })));
}
