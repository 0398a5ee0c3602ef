/**
 * One intervention-stable training step (DESIGN.md §3): the five passes, the loss, its gradient with respect
 * to every trainable parameter (through every pass, no stop-gradient), and an Adam update.
 *
 * Two ways to get the same gradient ({@link GradientMode}):
 * - `joint`: all passes in one gradient tape (simple; holds the activations of every pass at once).
 * - `sequential` (the memory plan of issue 6): the loss is L_f(y) plus terms that each tie one intervened
 *   pass to the base output y. So: (1) the base pass runs forward only, giving y; (2) each intervened pass
 *   runs forward and backward on its own with y held as a constant leaf, its parameter gradient summed and its
 *   gradient with respect to y accumulated into G; (3) the base pass runs again under a tape with the
 *   objective L_f(y) + sum(y * G), whose parameter gradient completes the total. Only one pass's
 *   activations are alive at a time (plus one extra forward of the base pass). BatchNorm running statistics
 *   are updated once per pass in the same order as `joint` (the repeated base pass leaves them alone), so both
 *   modes end in the same state; gradients agree to float32 summation order (test/train/step.test.ts).
 *
 * The optimizer is {@link Adam}, PyTorch's Adam (lr 1e-4, betas 0.9/0.999, eps 1e-8, no weight decay), kept
 * here so that its whole state can be checkpointed and restored bit for bit.
 */
import * as tf from '@tensorflow/tfjs';
import { forwardWith, type IsfuseOutput, type IsfuseParams } from '../model/isfuse.js';
import { variableSource } from '../model/source.js';
import { activePasses, passInputs, type MaskTensors, type PassName, type TrainConfig } from './interventions.js';
import { fusionLoss, invarianceTerm, l1, LOSS_WEIGHTS } from './losses.js';

export type GradientMode = 'joint' | 'sequential';

/** A batch on the device: vi, ir [N,S,S,1] in [0,1], and its intervention masks. */
export interface StepBatch {
  readonly vi: tf.Tensor4D;
  readonly ir: tf.Tensor4D;
  readonly masks: MaskTensors;
}

/** Loss values of one step (host numbers). `total` = f + 0.1 inv ± 0.05 nec. */
export interface LossTerms {
  total: number;
  f: number;
  fIr: number;
  fVi: number;
  fGrad: number;
  inv: number;
  nec: number;
  /** per intervention: stability + sparsity ± entropy, and the parts (absent when the pass is off) */
  comp?: { total: number; stability: number; sparsity: number; entropy: number };
  rand?: { total: number; stability: number; sparsity: number; entropy: number };
}

/** Trainable variables keyed by state-dict name (the used conv/BN weights and biases). */
export function namedTrainables(p: IsfuseParams): Map<string, tf.Variable> {
  return new Map([...p.variables].filter(([, v]) => v.trainable));
}

function runPass(p: IsfuseParams, cfg: TrainConfig, pass: PassName, batch: StepBatch, updateStats: boolean): IsfuseOutput {
  const [vi, ir] = passInputs(pass, batch.vi, batch.ir, batch.masks);
  const out = forwardWith(variableSource(p.variables, p.numBatchesTracked, { training: true, updateStats }), vi, ir, { cfi: cfg.cfi });
  if (vi !== batch.vi) vi.dispose();
  if (ir !== batch.ir) ir.dispose();
  return out;
}

/** Scalars recorded during a loss evaluation (kept outside the tape's tidy). */
type Recorded = Map<string, tf.Scalar>;

function record(rec: Recorded, key: string, t: tf.Scalar): void {
  rec.set(key, tf.keep(t));
}

/**
 * The loss term that ties one intervened pass to the base output (already weighted: 0.1 / n_inv for comp and
 * rand, ±0.05 for novi and noir).
 */
function interventionTerm(pass: PassName, out: IsfuseOutput, yBase: tf.Tensor4D, cfg: TrainConfig, nInv: number, rec: Recorded): tf.Scalar {
  if (pass === 'comp' || pass === 'rand') {
    const t = invarianceTerm(out.fused, yBase, out.gates, cfg.gateEntropy);
    record(rec, `${pass}.stability`, t.stability);
    record(rec, `${pass}.sparsity`, t.sparsity);
    record(rec, `${pass}.entropy`, t.entropy);
    record(rec, `${pass}.total`, t.total);
    return tf.mul(t.total, LOSS_WEIGHTS.inv / nInv) as tf.Scalar;
  }
  const l = l1(yBase, out.fused);
  record(rec, pass, l);
  return tf.mul(l, (cfg.necessity === 'minimise' ? 1 : -1) * LOSS_WEIGHTS.nec) as tf.Scalar;
}

function baseTerm(out: IsfuseOutput, batch: StepBatch, rec: Recorded): tf.Scalar {
  const f = fusionLoss(out.fused, batch.vi, batch.ir);
  record(rec, 'f.ir', f.ir);
  record(rec, 'f.vi', f.vi);
  record(rec, 'f.grad', f.grad);
  record(rec, 'f', f.total);
  return f.total;
}

/**
 * Reads tensors to the host asynchronously, so that later dataSync() calls return the cached values: the
 * webgpu backend cannot read synchronously in Node (its synchronous read needs OffscreenCanvas) and stalls
 * the GPU when it does in a browser. Costs nothing extra on the CPU backends.
 */
export async function cacheOnHost(tensors: Iterable<tf.Tensor>): Promise<void> {
  await Promise.all([...tensors].map((t) => t.data()));
}

async function termsFrom(rec: Recorded, cfg: TrainConfig, passes: readonly PassName[]): Promise<LossTerms> {
  await cacheOnHost(rec.values());
  const terms = lossTerms((k) => (rec.has(k) ? rec.get(k)!.dataSync()[0]! : 0), cfg, passes);
  tf.dispose([...rec.values()]);
  rec.clear();
  return terms;
}

/**
 * The {@link LossTerms} of a step from its recorded values: `num(key)` for the keys 'f', 'f.ir', 'f.vi',
 * 'f.grad', '<comp|rand>.<stability|sparsity|entropy|total>', 'novi', 'noir' (0 when absent).
 */
export function lossTerms(num: (key: string) => number, cfg: TrainConfig, passes: readonly PassName[]): LossTerms {
  const inter = (k: 'comp' | 'rand') =>
    passes.includes(k) ? { total: num(`${k}.total`), stability: num(`${k}.stability`), sparsity: num(`${k}.sparsity`), entropy: num(`${k}.entropy`) } : undefined;
  const comp = inter('comp');
  const rand = inter('rand');
  const invParts = [comp, rand].filter((x) => x !== undefined);
  const inv = invParts.length ? invParts.reduce((a, b) => a + b!.total, 0) / invParts.length : 0;
  const nec = num('novi') + num('noir');
  const f = num('f');
  const total = f + LOSS_WEIGHTS.inv * inv + (cfg.necessity === 'minimise' ? 1 : -1) * LOSS_WEIGHTS.nec * nec;
  return { total, f, fIr: num('f.ir'), fVi: num('f.vi'), fGrad: num('f.grad'), inv, nec, ...(comp ? { comp } : {}), ...(rand ? { rand } : {}) };
}

/** Gradients (by state-dict name) and loss values of one step. The caller disposes the gradients. */
export interface StepGradients {
  readonly grads: Map<string, tf.Tensor>;
  readonly terms: LossTerms;
}

function addInto(acc: Map<string, tf.Tensor>, name: string, g: tf.Tensor): void {
  const prev = acc.get(name);
  if (!prev) {
    acc.set(name, g);
    return;
  }
  acc.set(name, tf.add(prev, g));
  tf.dispose([prev, g]);
}

/**
 * The loss of one step and its gradient with respect to every trainable parameter, BatchNorm running
 * statistics updated once per pass. `mode` picks the memory plan (same gradient, see the file comment).
 */
export async function stepGradients(p: IsfuseParams, batch: StepBatch, cfg: TrainConfig, mode: GradientMode = 'sequential'): Promise<StepGradients> {
  const passes = activePasses(cfg);
  const nInv = passes.filter((x) => x === 'comp' || x === 'rand').length;
  const named = namedTrainables(p);
  const byTfName = new Map([...named].map(([k, v]) => [v.name, k]));
  const rec: Recorded = new Map();
  const grads = new Map<string, tf.Tensor>();
  const collect = (g: tf.NamedTensorMap): void => {
    for (const [tfName, t] of Object.entries(g)) {
      const name = byTfName.get(tfName);
      if (name) addInto(grads, name, t);
      else t.dispose();
    }
  };
  const vars = [...named.values()];
  // rec values are created inside tapes whose tidy would free them: wrap each scalar capture in keep().
  const recLocal = (fn: (r: Recorded) => tf.Scalar): (() => tf.Scalar) => () => fn(rec);

  if (mode === 'joint') {
    const { value, grads: g } = tf.variableGrads(
      recLocal((r) => {
        const base = runPass(p, cfg, 'base', batch, true);
        const parts: tf.Scalar[] = [baseTerm(base, batch, r)];
        for (const pass of passes.slice(1)) {
          const out = runPass(p, cfg, pass, batch, true);
          parts.push(interventionTerm(pass, out, base.fused, cfg, nInv, r));
        }
        return tf.addN(parts) as tf.Scalar;
      }),
      vars,
    );
    value.dispose();
    collect(g);
  } else {
    // (1) base forward only: y, BatchNorm statistics of the base pass
    const yBase = tf.tidy(() => {
      const out = runPass(p, cfg, 'base', batch, true);
      tf.dispose(out.gates as unknown as tf.Tensor[]);
      return out.fused;
    });
    // (2) each intervened pass on its own, y held as a leaf whose gradient is accumulated
    const yLeaf = tf.variable(yBase, true);
    let gY: tf.Tensor | null = null;
    for (const pass of passes.slice(1)) {
      const { value, grads: g } = tf.variableGrads(
        recLocal((r) => interventionTerm(pass, runPass(p, cfg, pass, batch, true), yLeaf, cfg, nInv, r)),
        [...vars, yLeaf],
      );
      value.dispose();
      const gy = g[yLeaf.name];
      if (gy) {
        delete g[yLeaf.name];
        const next: tf.Tensor = gY ? tf.add(gY, gy) : gy;
        if (gY) tf.dispose([gY, gy]);
        gY = next;
      }
      collect(g);
    }
    yLeaf.dispose();
    yBase.dispose();
    // (3) the base pass again, under a tape: L_f(y) + sum(y * G)
    const G = gY;
    const { value, grads: g } = tf.variableGrads(
      recLocal((r) => {
        const base = runPass(p, cfg, 'base', batch, false);
        const f = baseTerm(base, batch, r);
        return (G ? tf.add(f, tf.sum(tf.mul(base.fused, G))) : f) as tf.Scalar;
      }),
      vars,
    );
    value.dispose();
    if (G) G.dispose();
    collect(g);
  }
  const terms = await termsFrom(rec, cfg, passes);
  return { grads, terms };
}

/** Serializable optimizer state: step count and the two moments per parameter (by state-dict name). */
export interface AdamState {
  readonly t: number;
  readonly m: ReadonlyMap<string, Float32Array>;
  readonly v: ReadonlyMap<string, Float32Array>;
}

/**
 * PyTorch's Adam (torch.optim.Adam, amsgrad off, no weight decay):
 *   m <- b1 m + (1 - b1) g;  v <- b2 v + (1 - b2) g^2;
 *   p <- p - (lr / (1 - b1^t)) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)
 * Bias corrections are computed in float64 on the host. Parameters without a gradient are skipped (as
 * PyTorch skips parameters whose .grad is None).
 */
export class Adam {
  t = 0;
  private readonly m = new Map<string, tf.Variable>();
  private readonly v = new Map<string, tf.Variable>();

  constructor(readonly lr = 1e-4, readonly beta1 = 0.9, readonly beta2 = 0.999, readonly eps = 1e-8) {
    if (!(lr > 0) || !Number.isFinite(lr)) throw new RangeError(`Adam: learning rate must be a positive number, got ${lr}`);
  }

  /** Applies one update to `params` (by name) from `grads` (by name). Does not dispose the gradients. */
  apply(params: ReadonlyMap<string, tf.Variable>, grads: ReadonlyMap<string, tf.Tensor>): void {
    this.t += 1;
    const stepSize = this.lr / (1 - this.beta1 ** this.t);
    const bc2Sqrt = Math.sqrt(1 - this.beta2 ** this.t);
    for (const [name, g] of grads) {
      const p = params.get(name);
      if (!p) continue;
      if (!this.m.has(name)) {
        this.m.set(name, tf.variable(tf.zerosLike(p), false));
        this.v.set(name, tf.variable(tf.zerosLike(p), false));
      }
      const m = this.m.get(name)!, v = this.v.get(name)!;
      tf.tidy(() => {
        const m1 = tf.add(tf.mul(m, this.beta1), tf.mul(g, 1 - this.beta1));
        const v1 = tf.add(tf.mul(v, this.beta2), tf.mul(tf.mul(g, g), 1 - this.beta2));
        const denom = tf.add(tf.div(tf.sqrt(v1), bc2Sqrt), this.eps);
        p.assign(tf.sub(p, tf.mul(tf.div(m1, denom), stepSize)));
        m.assign(m1);
        v.assign(v1);
      });
    }
  }

  /** The moment tensors (for {@link cacheOnHost} before {@link state}). */
  tensors(): tf.Variable[] {
    return [...this.m.values(), ...this.v.values()];
  }

  state(): AdamState {
    const read = (src: Map<string, tf.Variable>) => new Map([...src].map(([k, t]) => [k, t.dataSync() as Float32Array]));
    return { t: this.t, m: read(this.m), v: read(this.v) };
  }

  /** Restores a state; shapes are taken from `params`. */
  load(state: AdamState, params: ReadonlyMap<string, tf.Variable>): void {
    this.dispose();
    this.t = state.t;
    for (const [name, mv] of state.m) {
      const p = params.get(name);
      const vv = state.v.get(name);
      if (!p || !vv || mv.length !== p.size || vv.length !== p.size) throw new Error(`optimizer state does not match the parameter '${name}'`);
      this.m.set(name, tf.variable(tf.tensor(mv, p.shape), false));
      this.v.set(name, tf.variable(tf.tensor(vv, p.shape), false));
    }
  }

  dispose(): void {
    for (const t of this.tensors()) t.dispose();
    this.m.clear();
    this.v.clear();
  }
}

/** One full step: gradients, then the Adam update. Returns the loss values (computed before the update). */
export async function trainStep(p: IsfuseParams, opt: Adam, batch: StepBatch, cfg: TrainConfig, mode: GradientMode = 'sequential'): Promise<LossTerms> {
  const { grads, terms } = await stepGradients(p, batch, cfg, mode);
  opt.apply(namedTrainables(p), grads);
  tf.dispose([...grads.values()]);
  return terms;
}
