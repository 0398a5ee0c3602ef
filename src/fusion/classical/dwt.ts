/**
 * Discrete wavelet transform fusion (H. Li, B. S. Manjunath, S. K. Mitra, "Multisensor Image Fusion Using
 * the Wavelet Transform", Graphical Models and Image Processing 57(3), 1995; the DWT baseline of the
 * multi-scale-transform comparisons, e.g. Liu et al., Information Fusion 24, 2015).
 *
 * 1. Decompose each source with a `levels`-level 2-D DWT (see `../filters/wavelet.ts`): PyWavelets'
 *    `wavedec2(x, wavelet, mode='symmetric')`, i.e. half-sample symmetric extension (MATLAB's default
 *    `dwtmode('sym')`), Haar or Daubechies-2.
 * 2. Detail subbands (every level, every orientation): per coefficient, the one of larger magnitude
 *    (max-abs; ties go to `vis`).
 * 3. Coarsest approximation: average of the two.
 * 4. Inverse DWT (`waverec2`), cropped to the input size, clamped to [0, 1].
 *
 * Sizes: any width x height >= 1 x 1 (odd included). `levels` is clamped to
 * `[1, pywt.dwt_max_level(min(width, height), F)]` with F = 2 (haar) or 4 (db2) — the deepest level with
 * coefficients free of boundary effects; at least one level is always done. The transform is inverted
 * exactly: identical inputs return that input to float64 rounding (< 1e-12 before the float32 output).
 *
 * Reference match: equals the same algorithm written with `pywt.wavedec2` / `pywt.waverec2`
 * (mode 'symmetric', float64) to < 1e-6 (test/fusion/classical/dwt.test.ts).
 */
import type { Plane } from '../../core/image.js';
import { dwtMaxLevel, waveletFilters, wavedec2, waverec2, type WaveletName } from '../../filters/wavelet.js';
import type { Fuser, FuserOptions } from '../types.js';
import { checkOptionKeys, checkPair, choiceOption, intOption, maxAbs, toUnitPlane, type InputPlane } from './options.js';

export interface DwtOptions {
  /** 'haar' (default) or 'db2'. */
  readonly wavelet?: WaveletName;
  /** Decomposition levels, integer 1..8, default 3; clamped to PyWavelets' `dwt_max_level` (at least 1). */
  readonly levels?: number;
}

export const DWT_DEFAULTS = Object.freeze({ wavelet: 'haar' as WaveletName, levels: 3 });
export const WAVELETS: readonly WaveletName[] = Object.freeze(['haar', 'db2'] as WaveletName[]);

/** Levels actually used for a `width x height` image. */
export function dwtEffectiveLevels(levels: number, wavelet: WaveletName, width: number, height: number): number {
  const F = waveletFilters(wavelet).decLo.length;
  return Math.max(1, Math.min(levels, dwtMaxLevel(Math.min(width, height), F)));
}

/**
 * Fuse two planes by DWT fusion.
 *
 * @param ir infrared / functional plane in [0, 1], width x height >= 1 x 1.
 * @param vis visible luminance / MRI plane, same size.
 * @param options `{ wavelet: 'haar' | 'db2', levels }` (defaults 'haar', 3).
 * @returns new float32 plane in [0, 1].
 * @throws IsfuseError (usage) for a bad or unknown option; (input) for mismatched or empty planes.
 * @example const f = dwtFuse(ir, vis, { wavelet: 'db2', levels: 4 });
 */
export function dwtFuse(ir: InputPlane, vis: InputPlane, options?: DwtOptions): Plane {
  const o = checkOptionKeys('dwt', options, ['wavelet', 'levels']);
  const wavelet = choiceOption('wavelet', o['wavelet'], WAVELETS, DWT_DEFAULTS.wavelet);
  const levels = intOption('levels', o['levels'], 1, 8, DWT_DEFAULTS.levels);
  const { width, height } = checkPair('dwt', ir, vis);
  const f = waveletFilters(wavelet);
  const L = dwtEffectiveLevels(levels, wavelet, width, height);
  const da = wavedec2(ir, f, L);
  const db = wavedec2(vis, f, L);
  for (let k = 0; k < L; k++) {
    const la = da.levels[k]!;
    const lb = db.levels[k]!;
    for (const band of ['hl', 'lh', 'hh'] as const) {
      const a = la[band].data;
      const b = lb[band].data;
      for (let i = 0; i < a.length; i++) a[i] = maxAbs(a[i]!, b[i]!);
    }
  }
  const aa = da.approx.data;
  const ab = db.approx.data;
  for (let i = 0; i < aa.length; i++) aa[i] = 0.5 * (aa[i]! + ab[i]!);
  const fused = waverec2(da, f);
  return toUnitPlane(width, height, fused.data);
}

export const dwt: Fuser = Object.freeze({
  name: 'dwt',
  description: 'Discrete wavelet transform fusion: max-abs detail coefficients, averaged approximation',
  reference: 'H. Li, B. S. Manjunath, S. K. Mitra, "Multisensor Image Fusion Using the Wavelet Transform", Graphical Models and Image Processing 57(3), 1995',
  options: Object.freeze({
    wavelet: "'haar' (default) or 'db2'; symmetric extension (PyWavelets 'symmetric', MATLAB 'sym')",
    levels: 'decomposition levels, integer 1..8 (default 3); clamped to pywt.dwt_max_level(min(width, height)), at least 1',
  }),
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<Plane> {
    return dwtFuse(ir, vis, options as DwtOptions | undefined);
  },
});
