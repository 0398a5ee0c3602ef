import { readdirSync, existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { unknownName } from '../core/errors.js';
import { DEFAULT_MODEL_NAME } from './default-model-name.js';

/**
 * The ISFuse models shipped in the package: every `models/NAME.safetensors` at the package root (two levels above
 * both src/model/ and dist/model/) is a model selectable by NAME (`isfuse fuse --model NAME`), its card beside it
 * as `models/NAME.md`. The list is read from the folder, so shipping a model is adding its two files.
 */
export const MODELS_DIR = fileURLToPath(new URL('../../models/', import.meta.url));

export { DEFAULT_MODEL_NAME };

export const DEFAULT_MODEL_PATH = join(MODELS_DIR, `${DEFAULT_MODEL_NAME}.safetensors`);

export interface ShippedModel {
  readonly name: string;
  /** The safetensors file. */
  readonly path: string;
  /** Its model card (Markdown), when present. */
  readonly card?: string;
}

/** The shipped models, the default first, then by name; empty when the models folder is absent. */
export function shippedModels(): ShippedModel[] {
  let files: string[];
  try {
    files = readdirSync(MODELS_DIR);
  } catch {
    return [];
  }
  return files
    .filter((f) => f.endsWith('.safetensors'))
    .map((f) => f.slice(0, -'.safetensors'.length))
    .sort((a, b) => Number(b === DEFAULT_MODEL_NAME) - Number(a === DEFAULT_MODEL_NAME) || a.localeCompare(b))
    .map((name) => {
      const card = join(MODELS_DIR, `${name}.md`);
      return { name, path: join(MODELS_DIR, `${name}.safetensors`), ...(existsSync(card) ? { card } : {}) };
    });
}

/** The weights file of the shipped model NAME (case-insensitive); a usage error listing the names when there is none. */
export function shippedModelPath(name: string): string {
  const models = shippedModels();
  const m = models.find((x) => x.name.toLowerCase() === name.toLowerCase());
  if (!m) throw unknownName('model', name, models.map((x) => x.name));
  return m.path;
}
