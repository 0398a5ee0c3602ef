/**
 * WebGPU kernels for the convolutions ISFuse spends its time in: 3x3, stride 1, padding 1 (output the size of
 * the input), NHWC, float32 (issue 6, DESIGN.md §6). Registered in place of TensorFlow.js's own `Conv2D`,
 * `Conv2DBackpropInput` and `Conv2DBackpropFilter` webgpu kernels by {@link installWebGpuConvKernels}; any
 * other convolution (1x1, strides, dilations, NCHW, other paddings) goes to the stock kernel unchanged.
 *
 * Why by hand: the stock kernels either build im2col buffers (9x the activation, which ran an 80 GB GPU out of
 * memory at batch 16, 256x256) or, for the filter gradient, give each of the k*k*Ci*Co outputs one thread
 * that loops over every pixel of the batch (9216 threads for 32 -> 32 channels: a GPU mostly idle).
 *
 * - Forward and input gradient: one program. A workgroup of 256 threads computes an 8x8 pixel tile for
 *   32 output channels (4 groups of 8 channels, 64 pixels), walking the input channels 8 at a time through
 *   workgroup memory: the 10x10x8 input xtile (with its zero border) and the 3x3x8x32 filter slice are read
 *   from global memory once per workgroup instead of once per output. The input gradient is the same
 *   convolution of dy with the filter rotated by 180 degrees and its in/out channels swapped; only the filter
 *   read differs.
 * - Filter gradient: dW[a, b, ci, co] = sum over n, y, x of xpad[n, y+a, x+b, ci] * dy[n, y, x, co]. Each
 *   workgroup owns 8 input x 32 output channels (all 9 taps: 9 sums per thread) and a strided share of the
 *   8x8 pixel tiles of the batch, and writes its partial sums; a second pass adds the partials. No atomics,
 *   so the result is the same on every run.
 *
 * Parity with the cpu backend (forward, both gradients, odd sizes and channel counts, the fallbacks) runs in
 * headless Chromium on its software WebGPU adapter: test/webgpu/kernels.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { setNativeConvGradients } from '../conv-ops.js';

/** Output pixels per workgroup side, output channels per workgroup, input channels per workgroup-memory step. */
const TILE = 8;
const CO_TILE = 32;
const CI_STEP = 8;
const PATCH = TILE + 2;
/** Workgroups of the filter gradient's first pass, at most (each adds up a strided share of the pixel tiles). */
const MAX_PARTIALS = 256;

type Pad = 'same' | 'valid' | number | number[][];

interface ConvAttrs {
  strides: number | number[];
  pad: Pad;
  dataFormat?: string;
  dilations?: number | number[];
  dimRoundingMode?: string;
}

const isOne = (v: number | number[] | undefined): boolean => v === undefined || (Array.isArray(v) ? v.every((x) => x === 1) : v === 1);

/** Whether attrs describe a stride-1, dilation-1, NHWC convolution with one pixel of zero padding on every side. */
function handled(attrs: ConvAttrs, kh: number, kw: number): boolean {
  if (kh !== 3 || kw !== 3) return false;
  if ((attrs.dataFormat ?? 'NHWC') !== 'NHWC' || !isOne(attrs.strides) || !isOne(attrs.dilations)) return false;
  const p = attrs.pad;
  if (p === 'same' || p === 1) return true;
  return Array.isArray(p) && p.length === 4 && p[1]![0] === 1 && p[1]![1] === 1 && p[2]![0] === 1 && p[2]![1] === 1;
}

/**
 * out[n, y, x, o] = sum over a, b, i of in[n, y+a-1, x+b-1, i] * weight(a, b, i, o). `flipped`: the input
 * gradient, weight(a, b, i, o) = W[2-a, 2-b, o, i] with W the forward filter [3, 3, Cout, Cin].
 */
function convProgram(inShape: number[], outChannels: number, flipped: boolean): WebGPUProgram {
  const [n, h, w] = inShape as [number, number, number, number];
  const coTiles = Math.ceil(outChannels / CO_TILE);
  const patchLen = PATCH * PATCH * CI_STEP;
  const filterLen = 9 * CI_STEP * CO_TILE;
  // weight(t, i, o) with t = 3a + b; CI = input channels of this convolution, CO = its output channels
  const weight = flipped ? 'W[((8 - t) * CO + co) * CI + ci]' : 'W[(t * CI + ci) * CO + co]';
  return {
    outputShape: [n, h, w, outChannels],
    shaderKey: `isfuseConv3x3_${flipped ? 'dx' : 'fwd'}`,
    variableNames: ['X', 'W'],
    dispatchLayout: { x: [2], y: [1], z: [0, 3] },
    dispatch: [Math.ceil(w / TILE), Math.ceil(h / TILE), n * coTiles],
    workgroupSize: [256, 1, 1],
    getUserCode: () => `
      var<workgroup> xtile : array<f32, ${patchLen}>;       // [PATCH * PATCH][CI_STEP]
      var<workgroup> wtile : array<vec4<f32>, ${filterLen / 4}>; // [9][CI_STEP][CO_TILE / 4]

      fn main() {
        let H = uniforms.outShape[1];
        let Wd = uniforms.outShape[2];
        let CO = uniforms.outShape[3];
        let CI = uniforms.xShape[3];
        let coTiles = (CO + ${CO_TILE - 1}) / ${CO_TILE};
        let n = i32(workgroupId.z) / coTiles;
        let co0 = (i32(workgroupId.z) % coTiles) * ${CO_TILE};
        let y0 = i32(workgroupId.y) * ${TILE};
        let x0 = i32(workgroupId.x) * ${TILE};
        let li = i32(localIndex);
        let p = li % ${TILE * TILE};
        let g = li / ${TILE * TILE};        // output channels co0 + 8g .. co0 + 8g + 7
        let py = p / ${TILE};
        let px = p % ${TILE};
        var acc0 = vec4<f32>(0.0);
        var acc1 = vec4<f32>(0.0);
        for (var ci0 = 0; ci0 < CI; ci0 += ${CI_STEP}) {
          for (var k = li; k < ${patchLen}; k += 256) {
            let c = ci0 + k % ${CI_STEP};
            let q = k / ${CI_STEP};
            let yy = y0 + q / ${PATCH} - 1;
            let xx = x0 + q % ${PATCH} - 1;
            var v = 0.0;
            if (c < CI && yy >= 0 && yy < H && xx >= 0 && xx < Wd) {
              v = X[((n * H + yy) * Wd + xx) * CI + c];
            }
            xtile[k] = v;
          }
          for (var k = li; k < ${filterLen}; k += 256) {
            let co = co0 + k % ${CO_TILE};
            let ci = ci0 + (k / ${CO_TILE}) % ${CI_STEP};
            let t = k / ${CO_TILE * CI_STEP};
            var v = 0.0;
            if (co < CO && ci < CI) {
              v = ${weight};
            }
            wtile[k / 4][k % 4] = v;
          }
          workgroupBarrier();
          for (var t = 0; t < 9; t++) {
            let q = ((py + t / 3) * ${PATCH} + px + t % 3) * ${CI_STEP};
            for (var c = 0; c < ${CI_STEP}; c++) {
              let xv = xtile[q + c];
              let wb = (t * ${CI_STEP} + c) * ${CO_TILE / 4} + 2 * g;
              acc0 += xv * wtile[wb];
              acc1 += xv * wtile[wb + 1];
            }
          }
          workgroupBarrier();
        }
        let oy = y0 + py;
        let ox = x0 + px;
        if (oy < H && ox < Wd) {
          let cb = co0 + 8 * g;
          let base = ((n * H + oy) * Wd + ox) * CO + cb;
          for (var j = 0; j < 4; j++) {
            if (cb + j < CO) { result[base + j] = acc0[j]; }
            if (cb + 4 + j < CO) { result[base + 4 + j] = acc1[j]; }
          }
        }
      }
    `,
  };
}

/** First pass of the filter gradient: partial sums [G, 3, 3, Ci, Co] over strided shares of the 8x8 tiles. */
function filterPartialsProgram(xShape: number[], co: number): WebGPUProgram {
  const [n, h, w, ci] = xShape as [number, number, number, number];
  const tiles = n * Math.ceil(h / TILE) * Math.ceil(w / TILE);
  const parts = Math.min(MAX_PARTIALS, tiles);
  const patchLen = PATCH * PATCH * CI_STEP;
  const dyLen = TILE * TILE * CO_TILE;
  return {
    outputShape: [parts, 9, ci, co],
    shaderKey: 'isfuseConv3x3_dw',
    variableNames: ['X', 'Dy'],
    dispatchLayout: { x: [0], y: [2], z: [3] },
    dispatch: [parts, Math.ceil(ci / CI_STEP), Math.ceil(co / CO_TILE)],
    workgroupSize: [256, 1, 1],
    uniforms: 'parts : i32, iters : i32,',
    getUserCode: () => `
      var<workgroup> xtile : array<f32, ${patchLen}>;  // [PATCH * PATCH][CI_STEP]
      var<workgroup> dyt : array<f32, ${dyLen}>;       // [TILE * TILE][CO_TILE]

      fn main() {
        let H = uniforms.xShape[1];
        let Wd = uniforms.xShape[2];
        let CI = uniforms.xShape[3];
        let CO = uniforms.dyShape[3];
        let tilesX = (Wd + ${TILE - 1}) / ${TILE};
        let tilesY = (H + ${TILE - 1}) / ${TILE};
        let tiles = uniforms.xShape[0] * tilesX * tilesY;
        let part = i32(workgroupId.x);
        let ci0 = i32(workgroupId.y) * ${CI_STEP};
        let co0 = i32(workgroupId.z) * ${CO_TILE};
        let li = i32(localIndex);
        let c = li / ${CO_TILE};           // input channel ci0 + c
        let o = li % ${CO_TILE};           // output channel co0 + o
        var acc : array<f32, 9>;
        for (var t = 0; t < 9; t++) { acc[t] = 0.0; }
        // a loop count that is the same in every invocation (workgroupBarrier needs uniform control flow);
        // tiles past the end load zeros
        for (var j = 0; j < uniforms.iters; j++) {
          let tile = part + j * uniforms.parts;
          let live = tile < tiles;
          let n = tile / (tilesX * tilesY);
          let y0 = ((tile / tilesX) % tilesY) * ${TILE};
          let x0 = (tile % tilesX) * ${TILE};
          for (var k = li; k < ${patchLen}; k += 256) {
            let cc = ci0 + k % ${CI_STEP};
            let q = k / ${CI_STEP};
            let yy = y0 + q / ${PATCH} - 1;
            let xx = x0 + q % ${PATCH} - 1;
            var v = 0.0;
            if (live && cc < CI && yy >= 0 && yy < H && xx >= 0 && xx < Wd) {
              v = X[((n * H + yy) * Wd + xx) * CI + cc];
            }
            xtile[k] = v;
          }
          for (var k = li; k < ${dyLen}; k += 256) {
            let oc = co0 + k % ${CO_TILE};
            let q = k / ${CO_TILE};
            let yy = y0 + q / ${TILE};
            let xx = x0 + q % ${TILE};
            var v = 0.0;
            if (live && oc < CO && yy < H && xx < Wd) {
              v = Dy[((n * H + yy) * Wd + xx) * CO + oc];
            }
            dyt[k] = v;
          }
          workgroupBarrier();
          for (var q = 0; q < ${TILE * TILE}; q++) {
            let d = dyt[q * ${CO_TILE} + o];
            let pb = ((q / ${TILE}) * ${PATCH} + q % ${TILE}) * ${CI_STEP} + c;
            for (var t = 0; t < 9; t++) {
              acc[t] += xtile[pb + ((t / 3) * ${PATCH} + t % 3) * ${CI_STEP}] * d;
            }
          }
          workgroupBarrier();
        }
        if (ci0 + c < CI && co0 + o < CO) {
          for (var t = 0; t < 9; t++) {
            result[((part * 9 + t) * CI + ci0 + c) * CO + co0 + o] = acc[t];
          }
        }
      }
    `,
  };
}

/** Second pass: sums the [G, K] partials over G (one thread per output, G reads each). */
function sumPartialsProgram(parts: number, outShape: number[]): WebGPUProgram {
  const size = outShape.reduce((a, b) => a * b, 1);
  return {
    outputShape: outShape,
    shaderKey: 'isfuseConv3x3_dwsum',
    variableNames: ['P'],
    dispatchLayout: { x: [0, 1, 2, 3] },
    dispatch: [Math.ceil(size / 64), 1, 1],
    workgroupSize: [64, 1, 1],
    size: true,
    uniforms: 'parts : i32,',
    getUserCode: () => `
      fn main(index : i32) {
        if (index < uniforms.size) {
          var s = 0.0;
          for (var g = 0; g < uniforms.parts; g++) {
            s += P[g * uniforms.size + index];
          }
          result[index] = s;
        }
      }
    `,
  };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };
type KernelFn = (args: KernelArgs) => tf.TensorInfo | tf.TensorInfo[];

const f32 = (...ts: tf.TensorInfo[]): boolean => ts.every((t) => t.dtype === 'float32');

function conv2d(stock: KernelFn): KernelFn {
  return (args) => {
    const { x, filter } = args.inputs as { x: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs;
    if (!f32(x, filter) || x.shape.length !== 4 || !handled(attrs, filter.shape[0]!, filter.shape[1]!)) return stock(args);
    const program = convProgram(x.shape, filter.shape[3]!, false);
    return (args.backend as WebGPUBackend).runWebGPUProgram(program, [x, filter], 'float32');
  };
}

function conv2dBackpropInput(stock: KernelFn): KernelFn {
  return (args) => {
    const { dy, filter } = args.inputs as { dy: tf.TensorInfo; filter: tf.TensorInfo };
    const attrs = args.attrs as unknown as ConvAttrs & { inputShape: number[] };
    const sameSize = attrs.inputShape[1] === dy.shape[1] && attrs.inputShape[2] === dy.shape[2];
    if (!f32(dy, filter) || dy.shape.length !== 4 || !sameSize || !handled(attrs, filter.shape[0]!, filter.shape[1]!)) return stock(args);
    const program = convProgram(dy.shape, filter.shape[2]!, true);
    return (args.backend as WebGPUBackend).runWebGPUProgram(program, [dy, filter], 'float32');
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
    const tiles = x.shape[0]! * Math.ceil(x.shape[1]! / TILE) * Math.ceil(x.shape[2]! / TILE);
    const partials = backend.runWebGPUProgram(first, [x, dy], 'float32', [
      { type: 'int32', data: [parts] },
      { type: 'int32', data: [Math.ceil(tiles / parts)] },
    ]);
    const out = backend.runWebGPUProgram(sumPartialsProgram(parts, [3, 3, x.shape[3]!, dy.shape[3]!]), [partials], 'float32', [
      { type: 'int32', data: [parts] },
    ]);
    backend.disposeData(partials.dataId);
    return out;
  };
}

const KERNELS: ReadonlyArray<[string, (stock: KernelFn) => KernelFn]> = [
  ['Conv2D', conv2d],
  ['Conv2DBackpropInput', conv2dBackpropInput],
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
 * (src/model/conv-ops.ts) rather than from forward convolutions. Needs `@tensorflow/tfjs-backend-webgpu`
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
  setNativeConvGradients('webgpu', (kh, kw, pad) => kh === 3 && kw === 3 && pad.every((v) => v === 1));
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
