/**
 * The training objective of ISFuse (docs/TRAINING.md#losses), written once over a small set of differentiable
 * ops ({@link LossOps}) that each training engine implements: TensorFlow.js (./losses.ts; autodiff gives the
 * gradient) and the ONNX tape (./onnx/tape.ts; every op records its backward rule). Images are single-channel,
 * so NHWC [N,H,W,1] and NCHW [N,1,H,W] hold the same values in the same order. Every L1 is a mean over all
 * elements (PyTorch's `F.l1_loss`).
 *
 *   L     = L_f + 0.1 L_inv + s_N 0.05 L_nec
 *   L_f   = the fidelity loss chosen by `TrainConfig.loss` (./fidelity.ts; default 'paper')
 *   L_inv = mean over the masking passes that run (do in {comp, rand}) of
 *             mean(|y_do - y| * g_do) + mean_n |mean_hw(g_do) - eta| + s_H mean(H(g_do))
 *           g_do = mean of the pass's three gate maps, each bilinearly resized to H x W (half-pixel centres),
 *           H(g) = -p ln p - (1-p) ln(1-p), p = g clamped to [1e-6, 1 - 1e-6], eta = 0.3
 *   L_nec = L1(y, y_novi) + L1(y, y_noir)
 * The two disputed signs (docs/TRAINING.md#disputed-signs): s_H = -1 for gateEntropy 'maximise' (the authors'
 * code, the default), +1 for 'minimise'; s_N = +1 for necessity 'minimise' (the code, the default), -1 for
 * 'maximise'.
 *
 * Structure: the objective of a configuration is a list of {@link LossTerm}s, one per (term, pass): 'f' reads
 * the base pass, 'comp'/'rand' (L_inv) and 'novi'/'noir' (L_nec) each read one intervened pass and the base
 * output y. That split is what the sequential memory plan needs (each intervened pass's loss is a function of
 * its own outputs and y). A term is named parts (scalars, each recorded and logged under `<term>.<part>`, or
 * `<term>` for the part ''), entering the term with a coefficient (default 1), the term entering L with its
 * weight. {@link passLoss} is the differentiable loss of one pass; {@link reportTerms} the same sums on the
 * host from the recorded parts. Adding a fidelity loss: one entry in ./fidelity.ts.
 */
import { FIDELITY_LOSSES, l1 } from './fidelity.js';
import { activePasses, type PassName, type TrainConfig } from './interventions.js';

/**
 * The differentiable ops the losses use, on single-channel images [N,H,W,1] (TensorFlow.js) or [N,1,H,W]
 * (ONNX), per-sample values and scalars. Binary ops take operands of the same shape; gradients are those of
 * TensorFlow.js: |x|' = sign(x) (the tape: 0 at 0), max routes to `a` where a >= b, clip passes the gradient
 * where lo <= x <= hi.
 */
export interface LossOps<T> {
  add(a: T, b: T): T;
  sub(a: T, b: T): T;
  mul(a: T, b: T): T;
  /** x * s */
  scale(x: T, s: number): T;
  /** x + c */
  shift(x: T, c: number): T;
  abs(x: T): T;
  /** elementwise maximum */
  max(a: T, b: T): T;
  clip(x: T, lo: number, hi: number): T;
  /** natural logarithm */
  log(x: T): T;
  /** mean over every element: a scalar */
  mean(x: T): T;
  /** spatial mean per sample ([N] or [N,1,1,1]) */
  meanPerSample(x: T): T;
  /** correlation with a constant 3x3 filter (9 values, row-major), zero padding, same size */
  filter3x3(x: T, kernel: readonly number[]): T;
  /** bilinear resize to height x width, half-pixel centres (docs/NETWORK.md#resize) */
  resize(x: T, height: number, width: number): T;
  /** an image's size */
  size(x: T): { n: number; height: number; width: number };
}

/** Weights and constants of the loss (docs/TRAINING.md#losses). */
export const LOSS_WEIGHTS = { inv: 0.1, nec: 0.05 } as const;
export const GATE_TARGET = 0.3;
export const ENTROPY_CLAMP = 1e-6;

/** Mean of the gate maps, each resized (bilinear, half-pixel) to height x width. */
function meanGate<T>(o: LossOps<T>, gates: readonly T[], height: number, width: number): T {
  const r = gates.map((g) => o.resize(g, height, width));
  return o.scale(r.slice(1).reduce((a, b) => o.add(a, b), r[0]!), 1 / gates.length);
}

/** Binary entropy of g clamped to [ENTROPY_CLAMP, 1 - ENTROPY_CLAMP] (natural log), elementwise. */
function binaryEntropy<T>(o: LossOps<T>, g: T): T {
  const p = o.clip(g, ENTROPY_CLAMP, 1 - ENTROPY_CLAMP);
  const q = o.shift(o.scale(p, -1), 1);
  return o.scale(o.add(o.mul(p, o.log(p)), o.mul(q, o.log(q))), -1);
}

/** The three parts of one masking pass's invariance term (unsigned; the entropy enters with s_H). */
export function invarianceParts<T>(o: LossOps<T>, yDo: T, y: T, gates: readonly T[], eta = GATE_TARGET): { stability: T; sparsity: T; entropy: T } {
  const { height, width } = o.size(yDo);
  const g = meanGate(o, gates, height, width);
  return {
    stability: o.mean(o.mul(o.abs(o.sub(yDo, y)), g)),
    sparsity: o.mean(o.abs(o.shift(o.meanPerSample(g), -eta))),
    entropy: o.mean(binaryEntropy(o, g)),
  };
}

/** What a term reads: the base output y, the inputs, and (terms of an intervened pass) that pass's outputs. */
export interface TermInputs<T> {
  readonly y: T;
  readonly vi: T;
  readonly ir: T;
  readonly out?: { readonly fused: T; readonly gates: readonly T[] };
}

/** One term of L (see the file comment). */
export interface LossTerm {
  /** 'f', 'comp', 'rand', 'novi' or 'noir' */
  readonly name: string;
  /** the pass whose outputs it reads ('base' for L_f) */
  readonly pass: PassName;
  /** its weight in L, sign included */
  readonly weight: number;
  /** coefficients of its parts in the term (absent: 1) */
  readonly coefficients?: Readonly<Record<string, number>>;
  parts<T>(o: LossOps<T>, x: TermInputs<T>): Record<string, T>;
}

/** The objective of one configuration: the passes that run and the terms that read them. */
export interface Objective {
  readonly config: TrainConfig;
  readonly passes: readonly PassName[];
  readonly terms: readonly LossTerm[];
}

function passOutputs<T>(x: TermInputs<T>, pass: PassName): { readonly fused: T; readonly gates: readonly T[] } {
  if (!x.out) throw new Error(`internal: the loss term of pass '${pass}' needs that pass's outputs`);
  return x.out;
}

/** L_f: the fidelity loss `name` of ./fidelity.ts on the base output. */
function fidelityTerm(name: TrainConfig['loss']): LossTerm {
  const loss = FIDELITY_LOSSES[name];
  if (!loss) throw new Error(`unknown fidelity loss '${name}' (known: ${Object.keys(FIDELITY_LOSSES).join(', ')})`);
  return { name: 'f', pass: 'base', weight: 1, parts: (o, x) => loss.parts(o, x.y, x.vi, x.ir) };
}

/** One masking pass's term of L_inv, weight 0.1 / (number of masking passes). */
function invarianceTerm(pass: 'comp' | 'rand', weight: number, gateEntropy: TrainConfig['gateEntropy']): LossTerm {
  return {
    name: pass, pass, weight, coefficients: { entropy: gateEntropy === 'maximise' ? -1 : 1 },
    parts: (o, x) => {
      const out = passOutputs(x, pass);
      return invarianceParts(o, out.fused, x.y, out.gates);
    },
  };
}

/** One dropout pass's term of L_nec, weight ±0.05. */
function necessityTerm(pass: 'novi' | 'noir', weight: number): LossTerm {
  return { name: pass, pass, weight, parts: (o, x) => ({ '': l1(o, x.y, passOutputs(x, pass).fused) }) };
}

/** The objective for `cfg` (ablations, signs, fidelity loss). */
export function trainingObjective(cfg: TrainConfig): Objective {
  const passes = activePasses(cfg);
  const masking = passes.filter((p): p is 'comp' | 'rand' => p === 'comp' || p === 'rand');
  const dropout = passes.filter((p): p is 'novi' | 'noir' => p === 'novi' || p === 'noir');
  const sN = cfg.necessity === 'minimise' ? 1 : -1;
  return {
    config: cfg,
    passes,
    terms: [
      fidelityTerm(cfg.loss),
      ...masking.map((p) => invarianceTerm(p, LOSS_WEIGHTS.inv / masking.length, cfg.gateEntropy)),
      ...dropout.map((p) => necessityTerm(p, sN * LOSS_WEIGHTS.nec)),
    ],
  };
}

/** The key a part is recorded under. */
function partKey(term: string, part: string): string {
  return part === '' ? term : `${term}.${part}`;
}

/**
 * The differentiable loss that `pass` adds to L (its terms, weighted). `record` receives every part under its
 * key ({@link partKey}), e.g. 'f.ir', 'comp.entropy', 'novi'.
 */
export function passLoss<T>(obj: Objective, o: LossOps<T>, pass: PassName, x: TermInputs<T>, record?: (key: string, value: T) => void): T {
  let total: T | undefined;
  for (const term of obj.terms) {
    if (term.pass !== pass) continue;
    let value: T | undefined;
    for (const [part, v] of Object.entries(term.parts(o, x))) {
      record?.(partKey(term.name, part), v);
      const c = term.coefficients?.[part] ?? 1;
      const cv = c === 1 ? v : o.scale(v, c);
      value = value === undefined ? cv : o.add(value, cv);
    }
    if (value === undefined) throw new Error(`internal: the loss term '${term.name}' has no parts`);
    const weighted = term.weight === 1 ? value : o.scale(value, term.weight);
    total = total === undefined ? weighted : o.add(total, weighted);
  }
  if (total === undefined) throw new Error(`internal: no loss term reads the pass '${pass}'`);
  return total;
}

/** One masking pass's term and its parts (host numbers). */
export interface InvarianceValues {
  total: number;
  stability: number;
  sparsity: number;
  entropy: number;
}

/** Loss values of one step (host numbers). `total` = f + 0.1 inv ± 0.05 nec. */
export interface LossTerms {
  total: number;
  /** L_f */
  f: number;
  /** L_inv (0 when no masking pass runs) */
  inv: number;
  /** L_nec (0 when the dropout passes are off) */
  nec: number;
  /** per masking pass: stability + sparsity ± entropy, and the parts (absent when the pass is off) */
  comp?: InvarianceValues;
  rand?: InvarianceValues;
  /** every recorded part by key, e.g. 'f.ir', 'f.vi', 'f.grad', 'comp.stability', 'novi' */
  parts: Record<string, number>;
}

/** {@link LossTerms} from the recorded part values (by key): the same sums as {@link passLoss}, on the host. */
export function reportTerms(obj: Objective, values: ReadonlyMap<string, number>): LossTerms {
  const parts: Record<string, number> = {};
  const termValue = new Map<string, number>();
  for (const term of obj.terms) {
    let sum = 0;
    for (const [key, v] of values) {
      if (key !== term.name && !key.startsWith(`${term.name}.`)) continue;
      const part = key.slice(term.name.length + 1);
      parts[key] = v;
      sum += (term.coefficients?.[part] ?? 1) * v;
    }
    termValue.set(term.name, sum);
  }
  const total = obj.terms.reduce((a, t) => a + t.weight * termValue.get(t.name)!, 0);
  const masking = obj.terms.filter((t) => t.name === 'comp' || t.name === 'rand');
  const inv = masking.length ? masking.reduce((a, t) => a + termValue.get(t.name)!, 0) / masking.length : 0;
  const nec = (termValue.get('novi') ?? 0) + (termValue.get('noir') ?? 0);
  const invariance = (name: 'comp' | 'rand'): { comp?: InvarianceValues } | { rand?: InvarianceValues } =>
    termValue.has(name)
      ? { [name]: { total: termValue.get(name)!, stability: parts[`${name}.stability`]!, sparsity: parts[`${name}.sparsity`]!, entropy: parts[`${name}.entropy`]! } }
      : {};
  return { total, f: termValue.get('f')!, inv, nec, ...invariance('comp'), ...invariance('rand'), parts };
}
