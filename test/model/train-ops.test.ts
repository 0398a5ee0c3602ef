// The fused training ops of src/model/train-ops.ts against the stock compositions of layers.ts (TensorFlow.js
// autodiff, cpu backend) and against central finite differences.
// Tolerances: forward and gradients vs stock, 1e-4 relative to the largest value of the tensor (float32
// summation order differs; the conv bias gradient is exactly 0 here and ~1e-7 relative in the stock
// autodiff). Finite differences (float32 evaluation, h = 2e-3, small enough that few values cross the LeakyReLU kink): 2e-2 relative to the tensor's
// largest gradient for the nonlinear blocks (BatchNorm, softmax), 1e-3 for the linear matmul.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as tf from '@tensorflow/tfjs';
import { batchNormTrain, conv2d, leaky, pooledCrossAttention, type Conv } from '../../src/model/layers.js';
import { cblTrain, matMul2d, pooledAttentionPair } from '../../src/model/train-ops.js';

const maxAbs = (a: ArrayLike<number>): number => Array.from(a).reduce((m, v) => Math.max(m, Math.abs(v)), 0);

function close(a: tf.Tensor, b: tf.Tensor, rel: number, what: string, floor = 1e-6): void {
  const av = a.dataSync(), bv = b.dataSync();
  assert.deepEqual(a.shape, b.shape, what);
  const scale = Math.max(floor, maxAbs(bv));
  let worst = 0;
  for (let i = 0; i < av.length; i++) worst = Math.max(worst, Math.abs(av[i]! - bv[i]!));
  assert.ok(worst <= rel * scale, `${what}: max |diff| ${worst}, largest |ref| ${scale}`);
}

/** Central finite differences of loss(inputs) at a few entries of input `which`, compared with g. */
function checkFd(loss: (xs: tf.Tensor[]) => number, xs: tf.Tensor[], g: tf.Tensor, which: number, rel: number, what: string): void {
  const vals = xs[which]!.dataSync() as Float32Array;
  const gv = g.dataSync();
  const scale = Math.max(1e-3, maxAbs(gv));
  const h = 2e-3;
  for (const i of [0, Math.floor(vals.length / 2), vals.length - 1]) {
    const at = (d: number): number => {
      const v = Float32Array.from(vals);
      v[i] += d;
      const t = tf.tensor(v, xs[which]!.shape);
      const r = loss(xs.map((x, k) => (k === which ? t : x)));
      t.dispose();
      return r;
    };
    const fd = (at(h) - at(-h)) / (2 * h);
    assert.ok(Math.abs(fd - gv[i]!) <= rel * scale, `${what}[${i}]: finite difference ${fd}, gradient ${gv[i]} (largest |grad| ${scale})`);
  }
}

test('cblTrain equals conv -> batchNormTrain -> leaky (forward, statistics, gradients) on cpu', async () => {
  await tf.setBackend('cpu');
  for (const [shape, k, co] of [[[2, 7, 6, 3], 3, 4], [[3, 5, 5, 4], 1, 2], [[2, 6, 5, 2], 3, 16]] as const) {
    const ci = shape[3];
    const x = tf.randomNormal([...shape], 0, 1, 'float32', 1);
    const w = tf.randomNormal([k, k, ci, co], 0, 0.5, 'float32', 2);
    const b = tf.randomNormal([co], 0, 1, 'float32', 3);
    const g = tf.randomUniform([co], 0.5, 1.5, 'float32', 4);
    const be = tf.randomNormal([co], 0, 0.5, 'float32', 5);
    const r = tf.randomNormal([shape[0], shape[1], shape[2], co], 0, 1, 'float32', 6);
    const bn = { weight: g, bias: be, runningMean: tf.zeros([co]), runningVar: tf.ones([co]) } as never;
    const stock = (xs: tf.Tensor[]) => {
      const c: Conv = { filter: xs[1] as tf.Tensor4D, bias: xs[2] as tf.Tensor1D };
      return leaky(batchNormTrain(conv2d(xs[0] as tf.Tensor4D, c), { ...(bn as object), weight: xs[3], bias: xs[4] } as never).y);
    };
    const ours = (xs: tf.Tensor[]) => cblTrain(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, xs[2] as tf.Tensor1D, xs[3] as tf.Tensor1D, xs[4] as tf.Tensor1D).y;
    const xs = [x, w, b, g, be];
    const what = JSON.stringify({ shape, k, co });
    close(ours(xs), stock(xs), 1e-5, `${what} y`);
    const st = tf.moments(conv2d(x as tf.Tensor4D, { filter: w as tf.Tensor4D, bias: b as tf.Tensor1D }), [0, 1, 2]);
    const res = cblTrain(x as tf.Tensor4D, w as tf.Tensor4D, b as tf.Tensor1D, g as tf.Tensor1D, be as tf.Tensor1D);
    close(res.mean, st.mean, 1e-5, `${what} mean`);
    close(res.variance, st.variance, 1e-5, `${what} variance`);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(stock(a), r)))(xs);
    const go = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(ours(a), r)))(xs);
    ['dx', 'dfilter', 'dbias', 'dgamma', 'dbeta'].forEach((n, i) => {
      if (n === 'dbias') assert.ok(maxAbs(gs[i]!.dataSync()) <= 1e-4 * maxAbs(gs[3]!.dataSync()), `${what} stock dbias ~ 0`);
      else close(go[i]!, gs[i]!, 1e-4, `${what} ${n}`);
    });
    assert.equal(maxAbs(go[2]!.dataSync()), 0);
    const loss = (a: tf.Tensor[]): number => tf.tidy(() => tf.sum(tf.mul(ours(a), r)).dataSync()[0]!);
    for (const i of [0, 1, 3, 4]) checkFd(loss, xs, go[i]!, i, 2e-2, `${what} fd input ${i}`);
  }
});

test('matMul2d: gradients equal tf.matMul on cpu and finite differences', async () => {
  await tf.setBackend('cpu');
  const a = tf.randomNormal([37, 5], 0, 1, 'float32', 7), b = tf.randomNormal([5, 9], 0, 1, 'float32', 8);
  const r = tf.randomNormal([37, 9], 0, 1, 'float32', 9);
  close(matMul2d(a as tf.Tensor2D, b as tf.Tensor2D), tf.matMul(a, b), 1e-6, 'forward');
  const gs = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.matMul(x, y), r)))([a, b]);
  const go = tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(matMul2d(x as tf.Tensor2D, y as tf.Tensor2D), r)))([a, b]);
  close(go[0]!, gs[0]!, 1e-5, 'da');
  close(go[1]!, gs[1]!, 1e-5, 'db');
  const loss = (xs: tf.Tensor[]): number => tf.tidy(() => tf.sum(tf.mul(matMul2d(xs[0] as tf.Tensor2D, xs[1] as tf.Tensor2D), r)).dataSync()[0]!);
  checkFd(loss, [a, b], go[0]!, 0, 1e-3, 'fd a');
  checkFd(loss, [a, b], go[1]!, 1, 1e-3, 'fd b');
});

test('pooledAttentionPair equals the plain CFI attention (six 1x1 convs + two pooledCrossAttention) on cpu', async () => {
  await tf.setBackend('cpu');
  const c = 6;
  for (const [nb, h, w] of [[2, 16, 24], [2, 12, 10], [1, 6, 7], [3, 8, 8]] as const) {
    const fv = tf.randomNormal([nb, h, w, c], 0, 1, 'float32', 10), fi = tf.randomNormal([nb, h, w, c], 0, 1, 'float32', 11);
    const ws = Array.from({ length: 6 }, (_, i) => tf.randomNormal([1, 1, c, c], 0, 0.5, 'float32', 20 + i));
    const bs = Array.from({ length: 6 }, (_, i) => tf.randomNormal([c], 0, 0.5, 'float32', 30 + i));
    const r = tf.randomNormal([nb, h, w, c], 0, 1, 'float32', 12);
    const names = ['qv', 'kv', 'vv', 'qi', 'ki', 'vi'] as const;
    const convsOf = (xs: tf.Tensor[]) => Object.fromEntries(names.map((n, i) => [n, { filter: xs[2 + i] as tf.Tensor4D, bias: xs[8 + i] as tf.Tensor1D }])) as Record<(typeof names)[number], Conv>;
    const stock = (xs: tf.Tensor[]) => {
      const [v, i] = xs as [tf.Tensor4D, tf.Tensor4D];
      const k = convsOf(xs);
      return tf.add(
        pooledCrossAttention(conv2d(v, k.qv), conv2d(i, k.ki), conv2d(i, k.vi)),
        pooledCrossAttention(conv2d(i, k.qi), conv2d(v, k.kv), conv2d(v, k.vv)));
    };
    const ours = (xs: tf.Tensor[]) => pooledAttentionPair(xs[0] as tf.Tensor4D, xs[1] as tf.Tensor4D, convsOf(xs));
    const xs = [fv, fi, ...ws, ...bs];
    const what = `${nb}x${h}x${w}`;
    close(ours(xs), stock(xs), 1e-5, `${what} forward`);
    close(pooledAttentionPair(fv as tf.Tensor4D, fi as tf.Tensor4D, convsOf(xs), 8, 17), stock(xs), 1e-5, `${what} forward, chunked`);
    const gs = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(stock(a), r)))(xs);
    const go = tf.grads((...a: tf.Tensor[]) => tf.sum(tf.mul(ours(a), r)))(xs);
    // the key biases (inputs 9, 12) have a true gradient of 0 (they shift a row of logits by a constant):
    // both results must be ~0 relative to the largest gradient of all inputs
    const top = Math.max(...gs.map((g) => maxAbs(g.dataSync())));
    go.forEach((g, i) => {
      if (i === 9 || i === 12) for (const t of [g, gs[i]!]) assert.ok(maxAbs(t.dataSync()) <= 1e-4 * top, `${what} key-bias grad ~ 0`);
      else close(g, gs[i]!, 1e-4, `${what} grad of input ${i}`);
    });
    const loss = (a: tf.Tensor[]): number => tf.tidy(() => tf.sum(tf.mul(ours(a), r)).dataSync()[0]!);
    for (const i of [0, 1, 2, 4, 10]) checkFd(loss, xs, go[i]!, i, 2e-2, `${what} fd input ${i}`);
  }
});
