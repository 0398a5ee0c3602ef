// ISFuse in the page: the CLI's onnx runner (model/runner.ts: the same ONNX graph per image size from
// model/onnx.ts, tiles above 1 MP) on onnxruntime-web, with its WebGPU execution provider where the browser
// offers a hardware adapter, else its WebAssembly one. docs/WEB.md says why this engine.
import * as ort from 'onnxruntime-web';
import { usageError } from '../src/core/errors.js';
import type { Plane } from '../src/core/image.js';
import { fuseWithRunner } from '../src/fusion/isfuse-run.js';
import type { Fuser, FuserOptions } from '../src/fusion/types.js';
import { adapterKind } from '../src/model/backend.js';
import { defaultMemoryLimit } from '../src/model/memory.js';
import { createOnnxRunner, type IsfuseRunner, type OnnxRuntime } from '../src/model/runner.js';
import { parseSafetensors, stateValuesFromSafetensors } from '../src/model/weights.js';

export type EngineChoice = 'auto' | 'webgpu' | 'wasm';
export interface Engine {
  readonly provider: 'webgpu' | 'wasm';
  /** For the page: what runs the network, and why when 'auto' passed over WebGPU. */
  readonly label: string;
}

ort.env.wasm.wasmPaths = new URL('ort/', document.baseURI).href;
ort.env.wasm.numThreads = 1; // as the CLI's runner (and a static host cannot give the cross-origin isolation threads need)
ort.env.logLevel = 'error';

/**
 * The execution provider: 'auto' takes WebGPU when a hardware adapter answers and passes over a software one
 * (SwiftShader), which is slower than WebAssembly, as the CLI's 'auto' does (model/backend.ts adapterKind).
 */
export async function pickEngine(choice: EngineChoice): Promise<Engine> {
  const wasm = (why = '') => ({ provider: 'wasm' as const, label: `WebAssembly (onnxruntime-web ${ort.env.versions.web}, SIMD, 1 thread)${why}` });
  if (choice === 'wasm') return wasm();
  const gpu = (navigator as { gpu?: { requestAdapter(): Promise<unknown> } }).gpu;
  const adapter = gpu ? await gpu.requestAdapter().catch(() => null) : null;
  if (!adapter) {
    if (choice === 'webgpu') throw usageError('WebGPU: this browser offers no WebGPU adapter; choose WebAssembly');
    return wasm(gpu ? ': no WebGPU adapter answered' : ': this browser has no WebGPU');
  }
  const kind = adapterKind(adapter);
  if (kind.software && choice === 'auto') return wasm(`: the only WebGPU adapter is a software one (${kind.text}); choose WebGPU to use it anyway`);
  return { provider: 'webgpu', label: `WebGPU (onnxruntime-web ${ort.env.versions.web}; ${kind.software ? 'software adapter' : 'adapter'}: ${kind.text})` };
}

const runners = new Map<string, Promise<IsfuseRunner>>();

/** The runner for a model file (URL) on a provider, loaded once. */
function runnerFor(modelUrl: string, engine: Engine): Promise<IsfuseRunner> {
  const key = `${modelUrl}\u0000${engine.provider}`;
  let r = runners.get(key);
  if (!r) {
    r = (async () => {
      const res = await fetch(modelUrl);
      if (!res.ok) throw usageError(`cannot load the model ${modelUrl}: HTTP ${res.status}`);
      const source = `ISFuse weights '${modelUrl.split('/').pop()}'`;
      const values = stateValuesFromSafetensors(parseSafetensors(new Uint8Array(await res.arrayBuffer()), source), source);
      const backend = { name: 'onnx', engine: 'onnx', tfBackend: 'none', description: engine.label, skipped: [] } as const;
      return createOnnxRunner(values, backend, { runtime: ort as unknown as OnnxRuntime, executionProviders: [engine.provider], threads: 1 });
    })();
    runners.set(key, r);
    r.catch(() => runners.delete(key));
  }
  return r;
}

/** ISFuse as a Fuser for the pipeline (fusion/pipeline.ts), on the given model and engine; options: `gates`. */
export function isfuseInPage(modelUrl: string, engine: Engine): Fuser {
  return {
    name: 'isfuse',
    description: 'ISFuse network (intervention-stable feature learning, CVPR 2026)',
    async fuse(ir: Plane, vis: Plane, options?: FuserOptions) {
      const runner = await runnerFor(modelUrl, engine);
      // the limit the CLI's TensorFlow.js engines use for the wasm heap / a GPU (memory.ts); no OS to ask here
      const maxMemoryBytes = defaultMemoryLimit({ name: engine.provider }).bytes;
      return fuseWithRunner(runner, ir, vis, { gates: options?.gates === true, maxMemoryBytes });
    },
  };
}
