/**
 * Channel plumbing shared by the vifb metrics: validation of {@link VifbInputs} and VIFB's per-channel
 * wrapper (docs/METRICS.md#vifb-inputs): for each channel k of the fused image, the single-channel metric runs on
 * `(VI[k], IR[k] or the one IR plane, F[k])`, and the result is the arithmetic mean over the channels.
 *
 * VIFB's fused images all have 3 channels; a 1-channel image is repeated to 3 by {@link vifbInputs}
 * (./index.ts). VIFB's separate code path for a 2-D fused image (one call with `rgb2gray` inside) is never
 * exercised by its data and is not reproduced.
 */
import { inputError } from '../../core/errors.js';
import { checkPlanes } from '../common/validate.js';
import type { Plane64, VifbInputs } from '../types.js';

/** One channel's inputs: A = visible, B = infrared, F = fused (VIFB's argument order). */
export interface ChannelTriple {
  readonly vis: Plane64;
  readonly ir: Plane64;
  readonly fused: Plane64;
}

/**
 * Checks channel counts and sizes and returns one triple per fused channel.
 * Throws an input error naming the metric and the sizes or counts that do not match.
 *
 * @param minWidth smallest width (and height, unless `minHeight` is given) the metric accepts.
 */
export function channelTriples(metric: string, inputs: VifbInputs, minWidth = 1, minHeight = minWidth): ChannelTriple[] {
  const { vis, ir, fused } = inputs;
  const b = fused.length;
  if (b < 1) throw inputError(`Expected at least one fused channel for ${metric} but received none`);
  if (vis.length !== b) throw inputError(`Expected ${b} visible channels (as many as fused) for ${metric} but received ${vis.length}`);
  if (ir.length !== 1 && ir.length !== b) throw inputError(`Expected 1 or ${b} infrared channels for ${metric} but received ${ir.length}`);
  checkPlanes(metric, [...vis, ...ir, ...fused], minWidth, minHeight);
  return fused.map((f, k) => ({ vis: vis[k]!, ir: ir.length === 1 ? ir[0]! : ir[k]!, fused: f }));
}

/** Arithmetic mean over channels of `fn(triple)` (MATLAB `mean(g)`: sum in channel order, then divide). */
export function channelMean(metric: string, inputs: VifbInputs, fn: (t: ChannelTriple) => number, minWidth = 1): number {
  const triples = channelTriples(metric, inputs, minWidth);
  let s = 0;
  for (const t of triples) s += fn(t);
  return s / triples.length;
}

/**
 * The distinct planes of an evaluation in a fixed order (vis, ir, fused per channel): the metrics that process each
 * plane once (Qcb and Qcv, sharing ./spectra.ts; Qabf, Ssim on their SIMD kernels) index their per-plane results by it.
 */
export function distinctPlanes(triples: readonly ChannelTriple[]): Plane64[] {
  return [...new Set(triples.flatMap((t) => [t.vis, t.ir, t.fused]))];
}

/**
 * Memoises a per-plane computation by plane identity for the duration of one metric call, so that a
 * 1-channel infrared plane used for every channel (or a gray image repeated to 3 channels) is processed once.
 */
export function perPlane<T>(fn: (p: Plane64) => T): (p: Plane64) => T {
  const cache = new Map<Plane64, T>();
  return (p) => {
    let v = cache.get(p);
    if (v === undefined) {
      v = fn(p);
      cache.set(p, v);
    }
    return v;
  };
}
