/**
 * The whole training step (docs/TRAINING.md: five passes, L_f + 0.1 L_inv ± 0.05 L_nec, and its gradient with
 * respect to every trainable parameter) as an ONNX graph, for onnxruntime on the CPU.
 *
 * Why: on this project's CPUs the TensorFlow.js wasm backend runs 3x3 convolutions at ~10 GFLOP/s in
 * training (one thread, 128-bit SIMD) while onnxruntime's MLAS runs them at ~65 GFLOP/s (measured in
 * docs/PERFORMANCE.md). onnxruntime-node has no autodiff, so the backward pass is written out as graph nodes
 * by the {@link Tape}: the network's ops (./network.ts) and the loss's ops each record their backward rule.
 *
 * What equals what: the graph computes the same function and gradient as train/step.ts's TensorFlow.js step
 * (joint plan) with the same inputs; test/train/onnx-step.test.ts checks the losses, every parameter gradient
 * and the BatchNorm statistics against it. Differences in float32 rounding only, plus one convention: the
 * gradient of |x| at exactly x = 0 is 0 here (PyTorch's, the reference's) where TensorFlow.js uses -1.
 *
 * Layout NCHW. Graph inputs: `vi`, `ir`, `m_comp_vi`, `m_comp_ir`, `m_rand` [N,1,H,W] and every trainable
 * parameter (`p:<state-dict name>`, reference OIHW shapes). Outputs: loss terms (`loss:<key>`, scalars),
 * gradients (`grad:<name>`), BatchNorm batch statistics per pass (`stat:<pass>:<bn>:mean|var`, the mean
 * with the conv bias, the biased variance, as train-ops.ts's cblTrain returns them).
 */
import { ISFUSE_DIM, stateDictSpec } from '../../model/isfuse.js';
import { isfuseNetwork, MIN_NETWORK_SIDE } from '../../model/network.js';
import { activePasses, type PassName, type TrainConfig } from '../interventions.js';
import { passLoss, trainingObjective } from '../objective.js';
import { trainingGraphOps, type StatsSink } from './network.js';
import { Tape, tapeLossOps, type Shape } from './tape.js';

/**
 * Which part of the step a graph computes. 'joint': the whole step, every pass alive at once. The sequential
 * plan (train/step.ts explains it; here to bound onnxruntime's memory) splits it into 'base-forward' (the base
 * pass forward only: output `y`), one graph per intervened pass (input `y_base` held constant; outputs that
 * pass's loss terms and gradients plus `grad:y_base`, the gradient sent to the base output), and 'base' (the
 * base pass with L_f and the summed gradient `g_base` of the intervened passes fed into its output).
 */
export type TrainGraphPart = 'joint' | 'base-forward' | 'base' | Exclude<PassName, 'base'>;

/** What the graph of one (batch, height, width, config, part) gives back, besides the tensors. */
export interface TrainGraph {
  readonly bytes: Uint8Array;
  /** the graph's inputs other than the parameters, e.g. 'vi', 'ir', 'm_rand', 'y_base' */
  readonly inputs: readonly string[];
  /** trainable parameters the graph takes (all of them) */
  readonly params: readonly string[];
  /** parameters with a gradient output (CBL conv biases have none: theirs is exactly 0) */
  readonly grads: readonly string[];
  /** the CBL conv biases, whose gradient is exactly 0 */
  readonly zeroGrads: readonly string[];
  /**
   * per pass, in running order: the BatchNorm module names whose statistics it outputs, with the number of
   * values each statistic is taken over (N h w at that BatchNorm's level; PyTorch's unbiased running
   * variance uses it)
   */
  readonly stats: readonly { pass: PassName; bns: readonly { name: string; count: number }[] }[];
  /** the loss outputs: every part of the objective's terms by key, e.g. 'f.ir', 'comp.stability', 'novi' (../objective.ts reportTerms sums them) */
  readonly losses: readonly string[];
}


/**
 * Builds the training-step graph (or one part of it) for batch n of h x w crops under `cfg` (ablations and
 * signs). Example: `buildTrainGraph(8, 128, 128, DEFAULT_TRAIN_CONFIG)`.
 */
export function buildTrainGraph(n: number, h: number, w: number, cfg: TrainConfig, part: TrainGraphPart = 'joint', dim = ISFUSE_DIM): TrainGraph {
  if (h < MIN_NETWORK_SIDE || w < MIN_NETWORK_SIDE) throw new Error(`ISFuse needs crops of at least 4x4 pixels, got ${w}x${h}`);
  const t = new Tape();
  const C = dim;
  const spec = stateDictSpec(dim).filter((s) => s.used && ['conv_weight', 'conv_bias', 'bn_weight', 'bn_bias'].includes(s.role));
  const P = new Map<string, string>();
  for (const s of spec) P.set(s.name, t.input(`p:${s.name}`, s.shape, true));
  const param = (name: string): string => {
    const p = P.get(name);
    if (!p) throw new Error(`internal: no parameter '${name}'`);
    return p;
  };
  const img: Shape = [n, 1, h, w];
  const inputs: string[] = [];
  const imageInput = (name: string, differentiable = false): string => {
    inputs.push(name);
    return t.input(name, img, differentiable);
  };
  const vi = imageInput('vi');
  const ir = imageInput('ir');

  let statsOut: { name: string; count: number }[] = [];
  let statPass: PassName = 'base';
  const onStats: StatsSink | undefined = part === 'base-forward' ? undefined : (bn, mean, variance, count) => {
    t.output(`stat:${statPass}:${bn}:mean`, mean);
    t.output(`stat:${statPass}:${bn}:var`, variance);
    statsOut.push({ name: bn, count });
  };
  const ops = trainingGraphOps(t, param, C, onStats);

  // ------------------------------------------------------------ the five passes

  const allPasses = activePasses(cfg);
  const passes: PassName[] = part === 'joint' ? allPasses : part === 'base' || part === 'base-forward' ? ['base'] : [part];
  if (!allPasses.includes(passes[0]!)) throw new Error(`internal: pass '${part}' is switched off in this configuration`);
  const zeros = t.op('Sub', [vi, vi], img);
  const passInput = (pass: PassName): [string, string] => {
    switch (pass) {
      case 'base': return [vi, ir];
      case 'comp': return [t.op('Mul', [vi, imageInput('m_comp_vi')], img), t.op('Mul', [ir, imageInput('m_comp_ir')], img)];
      case 'rand': {
        const m = imageInput('m_rand');
        return [t.op('Mul', [vi, m], img), t.op('Mul', [ir, m], img)];
      }
      case 'novi': return [zeros, ir];
      case 'noir': return [vi, zeros];
    }
  };
  const stats: { pass: PassName; bns: { name: string; count: number }[] }[] = [];
  const outs = new Map<PassName, { fused: string; gates: [string, string, string] }>();
  for (const pass of passes) {
    statsOut = [];
    statPass = pass;
    const [a, b] = passInput(pass);
    const o = isfuseNetwork(ops, a, b, { cfi: cfg.cfi });
    outs.set(pass, { fused: o.fused, gates: [...o.gates] });
    if (onStats) stats.push({ pass, bns: statsOut });
  }
  const common = { params: spec.map((s) => s.name), inputs, stats };
  if (part === 'base-forward') {
    t.output('y', outs.get('base')!.fused);
    return { bytes: t.g.model(`isfuse_train_${part}_${n}x${h}x${w}`), ...common, grads: [], zeroGrads: [], losses: [] };
  }

  // ------------------------------------------------------------ the loss (../objective.ts) and its gradient

  const losses: string[] = [];
  // the base output: computed here, or (an intervened pass of the sequential plan) an input whose gradient is
  // an output
  const yb = outs.get('base')?.fused ?? imageInput('y_base', true);
  // the sequential plan's base part: the intervened passes' summed gradient with respect to y joins L_f's
  if (part === 'base') t.acc(yb, imageInput('g_base'));
  const objective = trainingObjective(cfg);
  const lossOps = tapeLossOps(t);
  let total: string | undefined;
  for (const pass of passes) {
    const out = pass === 'base' ? undefined : outs.get(pass);
    const l = passLoss(objective, lossOps, pass, { y: yb, vi, ir, out }, (key, v) => {
      t.output(`loss:${key}`, v);
      losses.push(key);
    });
    total = total === undefined ? l : t.add(total, l);
  }
  // the gradient: dL/dL = 1, then every recorded op's backward rule in reverse order
  t.acc(total!, t.scalar(1));
  t.backward();
  if (!outs.has('base')) t.output('grad:y_base', t.grad(yb) ?? t.op('Sub', [yb, yb], img));
  const grads: string[] = [];
  const zeroGrads: string[] = [];
  const cblBias = /\.(\d+)\.bias$/;
  for (const s of spec) {
    const gname = t.grad(param(s.name));
    if (gname) {
      t.output(`grad:${s.name}`, gname);
      grads.push(s.name);
    } else if (s.role === 'conv_bias' && cblBias.test(s.name) && stats.some((x) => x.bns.some((b) => b.name === s.name.replace(cblBias, (_, i: string) => `.${Number(i) + 1}`)))) {
      zeroGrads.push(s.name);
    }
  }
  return { bytes: t.g.model(`isfuse_train_${part}_${n}x${h}x${w}`), ...common, grads, zeroGrads, losses };
}
