/**
 * The five-pass training step on webgpu (Node, Dawn, isfuse's kernels) against the same step on wasm: loss
 * terms and every parameter gradient, for the first thing to run on a GPU machine (and, slowly, on Chromium's
 * software Vulkan driver without one).
 *
 *   npm install webgpu
 *   npx tsx bench/webgpu-step-parity.ts [--batch 1] [--crop 24] [--no-drop] [--against webgpu]
 *   # no GPU: LD_LIBRARY_PATH=/usr/lib/chromium VK_ICD_FILENAMES=/usr/lib/chromium/vk_swiftshader_icd.json npx tsx ...
 *
 * Prints the relative L2 error of each gradient (worst first; norms below 1e-4 of the largest count as that
 * floor) and of the loss. Passes (exit 0) on the criterion test/train/onnx-step.test.ts holds two CPU engines to:
 * every gradient within 2e-2, the median within 1e-4, the loss within 1e-5 (float32 rounding differs between
 * engines, and a few early-layer gradients are ill-conditioned).
 */
import * as tf from '@tensorflow/tfjs';
import { useBackend } from '../src/model/backend.js';
import { disposeParams, initParams } from '../src/model/isfuse.js';
import { Rng } from '../src/core/random.js';
import { syntheticPair } from '../src/data/synthetic.js';
import { lumaPlane } from '../src/data/pairs.js';
import { installConvGradient } from '../src/model/conv-gradient.js';
import { drawInterventionMasks } from '../src/train/masks.js';
import { DEFAULT_TRAIN_CONFIG, maskTensors } from '../src/train/interventions.js';
import { stepGradients, type LossTerms } from '../src/train/step.js';

function arg(name: string, fallback: string): string {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 && i + 1 < process.argv.length ? process.argv[i + 1]! : fallback;
}
const n = Number(arg('batch', '1')), s = Number(arg('crop', '24'));
// --no-drop: without the modality-dropout passes, whose zeroed input makes the first blocks' batch variance ~0
// (1/sqrt(eps) then magnifies rounding differences between any two engines)
const config = { ...DEFAULT_TRAIN_CONFIG, drop: !process.argv.includes('--no-drop') };

async function run(backend: string): Promise<{ terms: LossTerms; grads: Map<string, Float32Array>; ms: number; description: string }> {
  const b = await useBackend(backend);
  installConvGradient();
  const vis: number[] = [], irs: number[] = [];
  for (let k = 0; k < n; k++) {
    const p = syntheticPair({ width: s, height: s, seed: 1 + k });
    vis.push(...lumaPlane(p.vis));
    irs.push(...lumaPlane(p.ir));
  }
  const batch = { vi: tf.tensor4d(vis, [n, s, s, 1]), ir: tf.tensor4d(irs, [n, s, s, 1]), masks: maskTensors(drawInterventionMasks(new Rng(3), n, s, s)) };
  const p = initParams(7);
  const t0 = performance.now();
  const r = await stepGradients(p, batch, config, 'sequential');
  const grads = new Map<string, Float32Array>();
  for (const [k, g] of r.grads) grads.set(k, (await g.data()) as Float32Array);
  const ms = performance.now() - t0;
  tf.dispose([...r.grads.values(), batch.vi, batch.ir, ...Object.values(batch.masks)]);
  disposeParams(p);
  return { terms: r.terms, grads, ms, description: b.description };
}

const ref = await run('wasm');
// --against cpu: two CPU engines side by side, the scale of rounding differences to expect
const got = await run(arg('against', 'webgpu'));
console.log(`step at batch ${n}, ${s}x${s}: ${ref.description} ${(ref.ms / 1000).toFixed(1)} s, ${got.description} ${(got.ms / 1000).toFixed(1)} s`);
// Relative L2 error per gradient, against a floor of 1e-4 of the largest gradient norm: some gradients are
// exactly zero in exact arithmetic (the key convolutions' biases: softmax ignores a per-query constant) and
// hold only rounding noise on both sides.
const norm = (a: Float32Array, b?: Float32Array): number => Math.sqrt(a.reduce((acc, v, i) => acc + (v - (b ? b[i]! : 0)) ** 2, 0));
const floor = 1e-4 * Math.max(...[...ref.grads.values()].map((a) => norm(a)));
const rows: Array<[string, number]> = [];
for (const [k, a] of ref.grads) rows.push([k, norm(a, got.grads.get(k)!) / Math.max(norm(a), floor)]);
rows.sort((x, y) => y[1] - x[1]);
const lossErr = Math.abs(got.terms.total - ref.terms.total) / Math.abs(ref.terms.total);
console.log(`loss ${ref.terms.total.toFixed(6)} vs ${got.terms.total.toFixed(6)} (rel ${lossErr.toExponential(2)})`);
for (const [k, e] of rows.slice(0, 5)) console.log(`  ${k}: rel L2 ${e.toExponential(2)}`);
const median = rows[Math.floor(rows.length / 2)]![1];
console.log(`  ... ${rows.length} gradients, median rel L2 ${median.toExponential(2)}`);
const ok = rows[0]![1] <= 2e-2 && median <= 1e-4 && lossErr <= 1e-5;
console.log(ok ? 'parity: ok' : 'parity: FAILED');
process.exit(ok ? 0 : 1);
