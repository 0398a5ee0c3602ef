import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rmse, rmseChannel, vifbRootSse } from '../../../src/metrics/vifb/rmse.js';
import { mapPlane, rel, rgbTriple, texture } from './helpers.js';

// References: closed forms of VIFB's sqrt(SSE)/N (docs/METRICS.md#vifb-rmse); exact for integer data, tolerance 1e-15.

test("VIFB's quirk: an error of 1 on every pixel gives sqrt(N)/N = 1/sqrt(N), not 1", () => {
  const a = texture(16, 9, 1);
  const f = mapPlane(a, (v) => v + 1);
  assert.ok(rel(vifbRootSse(a, f), 1 / Math.sqrt(16 * 9)) < 1e-15);
  assert.ok(rel(rmseChannel(a, mapPlane(a, (v) => v + 2), f), 1 / Math.sqrt(144)) < 1e-15);
});

test('0 when the fused image equals both sources; symmetric; invariant to a common offset', () => {
  const t = rgbTriple(15, 11, 2);
  assert.equal(Rmse.compute({ vis: t.vis, ir: t.vis, fused: t.vis }), 0);
  assert.equal(Rmse.compute(t), Rmse.compute({ vis: t.ir, ir: t.vis, fused: t.fused }));
  const add = (ps: readonly (typeof t.vis)[number][]) => ps.map((p) => mapPlane(p, (v) => v + 5));
  assert.ok(rel(Rmse.compute({ vis: add(t.vis), ir: add(t.ir), fused: add(t.fused) }), Rmse.compute(t)) < 1e-15);
});
