/**
 * isfuse: multi-modal image fusion (infrared + visible, MRI + CT/PET/SPECT) in TypeScript.
 *
 * @example
 *   import { fuse, evaluate, writeImage } from 'isfuse';
 *   const { image } = await fuse('ir.png', 'vis.png', { method: 'gff' });
 *   await writeImage('fused.png', image);
 *   const scores = await evaluate('ir.png', 'vis.png', 'fused.png', { convention: 'mmif' });
 */
export { IsfuseError, type ErrorKind } from './core/errors.js';
export type { RasterImage, Plane } from './core/image.js';

export { decodeImage, decodeBuffer, DEFAULT_MAX_PIXELS, SUPPORTED_INPUT_FORMATS, type DecodeOptions } from './io/decode.js';
export { encodeImage, writeImage, type EncodeOptions, type OutputFormat } from './io/encode.js';
export { rgbToYCrCb, yCrCbToRgb, grayMmif, luminance } from './io/color.js';

export { syntheticPair, type SyntheticPair, type SyntheticPairOptions } from './data/synthetic.js';

export { fuse, type FuseOptions, type FuseResult, type ColorFrom, type ResizeMode, type Range16 } from './fusion/fuse.js';
export { listMethods, getMethod, registerMethod, defaultMethod, DEFAULT_MODEL_PATH, type MethodInfo } from './fusion/registry.js';
export { shippedModels, shippedModelPath, DEFAULT_MODEL_NAME, type ShippedModel } from './model/shipped-models.js';
export type { Fuser, FuserOptions } from './fusion/types.js';

export { evaluate, evaluateDirs, type EvaluateOptions, type EvaluateDirsOptions, type DirEvaluation, type ImageValues } from './metrics/evaluate.js';
export { listMetrics, getMetric, resolveMetrics, CONVENTIONS, CONVENTION_INFO, DEFAULT_CONVENTION } from './metrics/registry.js';
export { formatResult, REPORT_FORMATS, type ReportFormat } from './metrics/report.js';
export { compareDirs, formatComparison, comparisonSheet, rankMethods, rankValues, DEFAULT_COMPARE_METRICS, type CompareDirsOptions, type Comparison, type MethodComparison, type MethodRank, type Direction, type FusedFolder } from './metrics/compare.js';
export type { Convention, MetricDef, MmifInputs, VifbInputs } from './metrics/types.js';

export { BACKEND_NAMES, TRAIN_BACKENDS } from './model/backend-names.js';
// The WebGPU kernel installers are in 'isfuse/webgpu' (src/webgpu.ts): they load TensorFlow.js, which this entry must not.

import type { TrainOptions, TrainResult } from './train/loop.js';
export type { TrainOptions, TrainResult };
/**
 * Trains ISFuse with intervention-stable learning (docs/TRAINING.md) on a dataset folder: see `isfuse train --help`.
 * TensorFlow.js loads on the first call, so importing isfuse for fusion or metrics stays light.
 */
export async function train(options: TrainOptions): Promise<TrainResult> {
  const { train: run } = await import('./train/loop.js');
  return run(options);
}
