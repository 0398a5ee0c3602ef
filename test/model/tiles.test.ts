/**
 * Tiled inference (src/model/tiles.ts) equals the untiled onnxruntime graph.
 *
 * Tolerance: max |diff| <= 2e-6 on the [0,1] outputs (fused and the three gates), about 17 float32 ulps at
 * 1.0 (2^-23 = 1.2e-7). The two computations are the same real arithmetic; only float32 rounding differs:
 * the pooled tokens are sums over tiles (in float64) instead of one MatMul per level, and on an axis whose
 * finer size is odd the decoder's resize is two Gather-weighted sums instead of onnxruntime's Resize. Observed: <= 3.3e-7 on the
 * cases below (reported per case), <= 7.5e-7 on uniform random inputs. Halos made too small by hand showed
 * as 6e-6 to 8e-4 on 150x202 and 130x131 (encoder halo 12; network halo 32 or 28), so the tolerance
 * separates rounding from a wrong tiling. (A network halo of 36, one pixel short of the worst-case band of
 * 37, happened to pass there: the band is a bound, reached only at some tile positions and sizes.)
 *
 * Weights: the shipped model (models/isfuse-paper.safetensors); inputs: the synthetic street scene.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { syntheticPair } from '../../src/data/synthetic.js';
import { luminance } from '../../src/io/color.js';
import { stateDictSpec } from '../../src/model/isfuse.js';
import { CFI_PREFIXES, isfuseEncoders, isfuseNetwork, type NetworkOps } from '../../src/model/network.js';
import { createRunner, type IsfuseRunner } from '../../src/model/runner.js';
import { ENCODER_HALO, NETWORK_HALO, planTiles, TILE_ALIGN, tileSpans } from '../../src/model/tiles.js';
import { readIsfuseWeights } from '../../src/model/weights.js';
import { maxAbsDiff } from './fixtures.js';

const MODEL = fileURLToPath(new URL('../../models/isfuse-paper.safetensors', import.meta.url));
const TOL = 2e-6;

test('tile spans: cores partition the axis, edges on multiples of 4, every level non-empty', () => {
  for (const n of [4, 5, 7, 8, 9, 13, 31, 64, 67, 130, 131, 513, 1030, 2049]) {
    for (const size of [4, 8, 12, 16, 20, 64, 512]) {
      for (const halo of [0, ENCODER_HALO, NETWORK_HALO]) {
        const spans = tileSpans(n, size, halo);
        const what = `n ${n} size ${size} halo ${halo}`;
        assert.equal(spans[0]!.coreStart, 0, what);
        assert.equal(spans[spans.length - 1]!.coreEnd, n, what);
        spans.forEach((s, i) => {
          if (i > 0) assert.equal(s.coreStart, spans[i - 1]!.coreEnd, what);
          assert.equal(s.coreStart % TILE_ALIGN, 0, what);
          assert.equal(s.start % TILE_ALIGN, 0, what);
          assert.ok(s.end === n || s.end % TILE_ALIGN === 0, what);
          assert.ok(s.coreEnd - s.coreStart >= TILE_ALIGN && s.coreEnd - s.coreStart < size + TILE_ALIGN, what);
          assert.equal(s.start, Math.max(0, s.coreStart - halo), what);
          assert.equal(s.end, Math.min(n, s.coreEnd + halo), what);
          // the level-3 core [coreStart/4, floor(coreEnd/4)) is not empty
          assert.ok(Math.floor(s.coreEnd / 4) > s.coreStart / 4, what);
        });
      }
    }
  }
  assert.equal(planTiles(100, 60, 32, 16).length, 4 * 2);
});

/**
 * The halos again, from the layout itself: the layout run over "bands", the number of rows of each map
 * next to a cut tile edge that may differ from the untiled map. A k x k conv widens a band by floor(k/2),
 * a 2x2 max-pool halves it (rounding up), pointwise ops (adds, sigmoid, the gate mix, the attention whose
 * keys and values are the global tokens) take the widest input, and the decoder's resize to the finer
 * level makes 2 b + 2 (tiles.ts, NETWORK_HALO: taps floor(s), floor(s) + 1 with s within half a coarse
 * row below (o + 0.5)/2 - 0.5).
 */
test('NETWORK_HALO and ENCODER_HALO cover the bands the layout derives', () => {
  const kernel = new Map(stateDictSpec().filter((s) => s.role === 'conv_weight').map((s) => [s.name.replace(/\.weight$/, ''), s.shape[2]!]));
  interface Band { readonly b: number; readonly scale: number }
  const widen = (x: Band, conv: string): Band => ({ b: x.b + Math.floor(kernel.get(conv)! / 2), scale: x.scale });
  const max = (...xs: Band[]): Band => ({ b: Math.max(...xs.map((x) => x.b)), scale: xs[0]!.scale });
  const ops: NetworkOps<Band> = {
    cbl: (x, prefix, i) => widen(x, `${prefix}.${i}`),
    conv: widen,
    maxPool2: (x) => ({ b: Math.ceil(x.b / 2), scale: 2 * x.scale }),
    add: max,
    sigmoid: (x) => x,
    resizeLike: (x, to) => ({ b: 2 * x.b + 2, scale: to.scale }),
    crossAttention: (_prefix, fv, fi) => max(fv, fi),
    gateMix: max,
    zeroGate: (like) => ({ b: 0, scale: like.scale }),
    scope: (fn) => fn(),
    release: () => {},
  };
  const image: Band = { b: 0, scale: 1 };
  const px = (x: Band) => x.b * x.scale; // rows of its level -> image pixels
  const out = isfuseNetwork(ops, image, image);
  assert.deepEqual([px(out.fused), ...out.gates.map(px)], [37, 20, 8, 3]);
  assert.equal(NETWORK_HALO, Math.ceil(Math.max(px(out.fused), ...out.gates.map(px)) / TILE_ALIGN) * TILE_ALIGN);
  const enc = isfuseEncoders(ops, image, image);
  assert.deepEqual([...enc.vis, ...enc.ir].map(px), [2, 6, 16, 2, 6, 16]);
  assert.equal(ENCODER_HALO, Math.ceil(Math.max(...[...enc.vis, ...enc.ir].map(px)) / TILE_ALIGN) * TILE_ALIGN);
  assert.deepEqual([...CFI_PREFIXES], ['cfi5', 'cfi4', 'cfi3']);
});

let runner: IsfuseRunner | undefined;
async function onnx(): Promise<IsfuseRunner> {
  runner ??= await createRunner(await readIsfuseWeights(MODEL), 'onnx');
  return runner;
}

/** A synthetic pair at H x W as [0,1] planes (visible luminance, infrared gray). */
function pair(height: number, width: number, seed = 3) {
  const { ir, vis } = syntheticPair({ width, height, seed });
  return { vi: luminance(vis), ir: Float32Array.from(ir.data as Uint8Array, (v) => v / 255), height, width };
}

// [H, W, tile size]: odd sizes (floor drops a row at both poolings), non-multiples of 4 and 8, multiples of 8,
// images smaller than one tile and smaller than the halo, tiles smaller than the halo (many tiles; first,
// inner and last tiles along both axes). Resizes with the image's taps (an odd finer size) on rows and/or
// columns: 37x45 (to level 1: both axes), 75x93 (to level 1: both; to level 2: rows), 150x202 (to level 2:
// both), 130x131 (to level 1: columns; to level 2: both); 96x128 none (Resize only).
const CASES: readonly [number, number, number][] = [
  [37, 45, 16],
  [75, 93, 20],
  [96, 128, 32],
  [150, 202, 24],
  [130, 131, 40],
  [61, 35, 12],
  [9, 13, 4],
  [4, 7, 4],
  [101, 67, 512],
  [600, 530, 512],
];

for (const [h, w, size] of CASES) {
  test(`tiled = untiled at ${h}x${w}, tiles of ${size} (fused and gates)`, async (t) => {
    const r = await onnx();
    const p = pair(h, w);
    const a = await r.run(p, { gates: true, tiles: 'never' });
    const b = await r.run(p, { gates: true, tiles: 'always', tileSize: size });
    assert.equal(b.fused.length, h * w);
    const d = maxAbsDiff(a.fused, b.fused);
    assert.ok(d <= TOL, `fused: max |diff| ${d}`);
    const dg = a.gates!.map((g, i) => {
      const tg = b.gates![i]!;
      assert.deepEqual([tg.height, tg.width], [g.height, g.width]);
      return maxAbsDiff(g.data, tg.data);
    });
    dg.forEach((x, i) => assert.ok(x <= TOL, `g${i + 3}: max |diff| ${x}`));
    t.diagnostic(`max |diff| fused ${d.toExponential(2)}, g3 g4 g5 ${dg.map((x) => x.toExponential(2)).join(' ')}`);
  });
}

test('tiled without gates; the default tile size; the result does not depend on the tile size', async () => {
  const r = await onnx();
  const p = pair(140, 84, 11);
  const a = await r.run(p, { tiles: 'always' });
  assert.equal(a.gates, undefined);
  const b = await r.run(p, { tiles: 'always', tileSize: 28 });
  const c = await r.run(p, { tiles: 'never' });
  assert.ok(maxAbsDiff(a.fused, b.fused) <= TOL && maxAbsDiff(a.fused, c.fused) <= TOL);
  r.dispose();
  runner = undefined;
});
