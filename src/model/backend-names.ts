/**
 * Backend names, in a module of their own so that CLI help can list them without loading TensorFlow.js.
 * Selection itself lives in backend.ts.
 */
export const BACKEND_NAMES = ['auto', 'onnx', 'wasm', 'cpu', 'webgpu', 'tfjs-node'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/**
 * Backends that can train; 'auto' picks the first that starts of webgpu, onnx, wasm, cpu. `onnx` runs the
 * training step with its backward pass as onnxruntime graphs (train/onnx/), the fast path on CPUs.
 */
export const TRAIN_BACKENDS = ['auto', 'webgpu', 'onnx', 'wasm', 'cpu', 'tfjs-node'] as const;
