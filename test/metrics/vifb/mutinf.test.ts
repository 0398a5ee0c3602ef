import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane64 } from '../../../src/core/image.js';
import { Mutinf, mutinfChannel, mutinfPair, quantizeMinMax } from '../../../src/metrics/vifb/mutinf.js';
import { constant, mapPlane, rel, rgbTriple, texture } from './helpers.js';

// References: closed forms of docs/METRICS.md#vifb-mutinf (nats) and the int16() rounding rule; tolerance 1e-15
// relative.
const p = (...v: number[]) => plane64(v.length, 1, Float64Array.from(v));

test('re-quantisation: min-max stretch then round half away from zero (int16 cast)', () => {
  assert.deepEqual(Array.from(quantizeMinMax(Float64Array.of(0, 1, 2))), [0, 128, 255]); // 127.5 -> 128
  assert.deepEqual(Array.from(quantizeMinMax(Float64Array.of(10, 12, 14, 10))), [0, 128, 255, 0]);
  assert.deepEqual(Array.from(quantizeMinMax(Float64Array.of(7, 7, 7))), [0, 0, 0]); // constant -> zeros
});

test('hand values: independent halves give 0, identical two-level images give ln 2', () => {
  assert.ok(Math.abs(mutinfPair(p(0, 255, 0, 255), p(0, 0, 255, 255))) < 1e-16);
  assert.ok(rel(mutinfPair(p(0, 255, 0, 255), p(3, 9, 3, 9)), Math.LN2) < 1e-15);
});

test('MI(x, x) = H(q(x)) in nats; a constant image contributes 0', () => {
  const t = texture(25, 19, 2);
  const q = quantizeMinMax(t.data);
  const counts = new Map<number, number>();
  for (const v of q) counts.set(v, (counts.get(v) ?? 0) + 1);
  let h = 0;
  for (const c of counts.values()) h -= (c / q.length) * Math.log(c / q.length);
  assert.ok(rel(mutinfPair(t, t), h) < 1e-13);
  assert.ok(Math.abs(mutinfPair(t, constant(25, 19, 40))) < 1e-15);
  assert.ok(rel(mutinfChannel(t, t, t), 2 * h) < 1e-13);
});

test('symmetric in the sources and in (a, b); invariant to an increasing affine map (x -> 2x + 3)', () => {
  const t = rgbTriple(22, 16, 4);
  assert.equal(Mutinf.compute(t), Mutinf.compute({ vis: t.ir, ir: t.vis, fused: t.fused }));
  const a = texture(22, 16, 1), b = texture(22, 16, 2);
  assert.ok(rel(mutinfPair(a, b), mutinfPair(b, a)) < 1e-13);
  assert.equal(mutinfPair(mapPlane(a, (v) => 2 * v + 3), b), mutinfPair(a, b));
});

test('1-plane infrared reused per channel equals three copies; per-channel mean', () => {
  const g = rgbTriple(18, 12, 7, 1);
  const ir = g.ir[0]!;
  assert.equal(Mutinf.compute(g), Mutinf.compute({ ...g, ir: [ir, ir, ir] }));
  const per = [0, 1, 2].map((k) => mutinfChannel(g.vis[k]!, ir, g.fused[k]!));
  assert.ok(rel(Mutinf.compute(g), (per[0]! + per[1]! + per[2]!) / 3) < 1e-15);
});
