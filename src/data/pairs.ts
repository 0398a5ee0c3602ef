/**
 * Training and validation pairs from a dataset folder (docs/TRAINING.md#data).
 *
 * A dataset folder holds two sub-folders of same-named images (paired by file stem):
 * - infrared-visible: `ir/` and `vi/` (also accepted: `vis/`);
 * - medical (the data manifest's names): `MRI/` with one of `CT/`, `PET/`, `SPECT/`; MRI is the `vi` side,
 *   CT/PET/SPECT the `ir` side (docs/COLOUR.md#roles).
 * Images are read as one channel in [0, 1]: the visible side as Y of OpenCV's COLOR_RGB2YCrCb (src/io/color.ts;
 * 8-bit colour files), the infrared side as gray (the same Y weights for 3-channel files, as OpenCV's
 * RGB2GRAY); 16-bit files: 0.299 R + 0.587 G + 0.114 B over 65535 (gray: value / 65535).
 */
import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { inputError } from '../core/errors.js';
import { allInOrder } from '../core/promises.js';
import type { RasterImage } from '../core/image.js';
import { rgbToYCrCb, luminance } from '../io/color.js';
import { decodeImage } from '../io/decode.js';
import { pairByStem } from '../io/folders.js';

/** One pair of files: `vi` = visible / MRI, `ir` = infrared / CT / PET / SPECT. */
export interface PairFiles {
  readonly stem: string;
  readonly vi: string;
  readonly ir: string;
}

/** A decoded pair: two planes of the same size, values in [0, 1]. */
export interface PairImages {
  readonly stem: string;
  readonly width: number;
  readonly height: number;
  readonly vi: Float32Array;
  readonly ir: Float32Array;
}

/** Sub-folder layouts tried, in order: [vi-side, ir-side]. */
const DATASET_LAYOUTS: readonly (readonly [string, string])[] = [
  ['vi', 'ir'], ['vis', 'ir'], ['MRI', 'CT'], ['MRI', 'PET'], ['MRI', 'SPECT'],
];

async function isDir(p: string): Promise<boolean> {
  try {
    return (await stat(p)).isDirectory();
  } catch {
    return false;
  }
}

/**
 * Finds the pairs of a dataset folder. Errors (input): the folder is missing, has no known layout, or holds
 * no pair. Files without a partner are returned in `unpaired` (the caller warns).
 */
export async function findPairs(dir: string): Promise<{ pairs: PairFiles[]; layout: readonly [string, string]; unpaired: string[] }> {
  if (!(await isDir(dir))) throw inputError(`dataset folder '${dir}' does not exist or is not a folder`);
  for (const layout of DATASET_LAYOUTS) {
    const [v, i] = layout;
    if (!(await isDir(join(dir, v))) || !(await isDir(join(dir, i)))) continue;
    const { pairs, unpaired } = await pairByStem([
      { dir: join(dir, v), what: `${v}/` },
      { dir: join(dir, i), what: `${i}/` },
    ]);
    if (pairs.length === 0) throw inputError(`dataset folder '${dir}': no same-named images in ${v}/ and ${i}/`);
    return {
      pairs: pairs.map((p) => ({ stem: p.stem, vi: p.paths[0]!, ir: p.paths[1]! })),
      layout,
      unpaired: unpaired.map((u) => `${u.stem}: no partner in ${join(dir, u.lacks[0]!)}`),
    };
  }
  throw inputError(
    `dataset folder '${dir}' has none of the expected sub-folder pairs (${DATASET_LAYOUTS.map(([a, b]) => `${a}/+${b}/`).join(', ')})`,
  );
}

/** Luminance of a decoded image in [0, 1]: OpenCV's Y for 8-bit colour, the value for gray (see file comment). */
export function lumaPlane(img: RasterImage): Float32Array {
  if (img.channels === 3 && img.bitDepth === 8) {
    const y = rgbToYCrCb(img.data as Uint8Array, img.width, img.height).y;
    const out = new Float32Array(y.length);
    for (let k = 0; k < y.length; k++) out[k] = y[k]! / 255;
    return out;
  }
  return luminance(img);
}

/** Decodes one pair. Error (input) when the two images differ in size. */
export async function loadPair(p: PairFiles): Promise<PairImages> {
  const [vi, ir] = await allInOrder([decodeImage(p.vi), decodeImage(p.ir)]);
  if (vi.width !== ir.width || vi.height !== ir.height) {
    throw inputError(`pair '${p.stem}': ${p.vi} is ${vi.width}x${vi.height} but ${p.ir} is ${ir.width}x${ir.height}`);
  }
  return { stem: p.stem, width: vi.width, height: vi.height, vi: lumaPlane(vi), ir: lumaPlane(ir) };
}

/** Decodes every pair of a dataset folder (in stem order). */
export async function loadDataset(dir: string, onProgress?: (done: number, total: number) => void): Promise<{ images: PairImages[]; unpaired: string[] }> {
  const { pairs, unpaired } = await findPairs(dir);
  const images: PairImages[] = [];
  for (const p of pairs) {
    images.push(await loadPair(p));
    onProgress?.(images.length, pairs.length);
  }
  return { images, unpaired };
}
