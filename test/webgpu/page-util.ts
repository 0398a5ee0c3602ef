// Shared by the browser pages of the WebGPU tests: test values, a record of the webgpu programs that ran,
// and the start-up handshake that test/webgpu/browser.ts waits for.
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-webgpu';

/** Deterministic values in [lo, hi) (a 32-bit LCG), the same on every backend. */
export function values(count: number, seed: number, lo = -1, hi = 1): Float32Array {
  const out = new Float32Array(count);
  let s = seed >>> 0;
  for (let i = 0; i < count; i++) {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    out[i] = lo + ((hi - lo) * s) / 2 ** 32;
  }
  return out;
}

type Run = (p: { shaderKey: string }, ...rest: unknown[]) => unknown;
const programs = new Set<string>();
let patched = false;

/**
 * Starts a fresh record of the shader keys the webgpu backend runs (to tell isfuse's kernels from the stock
 * ones); the returned set fills as programs run.
 */
export function recordPrograms(): Set<string> {
  programs.clear();
  if (!patched) {
    const backend = tf.findBackend('webgpu') as unknown as { runWebGPUProgram: Run };
    const run = backend.runWebGPUProgram;
    backend.runWebGPUProgram = function (this: unknown, p, ...rest) {
      programs.add(p.shaderKey);
      return run.call(this, p, ...rest);
    };
    patched = true;
  }
  return programs;
}

/**
 * Exposes `fns` on window and starts the webgpu backend; browser.ts waits for `pageReady`, `pageError` or
 * `pageNoAdapter` (this Chromium offers no WebGPU adapter: the environment, not the code under test).
 */
export function startPage(fns: Record<string, unknown>): void {
  const win = window as unknown as Record<string, unknown>;
  Object.assign(win, fns);
  const gpu = (navigator as unknown as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  (gpu ? gpu.requestAdapter() : Promise.resolve(null))
    .then(async (adapter) => {
      if (!adapter) {
        win.pageNoAdapter = gpu ? 'Chromium found no WebGPU adapter' : 'Chromium has no navigator.gpu';
        return;
      }
      const ok = await tf.setBackend('webgpu');
      if (!ok) throw new Error('the webgpu backend did not start');
      await tf.ready();
      recordPrograms();
      win.pageReady = true;
    })
    .catch((e: Error) => {
      win.pageError = e.message;
    });
}
