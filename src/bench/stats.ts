/** Summary statistics for benchmarks: median and spread of repeated timings, and machine metadata. */
import { cpus, loadavg, totalmem } from 'node:os';

export interface Timing {
  readonly medianMs: number;
  readonly minMs: number;
  readonly maxMs: number;
  readonly timesMs: readonly number[];
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length === 0 ? NaN : s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function summarise(timesMs: readonly number[]): Timing {
  return { medianMs: median(timesMs), minMs: Math.min(...timesMs), maxMs: Math.max(...timesMs), timesMs };
}

/** What a benchmark report records about the machine it ran on (shared machines are noisy: load matters). */
export function machineInfo(): Record<string, unknown> {
  return {
    cpu: cpus()[0]?.model,
    logicalCpus: cpus().length,
    memGiB: +(totalmem() / 2 ** 30).toFixed(1),
    loadavg: loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    platform: `${process.platform}-${process.arch}`,
    date: new Date().toISOString(),
  };
}
