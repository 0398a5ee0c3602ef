// MI (src/metrics/mmif/mi.ts, common/histogram.ts). Reference values: hand-derived (entropies of simple images) and
// an independent naive contingency-table computation written below from the definition (docs/METRICS.md#mmif-mi);
// tolerance 1e-12 relative.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MI, mi } from '../../../src/metrics/mmif/mi.js';
import { mutualInfoNats } from '../../../src/metrics/common/histogram.js';
import { assertRel, average, constant, fromRows, mapPlane, randomPlane } from './helpers.js';

/** Naive I(x; y) in nats from a Map-based contingency table. */
function naiveMI(x: Float64Array, y: Float64Array): number {
  const n = x.length;
  const joint = new Map<string, number>(), px = new Map<number, number>(), py = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const k = `${x[i]}|${y[i]}`;
    joint.set(k, (joint.get(k) ?? 0) + 1);
    px.set(x[i]!, (px.get(x[i]!) ?? 0) + 1);
    py.set(y[i]!, (py.get(y[i]!) ?? 0) + 1);
  }
  let s = 0;
  for (const [k, c] of joint) {
    const [a, b] = k.split('|').map(Number) as [number, number];
    const p = c / n;
    s += p * Math.log(p / ((px.get(a)! / n) * (py.get(b)! / n)));
  }
  return s;
}

test('MI: F = A = B with two equally frequent values gives 2 ln 2 nats (I(F;A) = H(A))', () => {
  const a = fromRows([[0, 255], [255, 0]]);
  assertRel(mi(a, a, a), 2 * Math.LN2, 1e-15);
});

test('MI: a constant image has exactly 0 mutual information (sklearn single-value rule; docs/METRICS.md#edge-cases)', () => {
  const a = randomPlane(9, 9, 30);
  assert.equal(mi(a, a, constant(9, 9, 17)), 0);
  assert.equal(mutualInfoNats(constant(9, 9, 3).data, a.data), 0);
});

test('MI: matches a naive contingency-table computation (dense 256x256 path)', () => {
  const a = randomPlane(40, 30, 31, true), b = randomPlane(40, 30, 32, true), f = average(a, b);
  assertRel(mi(a, b, f), naiveMI(f.data, a.data) + naiveMI(f.data, b.data), 1e-12);
});

test('MI: the exact general path (non-integer values) agrees with the dense path under relabelling', () => {
  const a = randomPlane(40, 30, 33, true), b = randomPlane(40, 30, 34, true), f = average(a, b);
  // A bijective relabelling of values leaves MI unchanged; x -> x / 3 + 0.25 forces the general path.
  const g = (p: typeof a) => mapPlane(p, (v) => v / 3 + 0.25);
  assertRel(mi(g(a), g(b), g(f)), mi(a, b, f), 1e-12);
  assertRel(mi(g(a), g(b), g(f)), naiveMI(g(f).data, g(a).data) + naiveMI(g(f).data, g(b).data), 1e-12, 'naive');
});

test('MI: symmetric in A and B; 0 <= I(F;A) <= H(A) in nats', () => {
  const a = randomPlane(25, 20, 35, true), b = randomPlane(25, 20, 36, true), f = average(a, b);
  assert.equal(mi(a, b, f), mi(b, a, f));
  const iFA = mutualInfoNats(f.data, a.data);
  const hA = mutualInfoNats(a.data, a.data);
  assert.ok(iFA >= 0 && iFA <= hA + 1e-12, `I(F;A) = ${iFA}, H(A) = ${hA}`);
});

test('MI: registered, higher is better, uses all three images', () => {
  assert.deepEqual([MI.higherIsBetter, [...MI.uses]], [true, ['ir', 'vis', 'fused']]);
});
