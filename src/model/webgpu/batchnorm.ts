/**
 * WebGPU kernels for the training-mode BatchNorm + LeakyReLU that follows every 3x3 convolution of ISFuse
 * (the `cblTrain` block of src/model/train-ops.ts). With the stock kernels the block's forward is
 * five passes over the conv output (two channel sums as products with a row of ones, a squared difference,
 * BatchNorm, PReLU) and its backward seven; here it is two each:
 *
 * - {@link BN_STATS} z [.., C] -> [2, C]: batch mean and biased variance, one read of z. Sums are of z minus the
 *   channel's first value (the shifted-data algorithm: no catastrophic cancellation when the mean is large
 *   against the spread), per workgroup; two small passes add the partials and finish mean and variance.
 * - {@link BN_LEAKY} (z, stats, gamma, beta) -> LeakyReLU(gamma (z - mean) / sqrt(var + eps) + beta).
 * - {@link BN_LEAKY_GRAD_SUMS} (dy, y, z, stats) -> [2, C]: sum dv and sum dv (z - mean), dv = dy * (y > 0 ? 1 :
 *   slope): what dbeta and dgamma are made of.
 * - {@link BN_LEAKY_GRAD} (dy, y, z, coef [3, C]) -> dz = a dv + k1 z + k0 per channel.
 *
 * Registered for the 'webgpu' backend only; train-ops.ts uses them when the active backend has them.
 * Parity with the plain compositions on the cpu backend: test/webgpu/model.test.ts (the training block).
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';
import { channelMapProgram, sumPartialsProgram } from './programs.js';

export const BN_STATS = 'IsfuseBnStats';
export const BN_LEAKY = 'IsfuseBnLeaky';
export const BN_LEAKY_GRAD_SUMS = 'IsfuseBnLeakyGradSums';
export const BN_LEAKY_GRAD = 'IsfuseBnLeakyGrad';

/** Channels per workgroup and rows walked in parallel by the channel-sum programs (256 threads). */
const CH = 32;
const LANES = 8;
/** Workgroups of a channel-sum first pass, at most. */
const MAX_PARTS = 256;

/**
 * First pass of a per-channel pair of sums over the rows of [M, C] tensors: workgroup g adds rows
 * g*LANES + lane, + parts*LANES, ... into (s0, s1) with `body` (WGSL; sees i = flat index, c = channel, and
 * the inputs by name), then writes partials [parts, 2, C].
 */
function channelSumsProgram(key: string, variableNames: string[], rows: number, channels: number, body: string, uniforms = ''): WebGPUProgram {
  const parts = Math.max(1, Math.min(MAX_PARTS, Math.ceil(rows / (LANES * 64))));
  return {
    outputShape: [parts, 2, channels],
    shaderKey: key,
    variableNames,
    dispatchLayout: { x: [0], y: [2] },
    dispatch: [parts, Math.ceil(channels / CH), 1],
    workgroupSize: [LANES * CH, 1, 1],
    uniforms: `rows : i32, channels : i32, ${uniforms}`,
    getUserCode: () => `
      var<workgroup> red : array<vec2<f32>, ${LANES * CH}>;

      fn main() {
        let C = uniforms.channels;
        let lane = i32(localIndex) / ${CH};
        let c = i32(workgroupId.y) * ${CH} + i32(localIndex) % ${CH};
        let parts = i32(numWorkgroups.x);
        var s0 = 0.0;
        var s1 = 0.0;
        if (c < C) {
          for (var r = i32(workgroupId.x) * ${LANES} + lane; r < uniforms.rows; r += parts * ${LANES}) {
            let i = r * C + c;
            ${body}
          }
        }
        red[localIndex] = vec2<f32>(s0, s1);
        workgroupBarrier();
        if (lane == 0 && c < C) {
          var t = vec2<f32>(0.0);
          for (var l = 0; l < ${LANES}; l++) {
            t += red[u32(l * ${CH}) + localIndex];
          }
          result[(i32(workgroupId.x) * 2) * C + c] = t.x;
          result[(i32(workgroupId.x) * 2 + 1) * C + c] = t.y;
        }
      }
    `,
  };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend; attrs?: tf.NamedAttrMap };

/** Runs a channel-sum program (uniforms rows, channels, then `extra`) and adds its partials: [2, C]. */
function sums(backend: WebGPUBackend, first: WebGPUProgram, inputs: tf.TensorInfo[], rows: number, channels: number, extra: Array<{ type: string; data: number[] }> = []): tf.TensorInfo {
  const partials = backend.runWebGPUProgram(first, inputs, 'float32', [
    { type: 'int32', data: [rows] },
    { type: 'int32', data: [channels] },
    ...extra,
  ]);
  const out = backend.runWebGPUProgram(sumPartialsProgram(`${first.shaderKey}Sum`, [2, channels]), [partials], 'float32', [
    { type: 'int32', data: [first.outputShape[0]!] },
  ]);
  backend.disposeData(partials.dataId);
  return out;
}

const dims = (t: tf.TensorInfo): [number, number] => {
  const c = t.shape[t.shape.length - 1]!;
  return [t.shape.reduce((a, b) => a * b, 1) / c, c];
};

function bnStats({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { z } = inputs as { z: tf.TensorInfo };
  const [rows, c] = dims(z);
  const b = backend as WebGPUBackend;
  const first = channelSumsProgram('isfuseBnStats', ['Z'], rows, c, 'let d = Z[i] - Z[c]; s0 += d; s1 += d * d;');
  const s = sums(b, first, [z], rows, c);
  // mean = K + S0/M, var = S1/M - (S0/M)^2, with K = z[0, c] the shift
  const finish = channelMapProgram('isfuseBnStatsFinish', ['S', 'Z'], [2, c], 'select(max(0.0, S[C + c] / uniforms.rows - (S[c] / uniforms.rows) * (S[c] / uniforms.rows)), Z[c] + S[c] / uniforms.rows, i < C)', 'rows : f32,');
  const out = b.runWebGPUProgram(finish, [s, z], 'float32', [
    { type: 'int32', data: [c] },
    { type: 'float32', data: [rows] },
  ]);
  b.disposeData(s.dataId);
  return out;
}

function bnLeaky({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { z, stats, gamma, beta } = inputs as Record<string, tf.TensorInfo>;
  const { eps, slope } = attrs as { eps: number; slope: number };
  const [, c] = dims(z!);
  const program = channelMapProgram(
    'isfuseBnLeaky', ['Z', 'S', 'G', 'B'], z!.shape,
    'bnLeaky(G[c] * (Z[i] - S[c]) * inverseSqrt(S[C + c] + uniforms.eps) + B[c])', 'eps : f32, slope : f32,',
    'fn bnLeaky(v : f32) -> f32 { return select(v * uniforms.slope, v, v > 0.0); }',
  );
  return (backend as WebGPUBackend).runWebGPUProgram(program, [z!, stats!, gamma!, beta!], 'float32', [
    { type: 'int32', data: [c] },
    { type: 'float32', data: [eps] },
    { type: 'float32', data: [slope] },
  ]);
}

const DV = 'select(uniforms.slope, 1.0, Y[i] > 0.0) * Dy[i]';

function bnLeakyGradSums({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, y, z, stats } = inputs as Record<string, tf.TensorInfo>;
  const { slope } = attrs as { slope: number };
  const [rows, c] = dims(z!);
  const first = channelSumsProgram('isfuseBnGradSums', ['Dy', 'Y', 'Z', 'S'], rows, c, `let dv = ${DV}; s0 += dv; s1 += dv * (Z[i] - S[c]);`, 'slope : f32,');
  return sums(backend as WebGPUBackend, first, [dy!, y!, z!, stats!], rows, c, [{ type: 'float32', data: [slope] }]);
}

function bnLeakyGrad({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const { dy, y, z, coef } = inputs as Record<string, tf.TensorInfo>;
  const { slope } = attrs as { slope: number };
  const [, c] = dims(z!);
  const program = channelMapProgram('isfuseBnLeakyGrad', ['Dy', 'Y', 'Z', 'K'], z!.shape, `K[c] * ${DV} + K[C + c] * Z[i] + K[2 * C + c]`, 'slope : f32,');
  return (backend as WebGPUBackend).runWebGPUProgram(program, [dy!, y!, z!, coef!], 'float32', [
    { type: 'int32', data: [c] },
    { type: 'float32', data: [slope] },
  ]);
}

const KERNELS: ReadonlyArray<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  [BN_STATS, bnStats],
  [BN_LEAKY, bnLeaky],
  [BN_LEAKY_GRAD_SUMS, bnLeakyGradSums],
  [BN_LEAKY_GRAD, bnLeakyGrad],
];

/** Registers the four kernels for 'webgpu' (idempotent). */
export function installWebGpuBatchNormKernels(): void {
  for (const [name, fn] of KERNELS) {
    if (!tf.getKernel(name, 'webgpu')) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

export function uninstallWebGpuBatchNormKernels(): void {
  for (const [name] of KERNELS) if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
}
