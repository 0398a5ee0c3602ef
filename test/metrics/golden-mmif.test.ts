// Golden values of the mmif convention: ../shared/golden/metrics_mmif.json holds outputs of the reference
// evaluator itself (CDDFuse utils/Evaluator.py, run unmodified with numpy 1.24 / OpenCV 4.6 / scikit-image 0.19.3 /
// scikit-learn 1.2.1) on real pairs of ../shared/data, as float32 (`values`, what papers print) and on float64
// copies (`values_float64`). Tolerances, relative:
//   - every metric vs values_float64: 1e-9, VIF 1e-6 (the file's own statement of what float64 should reach);
//   - SSIM vs the float32 `values`: 5e-4 (the reference's float32 cancellation, see src/metrics/mmif/ssim.ts);
//   - other metrics vs the float32 `values`: 1e-6 (float32 rounding of the reference).
// Each case's fused image is regenerated from its `fused_recipe`, and the sha256 of the gray images is checked
// before any value is compared.
// A second test cross-checks other kinds of input (JPEG colour, pseudo-colour PET) against tools/mmif_reference.py
// (a numpy restatement of the same formulas, validated on these golden cases) when Debian's python3 with
// numpy/scipy/scikit-image/scikit-learn/OpenCV is installed; it is skipped otherwise.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import path from 'node:path';
import sharp from 'sharp';
import { plane64 } from '../../src/core/image.js';
import { decodeBuffer } from '../../src/io/decode.js';
import { loadMmif, mmifPlane } from '../../src/metrics/load.js';
import { getMetric, listMetrics } from '../../src/metrics/registry.js';
import type { Plane64 } from '../../src/metrics/types.js';

const DATA = path.resolve('..', 'shared', 'data');
const GOLDEN = path.resolve('..', 'shared', 'golden', 'metrics_mmif.json');

interface GoldenCase {
  dataset: string;
  image: string;
  method: string;
  A: string;
  B: string;
  fused_recipe: string;
  sha256_gray_A?: string;
  sha256_gray_B?: string;
  sha256_gray_F: string;
  values: Record<string, number>;
  values_float64: Record<string, number>;
}

function sha256Gray(p: Plane64): string {
  return createHash('sha256').update(Uint8Array.from(p.data)).digest('hex');
}

const relErr = (a: number, b: number): number => (a === b ? 0 : Math.abs(a - b) / Math.abs(b));

/** Builds F from a recipe of the golden file; throws on a recipe this test does not know. */
async function fusedFromRecipe(recipe: string, a: Plane64, b: Plane64): Promise<Plane64> {
  const n = a.data.length;
  if (recipe.startsWith('F = floor((A + B + 1) / 2)')) {
    const f = new Float64Array(n);
    for (let i = 0; i < n; i++) f[i] = Math.floor((a.data[i]! + b.data[i]! + 1) / 2);
    return plane64(a.width, a.height, f);
  }
  if (recipe.startsWith('F = max(A, B)') && /8-bit gray PNG/.test(recipe)) {
    // Faithful to the recipe: write max(A, B) as an 8-bit gray PNG and read it back the mmif way.
    const bytes = new Uint8Array(n);
    for (let i = 0; i < n; i++) bytes[i] = Math.max(a.data[i]!, b.data[i]!);
    const png = await sharp(bytes, { raw: { width: a.width, height: a.height, channels: 1 } }).png().toBuffer();
    return mmifPlane(await decodeBuffer(png, 'max(A,B).png'));
  }
  throw new Error(`unknown fused_recipe (extend this test): ${recipe}`);
}

test('golden mmif: every case of metrics_mmif.json is reproduced', async (t) => {
  if (!existsSync(GOLDEN) || !existsSync(DATA)) {
    t.skip('../shared/golden/metrics_mmif.json or ../shared/data absent');
    return;
  }
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { cases: GoldenCase[] };
  assert.ok(golden.cases.length > 0, 'the golden file has no cases');
  const metrics = listMetrics('mmif');
  const worst64: Record<string, number> = {}, worst32: Record<string, number> = {};
  for (const c of golden.cases) {
    const label = `${c.dataset}/${c.image} ${c.method}`;
    const a = await loadMmif(path.join(DATA, c.A)), b = await loadMmif(path.join(DATA, c.B));
    if (c.sha256_gray_A) assert.equal(sha256Gray(a), c.sha256_gray_A, `${label}: gray A differs from the reference read`);
    if (c.sha256_gray_B) assert.equal(sha256Gray(b), c.sha256_gray_B, `${label}: gray B differs from the reference read`);
    const f = await fusedFromRecipe(c.fused_recipe, a, b);
    assert.equal(sha256Gray(f), c.sha256_gray_F, `${label}: regenerated gray F differs from the reference's`);
    // Golden keys use CDDFuse's names ('VIFF'); the registry resolves them (alias VIFF -> VIF).
    const keys = Object.keys(c.values_float64);
    assert.equal(keys.length, metrics.length, `${label}: expected ${metrics.length} golden metrics`);
    for (const key of keys) {
      const m = getMetric('mmif', key);
      const v = m.compute({ ir: a, vis: b, fused: f });
      const e64 = relErr(v, c.values_float64[key]!), e32 = relErr(v, c.values[key]!);
      worst64[m.name] = Math.max(worst64[m.name] ?? 0, e64);
      worst32[m.name] = Math.max(worst32[m.name] ?? 0, e32);
      const tol64 = m.name === 'VIF' ? 1e-6 : 1e-9;
      const tol32 = m.name === 'SSIM' ? 5e-4 : 1e-6;
      assert.ok(e64 <= tol64, `${label} ${key}: ${v} vs float64 reference ${c.values_float64[key]} (relative ${e64.toExponential(2)} > ${tol64})`);
      assert.ok(e32 <= tol32, `${label} ${key}: ${v} vs float32 reference ${c.values[key]} (relative ${e32.toExponential(2)} > ${tol32})`);
    }
  }
  t.diagnostic(`max relative error vs values_float64: ${metrics.map((m) => `${m.name} ${worst64[m.name]!.toExponential(1)}`).join(', ')}`);
  t.diagnostic(`max relative error vs float32 values: ${metrics.map((m) => `${m.name} ${worst32[m.name]!.toExponential(1)}`).join(', ')}`);
});

test('golden mmif: the float32 shift of the published SSIM is below 1e-5 relative on the golden cases', (t) => {
  if (!existsSync(GOLDEN)) {
    t.skip('../shared/golden/metrics_mmif.json absent');
    return;
  }
  // Measured on the reference's own outputs (no isfuse code involved): documents the number quoted in ssim.ts.
  const golden = JSON.parse(readFileSync(GOLDEN, 'utf8')) as { cases: GoldenCase[] };
  const shift = Math.max(...golden.cases.map((c) => relErr(c.values.SSIM!, c.values_float64.SSIM!)));
  t.diagnostic(`max |SSIM float32 - float64| / float64 = ${shift.toExponential(2)}`);
  assert.ok(shift > 0 && shift < 1e-5, `shift ${shift}`);
});

function pythonReference(): string | undefined {
  const py = '/usr/bin/python3';
  if (!existsSync(py)) return undefined;
  try {
    execFileSync(py, ['-c', 'import cv2, numpy, scipy, skimage, sklearn'], { stdio: 'ignore' });
    return py;
  } catch {
    return undefined;
  }
}

test('mmif vs tools/mmif_reference.py on JPEG colour and pseudo-colour inputs (float64, 1e-9; VIF 1e-6)', async (t) => {
  const py = pythonReference();
  if (!py) {
    t.skip('/usr/bin/python3 with cv2, numpy, scipy, skimage, sklearn absent');
    return;
  }
  const pairs = [
    ['RoadScene/test/ir/FLIR_00211.jpg', 'RoadScene/test/vi/FLIR_00211.jpg'],
    ['MRI_PET/test/PET/11.png', 'MRI_PET/test/MRI/11.png'],
  ].filter(([a, b]) => existsSync(path.join(DATA, a!)) && existsSync(path.join(DATA, b!)));
  if (pairs.length === 0) {
    t.skip('../shared/data (RoadScene, MRI_PET) absent');
    return;
  }
  for (const [ir, vis] of pairs) {
    const ref = JSON.parse(execFileSync(py, ['tools/mmif_reference.py', 'avg', path.join(DATA, ir!), path.join(DATA, vis!), '--float64'], { encoding: 'utf8' })) as Record<string, number>;
    const a = await loadMmif(path.join(DATA, ir!)), b = await loadMmif(path.join(DATA, vis!));
    const f = plane64(a.width, a.height, a.data.map((v, i) => Math.floor((v + b.data[i]! + 1) / 2)));
    for (const m of listMetrics('mmif')) {
      const v = m.compute({ ir: a, vis: b, fused: f });
      const e = relErr(v, ref[m.name]!);
      assert.ok(e <= (m.name === 'VIF' ? 1e-6 : 1e-9), `${ir} ${m.name}: ${v} vs ${ref[m.name]} (relative ${e.toExponential(2)})`);
    }
  }
});
