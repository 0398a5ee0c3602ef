import type { Plane } from '../core/image.js';

/** Options every fuser accepts; method-specific keys are validated by the method. */
export type FuserOptions = Record<string, unknown>;

/**
 * A fusion method: two aligned one-channel planes in [0, 1] of the same size in, one plane in [0, 1] out.
 * `ir` is the infrared / functional image, `vis` the visible luminance / MRI.
 */
/** A fused plane; methods with internal maps (ISFuse's gates) may attach them, at image size. */
export type FusedPlane = Plane & { readonly gates?: readonly Plane[] };

export interface Fuser {
  readonly name: string;
  /** One line for `isfuse methods` and the web menus. */
  readonly description: string;
  /** Reference for the method (paper), shown in help. */
  readonly reference?: string;
  /** Documented options: name -> help text with default. */
  readonly options?: Readonly<Record<string, string>>;
  fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<FusedPlane>;
}
