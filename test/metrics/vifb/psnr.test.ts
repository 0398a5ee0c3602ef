import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Psnr, psnrChannel } from '../../../src/metrics/vifb/psnr.js';
import { mapPlane, rel, rgbTriple, texture } from './helpers.js';

// References: closed forms of docs/METRICS.md#vifb-psnr; tolerance 1e-15 relative.

test('error of 1 everywhere: MES = 1/sqrt(N), PSNR = 20 log10(255 N^(1/4)) (~45 dB above the textbook value)', () => {
  const a = texture(20, 20, 3);
  const f = mapPlane(a, (v) => v + 1);
  const want = 20 * Math.log10(255 / Math.sqrt(1 / Math.sqrt(400)));
  assert.ok(rel(psnrChannel(a, a, f), want) < 1e-15);
  assert.ok(want > 60);
});

test('+Infinity when F equals both sources; symmetric in the sources; mean of per-channel dB', () => {
  const t = rgbTriple(14, 12, 8);
  assert.equal(Psnr.compute({ vis: t.vis, ir: t.vis, fused: t.vis }), Infinity);
  assert.equal(Psnr.compute(t), Psnr.compute({ vis: t.ir, ir: t.vis, fused: t.fused }));
  const per = [0, 1, 2].map((k) => psnrChannel(t.vis[k]!, t.ir[k]!, t.fused[k]!));
  assert.ok(rel(Psnr.compute(t), (per[0]! + per[1]! + per[2]!) / 3) < 1e-15);
});
