/**
 * The mmif convention (CDDFuse utils/Evaluator.py, docs/METRICS.md#mmif): 12 metrics on gray 0..255 planes, in the
 * order papers print them. VIF is the metric CDDFuse and the golden file call 'VIFF' ({@link mmifAliases}).
 */
import type { MmifMetric } from '../types.js';
import { AG } from './ag.js';
import { CC } from './cc.js';
import { EN } from './en.js';
import { MI } from './mi.js';
import { MSE } from './mse.js';
import { PSNR } from './psnr.js';
import { Qabf } from './qabf.js';
import { SCD } from './scd.js';
import { SD } from './sd.js';
import { SF } from './sf.js';
import { SSIM } from './ssim.js';
import { VIF } from './vif.js';

export const mmifMetrics: MmifMetric[] = [EN, SD, SF, AG, MI, MSE, CC, PSNR, SCD, VIF, Qabf, SSIM];

/** Other names accepted for mmif metrics: alias -> canonical name. */
export const mmifAliases: Readonly<Record<string, string>> = { VIFF: 'VIF' };

export { en } from './en.js';
export { sd } from './sd.js';
export { sf } from './sf.js';
export { ag } from './ag.js';
export { mi } from './mi.js';
export { mse } from './mse.js';
export { cc } from './cc.js';
export { psnr } from './psnr.js';
export { scd } from './scd.js';
export { vif, vifp } from './vif.js';
export { qabf } from './qabf.js';
export { ssim, ssimPair } from './ssim.js';
