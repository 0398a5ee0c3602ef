/**
 * Per-kernel profiles for `isfuse bench train|infer --profile`: time, calls and bytes written per
 * kernel type, largest first.
 *
 * - onnxruntime: its own profiler (session option `enableProfiling`) writes a Chrome-trace JSON file; we keep
 *   the node events of the last `model_run` and sum `dur` and `output_size` per op type.
 * - TensorFlow.js: `tf.profile` gives every kernel with its time and the bytes it allocated.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import * as tf from '@tensorflow/tfjs';

export interface KernelProfile {
  readonly kernel: string;
  readonly ms: number;
  readonly calls: number;
  /** bytes of the outputs written (onnxruntime) or allocated (TensorFlow.js) */
  readonly bytes: number;
}

function sorted(m: Map<string, { ms: number; calls: number; bytes: number }>): KernelProfile[] {
  return [...m].map(([kernel, v]) => ({ kernel, ...v })).sort((a, b) => b.ms - a.ms);
}

interface TraceEvent {
  cat: string;
  name: string;
  ts: number;
  dur: number;
  args?: { op_name?: string; output_size?: string | number };
}

/**
 * The profile files onnxruntime wrote for `profileFilePrefix` = prefix (it names them `<prefix>_<date>.json`
 * and onnxruntime-node does not return the name).
 */
export async function ortProfileFiles(prefix: string): Promise<string[]> {
  const dir = dirname(prefix), base = basename(prefix);
  return (await readdir(dir)).filter((f) => f.startsWith(`${base}_`) && f.endsWith('.json')).map((f) => join(dir, f));
}

/** Sums the node events of the last `model_run` of an onnxruntime profile file, then deletes the file. */
export async function summariseOrtProfile(path: string): Promise<KernelProfile[]> {
  const events = JSON.parse(await readFile(path, 'utf8')) as TraceEvent[];
  await rm(path, { force: true });
  const runs = events.filter((e) => e.cat === 'Session' && e.name === 'model_run');
  const last = runs[runs.length - 1];
  if (!last) return [];
  const per = new Map<string, { ms: number; calls: number; bytes: number }>();
  for (const e of events) {
    if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < last.ts || e.ts > last.ts + last.dur) continue;
    const k = e.args?.op_name ?? e.name;
    const v = per.get(k) ?? { ms: 0, calls: 0, bytes: 0 };
    v.ms += e.dur / 1000;
    v.calls += 1;
    v.bytes += Number(e.args?.output_size ?? 0);
    per.set(k, v);
  }
  return sorted(per);
}

/** Runs `f` under tf.profile and sums kernel time and allocated bytes per kernel name. */
export async function profileTfjs(f: () => void | Promise<void>): Promise<KernelProfile[]> {
  const info = await tf.profile(async () => {
    await f();
  });
  const per = new Map<string, { ms: number; calls: number; bytes: number }>();
  for (const k of info.kernels) {
    const t = await k.kernelTimeMs;
    const v = per.get(k.name) ?? { ms: 0, calls: 0, bytes: 0 };
    v.ms += typeof t === 'number' ? t : 0;
    v.calls += 1;
    v.bytes += Math.max(0, k.bytesAdded);
    per.set(k.name, v);
  }
  return sorted(per);
}

/** A plain-text table of a profile (top `limit` kernels, then the rest summed). */
export function formatProfile(p: readonly KernelProfile[], limit = 20): string {
  const total = p.reduce((a, b) => a + b.ms, 0);
  const rows = p.slice(0, limit);
  const rest = p.slice(limit);
  if (rest.length) rows.push({ kernel: `(${rest.length} others)`, ms: rest.reduce((a, b) => a + b.ms, 0), calls: rest.reduce((a, b) => a + b.calls, 0), bytes: rest.reduce((a, b) => a + b.bytes, 0) });
  const lines = [`${'kernel'.padEnd(24)} ${'ms'.padStart(9)} ${'share'.padStart(6)} ${'calls'.padStart(6)} ${'MiB out'.padStart(9)}`];
  for (const r of rows) {
    lines.push(`${r.kernel.padEnd(24)} ${r.ms.toFixed(1).padStart(9)} ${((100 * r.ms) / (total || 1)).toFixed(1).padStart(5)}% ${String(r.calls).padStart(6)} ${(r.bytes / 2 ** 20).toFixed(1).padStart(9)}`);
  }
  lines.push(`${'total kernel time'.padEnd(24)} ${total.toFixed(1).padStart(9)}`);
  return lines.join('\n');
}
