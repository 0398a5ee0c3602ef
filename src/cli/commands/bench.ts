/** `isfuse bench infer|train`: speed of the network alone, and of one five-pass training step. */
import { Command, Option } from 'commander';
import { invalidParameter } from '../../core/errors.js';
import { BACKEND_NAMES, TRAIN_BACKENDS } from '../../model/backend-names.js';
import type { MemoryPlan } from '../../train/engine.js';
import { parseCropSide, parsePositiveInt, warn } from '../util.js';
import { robustCommand } from './bench-robust.js';

function parseSize(v: string): [number, number] {
  const m = /^(\d+)x(\d+)$/i.exec(v.trim());
  if (!m || Number(m[1]) < 4 || Number(m[2]) < 4) throw invalidParameter('--size', 'HxW with both sides >= 4 (e.g. 480x640)', v);
  return [Number(m[1]), Number(m[2])];
}

function inferCommand(): Command {
  return new Command('infer')
    .summary('warm median ms per pair for the ISFuse network alone (decode/encode excluded)')
    .option('--size <HxW>', 'input size', parseSize, [480, 640] as [number, number])
    .option('--backend <name>', `backend (${BACKEND_NAMES.join(', ')})`, 'auto')
    .option('--runs <n>', 'timed runs after one warm-up', parsePositiveInt('--runs'), 5)
    .option('--threads <n>', 'onnxruntime intra-op threads', parsePositiveInt('--threads'), 1)
    .option('--profile', 'per-kernel time, calls and bytes of the last run')
    .option('--json', 'print JSON')
    .action(async (o: { size: [number, number]; backend: string; runs: number; threads: number; profile?: boolean; json?: boolean }) => {
      const [{ benchInfer }, { formatProfile }] = await Promise.all([import('../../bench/infer.js'), import('../../bench/profile.js')]);
      const r = await benchInfer({ height: o.size[0], width: o.size[1], backend: o.backend, runs: o.runs, threads: o.threads, profile: o.profile });
      if (o.json) process.stdout.write(`${JSON.stringify(r, null, 2)}\n`);
      else
        process.stdout.write(
          `${r.backend} (${r.description}) ${r.size}: median ${r.medianMs.toFixed(0)} ms (min ${r.minMs.toFixed(0)}, max ${r.maxMs.toFixed(0)}, ` +
            `first ${r.firstMs.toFixed(0)}; ${r.runs} runs); load ${(r.machine.loadavg as number[]).join(' ')}\n` +
            (r.profile ? `${formatProfile(r.profile)}\n` : ''),
        );
    });
}

function trainCommand(): Command {
  const parseRuns = parsePositiveInt('--runs');
  const command = new Command('train')
    .summary('median ms per five-pass training step')
    .option('--batch <b>', 'batch size', parsePositiveInt('--batch'), 8)
    .option('--crop <s>', 'crop side (at least 17)', parseCropSide, 128)
    .option('--backend <name>', `engine (${TRAIN_BACKENDS.join(', ')})`, 'auto')
    .option('--warmup <n>', 'warm-up steps', (v: string) => Math.max(0, Math.floor(Number(v)) || 0), 1)
    .option('--runs <n>', 'timed steps after the warm-up', parseRuns, 3)
    // The name --runs had here before bench infer and bench train shared it: hidden, still works, warns.
    .addOption(new Option('--repeats <n>').hideHelp())
    .addOption(new Option('--memory <plan>', 'memory plan: one pass alive at a time, all at once, or auto (as isfuse train)').choices(['auto', 'sequential', 'joint']).default('auto'))
    .option('--threads <n>', 'onnx backend: onnxruntime threads (default: all CPUs)', parsePositiveInt('--threads'))
    .option('--profile', 'per-kernel time, calls and bytes of one step')
    .option('--json', 'print JSON')
    .action(async (o: { batch: number; crop: number; backend: string; warmup: number; runs: number; memory: MemoryPlan | 'auto'; threads?: number; profile?: boolean; json?: boolean }) => {
      const [{ useTrainingBackend }, { benchTrain }, { formatProfile }] = await Promise.all([
        import('../../model/backend.js'), import('../../bench/train.js'), import('../../bench/profile.js'),
      ]);
      const backend = await useTrainingBackend(o.backend);
      const r = await benchTrain({
        batch: o.batch, crop: o.crop, warmup: o.warmup, runs: o.runs, memory: o.memory, threads: o.threads, profile: o.profile,
        backend: backend.description, engine: backend.engine,
        onStep: (k, ms) => process.stderr.write(`# step ${k}${k < o.warmup ? ' (warm-up)' : ''}: ${ms.toFixed(0)} ms\n`),
      });
      if (o.json) process.stdout.write(`${JSON.stringify(r)}\n`);
      else
        process.stdout.write(
          `${backend.description}: batch ${r.batch}, ${r.crop}x${r.crop}${backend.engine === 'onnx' ? `, ${r.threads} threads` : ''}, ${r.memory}: median ${r.medianMs.toFixed(0)} ms/step ` +
            `(min ${r.minMs.toFixed(0)}, max ${r.maxMs.toFixed(0)}; ${r.runs} runs after ${r.warmup} warm-up); ` +
            `live tensors ${(r.tensorBytes / 2 ** 20).toFixed(1)} MiB, peak RSS ${(r.rssBytes / 2 ** 30).toFixed(2)} GiB${r.wasmHeapBytes ? `, wasm heap ${(r.wasmHeapBytes / 2 ** 20).toFixed(0)} MiB` : ''}${r.gpuBytes !== undefined ? `, GPU buffers ${(r.gpuBytes / 2 ** 30).toFixed(2)} GiB` : ''}\n` +
            (r.profile ? `${formatProfile(r.profile)}\n` : ''),
        );
    });
  // Parsed as --runs (same checks; the later of the two on the command line wins, as for any repeated option).
  command.on('option:repeats', (value: string) => {
    warn('--repeats is deprecated: use --runs');
    command.setOptionValueWithSource('runs', parsePositiveInt('--repeats')(value), 'cli');
  });
  return command;
}

export function benchCommand(): Command {
  return new Command('bench')
    .summary('benchmarks: infer (network alone), train (one five-pass step), robust (fusion under corrupted inputs)')
    .addCommand(inferCommand())
    .addCommand(trainCommand())
    .addCommand(robustCommand());
}
