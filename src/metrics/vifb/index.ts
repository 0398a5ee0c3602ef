/**
 * The vifb convention (VIFB MATLAB benchmark, xingchenzhang/VIFB at commit
 * 22b2ea9d91499cc5962d9bdcae9c290270f0fade, docs/METRICS.md#vifb-inputs, #vifb): 13 metrics on per-channel 0..255
 * planes, in VIFB's order, and how images become those planes (files: `loadVifb` in ../load.ts).
 *
 * @example
 * const inputs = vifbInputs(await loadVifb('ir.png'), await loadVifb('vi.png'), await loadVifb('fused.png'));
 * for (const m of vifbMetrics) console.log(m.name, m.compute(inputs));
 */
import { inputError } from '../../core/errors.js';
import { plane64, type RasterImage } from '../../core/image.js';
import type { Plane64, VifbInputs, VifbMetric } from '../types.js';
import { Avg_gradient } from './avg-gradient.js';
import { Cross_entropy } from './cross-entropy.js';
import { Edge_intensity } from './edge-intensity.js';
import { Entropy } from './entropy.js';
import { Mutinf } from './mutinf.js';
import { Psnr } from './psnr.js';
import { Qabf } from './qabf.js';
import { Qcb } from './qcb.js';
import { Qcv } from './qcv.js';
import { Rmse } from './rmse.js';
import { Spatial_frequency } from './spatial-frequency.js';
import { Ssim } from './ssim.js';
import { Variance } from './variance.js';

/** The 13 VIFB metrics in VIFB's order. */
export const vifbMetrics: VifbMetric[] = [
  Avg_gradient,
  Cross_entropy,
  Edge_intensity,
  Entropy,
  Mutinf,
  Psnr,
  Qabf,
  Qcb,
  Qcv,
  Rmse,
  Spatial_frequency,
  Ssim,
  Variance,
];

/**
 * The channels of a decoded image as float64 planes of 0..255 values, R,G,B order (1 plane for a 1-channel image).
 * 16-bit samples are reduced to 8 bits as MATLAB's `im2uint8` does (`round(v / 257)`); VIFB itself only reads
 * 8-bit JPEGs, whose values pass unchanged.
 */
export function vifbPlanes(img: RasterImage): Plane64[] {
  const { width: w, height: h, channels: c, data } = img;
  const n = w * h;
  const planes: Plane64[] = [];
  for (let k = 0; k < c; k++) {
    const p = new Float64Array(n);
    if (img.bitDepth === 16) for (let i = 0; i < n; i++) p[i] = Math.round(data[i * c + k]! / 257);
    else for (let i = 0; i < n; i++) p[i] = data[i * c + k]!;
    planes.push(plane64(w, h, p));
  }
  return planes;
}

/**
 * Assembles {@link VifbInputs}: a 1-channel visible or fused image is repeated to 3 channels (the same plane three
 * times); a 1-channel infrared image stays 1 plane, which the metrics reuse for every channel (as VIFB does with
 * its 2-D infrared images). Channels with identical samples (gray images stored as RGB) become the same plane
 * object, so per-plane work is done once; the values do not change. Throws an input error when a channel count
 * is not 1 or 3 or the sizes differ.
 *
 * @param ir infrared planes (1 or 3), @param vis visible planes (1 or 3), @param fused fused planes (1 or 3).
 */
export function vifbInputs(ir: readonly Plane64[], vis: readonly Plane64[], fused: readonly Plane64[]): VifbInputs {
  const named: [string, readonly Plane64[]][] = [
    ['infrared', ir],
    ['visible', vis],
    ['fused', fused],
  ];
  for (const [name, planes] of named) {
    if (planes.length !== 1 && planes.length !== 3) {
      throw inputError(`Expected 1 or 3 channels for the ${name} image but received ${planes.length}`);
    }
  }
  const ref = ir[0]!;
  for (const [name, planes] of named) {
    for (const p of planes) {
      if (p.width !== ref.width || p.height !== ref.height) {
        throw inputError(
          `Expected images of one size for the vifb metrics but received infrared ${ref.width}x${ref.height} and ${name} ${p.width}x${p.height}`,
        );
      }
    }
  }
  const three = (p: readonly Plane64[]): Plane64[] => (p.length === 1 ? [p[0]!, p[0]!, p[0]!] : dedupe(p));
  return { ir: ir.length === 1 ? [ir[0]!] : dedupe(ir), vis: three(vis), fused: three(fused) };
}

/**
 * Replaces a plane whose samples equal an earlier plane's by that earlier plane, so that the metrics (which
 * memoise per-plane work by identity) process gray images stored as 3 identical channels once. Values are
 * unchanged: the per-channel results are computed by the same code on the same samples.
 */
function dedupe(planes: readonly Plane64[]): Plane64[] {
  const out: Plane64[] = [];
  for (const p of planes) out.push(out.find((q) => sameSamples(q.data, p.data)) ?? p);
  return out;
}

function sameSamples(a: Float64Array, b: Float64Array): boolean {
  if (a === b) return true;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export { avgGradientChannel } from './avg-gradient.js';
export { crossEntropyChannel } from './cross-entropy.js';
export { edgeIntensityChannel } from './edge-intensity.js';
export { entropyChannel } from './entropy.js';
export { mutinfChannel, mutinfPair } from './mutinf.js';
export { psnrChannel } from './psnr.js';
export { qabfChannel } from './qabf.js';
export { qcbChannel } from './qcb.js';
export { qcvChannel } from './qcv.js';
export { rmseChannel, vifbRootSse } from './rmse.js';
export { spatialFrequencySideBySide } from './spatial-frequency.js';
export { ssimChannel, ssimPair } from './ssim.js';
export { varianceChannel } from './variance.js';
export { Avg_gradient, Cross_entropy, Edge_intensity, Entropy, Mutinf, Psnr, Qabf, Qcb, Qcv, Rmse, Spatial_frequency, Ssim, Variance };
