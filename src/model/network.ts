/**
 * The ISFuse layout, written once (docs/NETWORK.md). Every engine runs this function over its own
 * {@link NetworkOps}: TensorFlow.js tensors (model/source.ts: inference, eval and training mode), the ONNX
 * inference graph (model/onnx.ts) and the ONNX training graph with its backward pass (train/onnx/network.ts).
 * The ops name the reference state-dict modules; how a module's weights are stored (folded BatchNorm,
 * live variables, graph inputs) is the ops' business.
 *
 *   encoder_vis(vi), encoder_ir(ir): module1 (2 CBL) at H x W, maxpool 2x2 (floor), module2 (2 CBL) at H/2,
 *     maxpool, module3 (2 CBL) at H/4
 *   x3 = cfi3(v3, i3)
 *   x4 = adjust_channels4(up(x3 -> level 2) + cfi4(v2, i2))
 *   x5 = adjust_channels5(up(x4 -> level 1) + cfi5(v1, i1))
 *   fused = sigmoid(final_decoder.0(x5))
 *
 * CFI (Causal Feature Integrator), one per level:
 *   cross = att(Q_v, K_i, V_i) + att(Q_i, K_v, V_v), g = sigmoid(gate.3(CBL gate.0(cross)))
 *   fused = refine(g * cross + (1 - g) * (fv + fi))
 * With the CFI switched off (the `local` ablation of training) it is refine(fv + fi) and g = 0.
 */

/**
 * What the layout needs from an engine. T is the engine's tensor: a tf.Tensor4D, or the name of a graph value.
 * Images and feature maps are 4-D with one batch axis; the layout never looks at the axis order.
 */
export interface NetworkOps<T> {
  /** CBL block of a Sequential: conv `${prefix}.${index}` -> BatchNorm `${prefix}.${index + 1}` -> LeakyReLU(0.01) */
  cbl(x: T, prefix: string, index: number): T;
  /** Plain convolution with bias, e.g. 'cfi3.gate.3', 'final_decoder.0'. */
  conv(x: T, name: string): T;
  /** MaxPool2d(2), floor. */
  maxPool2(x: T): T;
  add(a: T, b: T): T;
  sigmoid(x: T): T;
  /** Bilinear resize (half-pixel centres) of x to the spatial size of `like`. */
  resizeLike(x: T, like: T): T;
  /** The CFI's pooled cross-attention att(Q_v, K_i, V_i) + att(Q_i, K_v, V_v), convolutions `${prefix}.q_v` etc. */
  crossAttention(prefix: string, fv: T, fi: T): T;
  /** g * cross + (1 - g) * (fv + fi). */
  gateMix(gate: T, cross: T, fv: T, fi: T): T;
  /** A one-channel gate of zeros at the size of `like` (the CFI switched off). */
  zeroGate(like: T): T;
  /** Runs fn and frees what it created except its result (tf.tidy); graph builders just call fn. */
  scope<R>(fn: () => R): R;
  /** Frees tensors the layout no longer needs (tf.dispose); graph builders ignore it. */
  release(...xs: T[]): void;
}

/** The network's outputs: the fused image (one channel, in [0,1]) and the gates of cfi3, cfi4, cfi5 (levels 3, 2, 1). */
export interface NetworkOutput<T> {
  readonly fused: T;
  readonly gates: readonly [T, T, T];
}

export interface LayoutOptions {
  /** The CFI; false reduces each to refine(fv + fi) with a zero gate (training ablation). Default true. */
  readonly cfi?: boolean;
}

function encoder<T>(ops: NetworkOps<T>, prefix: string, x: T): [T, T, T] {
  const block = (input: () => T, module: string): T =>
    ops.scope(() => ops.cbl(ops.cbl(input(), `${prefix}.${module}`, 0), `${prefix}.${module}`, 3));
  const x1 = block(() => x, 'module1');
  const x2 = block(() => ops.maxPool2(x1), 'module2');
  const x3 = block(() => ops.maxPool2(x2), 'module3');
  return [x1, x2, x3];
}

/** The two encoders' features, levels 1, 2, 3 (H, H/2, H/4). */
export interface EncoderFeatures<T> {
  readonly vis: readonly [T, T, T];
  readonly ir: readonly [T, T, T];
}

/**
 * The encoder part of the layout alone: encoder_vis(vi) and encoder_ir(ir), three levels each. The tiled
 * inference (model/tiles.ts) runs it over tiles to pool the CFIs' global tokens; {@link isfuseNetwork}
 * starts with it.
 */
export function isfuseEncoders<T>(ops: NetworkOps<T>, vi: T, ir: T): EncoderFeatures<T> {
  return { vis: encoder(ops, 'encoder_vis', vi), ir: encoder(ops, 'encoder_ir', ir) };
}

/** The CFI of each level: CFI_PREFIXES[level - 1] reads the level-`level` features (cfi5 at H, cfi3 at H/4). */
export const CFI_PREFIXES = ['cfi5', 'cfi4', 'cfi3'] as const;

function cfi<T>(ops: NetworkOps<T>, prefix: string, fv: T, fi: T, on: boolean): { fused: T; gate: T } {
  if (!on) return { fused: ops.scope(() => ops.cbl(ops.add(fv, fi), `${prefix}.refine`, 0)), gate: ops.zeroGate(fv) };
  const cross = ops.scope(() => ops.crossAttention(prefix, fv, fi));
  const gate = ops.scope(() => ops.sigmoid(ops.conv(ops.cbl(cross, `${prefix}.gate`, 0), `${prefix}.gate.3`)));
  const fused = ops.scope(() => ops.cbl(ops.gateMix(gate, cross, fv, fi), `${prefix}.refine`, 0));
  ops.release(cross);
  return { fused, gate };
}

/** One decoder level: adjust(up(coarse -> size of fine) + fine), two CBLs. */
function decode<T>(ops: NetworkOps<T>, prefix: string, coarse: T, fine: T): T {
  return ops.scope(() => ops.cbl(ops.cbl(ops.add(ops.resizeLike(coarse, fine), fine), prefix, 0), prefix, 3));
}

/**
 * The ISFuse forward pass over `ops`: vi (visible luminance or MRI) and ir (infrared or functional image),
 * one channel each, same size, at least 4 x 4. Intermediates are released as soon as the layout is done with
 * them; the inputs are not; the caller owns the outputs.
 */
export function isfuseNetwork<T>(ops: NetworkOps<T>, vi: T, ir: T, opts: LayoutOptions = {}): NetworkOutput<T> {
  const on = opts.cfi ?? true;
  const { vis: [v1, v2, v3], ir: [i1, i2, i3] } = isfuseEncoders(ops, vi, ir);
  const [cfi5, cfi4, cfi3] = CFI_PREFIXES;
  const c3 = cfi(ops, cfi3, v3, i3, on);
  ops.release(v3, i3);
  const c4 = cfi(ops, cfi4, v2, i2, on);
  const x4 = decode(ops, 'adjust_channels4', c3.fused, c4.fused);
  ops.release(v2, i2, c3.fused, c4.fused);
  const c5 = cfi(ops, cfi5, v1, i1, on);
  ops.release(v1, i1);
  const x5 = decode(ops, 'adjust_channels5', x4, c5.fused);
  ops.release(x4, c5.fused);
  const fused = ops.scope(() => ops.sigmoid(ops.conv(x5, 'final_decoder.0')));
  ops.release(x5);
  return { fused, gates: [c3.gate, c4.gate, c5.gate] };
}

/** Sizes [h, w] of the three levels for an H x W input (max-pooling floors). */
export function levelSizes(height: number, width: number): [[number, number], [number, number], [number, number]] {
  const h2 = Math.floor(height / 2);
  const w2 = Math.floor(width / 2);
  return [[height, width], [h2, w2], [Math.floor(h2 / 2), Math.floor(w2 / 2)]];
}

/** The smallest input side the network takes (two 2x2 poolings). */
export const MIN_NETWORK_SIDE = 4;
