/**
 * Backend names, in a module of their own so that CLI help can list them without loading TensorFlow.js.
 * Selection itself lives in backend.ts.
 */
export const BACKEND_NAMES = ['auto', 'onnx', 'wasm', 'cpu', 'webgpu', 'tfjs-node'] as const;
export type BackendName = (typeof BACKEND_NAMES)[number];
export type ConcreteBackend = Exclude<BackendName, 'auto'>;

/** Backends that can train (onnx is inference-only); 'auto' picks the first that starts. */
export const TRAIN_BACKENDS = ['auto', 'webgpu', 'wasm', 'cpu', 'tfjs-node'] as const;
