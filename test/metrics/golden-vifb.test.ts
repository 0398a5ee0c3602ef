import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { plane64 } from '../../src/core/image.js';
import type { Plane64 } from '../../src/metrics/types.js';
import { loadVifb } from '../../src/metrics/load.js';
import { vifbInputs, vifbMetrics } from '../../src/metrics/vifb/index.js';

// Reference: ../shared/golden/metrics_vifb.json, values of an implementation of the VIFB MATLAB metrics that
// reproduces VIFB's 6,279 stored values and VIFB's own code run in GNU Octave (to 1e-12 relative); see its
// "source" field. Tolerance: the file's "tolerance" field (1e-9 relative). Inputs: the real benchmark pairs in
// ../shared/data (never copied into the repository); the fused images are regenerated from the JSON's recipe.
const dataRoot = path.resolve('..', 'shared', 'data');
const goldenPath = path.resolve('..', 'shared', 'golden', 'metrics_vifb.json');

interface GoldenCase {
  dataset: string;
  image: string;
  method: 'avg' | 'max';
  vi_channels: number;
  ir_channels: number;
  fused_recipe: string;
  values: Record<string, number>;
}

/** The JSON's recipe: per channel on RGB (a 1-channel input repeated), avg = floor((IR+VI+1)/2), max = max(IR,VI). */
function fuse(ir: Plane64[], vi: Plane64[], method: 'avg' | 'max'): Plane64[] {
  const rgb = (p: Plane64[]) => (p.length === 1 ? [p[0]!, p[0]!, p[0]!] : p);
  const I = rgb(ir), V = rgb(vi);
  return [0, 1, 2].map((k) => {
    const a = I[k]!.data, b = V[k]!.data, o = new Float64Array(a.length);
    for (let i = 0; i < a.length; i++) o[i] = method === 'avg' ? Math.floor((a[i]! + b[i]! + 1) / 2) : Math.max(a[i]!, b[i]!);
    return plane64(I[k]!.width, I[k]!.height, o);
  });
}

test('vifb metrics reproduce every golden value (metrics_vifb.json)', async (t) => {
  if (!existsSync(goldenPath) || !existsSync(dataRoot)) {
    t.skip('../shared/golden/metrics_vifb.json or ../shared/data absent');
    return;
  }
  const golden = JSON.parse(readFileSync(goldenPath, 'utf8')) as { tolerance: string; cases: GoldenCase[] };
  const tol = Number(/^([0-9.eE+-]+) relative$/.exec(golden.tolerance)?.[1]);
  assert.ok(tol > 0 && tol <= 1e-9, `unexpected tolerance field '${golden.tolerance}'`);
  assert.ok(golden.cases.length >= 12);
  const names = vifbMetrics.map((m) => m.name);
  const worst: Record<string, number> = {};
  let checked = 0;
  for (const c of golden.cases) {
    assert.equal(c.fused_recipe.includes('avg = floor((IR+VI+1)/2), max = max(IR,VI)'), true, 'recipe changed: update fuse()');
    assert.deepEqual(Object.keys(c.values).sort(), [...names].sort(), 'golden metrics = vifbMetrics');
    const dir = path.join(dataRoot, c.dataset, 'test');
    const irPath = path.join(dir, 'ir', c.image), viPath = path.join(dir, 'vi', c.image);
    if (!existsSync(irPath) || !existsSync(viPath)) {
      t.diagnostic(`${c.dataset}/${c.image} absent, case skipped`);
      continue;
    }
    const ir = await loadVifb(irPath), vi = await loadVifb(viPath);
    assert.equal(ir.length, c.ir_channels, `${c.image} infrared channels`);
    assert.equal(vi.length, c.vi_channels, `${c.image} visible channels`);
    const inputs = vifbInputs(ir, vi, fuse(ir, vi, c.method));
    for (const m of vifbMetrics) {
      const got = m.compute(inputs), want = c.values[m.name]!;
      const e = Math.abs(got - want) / Math.abs(want);
      worst[m.name] = Math.max(worst[m.name] ?? 0, e);
      assert.ok(e <= tol, `${c.dataset}/${c.image} ${c.method} ${m.name}: got ${got}, golden ${want}, relative error ${e}`);
      checked++;
    }
  }
  t.diagnostic(`checked ${checked} values; max relative error per metric: ${JSON.stringify(Object.fromEntries(Object.entries(worst).map(([k, v]) => [k, Number(v.toPrecision(2))])))}`);
  assert.ok(checked > 0, 'no golden case could be checked');
});
