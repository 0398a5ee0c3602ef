// The isfuse method's options, described once for both of its registrations: the lazy entry of the registry (which
// must not load the network) and the fuser itself (fusion/isfuse.ts).
import { DEFAULT_MODEL_PATH } from '../model/shipped-models.js';

/** The options `isfuse methods` and `-O key=value` know, with their help text. */
export const ISFUSE_OPTIONS = Object.freeze({
  weights: `safetensors file with the reference state-dict names (default: ${DEFAULT_MODEL_PATH} when present)`,
  model: 'a shipped model by name instead of a weights file (isfuse methods lists them)',
  backend: "engine/backend: 'auto' (default: the fastest available), 'onnx', 'wasm', 'cpu', 'webgpu', 'tfjs-node'",
  gates: 'true: also return the three gate maps at image size (CLI: --save-gates DIR); default false',
});
