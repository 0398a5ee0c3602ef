/** Small helpers shared by the CLI commands: progress bars, warnings, option parsing. */
import cliProgress from 'cli-progress';
import { onInterrupt } from '../core/cleanup.js';
import { invalidParameter } from '../core/errors.js';
import { MIN_MASK_SIZE } from '../train/masks.js';

/** Prints a non-fatal note on stderr. */
export function warn(message: string): void {
  process.stderr.write(`isfuse: warning: ${message}\n`);
}

/** "1h02m", "3m05s", "42s": a duration for progress lines. */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '?';
  const s = Math.max(0, Math.round(seconds));
  if (s >= 3600) return `${Math.floor(s / 3600)}h${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  if (s >= 60) return `${Math.floor(s / 60)}m${String(s % 60).padStart(2, '0')}s`;
  return `${s}s`;
}

/**
 * A progress bar on stderr (also in logs without a terminal, then every 2 s). `total` items. Rate and ETA are
 * computed here from `startedAt` (default: now), the time the first item began: cli-progress's own ETA
 * counts from the bar's creation, which is wrong when the bar is made after the first item finishes (the
 * training loop reports its first step when that step is done). Slow items show as seconds per item.
 */
export function progressBar(label: string, total: number, startedAt = Date.now()): cliProgress.SingleBar {
  const bar = new cliProgress.SingleBar(
    {
      format: `${label} [{bar}] {percentage}% | {value}/{total} | {rate} | ETA {etaText} | {item}`,
      stream: process.stderr,
      noTTYOutput: true,
      notTTYSchedule: 2000,
      hideCursor: true,
    },
    cliProgress.Presets.shades_classic,
  );
  bar.start(total, 0, { item: '', rate: '', etaText: '?' });
  // Ctrl-C: stop the bar (restores the cursor it hid) before the interrupt message; stop() unregisters it.
  const forget = onInterrupt(() => bar.stop());
  const stop = bar.stop.bind(bar);
  bar.stop = () => {
    forget();
    stop();
  };
  const inc = bar.increment.bind(bar);
  bar.increment = ((step?: number | object, payload?: object) => {
    const done = bar.getProgress() * total + (typeof step === 'number' ? step : 1);
    const perItem = Math.max(1e-3, (Date.now() - startedAt) / 1000) / done;
    const rate = perItem >= 1 ? `${perItem.toFixed(1)} s/it` : `${(1 / perItem).toFixed(1)}/s`;
    const timing = { rate, etaText: formatDuration(perItem * (total - done)) };
    if (typeof step === 'number') inc(step, { ...timing, ...payload });
    else inc({ ...timing, ...(step ?? {}) });
  }) as typeof bar.increment;
  return bar;
}

/** Parses a positive integer option value (commander passes strings). */
export function parsePositiveInt(name: string) {
  return parseIntAtLeast(name, 1, 'a positive integer');
}

/** An integer option of at least `min`; `expected` is what the usage error says the value must be. */
function parseIntAtLeast(name: string, min: number, expected: string) {
  return (value: string): number => {
    const n = Number(value);
    if (!Number.isInteger(n) || n < min) throw invalidParameter(name, expected, value);
    return n;
  };
}

/** `--crop` of train and bench train: the hole masks need a side of at least 17 (train/masks.ts). */
export const parseCropSide = parseIntAtLeast('--crop', MIN_MASK_SIZE, `an integer of at least ${MIN_MASK_SIZE} (the hole masks need it)`);

/** Parses `key=value` method options; numbers and booleans are converted. */
export function parseKeyValue(value: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = value.indexOf('=');
  if (eq <= 0) throw invalidParameter('--option', 'key=value', value);
  const key = value.slice(0, eq);
  const raw = value.slice(eq + 1);
  const v = raw === 'true' ? true : raw === 'false' ? false : raw !== '' && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...previous, [key]: v };
}
