/**
 * Fidelity losses (L_f), by name (docs/TRAINING.md#fidelity-losses): `TrainConfig.loss`, `isfuse train --loss`.
 * Each is written once over {@link LossOps} (so it trains on every engine) and returns its addends by name
 * (weights included; L_f is their sum), which the step records and logs as `f.<name>`. Images are in [0, 1];
 * `L1(a, b)` = mean |a - b| over every element; filters are 3x3 correlations with zero padding, same size.
 *
 * Adding one: an entry here (summary, formula, source, parts) and its reference values (a PyTorch fixture:
 * tools/make_fidelity_fixtures.py, test/train/fidelity.test.ts). This module has no run-time imports (the CLI
 * reads the names for its help without loading TensorFlow.js).
 */
import type { LossOps } from './objective.js';

export interface FidelityLoss {
  /** one line for `isfuse train --help` */
  readonly summary: string;
  /** the formula */
  readonly formula: string;
  /** where it comes from */
  readonly source: string;
  /** its addends by name (weights included): L_f is their sum */
  parts<T>(o: LossOps<T>, y: T, vi: T, ir: T): Record<string, T>;
}

/** L1 loss: mean |a - b| over all elements. */
export function l1<T>(o: LossOps<T>, a: T, b: T): T {
  return o.mean(o.abs(o.sub(a, b)));
}

/** The 3x3 Laplacian kernel of the paper's L_f (row-major). */
const LAPLACIAN_KERNEL = [1, 1, 1, 1, -8, 1, 1, 1, 1] as const;

/** |Laplacian(x)|, zero padding, same size. */
export function laplacianAbs<T>(o: LossOps<T>, x: T): T {
  return o.abs(o.filter3x3(x, LAPLACIAN_KERNEL));
}

export const FIDELITY_LOSSES = {
  paper: {
    summary: "the paper's: L1 to both inputs + L1 of |Laplacian| to the larger of the inputs'",
    formula: 'L1(y, ir) + L1(y, vi) + L1(|Lap y|, max(|Lap ir|, |Lap vi|)), Lap = [[1,1,1],[1,-8,1],[1,1,1]]',
    source: 'ISFuse (the paper and the authors\' code): docs/TRAINING.md#losses',
    parts: <T>(o: LossOps<T>, y: T, vi: T, ir: T) => ({
      ir: l1(o, y, ir),
      vi: l1(o, y, vi),
      grad: l1(o, laplacianAbs(o, y), o.max(laplacianAbs(o, ir), laplacianAbs(o, vi))),
    }),
  },
  maxgrad: {
    summary: 'max-intensity + max-gradient: L1 to the larger input + 10 L1 of |Sobel| to the larger of the inputs\'',
    formula: 'L1(y, max(ir, vi)) + 10 L1(Sobel(y), max(Sobel(ir), Sobel(vi))), Sobel(x) = |Gx x| + |Gy x|, Gx = [[-1,0,1],[-2,0,2],[-1,0,1]], Gy its transpose',
    source: 'SeAFusion (L. Tang, J. Yuan, J. Ma, Information Fusion 2022); the same form is CDDFuse\'s fusion loss (Z. Zhao et al., CVPR 2023)',
    parts: <T>(o: LossOps<T>, y: T, vi: T, ir: T) => {
      const sobel = (x: T): T => o.add(o.abs(o.filter3x3(x, [-1, 0, 1, -2, 0, 2, -1, 0, 1])), o.abs(o.filter3x3(x, [-1, -2, -1, 0, 0, 0, 1, 2, 1])));
      return { int: l1(o, y, o.max(ir, vi)), grad: o.scale(l1(o, sobel(y), o.max(sobel(ir), sobel(vi))), 10) };
    },
  },
} satisfies Record<string, FidelityLoss>;

export type FidelityLossName = keyof typeof FIDELITY_LOSSES;

/** The registered names, for option choices. */
export const FIDELITY_LOSS_NAMES = Object.keys(FIDELITY_LOSSES) as FidelityLossName[];

/** `name` as a fidelity loss name, or undefined. */
export function isFidelityLossName(name: string): name is FidelityLossName {
  return Object.hasOwn(FIDELITY_LOSSES, name);
}
