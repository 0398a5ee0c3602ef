// The metric registry (src/metrics/registry.ts). Expected names and orders come from docs/METRICS.md#vifb, #mmif and
// the reference evaluators' printing order; error shapes from src/core/errors.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IsfuseError } from '../../src/core/errors.js';
import { mmifMetrics } from '../../src/metrics/mmif/index.js';
import { vifbMetrics } from '../../src/metrics/vifb/index.js';
import { checkConvention, CONVENTIONS, CONVENTION_INFO, getMetric, listMetrics, metricAliases, resolveMetrics } from '../../src/metrics/registry.js';

const MMIF_ORDER = ['EN', 'SD', 'SF', 'AG', 'MI', 'MSE', 'CC', 'PSNR', 'SCD', 'VIF', 'Qabf', 'SSIM'];

const usage = (pattern: RegExp) => (e: unknown) => e instanceof IsfuseError && e.kind === 'usage' && pattern.test(e.message);

test('registry: mmif lists the 12 CDDFuse metrics in Evaluator order, all tagged mmif', () => {
  const m = listMetrics('mmif');
  assert.deepEqual(m.map((x) => x.name), MMIF_ORDER);
  assert.ok(m.every((x) => x.convention === 'mmif'));
  assert.deepEqual(mmifMetrics.map((x) => x.name), MMIF_ORDER);
});

test('registry: vifb lists the vifb module metrics, all tagged vifb; no convention filter lists both, mmif first', () => {
  const v = listMetrics('vifb');
  assert.equal(v.length, vifbMetrics.length);
  assert.ok(v.length > 0 && v.every((x) => x.convention === 'vifb'));
  const all = listMetrics();
  assert.equal(all.length, MMIF_ORDER.length + v.length);
  assert.deepEqual(all.slice(0, 12).map((x) => x.name), MMIF_ORDER);
  assert.deepEqual(CONVENTIONS, ['mmif', 'vifb']);
  for (const c of CONVENTIONS) assert.ok(CONVENTION_INFO[c].label.startsWith(c));
});

test('registry: direction and inputs are declared (only MSE is lower-is-better in mmif)', () => {
  const lower = listMetrics('mmif').filter((m) => !m.higherIsBetter).map((m) => m.name);
  assert.deepEqual(lower, ['MSE']);
  assert.deepEqual([...getMetric('mmif', 'EN').uses], ['fused']);
  assert.deepEqual([...getMetric('mmif', 'Qabf').uses], ['ir', 'vis', 'fused']);
  for (const m of listMetrics()) assert.ok(m.description.length > 0, `${m.name} has no description`);
});

test('registry: lookup is case-insensitive and accepts the VIFF alias', () => {
  assert.equal(getMetric('mmif', 'qabf').name, 'Qabf');
  assert.equal(getMetric('mmif', ' ssim ').name, 'SSIM');
  assert.equal(getMetric('mmif', 'VIFF').name, 'VIF');
  assert.equal(getMetric('mmif', 'viff'), getMetric('mmif', 'VIF'));
  assert.deepEqual(metricAliases('mmif'), { VIFF: 'VIF' });
  assert.equal(checkConvention('MMIF'), 'mmif');
});

test('registry: an unknown metric is a usage error listing the valid names of that convention', () => {
  assert.throws(() => getMetric('mmif', 'Nabf'), usage(/Unknown mmif metric 'Nabf'\. Valid mmif metrics: EN, SD, SF, AG, MI, MSE, CC, PSNR, SCD, VIF, Qabf, SSIM, VIFF \(= VIF\)/));
  assert.throws(() => getMetric('vifb', 'VIF'), usage(/Unknown vifb metric 'VIF'/));
});

test('registry: an unknown convention is a usage error listing mmif and vifb', () => {
  assert.throws(() => listMetrics('matlab' as never), usage(/Unknown convention 'matlab'\. Valid conventions: mmif, vifb/));
  assert.throws(() => checkConvention(3), usage(/Expected one of mmif, vifb for convention but received 3/));
});

test('registry: resolveMetrics keeps the given order, drops duplicates, defaults to all', () => {
  assert.deepEqual(resolveMetrics('mmif', ['SSIM', 'en', 'VIFF', 'VIF']).map((m) => m.name), ['SSIM', 'EN', 'VIF']);
  assert.deepEqual(resolveMetrics('mmif').map((m) => m.name), MMIF_ORDER);
  assert.deepEqual(resolveMetrics('mmif', []).map((m) => m.name), MMIF_ORDER);
});

test('the metrics and their registry load without the image codecs (sharp): they bundle for a browser', async () => {
  const { build } = await import('esbuild');
  const entry = new URL('../../src/metrics/registry.ts', import.meta.url).pathname;
  const r = await build({ entryPoints: [entry], bundle: true, write: false, platform: 'browser', format: 'esm', metafile: true, logLevel: 'silent' });
  const inputs = Object.keys(r.metafile.inputs);
  assert.ok(inputs.some((f) => f.endsWith('metrics/vifb/qabf.ts')) && inputs.some((f) => f.endsWith('metrics/mmif/vif.ts')), 'the metrics are in the bundle');
  assert.deepEqual(inputs.filter((f) => /node_modules\/sharp|io\/decode\.ts|node:/.test(f)), []);
});
