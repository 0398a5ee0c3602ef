import { fileURLToPath } from 'node:url';

/**
 * The shipped default ISFuse model: models/isfuse-ivf.safetensors at the package root (two levels above
 * both src/model/ and dist/model/). `isfuse fuse` and `isfuse demo` use ISFuse by default when it exists.
 */
export const DEFAULT_MODEL_PATH = fileURLToPath(new URL('../../models/isfuse-ivf.safetensors', import.meta.url));
