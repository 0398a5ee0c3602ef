// The Conv2D gradient of src/model/conv-gradient.ts against TensorFlow.js's stock gradient (cpu backend)
// and against central finite differences (float64 on the host). Tolerances: stock vs ours 1e-5 relative to
// the largest gradient value (float32 summation order differs); finite differences 1e-3 relative (the loss
// is linear in x and in the filter, so the difference quotient is exact up to float32 rounding).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { installConvGradient, uninstallConvGradient } from '../../src/model/conv-gradient.js';

const cases: { x: [number, number, number, number]; f: [number, number, number, number]; pad: 'same' | 'valid' }[] = [
  { x: [2, 7, 6, 3], f: [3, 3, 3, 4], pad: 'same' },
  { x: [3, 5, 5, 4], f: [1, 1, 4, 2], pad: 'same' },
  { x: [2, 6, 7, 2], f: [3, 3, 2, 3], pad: 'valid' },
  { x: [1, 8, 8, 1], f: [5, 5, 1, 2], pad: 'same' },
];

function grads(x: tf.Tensor4D, f: tf.Tensor4D, r: tf.Tensor, pad: 'same' | 'valid'): [Float32Array, Float32Array] {
  const g = tf.grads((a: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(tf.conv2d(a as tf.Tensor4D, b as tf.Tensor4D, 1, pad), r)));
  const [gx, gf] = g([x, f]);
  return [gx!.dataSync() as Float32Array, gf!.dataSync() as Float32Array];
}

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

test('Conv2D gradient: equals the stock gradient on cpu', async () => {
  await tf.setBackend('cpu');
  for (const c of cases) {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 1) as tf.Tensor4D;
    const f = tf.randomNormal(c.f, 0, 1, 'float32', 2) as tf.Tensor4D;
    const r = tf.randomNormal(tf.conv2d(x, f, 1, c.pad).shape, 0, 1, 'float32', 3);
    uninstallConvGradient();
    const [sx, sf] = grads(x, f, r, c.pad);
    installConvGradient();
    const [ox, of] = grads(x, f, r, c.pad);
    for (const [a, b, what] of [[sx, ox, 'dx'], [sf, of, 'dfilter']] as const) {
      const scale = maxAbs(a);
      a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= 1e-5 * scale, `${JSON.stringify(c)} ${what}[${i}]: stock ${v}, ours ${b[i]}`));
    }
  }
  uninstallConvGradient();
});

test('Conv2D gradient: matches central finite differences', async () => {
  await tf.setBackend('cpu');
  installConvGradient();
  for (const c of cases) {
    const x = tf.randomNormal(c.x, 0, 1, 'float32', 4) as tf.Tensor4D;
    const f = tf.randomNormal(c.f, 0, 1, 'float32', 5) as tf.Tensor4D;
    const r = tf.randomNormal(tf.conv2d(x, f, 1, c.pad).shape, 0, 1, 'float32', 6);
    const [gx, gf] = grads(x, f, r, c.pad);
    const loss = (xa: Float32Array, fa: Float32Array): number =>
      tf.tidy(() => tf.sum(tf.mul(tf.conv2d(tf.tensor4d(xa, c.x), tf.tensor4d(fa, c.f), 1, c.pad), r)).dataSync()[0]!);
    const xv = x.dataSync() as Float32Array, fv = f.dataSync() as Float32Array;
    const h = 0.5;
    for (const [vals, g, which] of [[xv, gx, 'x'], [fv, gf, 'filter']] as const) {
      for (const i of [0, Math.floor(vals.length / 3), vals.length - 1]) {
        const p = Float32Array.from(vals), m = Float32Array.from(vals);
        p[i] += h;
        m[i] -= h;
        const fd = which === 'x' ? (loss(p, fv) - loss(m, fv)) / (2 * h) : (loss(xv, p) - loss(xv, m)) / (2 * h);
        assert.ok(Math.abs(fd - g[i]!) <= 1e-3 * Math.max(1, Math.abs(fd)), `${JSON.stringify(c)} d/d${which}[${i}]: finite difference ${fd}, gradient ${g[i]}`);
      }
    }
  }
  uninstallConvGradient();
});
