// Loss values against PyTorch (tools/make_train_fixtures.py -> test/fixtures/train/losses.safetensors),
// on the cpu backend. Tolerance: 2e-6 relative (float32 arithmetic here vs float64 in the reference, inputs
// identical float32 values; the largest deviation seen was ~3e-7).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { parseSafetensors, toFloat32 } from '../../src/model/weights.js';
import { fusionLoss, invarianceTerm, laplacianAbs, necessityLoss, LOSS_WEIGHTS } from '../../src/train/losses.js';

const fx = parseSafetensors(new Uint8Array(readFileSync(new URL('../fixtures/train/losses.safetensors', import.meta.url))));
const arr = (k: string): Float32Array => toFloat32(fx.tensors.get(k)!, k, 'fixture');
const img = (k: string): tf.Tensor4D => {
  const s = fx.tensors.get(k)!.shape;
  return tf.tensor4d(arr(k), [s[0]!, s[1]!, s[2]!, 1]);
};
const ref = (k: string): number => arr(k)[0]!;
const close = (got: number, want: number, what: string, rel = 2e-6): void => {
  assert.ok(Math.abs(got - want) <= rel * Math.max(1, Math.abs(want)), `${what}: got ${got}, PyTorch ${want}`);
};

test('losses match PyTorch', async () => {
  await tf.setBackend('cpu');
  const [vi, ir, y] = [img('vi'), img('ir'), img('y')];
  const lapY = laplacianAbs(y).dataSync();
  const lapRef = arr('lap.y');
  lapRef.forEach((v, i) => assert.ok(Math.abs(lapY[i]! - v) < 1e-5, `lap at ${i}: ${lapY[i]} vs ${v}`));
  const f = fusionLoss(y, vi, ir);
  close(f.total.dataSync()[0]!, ref('L_f'), 'L_f');
  close(f.ir.dataSync()[0]!, ref('L_f.ir'), 'L_f ir');
  close(f.vi.dataSync()[0]!, ref('L_f.vi'), 'L_f vi');
  close(f.grad.dataSync()[0]!, ref('L_f.grad'), 'L_f grad');
  const inv = { maximise: 0, minimise: 0 };
  for (const p of ['comp', 'rand'] as const) {
    const gates = [img(`${p}.g3`), img(`${p}.g4`), img(`${p}.g5`)];
    for (const sign of ['maximise', 'minimise'] as const) {
      const t = invarianceTerm(img(`y_${p}`), y, gates, sign);
      close(t.stability.dataSync()[0]!, ref(`${p}.stability`), `${p} stability`);
      close(t.sparsity.dataSync()[0]!, ref(`${p}.sparsity`), `${p} sparsity`);
      close(t.entropy.dataSync()[0]!, ref(`${p}.entropy`), `${p} entropy`);
      inv[sign] += t.total.dataSync()[0]! / 2;
    }
  }
  close(inv.maximise, ref('L_inv.maximise'), 'L_inv (entropy maximised, default)');
  close(inv.minimise, ref('L_inv.minimise'), 'L_inv (entropy minimised)');
  const nec = necessityLoss(y, img('y_novi'), img('y_noir')).dataSync()[0]!;
  close(nec, ref('L_nec'), 'L_nec');
  close(f.total.dataSync()[0]! + LOSS_WEIGHTS.inv * inv.maximise + LOSS_WEIGHTS.nec * nec, ref('L.default'), 'L (defaults)');
  close(f.total.dataSync()[0]! + LOSS_WEIGHTS.inv * inv.minimise - LOSS_WEIGHTS.nec * nec, ref('L.flipped'), 'L (both signs flipped)');
});
