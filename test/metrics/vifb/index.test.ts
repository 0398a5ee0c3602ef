import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { IsfuseError } from '../../../src/core/errors.js';
import { writeImage } from '../../../src/io/encode.js';
import { loadVifb } from '../../../src/metrics/load.js';
import { vifbInputs, vifbMetrics, vifbPlanes } from '../../../src/metrics/vifb/index.js';
import { constant, mapPlane, rgbTriple, texture } from './helpers.js';

// What is checked here: the registry (names, order, directions), vifbInputs / vifbPlanes / loadVifb plumbing
// (exact sample values, error kinds and messages), and the constant-image values of docs/METRICS.md#edge-cases (exact:
// each follows from 0/0, log 0 skipping or identical inputs, derived in the comments).

test('vifbMetrics: the 13 VIFB metrics in VIFB order, vifb convention, directions as VIFB reads them', () => {
  assert.deepEqual(
    vifbMetrics.map((m) => m.name),
    ['Avg_gradient', 'Cross_entropy', 'Edge_intensity', 'Entropy', 'Mutinf', 'Psnr', 'Qabf', 'Qcb', 'Qcv', 'Rmse', 'Spatial_frequency', 'Ssim', 'Variance'],
  );
  assert.ok(vifbMetrics.every((m) => m.convention === 'vifb' && m.description.length > 10 && m.uses.includes('fused')));
  assert.deepEqual(vifbMetrics.filter((m) => !m.higherIsBetter).map((m) => m.name), ['Cross_entropy', 'Qcv', 'Rmse']);
});

test('vifbInputs: 1-channel visible / fused repeated to 3 (same plane), 1-channel infrared kept as 1', () => {
  const g = texture(8, 6, 1), rgb = [texture(8, 6, 2), texture(8, 6, 3), texture(8, 6, 4)];
  const inp = vifbInputs([g], [g], rgb);
  assert.equal(inp.ir.length, 1);
  assert.deepEqual(inp.vis, [g, g, g]);
  assert.deepEqual(inp.fused, rgb);
  assert.deepEqual(vifbInputs(rgb, rgb, [g]).fused, [g, g, g]);
});

test('vifbInputs: channels with identical samples become one plane object; metric values do not change', () => {
  const g = texture(70, 66, 5);
  const copy = () => mapPlane(g, (v) => v);
  const ir = texture(70, 66, 6);
  const inp = vifbInputs([ir, mapPlane(ir, (v) => v), mapPlane(ir, (v) => v)], [g, copy(), copy()], [copy(), copy(), copy()]);
  assert.equal(inp.vis[1], inp.vis[0]);
  assert.equal(inp.vis[2], inp.vis[0]);
  assert.equal(inp.ir[2], inp.ir[0]);
  const distinct = { ir: [ir, mapPlane(ir, (v) => v), mapPlane(ir, (v) => v)], vis: [g, copy(), copy()], fused: [copy(), copy(), copy()] };
  for (const m of vifbMetrics) {
    const a = m.compute(inp), b = m.compute(distinct);
    // tolerance 1e-13 relative: Qcb pairs planes differently in its FFTs, which changes rounding only
    assert.ok(a === b || Math.abs(a - b) <= 1e-13 * Math.abs(b), `${m.name}: ${a} vs ${b}`);
  }
});

test('vifbInputs: size and channel-count mismatches are input errors naming the sizes', () => {
  const a = texture(8, 6, 1), b = texture(9, 6, 1);
  assert.throws(() => vifbInputs([a], [a, a, a], [b, b, b]), (e: unknown) => e instanceof IsfuseError && e.kind === 'input' && /8x6/.test(e.message) && /9x6/.test(e.message));
  assert.throws(() => vifbInputs([a, a], [a], [a]), (e: unknown) => e instanceof IsfuseError && /1 or 3 channels/.test(e.message));
  // metrics check too when called with hand-made inputs
  assert.throws(() => vifbMetrics[7]!.compute({ vis: [a, a, a], ir: [a], fused: [a, a, b] }), (e: unknown) => e instanceof IsfuseError && /9x6/.test(e.message));
  assert.throws(() => vifbMetrics[0]!.compute({ vis: [a], ir: [a], fused: [a, a, a] }), IsfuseError);
});

test('constant images never throw and give the values of docs/METRICS.md#edge-cases', () => {
  const w = 20, h = 18;
  const z = constant(w, h, 0), c = constant(w, h, 100);
  const same = { vis: [c, c, c], ir: [c], fused: [c, c, c] };
  const v = Object.fromEntries(vifbMetrics.map((m) => [m.name, m.compute(same)]));
  assert.deepEqual(
    { AG: v.Avg_gradient, CE: v.Cross_entropy, EI: v.Edge_intensity, EN: v.Entropy, MI: v.Mutinf, Psnr: v.Psnr, Rmse: v.Rmse, SF: v.Spatial_frequency, Var: v.Variance },
    { AG: 0, CE: 0, EI: 0, EN: 0, MI: 0, Psnr: Infinity, Rmse: 0, SF: 0, Var: 0 },
  );
  assert.ok(Math.abs(v.Ssim! - 2) < 1e-15, 'SSIM of identical constant images is 1 each');
  assert.ok(Number.isNaN(v.Qcb!) && Number.isNaN(v.Qcv!), 'normalize1 of a constant non-zero image is 0/0');
  assert.ok(Number.isFinite(v.Qabf!), 'zero padding makes the border of a constant image an edge');
  const zeros = { vis: [z, z, z], ir: [z], fused: [texture(w, h, 1), texture(w, h, 2), texture(w, h, 3)] };
  for (const m of vifbMetrics) assert.doesNotThrow(() => m.compute(zeros), m.name);
  const q = Object.fromEntries(vifbMetrics.map((m) => [m.name, m.compute(zeros)]));
  assert.ok(Number.isNaN(q.Qabf!) && Number.isNaN(q.Qcv!) && Number.isNaN(q.Qcb!), 'all-zero sources: 0/0');
  assert.ok(q.Mutinf === 0, 'constant sources contribute 0 to MI');
});

test('every metric is finite on a textured RGB triple with a 1-channel infrared, and deterministic', () => {
  const t = rgbTriple(40, 33, 11, 1);
  for (const m of vifbMetrics) {
    const a = m.compute(t);
    assert.ok(Number.isFinite(a), `${m.name}: ${a}`);
    assert.equal(m.compute(t), a, m.name);
  }
});

test('vifbPlanes: channels as planes in R,G,B order; 16-bit reduced with round(v / 257)', () => {
  const p = vifbPlanes({ width: 2, height: 1, channels: 3, bitDepth: 8, data: Uint8Array.of(1, 2, 3, 4, 5, 6) });
  assert.deepEqual(p.map((x) => Array.from(x.data)), [[1, 4], [2, 5], [3, 6]]);
  const q = vifbPlanes({ width: 3, height: 1, channels: 1, bitDepth: 16, data: Uint16Array.of(65535, 128, 129) });
  assert.deepEqual(Array.from(q[0]!.data), [255, 0, 1]);
});

test('loadVifb: a generated RGB PNG and a 16-bit gray PNG', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'isfuse-vifb-'));
  try {
    const rgb = Uint8Array.from({ length: 4 * 3 * 3 }, (_, i) => (i * 37) % 256);
    await writeImage(path.join(dir, 'rgb.png'), { width: 4, height: 3, channels: 3, bitDepth: 8, data: rgb });
    const planes = await loadVifb(path.join(dir, 'rgb.png'));
    assert.equal(planes.length, 3);
    assert.deepEqual(Array.from(planes[1]!.data), Array.from({ length: 12 }, (_, i) => rgb[i * 3 + 1]!));
    const g16 = new Uint16Array([0, 257, 65535, 1000]);
    await writeImage(path.join(dir, 'g16.png'), { width: 2, height: 2, channels: 1, bitDepth: 16, data: g16 });
    const warnings: string[] = [];
    const g = await loadVifb(path.join(dir, 'g16.png'), { onWarning: (m) => warnings.push(m) });
    assert.equal(g.length, 1);
    assert.deepEqual(Array.from(g[0]!.data), [0, 1, 255, 4]);
    assert.equal(warnings.length, 1);
    await assert.rejects(loadVifb(path.join(dir, 'missing.png')), IsfuseError);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('loadVifb on real pairs: MSRS infrared has 1 plane, visible 3 (../shared/data)', async (t) => {
  const dir = path.resolve('..', 'shared', 'data', 'MSRS', 'test');
  if (!existsSync(dir)) {
    t.skip('../shared/data/MSRS absent');
    return;
  }
  const name = readdirSync(path.join(dir, 'ir')).sort()[0]!;
  const ir = await loadVifb(path.join(dir, 'ir', name)), vi = await loadVifb(path.join(dir, 'vi', name));
  assert.equal(ir.length, 1);
  assert.equal(vi.length, 3);
  assert.deepEqual([vi[0]!.width, vi[0]!.height], [640, 480]);
  assert.ok(vi.every((p) => p.data.every((v) => Number.isInteger(v) && v >= 0 && v <= 255)));
});
