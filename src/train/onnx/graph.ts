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
import { bilinearMatrix, transpose2d } from '../../model/matrices.js';
import { ISFUSE_DIM, stateDictSpec } from '../../model/isfuse.js';
import { isfuseNetwork, MIN_NETWORK_SIDE } from '../../model/network.js';
import { activePasses, type PassName, type TrainConfig } from '../interventions.js';
import { ENTROPY_CLAMP, GATE_TARGET, LAPLACIAN_KERNEL, LOSS_WEIGHTS } from '../losses.js';
import { trainingGraphOps, type StatsSink } from './network.js';
import { Tape, type Shape } from './tape.js';

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
  /** the loss outputs, e.g. 'f.ir', 'f.grad', 'comp.stability', 'novi' (sums such as L_f: stepTerms) */
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

  // ------------------------------------------------------------ losses and their gradients (closed form)

  const numel = n * h * w;
  const losses: string[] = [];
  const loss = (key: string, v: string): void => {
    t.output(`loss:${key}`, v);
    losses.push(key);
  };
  const meanAll = (x: string): string => t.op('ReduceMean', [x], [], { keepdims: 0 });
  const mulS = (x: string, v: number): string => t.op('Mul', [x, t.scalar(v)], t.shape(x));
  // the base output: computed here, or (an intervened pass of the sequential plan) a constant input whose
  // gradient is an output
  const yb = outs.get('base')?.fused ?? imageInput('y_base', true);
  if (part === 'base') t.acc(yb, imageInput('g_base'));
  if (outs.has('base')) {
    // L_f = L1(y, ir) + L1(y, vi) + L1(|Lap y|, max(|Lap ir|, |Lap vi|))
    const lapKernel = t.const('lap', [1, 1, 3, 3], Float32Array.from(LAPLACIAN_KERNEL));
    const lap = (x: string): string => t.op('Conv', [x, lapKernel], img, { kernel_shape: [3, 3], pads: [1, 1, 1, 1] });
    const dIr = t.op('Sub', [yb, ir], img);
    const dVi = t.op('Sub', [yb, vi], img);
    const lapY = lap(yb);
    const target = t.op('Max', [t.op('Abs', [lap(ir)], img), t.op('Abs', [lap(vi)], img)], img);
    const e = t.op('Sub', [t.op('Abs', [lapY], img), target], img);
    loss('f.ir', meanAll(t.op('Abs', [dIr], img)));
    loss('f.vi', meanAll(t.op('Abs', [dVi], img)));
    loss('f.grad', meanAll(t.op('Abs', [e], img)));
    const gLap = mulS(t.op('Mul', [t.op('Sign', [e], img), t.op('Sign', [lapY], img)], img), 1 / numel);
    t.acc(yb, mulS(t.op('Add', [t.op('Sign', [dIr], img), t.op('Sign', [dVi], img)], img), 1 / numel));
    t.acc(yb, lap(gLap)); // the Laplacian kernel is symmetric: its transposed convolution is itself
  }

  // L_inv: per masking pass, weight 0.1 / (number of masking passes of the configuration)
  const isMasking = (x: PassName): boolean => x === 'comp' || x === 'rand';
  const inv = allPasses.filter(isMasking);
  const sH = cfg.gateEntropy === 'maximise' ? -1 : 1;
  for (const pass of passes.filter(isMasking)) {
    const wInv = LOSS_WEIGHTS.inv / inv.length;
    const o = outs.get(pass)!;
    const [g3, g4, g5] = o.gates;
    const gm = mulS(t.op('Sum', [t.resize(g3, h, w), t.resize(g4, h, w), g5], img), 1 / 3);
    const diff = t.op('Sub', [o.fused, yb], img);
    const ad = t.op('Abs', [diff], img);
    loss(`${pass}.stability`, meanAll(t.op('Mul', [ad, gm], img)));
    const gmean = t.op('ReduceMean', [gm], [n, 1, 1, 1], { axes: [1, 2, 3], keepdims: 1 });
    const dev = t.op('Sub', [gmean, t.scalar(GATE_TARGET)], [n, 1, 1, 1]);
    loss(`${pass}.sparsity`, meanAll(t.op('Abs', [dev], [n, 1, 1, 1])));
    const pc = t.op('Clip', [gm, t.scalar(ENTROPY_CLAMP), t.scalar(1 - ENTROPY_CLAMP)], img);
    const q = t.op('Sub', [t.scalar(1), pc], img);
    const logP = t.op('Log', [pc], img), logQ = t.op('Log', [q], img);
    const ent = t.op('Neg', [t.op('Add', [t.op('Mul', [pc, logP], img), t.op('Mul', [q, logQ], img)], img)], img);
    loss(`${pass}.entropy`, meanAll(ent));
    // gradients: stability -> y_do, y_base, g; sparsity -> g; entropy (inside the clamp only) -> g
    const gy = mulS(t.op('Mul', [t.op('Sign', [diff], img), gm], img), wInv / numel);
    t.acc(o.fused, gy);
    t.acc(yb, t.op('Neg', [gy], img));
    const inRange = t.op('Cast', [t.op('And', [
      t.op('GreaterOrEqual', [gm, t.scalar(ENTROPY_CLAMP)], img), t.op('LessOrEqual', [gm, t.scalar(1 - ENTROPY_CLAMP)], img),
    ], img)], img, { to: 1 });
    const dEnt = mulS(t.op('Mul', [inRange, t.op('Sub', [logQ, logP], img)], img), (sH * wInv) / numel);
    const dSpar = mulS(t.op('Sign', [dev], [n, 1, 1, 1]), wInv / numel);
    const dg = t.op('Add', [t.op('Add', [mulS(ad, wInv / numel), dSpar], img), dEnt], img);
    // g = (R g3 + R g4 + g5) / 3, R the bilinear resize to h x w
    const dg3 = mulS(dg, 1 / 3);
    t.acc(g5, dg3);
    for (const g of [g3, g4]) {
      const [, , gh, gw] = t.shape(g) as number[];
      const Lt = t.const('RhT', [gh!, h], transpose2d(bilinearMatrix(gh!, h), h, gh!));
      const Rw = t.const('Rw', [w, gw!], bilinearMatrix(gw!, w));
      t.acc(g, t.op('MatMul', [Lt, t.op('MatMul', [dg3, Rw], [n, 1, h, gw!])], [n, 1, gh!, gw!]));
    }
  }
  // L_nec = L1(y, y_novi) + L1(y, y_noir), weight ±0.05
  const wNec = (cfg.necessity === 'minimise' ? 1 : -1) * LOSS_WEIGHTS.nec;
  for (const pass of passes.filter((x) => x === 'novi' || x === 'noir')) {
    const yo = outs.get(pass)!.fused;
    const diff = t.op('Sub', [yb, yo], img);
    loss(pass, meanAll(t.op('Abs', [diff], img)));
    const gy = mulS(t.op('Sign', [diff], img), wNec / numel);
    t.acc(yb, gy);
    t.acc(yo, t.op('Neg', [gy], img));
  }

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
