/**
 * The CFI's pooled cross-attention in one WebGPU pass (issue 6): out = softmax(rows M + c) V per sample, with
 * rows [N, P, Ci] the query features, M [N, Ci, T] the query convolution folded into the pooled keys, c [N, 1, T]
 * the query bias's logits and V [N, T, C] the pooled values (src/model/train-ops.ts builds them). The stock path
 * is a product, an addition, a softmax (max, subtract, exp, sum, divide) and a second product over [P, T]
 * scores; here each thread takes one query row through the scores, an online softmax (running maximum and sum,
 * tokens 32 at a time) and the weighted sum of the values, reading M and V from workgroup memory, and the
 * [P, T] scores are never written. For the gradient (train-ops.ts), {@link ATTEND_PROBS} recomputes p and
 * {@link ATTEND_GRAD} the gradient at the logits, each in one pass over the rows (the stock path: a product,
 * an addition, a softmax, a second product and four elementwise passes); the products that follow are stock.
 *
 * Registered for 'webgpu' only; parity: test/webgpu/model.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const ATTEND = 'IsfuseAttend';
/** (rows, m, c) -> p = softmax(rows M + c) [N, P, T], one pass (for the gradient's dV = p^T dy). */
export const ATTEND_PROBS = 'IsfuseAttendProbs';
/** (rows, m, c, v, dy) -> dL = p (dp - rowsum(dp p)), dp = dy V^T: the gradient at the logits, one pass. */
export const ATTEND_GRAD = 'IsfuseAttendGrad';

/** Tokens per workgroup-memory step, and query rows per workgroup (one per thread). */
const T_STEP = 32;
const ROWS = 64;

/** Whether the kernel takes these sizes (else the caller composes stock ops). */
export function attendHandles(ci: number, t: number, c: number): boolean {
  return t % T_STEP === 0 && ci <= 64 && c <= 64 && c % 4 === 0;
}

function attendProgram(n: number, p: number, ci: number, t: number, c: number): WebGPUProgram {
  const c4 = c / 4;
  return {
    outputShape: [n, p, c],
    shaderKey: `isfuseAttend_${ci}_${t}_${c}`,
    variableNames: ['R', 'M', 'Cb', 'V'],
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(p / ROWS), n, 1],
    workgroupSize: [ROWS, 1, 1],
    getUserCode: () => `
      var<workgroup> sm : array<f32, ${ci * T_STEP}>;        // M[n, :, t0 .. t0 + T_STEP), [Ci][T_STEP]
      var<workgroup> sv : array<vec4<f32>, ${T_STEP * c4}>;  // V[n, t0 .. t0 + T_STEP, :], [T_STEP][C / 4]
      var<workgroup> sc : array<f32, ${T_STEP}>;

      fn main() {
        let P = uniforms.outShape[1];
        let n = i32(workgroupId.y);
        let row = i32(workgroupId.x) * ${ROWS} + i32(localIndex);
        let live = row < P;
        var q : array<f32, ${ci}>;
        if (live) {
          for (var i = 0; i < ${ci}; i++) { q[i] = R[(n * P + row) * ${ci} + i]; }
        }
        var acc : array<vec4<f32>, ${c4}>;
        var mRun = -3.4e38;
        var lRun = 0.0;
        for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
          for (var k = i32(localIndex); k < ${ci * T_STEP}; k += ${ROWS}) {
            sm[k] = M[(n * ${ci} + k / ${T_STEP}) * ${t} + t0 + k % ${T_STEP}];
          }
          for (var k = i32(localIndex); k < ${T_STEP * c4}; k += ${ROWS}) {
            let base = (n * ${t} + t0 + k / ${c4}) * ${c} + (k % ${c4}) * 4;
            sv[k] = vec4<f32>(V[base], V[base + 1], V[base + 2], V[base + 3]);
          }
          if (i32(localIndex) < ${T_STEP}) { sc[localIndex] = Cb[n * ${t} + t0 + i32(localIndex)]; }
          workgroupBarrier();
          var s : array<f32, ${T_STEP}>;
          var mNew = mRun;
          for (var j = 0; j < ${T_STEP}; j++) {
            var v = sc[j];
            for (var i = 0; i < ${ci}; i++) { v += q[i] * sm[i * ${T_STEP} + j]; }
            s[j] = v;
            mNew = max(mNew, v);
          }
          let scale = exp(mRun - mNew);
          lRun *= scale;
          for (var e = 0; e < ${c4}; e++) { acc[e] *= scale; }
          for (var j = 0; j < ${T_STEP}; j++) {
            let w = exp(s[j] - mNew);
            lRun += w;
            for (var e = 0; e < ${c4}; e++) { acc[e] += w * sv[j * ${c4} + e]; }
          }
          mRun = mNew;
          workgroupBarrier();
        }
        if (live) {
          let base = (n * P + row) * ${c};
          for (var e = 0; e < ${c4}; e++) {
            let o = acc[e] / lRun;
            result[base + 4 * e] = o.x;
            result[base + 4 * e + 1] = o.y;
            result[base + 4 * e + 2] = o.z;
            result[base + 4 * e + 3] = o.w;
          }
        }
      }
    `,
  };
}

/**
 * One thread per query row again: the logits over all T tokens (M 32 tokens at a time through workgroup
 * memory), their softmax p; `grad`: then dp_t = dy . V_t (V in the same steps) and dL = p (dp - sum p dp).
 * Writes p or dL, [N, P, T].
 */
function attendRowsProgram(n: number, p: number, ci: number, t: number, c: number, grad: boolean): WebGPUProgram {
  const c4 = c / 4;
  return {
    outputShape: [n, p, t],
    shaderKey: `isfuseAttend${grad ? 'Grad' : 'Probs'}_${ci}_${t}_${c}`,
    variableNames: grad ? ['R', 'M', 'Cb', 'V', 'Dy'] : ['R', 'M', 'Cb'],
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(p / ROWS), n, 1],
    workgroupSize: [ROWS, 1, 1],
    getUserCode: () => `
      var<workgroup> sm : array<f32, ${ci * T_STEP}>;        // M[n, :, t0 .. t0 + T_STEP), [Ci][T_STEP]
      var<workgroup> sc : array<f32, ${T_STEP}>;
      ${grad ? `var<workgroup> sv : array<vec4<f32>, ${T_STEP * c4}>;  // V[n, t0 .. t0 + T_STEP, :]` : ''}

      fn main() {
        let P = uniforms.outShape[1];
        let n = i32(workgroupId.y);
        let row = i32(workgroupId.x) * ${ROWS} + i32(localIndex);
        let live = row < P;
        var q : array<f32, ${ci}>;
        if (live) {
          for (var i = 0; i < ${ci}; i++) { q[i] = R[(n * P + row) * ${ci} + i]; }
        }
        var s : array<f32, ${t}>;
        for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
          for (var k = i32(localIndex); k < ${ci * T_STEP}; k += ${ROWS}) {
            sm[k] = M[(n * ${ci} + k / ${T_STEP}) * ${t} + t0 + k % ${T_STEP}];
          }
          if (i32(localIndex) < ${T_STEP}) { sc[localIndex] = Cb[n * ${t} + t0 + i32(localIndex)]; }
          workgroupBarrier();
          for (var j = 0; j < ${T_STEP}; j++) {
            var v = sc[j];
            for (var i = 0; i < ${ci}; i++) { v += q[i] * sm[i * ${T_STEP} + j]; }
            s[t0 + j] = v;
          }
          workgroupBarrier();
        }
        var mx = s[0];
        for (var j = 1; j < ${t}; j++) { mx = max(mx, s[j]); }
        var l = 0.0;
        for (var j = 0; j < ${t}; j++) { s[j] = exp(s[j] - mx); l += s[j]; }
        for (var j = 0; j < ${t}; j++) { s[j] = s[j] / l; }
        ${grad ? `
        var d : array<vec4<f32>, ${c4}>;
        if (live) {
          for (var e = 0; e < ${c4}; e++) {
            let b = (n * P + row) * ${c} + 4 * e;
            d[e] = vec4<f32>(Dy[b], Dy[b + 1], Dy[b + 2], Dy[b + 3]);
          }
        }
        var dp : array<f32, ${t}>;
        for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
          for (var k = i32(localIndex); k < ${T_STEP * c4}; k += ${ROWS}) {
            let base = (n * ${t} + t0 + k / ${c4}) * ${c} + (k % ${c4}) * 4;
            sv[k] = vec4<f32>(V[base], V[base + 1], V[base + 2], V[base + 3]);
          }
          workgroupBarrier();
          for (var j = 0; j < ${T_STEP}; j++) {
            var v = 0.0;
            for (var e = 0; e < ${c4}; e++) { v += dot(d[e], sv[j * ${c4} + e]); }
            dp[t0 + j] = v;
          }
          workgroupBarrier();
        }
        var sd = 0.0;
        for (var j = 0; j < ${t}; j++) { sd += s[j] * dp[j]; }
        for (var j = 0; j < ${t}; j++) { s[j] = s[j] * (dp[j] - sd); }` : ''}
        if (live) {
          for (var j = 0; j < ${t}; j++) { result[(n * P + row) * ${t} + j] = s[j]; }
        }
      }
    `,
  };
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend };

function attend({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { rows, m, c, v } = inputs as Record<string, tf.TensorInfo>;
  const [n, p, ci] = rows!.shape as [number, number, number];
  const [, t, ch] = v!.shape as [number, number, number];
  if (!attendHandles(ci, t, ch)) throw new Error(`${ATTEND}: unsupported sizes Ci ${ci}, T ${t}, C ${ch} (check attendHandles first)`);
  return (backend as WebGPUBackend).runWebGPUProgram(attendProgram(n, p, ci, t, ch), [rows!, m!, c!, v!], 'float32');
}

function attendRows(grad: boolean) {
  return ({ inputs, backend }: KernelArgs): tf.TensorInfo => {
    const { rows, m, c, v, dy } = inputs as Record<string, tf.TensorInfo>;
    const [n, p, ci] = rows!.shape as [number, number, number];
    const t = m!.shape[2]!;
    const ch = grad ? v!.shape[2]! : 4;
    const program = attendRowsProgram(n, p, ci, t, ch, grad);
    return (backend as WebGPUBackend).runWebGPUProgram(program, grad ? [rows!, m!, c!, v!, dy!] : [rows!, m!, c!], 'float32');
  };
}

const KERNELS: ReadonlyArray<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  [ATTEND, attend],
  [ATTEND_PROBS, attendRows(false)],
  [ATTEND_GRAD, attendRows(true)],
];

/** Registers the attention kernels for 'webgpu' (idempotent). */
export function installWebGpuAttentionKernel(): void {
  for (const [name, fn] of KERNELS) {
    if (!tf.getKernel(name, 'webgpu')) tf.registerKernel({ kernelName: name, backendName: 'webgpu', kernelFunc: fn as unknown as tf.KernelFunc });
  }
}

export function uninstallWebGpuAttentionKernel(): void {
  for (const [name] of KERNELS) if (tf.getKernel(name, 'webgpu')) tf.unregisterKernel(name, 'webgpu');
}
