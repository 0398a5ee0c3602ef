// isfuse's WebGPU convolution kernels (src/model/webgpu/conv3x3.ts) against TensorFlow.js's cpu backend:
// forward (plain and fused with bias / LeakyReLU), both gradient kernels, the registered Conv2D gradient and
// the training code's gradient helpers, run in headless Chromium on its software WebGPU adapter
// (test/webgpu/browser.ts). Skipped, saying so, where no Chromium is installed.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { chromiumPath, SKIP_REASON, suitePage } from './browser.js';
import type { ConvCase, ConvResult } from './conv-page.js';

const ENTRY = fileURLToPath(new URL('./conv-page.ts', import.meta.url));
const OURS = ['isfuseConv3x3_dw', 'isfuseConv3x3_dwsum', 'isfuseConv3x3_dx', 'isfuseConv3x3_fwd', 'isfuseConv3x3_fwd_bias', 'isfuseConv3x3_fwd_leaky'];

describe('webgpu 3x3 convolution kernels (headless Chromium, SwiftShader)', { skip: chromiumPath() ? false : SKIP_REASON }, () => {
  const s = suitePage(ENTRY);

  async function run(c: ConvCase): Promise<ConvResult> {
    const r = await s.wg!.page.evaluate((cc) => (window as unknown as { runConvCase(c: ConvCase): Promise<ConvResult> }).runConvCase(cc), c);
    assert.deepEqual(s.wg!.takeConsoleErrors(), [], 'the page reported errors');
    return r;
  }

  function assertClose(r: ConvResult, tol: number): void {
    const keys = ['forward', 'fusedBias', 'fusedLeaky', 'dx', 'dw', 'gradX', 'gradW', 'helperDx', 'helperDw'] as const;
    for (const k of keys) {
      const d = r[k];
      if (!d) continue;
      assert.ok(d.rel <= tol, `${k}: max error ${d.rel.toExponential(2)} of the largest value (limit ${tol}), shape [${d.shape}]`);
    }
  }

  const handled: Array<[string, ConvCase, number]> = [
    ['odd sizes, fewer channels than a tile (2x13x17, 5 -> 7)', { n: 2, h: 13, w: 17, ci: 5, co: 7, k: 3, stride: 1, pad: 'same' }, 1e-5],
    ["the model's 32 -> 32 channels (1x16x16)", { n: 1, h: 16, w: 16, ci: 32, co: 32, k: 3, stride: 1, pad: 'same' }, 1e-5],
    ['explicit one-pixel padding, 40 -> 33 channels (two output tiles, a partial input step)', { n: 2, h: 9, w: 11, ci: 40, co: 33, k: 3, stride: 1, pad: 1 }, 1e-5],
    ['more pixel tiles than filter-gradient workgroups (4x72x72: 324 tiles)', { n: 4, h: 72, w: 72, ci: 8, co: 8, k: 3, stride: 1, pad: 'same' }, 1e-5],
  ];
  for (const [name, c, tol] of handled) {
    test(`${name}: equal to the cpu backend, through isfuse's kernels`, async (t) => {
      if (s.skip) return t.skip(s.skip);
      const r = await run(c);
      assertClose(r, tol);
      for (const p of OURS) assert.ok(r.programs.includes(p), `program ${p} did not run (ran: ${r.programs.join(', ')})`);
    });
  }

  const fallbacks: Array<[string, ConvCase]> = [
    ['stride 2', { n: 1, h: 12, w: 10, ci: 4, co: 6, k: 3, stride: 2, pad: 'same' }],
    ['1x1 kernel', { n: 2, h: 7, w: 5, ci: 6, co: 4, k: 1, stride: 1, pad: 'same' }],
    ["3x3 'valid'", { n: 1, h: 9, w: 8, ci: 3, co: 5, k: 3, stride: 1, pad: 'valid' }],
  ];
  for (const [name, c] of fallbacks) {
    test(`${name}: left to the stock webgpu kernels, still equal to the cpu backend`, async (t) => {
      if (s.skip) return t.skip(s.skip);
      const r = await run(c);
      assertClose(r, 1e-5);
      assert.deepEqual(r.programs.filter((p) => OURS.includes(p)), [], 'an isfuse kernel ran on a case it does not handle');
    });
  }

  test('control: with the stock kernels put back, none of isfuse runs (and the harness sees the difference)', async (t) => {
    if (s.skip) return t.skip(s.skip);
    const r = await run({ ...handled[0]![1], stock: true });
    assertClose(r, 1e-5);
    assert.deepEqual(r.programs.filter((p) => OURS.includes(p)), []);
    assert.ok(r.programs.length > 0, 'no webgpu program recorded at all');
  });
});
