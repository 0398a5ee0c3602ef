/**
 * WebGPU kernels for the convolutions ISFuse spends its time in: 3x3, stride 1, padding 1 (output the size of
 * the input), NHWC, float32 (docs/ENGINES.md). Registered in place of TensorFlow.js's own `Conv2D`,
 * `FusedConv2D` (bias, optionally LeakyReLU: inference), `Conv2DBackpropInput` and `Conv2DBackpropFilter`
 * webgpu kernels by {@link installWebGpuConvKernels}; any other convolution (1x1, strides, dilations, NCHW,
 * other paddings, other activations) goes to the stock kernel unchanged.
 *
 * Why by hand: the filter gradient written as a forward convolution (the wasm path, model/conv-gradient.ts) is a
 * convolution with an HxW filter, which the webgpu backend runs through im2col buffers (out of GPU memory on
 * an H200 at batch 16, 256x256); its own Conv2DBackpropFilter kernel gives each of the 9*Ci*Co
 * outputs one thread that loops over every pixel of the batch (9216 threads for 32 -> 32 channels: a GPU
 * mostly idle); and its forward is a generic implicit-GEMM kernel. Measured against the stock kernels:
 * bench/webgpu-kernels.ts, docs/PERFORMANCE.md.
 *
 * - Forward and input gradient: one program. A workgroup of 256 threads computes a 16x16 pixel tile for
 *   32 output channels, walking the input channels 4 at a time through workgroup memory: the 18x18x4 input
 *   patch (with its zero border) and the 3x3x4x32 filter slice are read from global memory once per
 *   workgroup instead of once per output, and each thread keeps a row of 4 pixels x 8 channels in registers
 *   so that the 3 horizontal taps reuse what it read. The input gradient is the same convolution of dy with
 *   the filter rotated by 180 degrees and its in/out channels swapped; only the filter read differs.
 * - Filter gradient: dW[a, b, ci, co] = sum over n, y, x of xpad[n, y+a, x+b, ci] * dy[n, y, x, co]. Each
 *   workgroup owns 32 input x 32 output channels (all 9 taps: 9 vec4 sums per thread) and a strided share of
 *   the 8x4 pixel tiles of the batch, and writes its partial sums; a second pass adds the partials. No
 *   atomics, so the result is the same on every run.
 *
 * Parity with the cpu backend (forward plain and fused, both gradients, odd sizes and channel counts, the
 * fallbacks) runs in headless Chromium on its software WebGPU adapter: test/webgpu/kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { setNativeConvGradients } from '../conv-gradient.js';
import { sumPartialsProgram } from './programs.js';

/** Workgroup tiles. Forward / input gradient: 16x16 output pixels x 32 output channels, input channels 4 at a
 * time; each thread computes a row of 4 pixels x 8 channels. Filter gradient: 32 input x 32 output channels
 * over 8x4 pixel tiles; each thread owns one input channel x 4 output channels, all 9 taps. */
const FWD_TILE = 16;
const FWD_CI_STEP = 4;
const CO_TILE = 32;
const DW_TILE_W = 8;
const DW_TILE_H = 4;
const DW_CI_TILE = 32;
/** Workgroups of the filter gradient's first pass, at most (each adds up a strided share of the pixel tiles). */
const MAX_PARTIALS = 256;

/** `f(i)` for i = 0 .. n-1, joined: the shaders below are unrolled here rather than trusted to the compiler. */
const unroll = (n: number, f: (i: number) => string, sep = '\n'): string => Array.from({ length: n }, (_, i) => f(i)).join(sep);

/**
 * WGSL that fills `xtile` ([channel][row][col], `len` values) with the input window of the pixel tile whose top-left
 * output pixel is (ty0, tx0): rows x cols pixels starting one pixel up and left (the 3x3 halo), input channels from
 * ci0, zeros outside the image and past CI. Both programs below load their input this way; the enclosing shader
 * provides li, n, ty0, tx0, ci0, H, Wd, CI and X. `guard` prefixes the in-range test (the filter gradient's
 * 'live && ' loads zeros for tiles past the end).
 */
function loadInputTile(len: number, rows: number, cols: number, guard = ''): string {
  return `for (var k = li; k < ${len}; k += 256) {
            let cc = ci0 + k / ${rows * cols};
            let r = k % ${rows * cols};
            let yy = ty0 + r / ${cols} - 1;
            let xx = tx0 + r % ${cols} - 1;
            var v = 0.0;
            if (${guard}cc < CI && yy >= 0 && yy < H && xx >= 0 && xx < Wd) {
              v = X[((n * H + yy) * Wd + xx) * CI + cc];
            }
            xtile[k] = v;
          }`;
}

type Pad = 'same' | 'valid' | number | number[][];

interface ConvAttrs {
  strides: number | number[];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | number[];
  dimRoundingMode?: string;
}

const isOne = (v: number | number[] | undefined): boolean => v === undefined || (Array.isArray(v) ? v.every((x) => x === 1) : v === 1);

/** The stride-1 convolutions these kernels take: 3x3 with one pixel of zero padding [top, bottom, left, right]. */
const takes = (kh: number, kw: number, padding: readonly number[]): boolean => kh === 3 && kw === 3 && padding.length === 4 && padding.every((v) => v === 1);

/** Whether kernel attrs describe such a convolution (NHWC, stride 1, dilation 1). */
function handled(attrs: ConvAttrs, kh: number, kw: number): boolean {
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isOne(attrs.strides) || !isOne(attrs.dilations)) return false;
  const p = attrs.pad;
  // 'same' on a 3x3 kernel is one pixel each side (other sizes fail `takes` on kh, kw)
  const padding = p === 'same' || p === 1 ? [1, 1, 1, 1] : Array.isArray(p) && p.length === 4 ? [p[1]![0]!, p[1]![1]!, p[2]![0]!, p[2]![1]!] : [];
  return takes(kh, kw, padding);
}

/**
 * out[n, y, x, o] = sum over a, b, i of in[n, y+a-1, x+b-1, i] * weight(a, b, i, o). `flipped`: the input
 * gradient, weight(a, b, i, o) = W[2-a, 2-b, o, i] with W the forward filter [3, 3, Cout, Cin].
 * `epilogue` (forward only; FusedConv2D): 'bias' adds Bias[o], 'leaky' then applies LeakyReLU with slope
 * `uniforms.alpha`, in the same pass as the convolution.
 *
 * Thread (g, s) of 256: output channels co0 + 8g .. +7 (two vec4 accumulators per pixel) for the 4 pixels
 * tx0 + 4(s % 4) .. +3 of row ty0 + s / 4. Per kernel row a and input channel, it reads 6 input values and
 * 6 weight vec4 from workgroup memory for 96 multiply-adds (the 3 horizontal taps reuse the row).
 */
function convProgram(inShape: number[], outChannels: number, flipped: boolean, epilogue: 'none' | 'bias' | 'leaky' = 'none'): WebGPUProgram {
  const [n, h, w] = inShape as [number, number, number, number];
  const coTiles = Math.ceil(outChannels / CO_TILE);
  const side = FWD_TILE + 2;
  const xLen = FWD_CI_STEP * side * side;
  const wLen = 9 * FWD_CI_STEP * CO_TILE;
  // weight(t, i, o) with t = 3a + b; CI = input channels of this convolution, CO = its output channels
  const weight = flipped ? 'W[((8 - t) * CO + co) * CI + ci]' : 'W[(t * CI + ci) * CO + co]';
  return {
    outputShape: [n, h, w, outChannels],
    shaderKey: `isfuseConv3x3_${flipped ? 'dx' : 'fwd'}${epilogue === 'none' ? '' : `_${epilogue}`}`,
    variableNames: epilogue === 'none' ? ['X', 'W'] : ['X', 'W', 'Bias'],
    ...(epilogue === 'leaky' ? { uniforms: 'alpha : f32,' } : {}),
    dispatchLayout: { x: [2], y: [1], z: [0, 3] },
    dispatch: [Math.ceil(w / FWD_TILE), Math.ceil(h / FWD_TILE), n * coTiles],
    workgroupSize: [256, 1, 1],
    getUserCode: () => `
      fn epilogue(v : f32, co : i32) -> f32 {
        ${epilogue === 'none' ? 'return v;' : epilogue === 'bias' ? 'return v + Bias[co];' : 'let u = v + Bias[co]; return select(u * uniforms.alpha, u, u > 0.0);'}
      }
      var<workgroup> xtile : array<f32, ${xLen}>;                 // [FWD_CI_STEP][side][side]
      var<workgroup> wtile : array<vec4<f32>, ${wLen / 4}>;       // [9][FWD_CI_STEP][CO_TILE / 4]

      fn main() {
        let H = uniforms.outShape[1];
        let Wd = uniforms.outShape[2];
        let CO = uniforms.outShape[3];
        let CI = uniforms.xShape[3];
        let coTiles = (CO + ${CO_TILE - 1}) / ${CO_TILE};
        let n = i32(workgroupId.z) / coTiles;
        let co0 = (i32(workgroupId.z) % coTiles) * ${CO_TILE};
        let ty0 = i32(workgroupId.y) * ${FWD_TILE};
        let tx0 = i32(workgroupId.x) * ${FWD_TILE};
        let li = i32(localIndex);
        let g = li / 64;
        let sg = li % 64;
        let py = sg / 4;
        let px = (sg % 4) * 4;
        ${unroll(4, (p) => `var a${p} = vec4<f32>(0.0); var b${p} = vec4<f32>(0.0);`)}
        for (var ci0 = 0; ci0 < CI; ci0 += ${FWD_CI_STEP}) {
          ${loadInputTile(xLen, side, side)}
          for (var k = li; k < ${wLen}; k += 256) {
            let co = co0 + k % ${CO_TILE};
            let ci = ci0 + (k / ${CO_TILE}) % ${FWD_CI_STEP};
            let t = k / ${CO_TILE * FWD_CI_STEP};
            var v = 0.0;
            if (co < CO && ci < CI) {
              v = ${weight};
            }
            wtile[k / 4][k % 4] = v;
          }
          workgroupBarrier();
          for (var c = 0; c < ${FWD_CI_STEP}; c++) {
            for (var a = 0; a < 3; a++) {
              let xb = (c * ${side} + py + a) * ${side} + px;
              ${unroll(6, (j) => `let x${j} = xtile[xb + ${j}];`)}
              let wb = ((a * 3) * ${FWD_CI_STEP} + c) * ${CO_TILE / 4} + 2 * g;
              ${unroll(3, (bb) => `{
                let w0 = wtile[wb + ${bb * FWD_CI_STEP * (CO_TILE / 4)}];
                let w1 = wtile[wb + ${bb * FWD_CI_STEP * (CO_TILE / 4) + 1}];
                ${unroll(4, (p) => `a${p} += x${p + bb} * w0; b${p} += x${p + bb} * w1;`, ' ')}
              }`)}
            }
          }
          workgroupBarrier();
        }
        let oy = ty0 + py;
        let cb = co0 + 8 * g;
        if (oy < H) {
          ${unroll(4, (p) => `if (tx0 + px + ${p} < Wd) {
            let base = ((n * H + oy) * Wd + tx0 + px + ${p}) * CO + cb;
            for (var j = 0; j < 4; j++) {
              if (cb + j < CO) { result[base + j] = epilogue(a${p}[j], cb + j); }
              if (cb + 4 + j < CO) { result[base + 4 + j] = epilogue(b${p}[j], cb + 4 + j); }
            }
          }`)}
        }
      }
    `,
  };
}

/**
 * First pass of the filter gradient: partial sums [G, 3, 3, Ci, Co], workgroup `part` adding up the 8x4 pixel
 * tiles part, part + G, part + 2G, ... Thread (c, q) of 256: input channel ci0 + c, output channels
 * co0 + 4q .. +3 (a vec4 per tap). Per tile row it holds the row's 8 dy vec4 and, per kernel row a, the 10
 * input values, for 72 vec4 multiply-adds.
 */
function filterPartialsProgram(xShape: number[], co: number): WebGPUProgram {
  const [n, h, w, ci] = xShape as [number, number, number, number];
  const tiles = n * Math.ceil(h / DW_TILE_H) * Math.ceil(w / DW_TILE_W);
  const parts = Math.min(MAX_PARTIALS, tiles);
  const rows = DW_TILE_H + 2, cols = DW_TILE_W + 2;
  const xLen = DW_CI_TILE * rows * cols;
  const dyLen = DW_TILE_H * DW_TILE_W * CO_TILE;
  return {
    outputShape: [parts, 9, ci, co],
    shaderKey: 'isfuseConv3x3_dw',
    variableNames: ['X', 'Dy'],
    dispatchLayout: { x: [0], y: [2], z: [3] },
    dispatch: [parts, Math.ceil(ci / DW_CI_TILE), Math.ceil(co / CO_TILE)],
    workgroupSize: [256, 1, 1],
    uniforms: 'parts : i32, iters : i32,',
    getUserCode: () => `
      var<workgroup> xtile : array<f32, ${xLen}>;              // [DW_CI_TILE][rows][cols]
      var<workgroup> dyt : array<vec4<f32>, ${dyLen / 4}>;     // [DW_TILE_H * DW_TILE_W][CO_TILE / 4]

      fn main() {
        let H = uniforms.xShape[1];
        let Wd = uniforms.xShape[2];
        let CI = uniforms.xShape[3];
        let CO = uniforms.dyShape[3];
        let tilesX = (Wd + ${DW_TILE_W - 1}) / ${DW_TILE_W};
        let tilesY = (H + ${DW_TILE_H - 1}) / ${DW_TILE_H};
        let tiles = uniforms.xShape[0] * tilesX * tilesY;
        let part = i32(workgroupId.x);
        let ci0 = i32(workgroupId.y) * ${DW_CI_TILE};
        let co0 = i32(workgroupId.z) * ${CO_TILE};
        let li = i32(localIndex);
        let c = li / ${CO_TILE / 4};
        let q = li % ${CO_TILE / 4};
        ${unroll(9, (t) => `var acc${t} = vec4<f32>(0.0);`, ' ')}
        // a loop count that is the same in every invocation (workgroupBarrier needs uniform control flow);
        // tiles past the end load zeros
        for (var j = 0; j < uniforms.iters; j++) {
          let tile = part + j * uniforms.parts;
          let live = tile < tiles;
          let n = tile / (tilesX * tilesY);
          let ty0 = ((tile / tilesX) % tilesY) * ${DW_TILE_H};
          let tx0 = (tile % tilesX) * ${DW_TILE_W};
          ${loadInputTile(xLen, rows, cols, 'live && ')}
          for (var k = li; k < ${dyLen}; k += 256) {
            let oc = co0 + k % ${CO_TILE};
            let r = k / ${CO_TILE};
            let yy = ty0 + r / ${DW_TILE_W};
            let xx = tx0 + r % ${DW_TILE_W};
            var v = 0.0;
            if (live && oc < CO && yy < H && xx < Wd) {
              v = Dy[((n * H + yy) * Wd + xx) * CO + oc];
            }
            dyt[k / 4][k % 4] = v;
          }
          workgroupBarrier();
          for (var r = 0; r < ${DW_TILE_H}; r++) {
            ${unroll(DW_TILE_W, (p) => `let d${p} = dyt[(r * ${DW_TILE_W} + ${p}) * ${CO_TILE / 4} + q];`, ' ')}
            ${unroll(3, (a) => `{
              let xb = (c * ${rows} + r + ${a}) * ${cols};
              ${unroll(cols, (k) => `let x${k} = xtile[xb + ${k}];`, ' ')}
              ${unroll(3, (b) => `acc${3 * a + b} += ${unroll(DW_TILE_W, (p) => `x${p + b} * d${p}`, ' + ')};`)}
            }`)}
          }
          workgroupBarrier();
        }
        if (ci0 + c < CI) {
          ${unroll(9, (t) => `for (var e = 0; e < 4; e++) {
            if (co0 + 4 * q + e < CO) { result[((part * 9 + ${t}) * CI + ci0 + c) * CO + co0 + 4 * q + e] = acc${t}[e]; }
          }`)}
        }
      }
    `,
  };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const f32 = (...ts: tf.TensorInfo[]): boolean => ts.every((t) => t.dtype === 'float32');

/** Conv2D (x, filter) or, `flipped`, Conv2DBackpropInput (dy, filter): the same program. */
function convKernel(flipped: boolean) {
  return (stock: KernelFn): KernelFn =>
    (args) => {
      const input = (flipped ? args.inputs.dy : args.inputs.x) as tf.TensorInfo;
      const filter = args.inputs.filter as tf.TensorInfo;
      const attrs = args.attrs as unknown as ConvAttrs & { inputShape?: number[] };
      const sameSize = !flipped || (attrs.inputShape?.[1] === input.shape[1] && attrs.inputShape?.[2] === input.shape[2]);
      if (!f32(input, filter) || input.shape.length !== 4 || !sameSize || !handled(attrs, filter.shape[0]!, filter.shape[1]!)) return stock(args);
      const program = convProgram(input.shape, filter.shape[flipped ? 2 : 3]!, flipped);
      return (args.backend as WebGPUBackend).runWebGPUProgram(program, [input, filter], 'float32');
    };
}

/** FusedConv2D (x, filter, bias) with no activation or LeakyReLU: the forward program with its epilogue. */
function fusedConv2d(stock: KernelFn): KernelFn {
  return (args) => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Record<string, tf.TensorInfo | undefined>;
    const attrs = args.attrs as unknown as ConvAttrs & { activation?: string; leakyreluAlpha?: number };
    const act = attrs.activation ?? 'linear';
    const plainBias = !!bias && bias.shape.length === 1 && bias.shape[0] === filter!.shape[3] && f32(bias);
    if (!plainBias || preluActivationWeights || (act !== 'linear' && act !== 'leakyrelu')) return stock(args);
    if (!f32(x!, filter!) || x!.shape.length !== 4 || !handled(attrs, filter!.shape[0]!, filter!.shape[1]!)) return stock(args);
    const leaky = act === 'leakyrelu';
    const program = convProgram(x!.shape, filter!.shape[3]!, false, leaky ? 'leaky' : 'bias');
    return (args.backend as WebGPUBackend).runWebGPUProgram(program, [x!, filter!, bias!], 'float32', leaky ? [{ type: 'float32', data: [attrs.leakyreluAlpha ?? 0.2] }] : undefined);
  };
}

function conv2dBackpropFilter(stock: KernelFn): KernelFn {
  return (args) => {
    const { x, dy } = args.inputs as { x: tf.TensorInfo; dy: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { filterShape: number[] };
    const [kh, kw] = attrs.filterShape;
    const sameSize = x.shape[1] === dy.shape[1] && x.shape[2] === dy.shape[2] && x.shape[0] === dy.shape[0];
    if (!f32(x, dy) || x.shape.length !== 4 || !sameSize || !handled(attrs, kh!, kw!)) return stock(args);
    const backend = args.backend as WebGPUBackend;
    const first = filterPartialsProgram(x.shape, dy.shape[3]!);
    const parts = first.outputShape[0]!;
    const tiles = x.shape[0]! * Math.ceil(x.shape[1]! / DW_TILE_H) * Math.ceil(x.shape[2]! / DW_TILE_W);
    const partials = backend.runWebGPUProgram(first, [x, dy], 'float32', [
      { type: 'int32', data: [parts] },
      { type: 'int32', data: [Math.ceil(tiles / parts)] },
    ]);
    const out = backend.runWebGPUProgram(sumPartialsProgram('isfuseConv3x3_dwsum', [3, 3, x.shape[3]!, dy.shape[3]!]), [partials], 'float32', [
      { type: 'int32', data: [parts] },
    ]);
    backend.disposeData(partials.dataId);
    return out;
  };
}

const KERNELS: ReadonlyArray<[string, (stock: KernelFn) => KernelFn]> = [
  ['Conv2D', convKernel(false)],
  ['Conv2DBackpropInput', convKernel(true)],
  ['FusedConv2D', fusedConv2d],
  ['Conv2DBackpropFilter', conv2dBackpropFilter],
];

const stockKernels = new Map<string, tf.KernelConfig>();

/** Whether {@link installWebGpuConvKernels} is in effect. */
export function webGpuConvKernelsInstalled(): boolean {
  return stockKernels.size > 0;
}

/**
 * Registers the 3x3 convolution kernels for the 'webgpu' backend (process-wide, idempotent), keeping the stock
 * ones for everything else, and makes the training code take its convolution gradients from these kernels
 * (src/model/conv-gradient.ts) rather than from forward convolutions. Needs `@tensorflow/tfjs-backend-webgpu`
 * imported first (its kernels are what is replaced).
 */
export function installWebGpuConvKernels(): void {
  if (webGpuConvKernelsInstalled()) return;
  for (const [name] of KERNELS) {
    if (!tf.getKernel(name, 'webgpu')) throw new Error(`installWebGpuConvKernels: no '${name}' kernel for webgpu (import '@tensorflow/tfjs-backend-webgpu' first)`);
  }
  for (const [name, make] of KERNELS) {
    const stock = tf.getKernel(name, 'webgpu')!;
    stockKernels.set(name, stock);
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel({ ...stock, kernelFunc: make(stock.kernelFunc as unknown as KernelFn) as unknown as tf.KernelFunc });
  }
  setNativeConvGradients('webgpu', takes);
}

/** Puts the stock webgpu kernels back (tests compare the two). */
export function uninstallWebGpuConvKernels(): void {
  for (const [name, stock] of stockKernels) {
    tf.unregisterKernel(name, 'webgpu');
    tf.registerKernel(stock);
  }
  stockKernels.clear();
  setNativeConvGradients('webgpu', undefined);
}
