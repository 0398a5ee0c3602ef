/**
 * The registry of fusion methods: the classical baselines and ISFuse. It drives `isfuse methods`, CLI
 * help and the web menus. ISFuse is registered as a thin wrapper that imports the network (and
 * TensorFlow.js) only when it is first used, so the classical methods and the CLI start fast.
 */
import { unknownName } from '../core/errors.js';
import type { Plane } from '../core/image.js';
import type { FusedPlane, Fuser, FuserOptions } from './types.js';
import { classicalFusers } from './classical/index.js';
import { DEFAULT_MODEL_PATH } from '../model/shipped-models.js';
import { ISFUSE_OPTIONS } from './isfuse-options.js';

export { DEFAULT_MODEL_PATH };

const methods = new Map<string, Fuser>();

/** Adds (or replaces) a method under `fuser.name` (lower case). */
export function registerMethod(fuser: Fuser): void {
  methods.set(fuser.name.toLowerCase(), fuser);
}

/** The method registered under `name` (case-insensitive); an unknown name is a usage error listing valid names. */
export function getMethod(name: string): Fuser {
  const f = methods.get(name.toLowerCase());
  if (!f) throw unknownName('method', name, [...methods.keys()]);
  return f;
}

export interface MethodInfo {
  name: string;
  description: string;
  reference?: string;
  options?: Readonly<Record<string, string>>;
}

/** Every registered method, in registration order. */
export function listMethods(): MethodInfo[] {
  return [...methods.values()].map(({ name, description, reference, options }) => ({ name, description, reference, options }));
}

/**
 * The method `fuse` and `demo` use when none is named: the best-ranked method of the quality study (docs/QUALITY.md:
 * mean rank over the 11 default mmif metrics; first on TNO and RoadScene test, MSRS test not ranked yet). It is `lp`: no shipped ISFuse
 * model out-ranks it yet, so users get the best image by default and the network is one flag away (`--method isfuse`).
 * Change it here when a model that wins the study ships.
 */
export const DEFAULT_METHOD = 'lp';

/** The method `fuse` uses when none is named ({@link DEFAULT_METHOD}). */
export function defaultMethod(): string {
  return DEFAULT_METHOD;
}

const isfuseLazy: Fuser = {
  name: 'isfuse',
  description: 'ISFuse network (intervention-stable feature learning; CVPR 2026); a shipped model (--model NAME), or --weights FILE',
  reference: 'Multi-Modal Image Fusion via Intervention-Stable Feature Learning, arXiv 2603.23272 (CVPR 2026)',
  options: ISFUSE_OPTIONS,
  async fuse(ir: Plane, vis: Plane, options?: FuserOptions): Promise<FusedPlane> {
    const mod = await import('./isfuse.js');
    return mod.isfuse.fuse(ir, vis, options);
  },
};

for (const f of classicalFusers) registerMethod(f);
registerMethod(isfuseLazy);
