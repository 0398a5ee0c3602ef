import type { Plane64 } from '../core/image.js';

/** The two metric conventions papers use (see docs/METRICS.md / README). */
export type Convention = 'mmif' | 'vifb';

export type { Plane64 };

/**
 * mmif inputs: three gray planes of 0..255 values (the mmif loader's rounding, docs/METRICS.md#mmif-inputs),
 * all the same size. ir = infrared / functional image, vis = visible / MRI.
 */
export interface MmifInputs {
  readonly ir: Plane64;
  readonly vis: Plane64;
  readonly fused: Plane64;
}

/**
 * vifb inputs: per-channel planes of 0..255 values, R,G,B order. `vis` and `fused` have 3 channels
 * (1-channel images are repeated to 3 by the loader); `ir` has 1 or 3 (a 1-channel infrared image is
 * reused for every channel, as VIFB does).
 */
export interface VifbInputs {
  readonly ir: readonly Plane64[];
  readonly vis: readonly Plane64[];
  readonly fused: readonly Plane64[];
}

export interface MetricDef<I> {
  /** Name as the reference evaluator prints it (e.g. 'Qabf', 'EN', 'Spatial_frequency'). */
  readonly name: string;
  readonly convention: Convention;
  /** true: higher is better; false: lower is better. */
  readonly higherIsBetter: boolean;
  /** One line: what it measures. */
  readonly description: string;
  /** Which inputs the value depends on. */
  readonly uses: readonly ('ir' | 'vis' | 'fused')[];
  compute(inputs: I): number;
}

export type MmifMetric = MetricDef<MmifInputs>;
export type VifbMetric = MetricDef<VifbInputs>;
