/**
 * The CFI's pooled cross-attention in one WebGPU pass: out = softmax(rows M + c) V per sample, with
 * rows [N, P, Ci] the query features, M [N, Ci, T] the query convolution folded into the pooled keys, c [N, 1, T]
 * the query bias's logits and V [N, T, C] the pooled values (src/model/train-ops.ts builds them). The stock path
 * is a product, an addition, a softmax (max, subtract, exp, sum, divide) and a second product over [P, T]
 * scores; here each thread takes one query row through the scores, an online softmax (running maximum and sum,
 * tokens 32 at a time) and the weighted sum of the values, reading M and V from workgroup memory, and the
 * [P, T] scores are never written. For the gradient (train-ops.ts), {@link ATTEND_PROBS} recomputes p and
 * {@link ATTEND_GRAD} turns p into the gradient at the logits, each in one pass over the rows (the stock path: a
 * product, an addition, a softmax, a second product and four elementwise passes); the products that follow
 * are stock.
 *
 * Registered for 'webgpu' only; parity: test/webgpu/model.test.ts.
 */
import * as tf from '@tensorflow/tfjs';
import type { WebGPUBackend, WebGPUProgram } from '@tensorflow/tfjs-backend-webgpu';

export const ATTEND = 'IsfuseAttend';
/** (rows, m, c) -> p = softmax(rows M + c) [N, P, T], one pass (for the gradient's dV = p^T dy). */
export const ATTEND_PROBS = 'IsfuseAttendProbs';
/** (p, v, dy) -> dL = p (dp - rowsum(dp p)), dp = dy V^T: the gradient at the logits, one pass. */
export const ATTEND_GRAD = 'IsfuseAttendGrad';

/** Tokens per workgroup-memory step, and query rows per workgroup (one per thread). */
const T_STEP = 32;
const ROWS = 64;

/** Whether the kernel takes these sizes (else the caller composes stock ops). */
export function attendHandles(ci: number, t: number, c: number): boolean {
  return t % T_STEP === 0 && ci <= 64 && c <= 64 && c % 4 === 0;
}

/*
 * The three programs share their frame: one thread per query row of sample n (`live` when the row exists;
 * dead threads still take part in the barriers), tokens T_STEP at a time through workgroup memory. The WGSL
 * pieces below are spliced into each.
 */

/** A program over the P query rows of N samples, writing [N, P, last]: `memory` declarations, then `main`'s body. */
function rowsProgram(key: string, variableNames: string[], n: number, p: number, last: number, memory: string, body: string): WebGPUProgram {
  return {
    outputShape: [n, p, last],
    shaderKey: key,
    variableNames,
    dispatchLayout: { x: [1], y: [0] },
    dispatch: [Math.ceil(p / ROWS), n, 1],
    workgroupSize: [ROWS, 1, 1],
    getUserCode: () => `
      ${memory}
      fn main() {
        let P = uniforms.outShape[1];
        let n = i32(workgroupId.y);
        let row = i32(workgroupId.x) * ${ROWS} + i32(localIndex);
        let live = row < P;
        ${body}
      }
    `,
  };
}

/** Workgroup memory for a step of keys (M, c) and of values (V). */
const keysMemory = (ci: number) => `
  var<workgroup> sm : array<f32, ${ci * T_STEP}>;  // M[n, :, t0 .. t0 + T_STEP), [Ci][T_STEP]
  var<workgroup> sc : array<f32, ${T_STEP}>;`;
const valuesMemory = (c: number) => `
  var<workgroup> sv : array<vec4<f32>, ${T_STEP * (c / 4)}>;  // V[n, t0 .. t0 + T_STEP, :], [T_STEP][C / 4]`;

/** The row's query q [Ci] (zeros for a dead thread). */
const loadQuery = (ci: number) => `
  var q : array<f32, ${ci}>;
  if (live) {
    for (var i = 0; i < ${ci}; i++) { q[i] = R[(n * P + row) * ${ci} + i]; }
  }`;

/** Tokens t0 .. t0 + T_STEP of M and c into workgroup memory. */
const loadKeys = (ci: number, t: number) => `
  for (var k = i32(localIndex); k < ${ci * T_STEP}; k += ${ROWS}) {
    sm[k] = M[(n * ${ci} + k / ${T_STEP}) * ${t} + t0 + k % ${T_STEP}];
  }
  if (i32(localIndex) < ${T_STEP}) { sc[localIndex] = Cb[n * ${t} + t0 + i32(localIndex)]; }`;

/** Tokens t0 .. t0 + T_STEP of V into workgroup memory. */
const loadValues = (t: number, c: number) => `
  for (var k = i32(localIndex); k < ${T_STEP * (c / 4)}; k += ${ROWS}) {
    let base = (n * ${t} + t0 + k / ${c / 4}) * ${c} + (k % ${c / 4}) * 4;
    sv[k] = vec4<f32>(V[base], V[base + 1], V[base + 2], V[base + 3]);
  }`;

/** `v` = the logit of token t0 + j. */
const logit = (ci: number) => `
  var v = sc[j];
  for (var i = 0; i < ${ci}; i++) { v += q[i] * sm[i * ${T_STEP} + j]; }`;

/** Forward: scores, online softmax (running maximum mRun and sum lRun) and the weighted sum, [N, P, C]. */
function attendProgram(n: number, p: number, ci: number, t: number, c: number): WebGPUProgram {
  const c4 = c / 4;
  return rowsProgram(`isfuseAttend_${ci}_${t}_${c}`, ['R', 'M', 'Cb', 'V'], n, p, c, keysMemory(ci) + valuesMemory(c), `
    ${loadQuery(ci)}
    var acc : array<vec4<f32>, ${c4}>;
    var mRun = -3.4e38;
    var lRun = 0.0;
    for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
      ${loadKeys(ci, t)}
      ${loadValues(t, c)}
      workgroupBarrier();
      var s : array<f32, ${T_STEP}>;
      var mNew = mRun;
      for (var j = 0; j < ${T_STEP}; j++) {
        ${logit(ci)}
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
    }`);
}

/** p = softmax of the row's logits over all T tokens, [N, P, T]. */
function probsProgram(n: number, p: number, ci: number, t: number): WebGPUProgram {
  return rowsProgram(`isfuseAttendProbs_${ci}_${t}`, ['R', 'M', 'Cb'], n, p, t, keysMemory(ci), `
    ${loadQuery(ci)}
    var s : array<f32, ${t}>;
    for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
      ${loadKeys(ci, t)}
      workgroupBarrier();
      for (var j = 0; j < ${T_STEP}; j++) {
        ${logit(ci)}
        s[t0 + j] = v;
      }
      workgroupBarrier();
    }
    var mx = s[0];
    for (var j = 1; j < ${t}; j++) { mx = max(mx, s[j]); }
    var l = 0.0;
    for (var j = 0; j < ${t}; j++) { s[j] = exp(s[j] - mx); l += s[j]; }
    if (live) {
      for (var j = 0; j < ${t}; j++) { result[(n * P + row) * ${t} + j] = s[j] / l; }
    }`);
}

/** dL = p (dp - sum p dp) with dp_t = dy . V_t, from p [N, P, T], V and dy; [N, P, T]. */
function gradProgram(n: number, p: number, t: number, c: number): WebGPUProgram {
  const c4 = c / 4;
  return rowsProgram(`isfuseAttendGrad_${t}_${c}`, ['Pr', 'V', 'Dy'], n, p, t, valuesMemory(c), `
    var d : array<vec4<f32>, ${c4}>;
    if (live) {
      for (var e = 0; e < ${c4}; e++) {
        let b = (n * P + row) * ${c} + 4 * e;
        d[e] = vec4<f32>(Dy[b], Dy[b + 1], Dy[b + 2], Dy[b + 3]);
      }
    }
    var dp : array<f32, ${t}>;
    for (var t0 = 0; t0 < ${t}; t0 += ${T_STEP}) {
      ${loadValues(t, c)}
      workgroupBarrier();
      for (var j = 0; j < ${T_STEP}; j++) {
        var v = 0.0;
        for (var e = 0; e < ${c4}; e++) { v += dot(d[e], sv[j * ${c4} + e]); }
        dp[t0 + j] = v;
      }
      workgroupBarrier();
    }
    if (live) {
      let base = (n * P + row) * ${t};
      var sd = 0.0;
      for (var j = 0; j < ${t}; j++) { sd += Pr[base + j] * dp[j]; }
      for (var j = 0; j < ${t}; j++) { result[base + j] = Pr[base + j] * (dp[j] - sd); }
    }`);
}

type KernelArgs = { inputs: tf.NamedTensorInfoMap; backend: tf.KernelBackend };

function attend({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { rows, m, c, v } = inputs as Record<string, tf.TensorInfo>;
  const [n, p, ci] = rows!.shape as [number, number, number];
  const [, t, ch] = v!.shape as [number, number, number];
  if (!attendHandles(ci, t, ch)) throw new Error(`${ATTEND}: unsupported sizes Ci ${ci}, T ${t}, C ${ch} (check attendHandles first)`);
  return (backend as WebGPUBackend).runWebGPUProgram(attendProgram(n, p, ci, t, ch), [rows!, m!, c!, v!], 'float32');
}

function attendProbs({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { rows, m, c } = inputs as Record<string, tf.TensorInfo>;
  const [n, p, ci] = rows!.shape as [number, number, number];
  return (backend as WebGPUBackend).runWebGPUProgram(probsProgram(n, p, ci, m!.shape[2]!), [rows!, m!, c!], 'float32');
}

function attendGrad({ inputs, backend }: KernelArgs): tf.TensorInfo {
  const { p, v, dy } = inputs as Record<string, tf.TensorInfo>;
  const [n, rows, t] = p!.shape as [number, number, number];
  return (backend as WebGPUBackend).runWebGPUProgram(gradProgram(n, rows, t, v!.shape[2]!), [p!, v!, dy!], 'float32');
}

const KERNELS: ReadonlyArray<[string, (args: KernelArgs) => tf.TensorInfo]> = [
  [ATTEND, attend],
  [ATTEND_PROBS, attendProbs],
  [ATTEND_GRAD, attendGrad],
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
