/**
 * Input checks shared by the metric modules (piq's "validate" step). Checks are O(1) (sizes only):
 * they never scan pixels, so calling a metric on pre-validated planes costs nothing extra.
 */
import { inputError } from '../../core/errors.js';
import type { Plane64 } from '../types.js';

/**
 * Throws an input error unless every plane has the size of the first one and that size is at least
 * `minWidth` x `minHeight`.
 *
 * @param metric name used in the message (e.g. 'VIF').
 * @param planes one or more planes, the fused image last by convention.
 * @example checkPlanes('Qabf', [a, b, f]);
 */
export function checkPlanes(metric: string, planes: readonly Plane64[], minWidth = 1, minHeight = minWidth): void {
  const p0 = planes[0];
  if (!p0) throw inputError(`Expected at least one image for ${metric} but received none`);
  for (const p of planes) {
    if (p.data.length !== p.width * p.height) {
      throw inputError(`Expected ${p.width * p.height} samples (${p.width}x${p.height}) for ${metric} but received ${p.data.length}`);
    }
    if (p.width !== p0.width || p.height !== p0.height) {
      throw inputError(`Expected images of one size for ${metric} but received ${p0.width}x${p0.height} and ${p.width}x${p.height}`);
    }
  }
  if (p0.width < minWidth || p0.height < minHeight) {
    throw inputError(`Expected an image of at least ${minWidth}x${minHeight} pixels for ${metric} but received ${p0.width}x${p0.height}`);
  }
}

/**
 * true when every sample is an integer in 0..255 (the mmif loader's output). Metrics use it to pick a
 * dense 256-bin fast path; anything else takes the exact general path.
 */
export function isByteValued(data: Float64Array): boolean {
  for (let i = 0; i < data.length; i++) {
    const v = data[i]!;
    // (v | 0) === v rejects fractions, NaN and +-Infinity; the range test rejects the rest.
    if (!(v >= 0 && v <= 255 && (v | 0) === v)) return false;
  }
  return true;
}
