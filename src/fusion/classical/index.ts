/**
 * The classical fusion baselines, in menu order: average, max, lp, dwt, gff.
 * Each file exports a pure function (`averageFuse`, ...) and a {@link Fuser} object.
 */
import type { Fuser } from '../types.js';
import { average } from './average.js';
import { dwt } from './dwt.js';
import { gff } from './gff.js';
import { lp } from './lp.js';
import { max } from './max.js';

export { average, averageFuse } from './average.js';
export { max, maxFuse } from './max.js';
export { lp, lpFuse, lpEffectiveLevels, LP_DEFAULTS, type LpOptions } from './lp.js';
export { dwt, dwtFuse, dwtEffectiveLevels, DWT_DEFAULTS, WAVELETS, type DwtOptions } from './dwt.js';
export { gff, gffFuse, GFF_DEFAULTS, type GffOptions, type GffWeights } from './gff.js';

export const classicalFusers: readonly Fuser[] = Object.freeze([average, max, lp, dwt, gff]);
