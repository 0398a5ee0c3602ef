/**
 * One inference engine interface over the backends of backend.ts: TensorFlow.js (folded network, any tfjs
 * backend) or onnxruntime (one ONNX graph per image size, built on first use and cached; large images run
 * in tiles, exactly and in bounded memory: model/tiles.ts, the choice in memory.ts planOnnxInference).
 * TensorFlow.js does not tile: an image too large for its memory limit is refused before running.
 *
 * Example:
 *   const values = await readIsfuseWeights('models/isfuse-paper.safetensors');
 *   const runner = await createRunner(values, 'auto');
 *   const { fused } = await runner.run({ ir, vi, height: 480, width: 640 });   // Float32Array(480*640) in [0,1]
 *   runner.dispose();
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend, loadOnnxRuntime, type ActiveBackend } from './backend.js';
import { infer, prepareInference, type StateValues } from './isfuse.js';
import { checkInferenceMemory, planOnnxInference, type TilingOptions } from './memory.js';
import { buildIsfuseEncoderOnnx, buildIsfuseOnnx } from './onnx.js';
import { levelSizes } from './network.js';
import { runTiled, type Feeds, type TileExecutor, type TileShape } from './tiles.js';

/** A gate map at its level's size, values in [0,1]. */
export interface GateMap {
  readonly width: number;
  readonly height: number;
  readonly data: Float32Array;
}

export interface RunResult {
  /** Fused image, H*W row-major, in [0,1]. */
  readonly fused: Float32Array;
  /** Gates g3 (H/4), g4 (H/2), g5 (H) at their own sizes (floor), when requested. */
  readonly gates?: readonly [GateMap, GateMap, GateMap];
}

/** Options of one run. `tiles` and `tileSize` (memory.ts TilingOptions) apply to the onnx engine only. */
export interface RunOptions extends TilingOptions {
  /** Also return the three gate maps. Default false. */
  readonly gates?: boolean;
  /** Memory limit in bytes for the pre-run check (default: memory.ts's per-backend limit). */
  readonly maxMemoryBytes?: number;
}

/** A pair of planes: ir (infrared / functional) and vi (visible luminance / MRI), each H*W row-major in [0,1]. */
export interface PlanePair {
  readonly ir: Float32Array;
  readonly vi: Float32Array;
  readonly height: number;
  readonly width: number;
}

export interface IsfuseRunner {
  readonly backend: ActiveBackend;
  /**
   * Fuses one pair (named, so the two same-typed planes cannot be swapped). Throws an input error before
   * running when the pair needs more memory than the limit.
   */
  run(pair: PlanePair, opts?: RunOptions): Promise<RunResult>;
  /** onnxruntime with `profilePrefix`: stops the profilers (the files `<prefix>_<date>.json` are then complete). */
  endProfiling?(): Promise<void>;
  dispose(): void;
}

function gateMaps(height: number, width: number, g3: Float32Array, g4: Float32Array, g5: Float32Array): [GateMap, GateMap, GateMap] {
  const [[h1, w1], [h2, w2], [h3, w3]] = levelSizes(height, width);
  return [{ width: w3, height: h3, data: g3 }, { width: w2, height: h2, data: g4 }, { width: w1, height: h1, data: g5 }];
}

function checkPair({ vi, ir, height, width }: PlanePair): void {
  if (vi.length !== height * width || ir.length !== height * width) {
    throw new Error(`internal: ISFuse inputs of ${vi.length} and ${ir.length} samples for ${width}x${height}`);
  }
}

/** TensorFlow.js engine: BatchNorm folded once; every call runs inside tf.tidy and leaves no tensors behind. */
export async function createTfjsRunner(values: StateValues, backend: ActiveBackend): Promise<IsfuseRunner> {
  const net = prepareInference(values);
  return {
    backend,
    async run(pair, opts = {}) {
      checkPair(pair);
      const { vi, ir, height, width } = pair;
      checkInferenceMemory(height, width, backend, opts.maxMemoryBytes);
      if (tf.getBackend() !== backend.tfBackend) await tf.setBackend(backend.tfBackend);
      const out = tf.tidy(() => {
        const o = infer(net, tf.tensor4d(vi, [1, height, width, 1]), tf.tensor4d(ir, [1, height, width, 1]));
        return opts.gates ? [o.fused, ...o.gates] : [o.fused];
      });
      try {
        // data(), not dataSync(): webgpu in Node cannot read synchronously
        const arrays = (await Promise.all(out.map((t) => t.data()))) as Float32Array[];
        return { fused: arrays[0], gates: opts.gates ? gateMaps(height, width, arrays[1], arrays[2], arrays[3]) : undefined };
      } finally {
        tf.dispose(out);
      }
    },
    dispose: () => net.dispose(),
  };
}

/** Sessions kept per runner for whole images (one per image size): a few sizes at once; the oldest is released first. */
const MAX_SESSIONS = 4;
/**
 * Tile graphs kept per runner (one per tile shape and phase: an image has at most 3 x 3 tile shapes per
 * phase, first / inner / last along each axis, more only when the tile is smaller than its halo).
 */
const MAX_TILE_SESSIONS = 24;

export interface OnnxRunnerOptions {
  /** onnxruntime intra-op threads (default 1: on this project's 2-vCPU machines a second adds nothing). */
  readonly threads?: number;
  /** turn on onnxruntime's profiler, writing `<prefix>_<date>.json` per session (bench infer --profile) */
  readonly profilePrefix?: string;
  /** Tiling defaults of this runner's runs ({@link RunOptions.tiles}, {@link RunOptions.tileSize}). */
  readonly tiling?: TilingOptions;
  /**
   * The onnxruntime module to run on (default onnxruntime-node): the web app passes onnxruntime-web, whose API is
   * the same (onnxruntime-common), so the page runs this runner, graphs and tiles included.
   */
  readonly runtime?: OnnxRuntime;
  /** Execution providers in order of preference (default: the runtime's own, the CPU for onnxruntime-node). */
  readonly executionProviders?: readonly string[];
}

/** An onnxruntime module: onnxruntime-node, or onnxruntime-web (the same onnxruntime-common API). */
export type OnnxRuntime = Pick<typeof import('onnxruntime-node'), 'InferenceSession' | 'Tensor'>;

/**
 * The runner-wide tiling defaults of runners created without `tiling` (as the CLI's and fuse()'s are): for
 * benchmarks (bench/memory.ts) that compare the tiled and untiled paths through `isfuse fuse`.
 */
let defaultTiling: TilingOptions = {};
export function setDefaultTiling(t: TilingOptions): void {
  defaultTiling = { ...t };
}

/** A small LRU of promised sessions: the least recently used is released beyond `max`. */
function sessionCache<S extends { release(): Promise<void> }>(max: number) {
  const m = new Map<string, Promise<S>>();
  return {
    get(key: string, create: () => Promise<S>): Promise<S> {
      let s = m.get(key);
      if (s) {
        m.delete(key); // re-insert: most recently used last
      } else {
        s = create();
        s.catch(() => m.delete(key));
      }
      m.set(key, s);
      while (m.size > max) {
        const [oldKey, old] = m.entries().next().value as [string, Promise<S>];
        m.delete(oldKey);
        void old.then((x) => x.release()).catch(() => undefined);
      }
      return s;
    },
    values: () => [...m.values()],
    clear(): void {
      for (const s of m.values()) void s.then((x) => x.release()).catch(() => undefined);
      m.clear();
    },
  };
}

/** onnxruntime engine: a graph per image size (or per tile shape, for tiled runs), built and cached on first use. */
export async function createOnnxRunner(values: StateValues, backend: ActiveBackend, o: OnnxRunnerOptions = {}): Promise<IsfuseRunner> {
  const ort = o.runtime ?? (await loadOnnxRuntime());
  type Session = Awaited<ReturnType<typeof ort.InferenceSession.create>>;
  // onnxruntime's CPU arena off: it grows in powers of two and keeps its peak after a run, once per session
  // (measured at 1024 x 1024: 17 U with it, 8 U without, U = one 32-channel map; same speed), and a tiled
  // image runs up to 18 tile sessions; without it, each run's buffers go back when the run ends.
  const base = {
    intraOpNumThreads: o.threads ?? 1,
    interOpNumThreads: 1,
    executionMode: 'sequential',
    graphOptimizationLevel: 'all',
    enableCpuMemArena: false,
    ...(o.executionProviders ? { executionProviders: [...o.executionProviders] } : {}),
    ...(o.profilePrefix ? { enableProfiling: true, profileFilePrefix: o.profilePrefix } : {}),
  } as const;
  const sessions = sessionCache<Session>(MAX_SESSIONS);
  const tileSessions = sessionCache<Session>(MAX_TILE_SESSIONS);
  const tileSession = (kind: 'encoder' | 'network', t: TileShape): Promise<Session> =>
    tileSessions.get(`${kind}:${t.key}`, () =>
      ort.InferenceSession.create(
        kind === 'encoder' ? buildIsfuseEncoderOnnx(values, t.height, t.width, t.core) : buildIsfuseOnnx(values, t.height, t.width, { tileCore: t.core, tileTaps: t.taps }),
        base,
      ),
    );
  const runTile = async (kind: 'encoder' | 'network', t: TileShape, feeds: Feeds): Promise<Record<string, Float32Array>> => {
    const s = await tileSession(kind, t);
    const inputs: Record<string, InstanceType<typeof ort.Tensor>> = {};
    for (const [k, f] of Object.entries(feeds)) inputs[k] = new ort.Tensor(f.data instanceof Float32Array ? 'float32' : 'int64', f.data, f.dims);
    const r = await s.run(inputs);
    return Object.fromEntries(Object.entries(r).map(([k, v]) => [k, v.data as Float32Array]));
  };
  const exec: TileExecutor = { encoder: (t, f) => runTile('encoder', t, f), network: (t, f) => runTile('network', t, f) };
  return {
    backend,
    async run(pair, opts = {}) {
      checkPair(pair);
      const { vi, ir, height, width } = pair;
      const plan = planOnnxInference(height, width, {
        tiles: opts.tiles ?? o.tiling?.tiles ?? defaultTiling.tiles,
        tileSize: opts.tileSize ?? o.tiling?.tileSize ?? defaultTiling.tileSize,
        gates: opts.gates,
        limitBytes: opts.maxMemoryBytes,
      });
      if (plan.tiled) {
        const r = await runTiled(pair, exec, { tileSize: plan.tileSize, gates: opts.gates });
        return { fused: r.fused, gates: r.gates ? gateMaps(height, width, ...r.gates) : undefined };
      }
      const s = await sessions.get(`${height}x${width}`, () => ort.InferenceSession.create(buildIsfuseOnnx(values, height, width), base));
      const r = await s.run({
        vi: new ort.Tensor('float32', vi, [1, 1, height, width]),
        ir: new ort.Tensor('float32', ir, [1, 1, height, width]),
      });
      const f = (k: string) => r[k].data as Float32Array;
      return { fused: f('fused'), gates: opts.gates ? gateMaps(height, width, f('g3'), f('g4'), f('g5')) : undefined };
    },
    async endProfiling() {
      for (const s of [...sessions.values(), ...tileSessions.values()]) (await s).endProfiling();
    },
    dispose() {
      sessions.clear();
      tileSessions.clear();
    },
  };
}

/** Selects the backend (backend.ts names; default 'auto') and builds the matching runner. */
export async function createRunner(values: StateValues, backendName = 'auto', o: OnnxRunnerOptions = {}): Promise<IsfuseRunner> {
  const backend = await useBackend(backendName);
  return backend.engine === 'onnx' ? createOnnxRunner(values, backend, o) : createTfjsRunner(values, backend);
}
