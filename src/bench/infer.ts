/**
 * Inference benchmark: warm median time per pair of the ISFuse network alone (no decoding, colour or
 * encoding) on one backend, with random weights (speed does not depend on them) and fixed pseudo-random inputs.
 */
import { initStateValues } from '../model/isfuse.js';
import { createRunner } from '../model/runner.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { useBackend } from '../model/backend.js';
import { ortProfileFiles, profileTfjs, summariseOrtProfile, type KernelProfile } from './profile.js';
import { machineInfo, summarise, type Timing } from './stats.js';

export interface BenchInferOptions {
  height: number;
  width: number;
  /** Backend name of model/backend.ts (default 'auto'). */
  backend?: string;
  /** Timed runs after one warm-up run (default 5). */
  runs?: number;
  /** onnxruntime intra-op threads (default 1). */
  threads?: number;
  /** profile the last run per kernel (onnxruntime's profiler, or tf.profile for one extra run) */
  profile?: boolean;
}

export interface BenchInferResult extends Timing {
  readonly backend: string;
  readonly description: string;
  readonly size: string;
  readonly runs: number;
  /** the first (cold) run: graph build, session creation, kernel compilation */
  readonly firstMs: number;
  readonly threads?: number;
  readonly profile?: KernelProfile[];
  readonly machine: Record<string, unknown>;
}

export async function benchInfer(o: BenchInferOptions): Promise<BenchInferResult> {
  const { height: h, width: w } = o;
  const runs = o.runs ?? 5;
  const threads = o.threads ?? 1;
  const values = initStateValues(0);
  const vi = Float32Array.from({ length: h * w }, (_, i) => ((i * 2654435761) % 1000) / 1000);
  const ir = Float32Array.from({ length: h * w }, (_, i) => ((i * 40503) % 997) / 997);
  const backend = await useBackend(o.backend ?? 'auto');
  const profilePrefix = o.profile && backend.engine === 'onnx' ? join(tmpdir(), `isfuse-infer-profile-${process.pid}`) : undefined;
  const runner = await createRunner(values, o.backend ?? 'auto', { threads, ...(profilePrefix ? { profilePrefix } : {}) });
  try {
    const t0 = performance.now();
    await runner.run({ ir, vi, height: h, width: w });
    const firstMs = performance.now() - t0;
    const times: number[] = [];
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await runner.run({ ir, vi, height: h, width: w });
      times.push(performance.now() - t);
    }
    let profile: KernelProfile[] | undefined;
    if (profilePrefix && runner.endProfiling) {
      profile = [];
      await runner.endProfiling();
      for (const f of await ortProfileFiles(profilePrefix!)) profile.push(...(await summariseOrtProfile(f)));
    } else if (o.profile) {
      profile = await profileTfjs(async () => void (await runner.run({ ir, vi, height: h, width: w })));
    }
    return {
      backend: runner.backend.name,
      description: runner.backend.description,
      size: `${h}x${w}`,
      runs,
      firstMs,
      ...summarise(times),
      ...(runner.backend.engine === 'onnx' ? { threads } : {}),
      ...(profile ? { profile } : {}),
      machine: machineInfo(),
    };
  } finally {
    runner.dispose();
  }
}
