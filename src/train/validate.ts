/**
 * Validation during training: fuse a few pairs with the current weights (eval mode, folded BatchNorm,
 * luminance only) and report the means of mmif metrics.
 */
import * as tf from '@tensorflow/tfjs';
import { plane64 } from '../core/image.js';
import { findPairs, loadPair, type PairImages } from '../data/pairs.js';
import { infer, prepareInference, type IsfuseParams } from '../model/isfuse.js';
import { loadMmif } from '../metrics/load.js';
import { mmifMetrics } from '../metrics/mmif/index.js';
import type { Plane64 } from '../metrics/types.js';
import type { Validator } from '../train/loop.js';

/** mmif metrics reported during validation (the table). */
const VALIDATION_METRICS = ['EN', 'SD', 'SF', 'AG', 'MI', 'SCD', 'VIF', 'Qabf', 'SSIM'];

/**
 * A validator over a folder of pairs: fuses each (eval mode, folded BatchNorm, luminance only) and returns
 * the means of the mmif metrics (sources read as the mmif convention reads them; fused = round(255 y)).
 */
export async function mmifValidator(dir: string, max: number, names = VALIDATION_METRICS): Promise<Validator> {
  const { pairs } = await findPairs(dir);
  const chosen = pairs.slice(0, max);
  const data: { img: PairImages; vis: Plane64; ir: Plane64 }[] = [];
  for (const p of chosen) data.push({ img: await loadPair(p), vis: await loadMmif(p.vi), ir: await loadMmif(p.ir) });
  const metrics = names.map((n) => mmifMetrics.find((m) => m.name === n)!).filter(Boolean);
  return async (params: IsfuseParams) => {
    const net = prepareInference(params);
    const sums = new Map<string, number>();
    try {
      for (const d of data) {
        const { width: w, height: h } = d.img;
        const fusedData = tf.tidy(() => {
          const out = infer(net, tf.tensor4d(d.img.vi, [1, h, w, 1]), tf.tensor4d(d.img.ir, [1, h, w, 1]));
          return out.fused.dataSync() as Float32Array;
        });
        const fused = plane64(w, h, Float64Array.from(fusedData, (v) => Math.round(Math.min(1, Math.max(0, v)) * 255)));
        for (const m of metrics) sums.set(m.name, (sums.get(m.name) ?? 0) + m.compute({ ir: d.ir, vis: d.vis, fused }));
      }
    } finally {
      net.dispose();
    }
    return Object.fromEntries([...sums].map(([k, v]) => [k, v / data.length]));
  };
}

