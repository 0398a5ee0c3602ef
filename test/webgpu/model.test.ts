// The ISFuse forward pass and one training block (src/model/train-ops.ts cblTrain: conv + batch-statistics
// BatchNorm + LeakyReLU with its hand-written gradient, whose convolution gradients go to isfuse's webgpu
// kernels) on webgpu against the cpu backend, in headless Chromium on its software WebGPU adapter.
// Skipped, saying so, where no Chromium is installed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromiumPath, SKIP_REASON, suitePage } from './browser.js';
import type { Arrays, Engine } from './model-page.js';

const ENTRY = fileURLToPath(new URL('./model-page.ts', import.meta.url));

type Result = { arrays: Arrays; programs: string[] };

function assertArraysClose(got: Arrays, ref: Arrays, tol: number): void {
  assert.deepEqual(Object.keys(got).sort(), Object.keys(ref).sort());
  for (const [name, r] of Object.entries(ref)) {
    const g = got[name]!;
    assert.deepEqual(g.shape, r.shape, `${name}: shape`);
    let err = 0, scale = 1;
    for (let i = 0; i < r.data.length; i++) {
      err = Math.max(err, Math.abs(g.data[i]! - r.data[i]!));
      scale = Math.max(scale, Math.abs(r.data[i]!));
    }
    assert.ok(err / scale <= tol, `${name}: max error ${(err / scale).toExponential(2)} of the largest value (limit ${tol})`);
  }
}

describe('ISFuse on webgpu with isfuse kernels (headless Chromium, SwiftShader)', { skip: chromiumPath() ? false : SKIP_REASON }, () => {
  const s = suitePage(ENTRY);

  async function call(fn: 'runForward' | 'runBlock' | 'runAttention', engine: Engine, ...args: number[]): Promise<Result> {
    const r = await s.wg!.page.evaluate(
      ([f, e, a]) => (window as unknown as Record<string, (...x: unknown[]) => Promise<Result>>)[f]!(e, ...a),
      [fn, engine, args] as const,
    );
    assert.deepEqual(s.wg!.takeConsoleErrors(), [], 'the page reported errors');
    return r;
  }

  test('forward pass (1x24x24; eval, training-mode BatchNorm, inference path): fused image and gates equal the cpu backend', async (t) => {
    if (s.skip) return t.skip(s.skip);
    const ref = await call('runForward', 'cpu', 1, 24);
    const got = await call('runForward', 'webgpu', 1, 24);
    assertArraysClose(got.arrays, ref.arrays, 1e-4);
    for (const p of ['isfuseConv3x3_fwd', 'isfuseConv3x3_fwd_leaky', 'isfuseConv3x3_fwd_bias'])
      assert.ok(got.programs.includes(p), `${p} did not run (ran: ${got.programs.join(', ')})`);
    assert.ok(got.programs.some((p) => p.startsWith('isfuseAttend')), 'the attention kernel did not run');
  });

  // 2x24x24: 1152 rows, three workgroups in each channel-sum pass; 5 -> 40: two channel groups, one partial
  for (const [n, side, ci, co] of [[2, 24, 32, 32], [1, 20, 5, 40]] as const) {
    test(`training block (${n}x${side}x${side}, ${ci} -> ${co}): output, batch statistics and all five gradients equal the cpu backend`, async (t) => {
      if (s.skip) return t.skip(s.skip);
      const ref = await call('runBlock', 'cpu', n, side, ci, co);
      const got = await call('runBlock', 'webgpu', n, side, ci, co);
      assertArraysClose(got.arrays, ref.arrays, 1e-4);
      for (const p of ['isfuseConv3x3_fwd', 'isfuseConv3x3_dx', 'isfuseConv3x3_dw', 'isfuseBnStats', 'isfuseBnLeaky', 'isfuseBnGradSums', 'isfuseBnLeakyGrad'])
        assert.ok(got.programs.includes(p), `${p} did not run (ran: ${got.programs.join(', ')})`);
    });
  }

  test('pooled attention pair (2x16x16, 32 channels, 8x8 tokens): output and gradients (features, six 1x1 convs) equal the cpu backend', async (t) => {
    if (s.skip) return t.skip(s.skip);
    const ref = await call('runAttention', 'cpu', 2, 16, 32);
    const got = await call('runAttention', 'webgpu', 2, 16, 32);
    // the key biases' gradients are 0 in exact arithmetic (rounding noise on both sides): compared at the
    // scale of the other gradients through the max(1, ...) floor
    assertArraysClose(got.arrays, ref.arrays, 1e-4);
    for (const k of ['isfuseAttend_', 'isfuseAttendProbs_', 'isfuseAttendGrad_'])
      assert.ok(got.programs.some((p) => p.startsWith(k)), `${k} did not run (ran: ${got.programs.join(', ')})`);
  });
});
