/** Small helpers shared by the CLI commands: progress bars, warnings, option parsing. */
import cliProgress from 'cli-progress';
import { invalidParameter } from '../core/errors.js';

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
