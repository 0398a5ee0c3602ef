/**
 * The one place that chooses where ISFuse runs.
 *
 * Names (the `--backend` values):
 * - `auto`: the fastest available: `webgpu` when its packages are installed and a GPU adapter answers (not a
 *   software one: SwiftShader, lavapipe), else `onnx` (onnxruntime-node, a dependency), else `tfjs-node` when
 *   installed, else `wasm`, else `cpu`.
 * - `onnx`: onnxruntime-node on the CPU: for inference the network as an ONNX graph (model/onnx.ts), for
 *   training the whole five-pass step with its gradient as one graph (train/onnx/).
 * - `wasm`: TensorFlow.js wasm backend (XNNPACK, SIMD; one thread in Node).
 * - `cpu`: TensorFlow.js plain-JavaScript backend (slow; the reference).
 * - `webgpu`: TensorFlow.js WebGPU backend with isfuse's kernels (model/webgpu/);
 *   in Node it needs the optional package `webgpu` (Dawn) and a GPU.
 * - `tfjs-node`: TensorFlow.js on libtensorflow, when the user has `@tensorflow/tfjs-node` installed.
 *
 * Unknown names are a usage error listing the valid ones. The chosen backend is returned so that callers
 * (CLI, benchmarks) can report it.
 */
import * as tf from '@tensorflow/tfjs';
import '@tensorflow/tfjs-backend-wasm';
import { invalidParameter, unknownName, usageError } from '../core/errors.js';

import { BACKEND_NAMES, TRAIN_BACKENDS, type BackendName, type ConcreteBackend } from './backend-names.js';

export { BACKEND_NAMES, TRAIN_BACKENDS, type BackendName, type ConcreteBackend };

/** What runs the network: TensorFlow.js (any of its backends) or onnxruntime. */
export type Engine = 'tfjs' | 'onnx';

export interface ActiveBackend {
  /** The backend in use (never 'auto'). */
  readonly name: ConcreteBackend;
  readonly engine: Engine;
  /** The TensorFlow.js backend that is active (for the onnx engine: the one used around it). */
  readonly tfBackend: string;
  /** For reports: e.g. "onnxruntime-node 1.23.2 (CPU)". */
  readonly description: string;
  /** Why 'auto' passed over the faster backends (empty when the backend was named). */
  readonly skipped: readonly string[];
}

const isNode = typeof process !== 'undefined' && !!process.versions?.node;

/** Dynamic import that bundlers leave alone and TypeScript doesn't resolve (optional packages). */
const importOptional = (name: string): Promise<Record<string, unknown>> =>
  (new Function('n', 'return import(n)') as (n: string) => Promise<Record<string, unknown>>)(name);

let onnxModule: Promise<typeof import('onnxruntime-node')> | undefined;

/** onnxruntime-node, loaded once (throws a usage error naming the package when it is absent). */
export async function loadOnnxRuntime(): Promise<typeof import('onnxruntime-node')> {
  onnxModule ??= importOptional('onnxruntime-node').then(
    (m) => ((m as { default?: unknown }).default ?? m) as typeof import('onnxruntime-node'),
  );
  try {
    return await onnxModule;
  } catch (e) {
    onnxModule = undefined;
    throw usageError(`backend 'onnx' needs the package onnxruntime-node (npm install onnxruntime-node): ${(e as Error).message}`);
  }
}

async function activateTf(name: string): Promise<void> {
  if (tf.getBackend() === name) return;
  let ok = false;
  try {
    ok = await tf.setBackend(name);
    await tf.ready();
  } catch (e) {
    throw usageError(`TensorFlow.js backend '${name}' failed to start: ${(e as Error).message}`);
  }
  if (!ok || tf.getBackend() !== name) throw usageError(`TensorFlow.js backend '${name}' failed to start`);
}

/** What the adapter says of itself, and whether it is a software (CPU) implementation. */
export function adapterKind(adapter: unknown): { text: string; software: boolean } {
  const a = adapter as { info?: Record<string, unknown>; isFallbackAdapter?: boolean };
  const info = a.info ?? {};
  const text = ['vendor', 'architecture', 'device', 'description'].map((k) => info[k]).filter((v) => typeof v === 'string' && v).join(' ');
  const software = a.isFallbackAdapter === true || info.isFallbackAdapter === true || /swiftshader|llvmpipe|lavapipe|software/i.test(text);
  return { text: text || 'unnamed adapter', software };
}

/**
 * `auto`: refuse a software adapter (SwiftShader, lavapipe), which answers on machines without a GPU where a
 * Vulkan software driver is installed, and is far slower than the CPU engines; named, it is used (and said).
 */
async function setupWebgpu(auto: boolean): Promise<string> {
  if (!tf.findBackendFactory('webgpu')) {
    if (isNode && !(globalThis as { navigator?: { gpu?: unknown } }).navigator?.gpu) {
      let webgpu: Record<string, unknown>;
      try {
        webgpu = await importOptional('webgpu');
      } catch {
        throw usageError("backend 'webgpu' in Node needs the optional package 'webgpu' (npm install webgpu) and a GPU");
      }
      const mod = (webgpu.default ?? webgpu) as { create: (o: string[]) => unknown; globals: object };
      Object.assign(globalThis, mod.globals);
      const nav = ((globalThis as { navigator?: object }).navigator ??= {}) as { gpu?: unknown };
      if (!nav.gpu) Object.defineProperty(nav, 'gpu', { value: mod.create([]), configurable: true });
    }
    try {
      await import('@tensorflow/tfjs-backend-webgpu');
    } catch (e) {
      throw usageError(`backend 'webgpu': @tensorflow/tfjs-backend-webgpu failed to load (${(e as Error).message})`);
    }
  }
  const gpu = (globalThis as { navigator?: { gpu?: { requestAdapter(): Promise<unknown> } } }).navigator?.gpu;
  const adapter = gpu ? await gpu.requestAdapter() : null;
  if (!adapter) throw usageError("backend 'webgpu': no WebGPU adapter found (no GPU, or its driver lacks what Dawn needs)");
  const kind = adapterKind(adapter);
  if (kind.software && auto) throw usageError(`backend 'webgpu': only a software adapter answered (${kind.text}); name --backend webgpu to use it anyway`);
  await activateTf('webgpu');
  // isfuse's own kernels (model/webgpu/index.ts): 3x3 convolutions, training BatchNorm, attention
  const { installWebGpuKernels } = await import('./webgpu/index.js');
  installWebGpuKernels();
  return `TensorFlow.js webgpu (isfuse kernels${kind.software ? `; software adapter: ${kind.text}` : ''})`;
}

async function setupTfjsNode(): Promise<string> {
  try {
    await importOptional('@tensorflow/tfjs-node');
  } catch {
    throw usageError("backend 'tfjs-node' needs the package @tensorflow/tfjs-node (npm install @tensorflow/tfjs-node)");
  }
  await activateTf('tensorflow');
  return 'TensorFlow.js tfjs-node (libtensorflow)';
}

async function setup(name: ConcreteBackend, auto = false): Promise<{ engine: Engine; description: string }> {
  switch (name) {
    case 'onnx': {
      const ort = await loadOnnxRuntime();
      // tensors around the graph (inputs, gate upsampling) stay on the fastest TensorFlow.js CPU backend
      if (tf.getBackend() !== 'wasm' && tf.getBackend() !== 'cpu') await activateTf('wasm').catch(() => activateTf('cpu'));
      const version = (ort as { env?: { versions?: { common?: string } } }).env?.versions?.common ?? '';
      return { engine: 'onnx', description: `onnxruntime-node ${version} (CPU execution provider)`.replace('  ', ' ') };
    }
    case 'wasm':
      await activateTf('wasm');
      return { engine: 'tfjs', description: 'TensorFlow.js wasm (XNNPACK, SIMD)' };
    case 'cpu':
      await activateTf('cpu');
      return { engine: 'tfjs', description: 'TensorFlow.js cpu (plain JavaScript)' };
    case 'webgpu':
      return { engine: 'tfjs', description: await setupWebgpu(auto) };
    case 'tfjs-node':
      return { engine: 'tfjs', description: await setupTfjsNode() };
  }
}

/** Preference order of 'auto'. */
export const AUTO_ORDER: readonly ConcreteBackend[] = ['webgpu', 'onnx', 'tfjs-node', 'wasm', 'cpu'];

let autoChoice: Promise<ActiveBackend> | undefined;

/**
 * Activates a backend by name (default 'auto') and returns what is in use.
 * Errors: usage error for an unknown name (listing the valid ones) or for a named backend that cannot start
 * (saying which package or device is missing).
 * Example: `const b = await useBackend('wasm'); console.log(b.description)`.
 */
export async function useBackend(name: string = 'auto'): Promise<ActiveBackend> {
  if (!(BACKEND_NAMES as readonly string[]).includes(name)) throw unknownName('backend', name, BACKEND_NAMES);
  if (name !== 'auto') {
    const s = await setup(name as ConcreteBackend);
    return { name: name as ConcreteBackend, ...s, tfBackend: tf.getBackend(), skipped: [] };
  }
  autoChoice ??= (async () => {
    const skipped: string[] = [];
    for (const cand of AUTO_ORDER) {
      try {
        const s = await setup(cand, true);
        return { name: cand, ...s, tfBackend: tf.getBackend(), skipped };
      } catch (e) {
        skipped.push(`${cand}: ${(e as Error).message}`);
      }
    }
    throw usageError(`no backend could start:\n  ${skipped.join('\n  ')}`);
  })();
  try {
    const b = await autoChoice;
    if (b.engine === 'tfjs' && tf.getBackend() !== b.tfBackend) await activateTf(b.tfBackend);
    return b;
  } catch (e) {
    autoChoice = undefined;
    throw e;
  }
}

/** Activates a backend that can train; 'auto' tries webgpu, onnx, wasm, cpu in that order. */
export async function useTrainingBackend(name: string): Promise<{ engine: Engine; description: string }> {
  if (!(TRAIN_BACKENDS as readonly string[]).includes(name)) throw invalidParameter('backend', `one of ${TRAIN_BACKENDS.join(', ')}`, name);
  const pick = async (n: string, auto: boolean) => {
    const b = auto ? await setup(n as ConcreteBackend, true) : await useBackend(n);
    return { engine: b.engine, description: b.engine === 'onnx' ? `${b.description}, training step with a hand-written backward pass` : b.description };
  };
  if (name !== 'auto') return pick(name, false);
  const errors: string[] = [];
  for (const cand of ['webgpu', 'onnx', 'wasm', 'cpu']) {
    try {
      return await pick(cand, true);
    } catch (e) {
      errors.push(`${cand}: ${(e as Error).message}`);
    }
  }
  throw usageError(`no backend could start for training:\n  ${errors.join('\n  ')}`);
}
