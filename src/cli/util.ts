/** Small helpers shared by the CLI commands: progress bars, warnings, option parsing, file pairing. */
import { readdir, stat } from 'node:fs/promises';
import { extname, basename, join } from 'node:path';
import cliProgress from 'cli-progress';
import { inputError, invalidParameter } from '../core/errors.js';

/** Prints a non-fatal note on stderr. */
export function warn(message: string): void {
  process.stderr.write(`isfuse: warning: ${message}\n`);
}

/** A progress bar on stderr (also in logs without a terminal, then every 2 s). `total` items. */
export function progressBar(label: string, total: number): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate}/s | ETA {eta_formatted} | {item}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
      etaBuffer: 20,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { item: '', rate: '0.0' });
  const started = Date.now();
  const inc = bar.increment.bind(bar);
  bar.increment = ((step?: number | object, payload?: object) => {
    const done = bar.getProgress() * total + (typeof step === 'number' ? step : 1);
    const rate = (done / Math.max(1e-3, (Date.now() - started) / 1000)).toFixed(1);
    if (typeof step === 'number') inc(step, { rate, ...payload });
    else inc({ rate, ...(step ?? {}) });
  }) as typeof bar.increment;
  return bar;
}

/** Parses a positive integer option value (commander passes strings). */
export function parsePositiveInt(name: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < 1) throw invalidParameter(name, 'a positive integer', value);
    return n;
  };
}

/** Parses `key=value` method options; numbers and booleans are converted. */
export function parseKeyValue(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw invalidParameter('--option', 'key=value', value);
  const key = value.slice(0, eq);
  const raw = value.slice(eq + 1);
  const v = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...previous, [key]: v };
}

export const IMAGE_EXTENSIONS = ['.png', '.jpg', '.jpeg', '.bmp', '.tif', '.tiff', '.webp'];

/** Image files of a folder, keyed by name stem (file name without extension). */
export async function imagesByStem(dir: string, what: string): Promise<Map<string, string>> {
  let names: string[];
  try {
    if (!(await stat(dir)).isDirectory()) throw inputError(`${what} '${dir}' is not a folder`);
    names = await readdir(dir);
  } catch (e) {
    if ((e as { kind?: string }).kind) throw e;
    throw inputError(`${what} '${dir}' cannot be read: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  const out = new Map<string, string>();
  for (const name of names.sort()) {
    const ext = extname(name).toLowerCase();
    if (!IMAGE_EXTENSIONS.includes(ext) || name.startsWith('.')) continue;
    const stem = basename(name, extname(name));
    if (out.has(stem)) throw inputError(`${what} '${dir}' holds two images named '${stem}' (${basename(out.get(stem)!)} and ${name})`);
    out.set(stem, join(dir, name));
  }
  return out;
}

export interface Pairing {
  /** stem -> one path per folder, in the order the folders were given. */
  pairs: { stem: string; paths: string[] }[];
  /** 'stem: only in <folder>' notes for files lacking a partner. */
  unpaired: string[];
}

/** Pairs files of several folders by name stem. */
export async function pairByStem(dirs: { dir: string; what: string }[]): Promise<Pairing> {
  const maps = await Promise.all(dirs.map((d) => imagesByStem(d.dir, d.what)));
  const stems = new Set<string>();
  for (const m of maps) for (const s of m.keys()) stems.add(s);
  const pairs: Pairing['pairs'] = [];
  const unpaired: string[] = [];
  for (const stem of [...stems].sort()) {
    const paths = maps.map((m) => m.get(stem));
    if (paths.every((p): p is string => p !== undefined)) pairs.push({ stem, paths });
    else {
      const missing = dirs.filter((_, i) => paths[i] === undefined).map((d) => d.what);
      unpaired.push(`${stem}: no partner in ${missing.join(', ')}`);
    }
  }
  return { pairs, unpaired };
}
