// The corruptions of bench robust on small synthetic images: deterministic for a seed, monotone in severity,
// misregistration by the stated pixels, missing modalities as zeros / mid-gray.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { RasterImage } from '../../src/core/image.js';
import { Rng } from '../../src/core/random.js';
import { CORRUPTIONS, corruptPair, elasticField, getCorruption, holeMask, severitiesOf, shiftOf, type Corruption } from '../../src/robust/corruptions.js';

/** A textured image: smooth blobs, edges and fine detail, no period shorter than the image. */
function texture(width: number, height: number, channels: 1 | 3, phase: number): RasterImage {
  const data = new Uint8Array(width * height * channels);
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      const v = 0.5 + 0.2 * Math.sin(x * 0.13 + phase) * Math.cos(y * 0.09 - phase) + 0.15 * Math.sin((x * x + 2 * y * y) * 0.004 + phase) + (((x >> 3) + (y >> 4)) % 3 === 0 ? 0.1 : -0.05);
      for (let c = 0; c < channels; c++) data[(y * width + x) * channels + c] = Math.round(255 * Math.min(1, Math.max(0, v + 0.05 * c)));
    }
  }
  return { width, height, channels, bitDepth: 8, data };
}

const pair = { name: 'p', ir: texture(96, 80, 1, 0.3), vis: texture(96, 80, 3, 1.1) };

function psnr(a: RasterImage, b: RasterImage): number {
  let s = 0;
  for (let i = 0; i < a.data.length; i++) s += (a.data[i]! - b.data[i]!) ** 2;
  const mse = s / a.data.length;
  return mse === 0 ? Infinity : 10 * Math.log10((255 * 255) / mse);
}

/** The inputs a corruption changes. */
const sides = (c: Corruption): ('ir' | 'vis')[] => (c.target === 'both' ? ['ir', 'vis'] : [c.target]);

test('every corruption is deterministic for a seed and leaves the other input untouched', async () => {
  for (const c of CORRUPTIONS) {
    const s = c.levels.length;
    const a = await corruptPair(pair, c, s, 7);
    const b = await corruptPair(pair, c, s, 7);
    assert.deepEqual(a.ir.data, b.ir.data, c.name);
    assert.deepEqual(a.vis.data, b.vis.data, c.name);
    for (const side of ['ir', 'vis'] as const) {
      assert.equal(a[side].channels, pair[side].channels, `${c.name} keeps the channels`);
      if (!sides(c).includes(side)) assert.deepEqual(a[side].data, pair[side].data, `${c.name} leaves ${side} alone`);
      else assert.notDeepEqual(a[side].data, pair[side].data, `${c.name} changes ${side}`);
    }
  }
  // Random ones draw from the seed: another seed, another result.
  for (const name of ['noise-ir', 'noise-vis', 'stripe-ir', 'motion-blur-vis', 'occlusion-ir', 'occlusion-vis', 'elastic-ir']) {
    const c = getCorruption(name);
    const a = await corruptPair(pair, c, 3, 1), b = await corruptPair(pair, c, 3, 2);
    const side = sides(c)[0]!;
    assert.notDeepEqual(a[side].data, b[side].data, `${name} depends on the seed`);
  }
});

test('every five-level corruption gets worse with severity (PSNR to the clean input strictly decreases)', async () => {
  for (const c of CORRUPTIONS.filter((x) => x.levels.length === 5)) {
    for (const side of sides(c)) {
      const p: number[] = [];
      for (let s = 1; s <= 5; s++) p.push(psnr((await corruptPair(pair, c, s, 3))[side], pair[side]));
      for (let s = 1; s < 5; s++) assert.ok(p[s]! < p[s - 1]!, `${c.name} on ${side}: PSNR ${p.map((v) => v.toFixed(2)).join(', ')}`);
    }
  }
});

test('misregistration: shift-ir moves the content by the stated pixels (argmax of the cross-correlation)', async () => {
  const c = getCorruption('shift-ir');
  for (let s = 1; s <= 5; s++) {
    const t = [1, 2, 4, 8, 16][s - 1]!;
    assert.equal(c.levels[s - 1], `${t} px`);
    const moved = (await corruptPair(pair, c, s, 11)).ir;
    // The offset (dx, dy) maximising the normalised correlation of moved(x, y) with clean(x - dx, y - dy).
    let best = { dx: 0, dy: 0, r: -Infinity };
    const { width: w, height: h } = pair.ir;
    for (let dy = -20; dy <= 20; dy++) {
      for (let dx = -20; dx <= 20; dx++) {
        let sab = 0, saa = 0, sbb = 0, sa = 0, sb = 0, n = 0;
        for (let y = Math.max(0, dy) + 1; y < Math.min(h, h + dy) - 1; y++) {
          for (let x = Math.max(0, dx) + 1; x < Math.min(w, w + dx) - 1; x++) {
            const a = moved.data[y * w + x]!, b = pair.ir.data[(y - dy) * w + (x - dx)]!;
            sab += a * b; saa += a * a; sbb += b * b; sa += a; sb += b; n++;
          }
        }
        const r = (sab - (sa * sb) / n) / Math.sqrt((saa - (sa * sa) / n) * (sbb - (sb * sb) / n));
        if (r > best.r) best = { dx, dy, r };
      }
    }
    const expected = shiftOf(t, new Rng(0)); // direction only: compare magnitudes and axis below
    assert.equal(Math.abs(best.dx) + Math.abs(best.dy), t, `severity ${s}: found (${best.dx}, ${best.dy})`);
    assert.ok(best.dx === 0 || best.dy === 0, 'along one axis');
    assert.ok(best.r > 0.999, `correlation ${best.r}`);
    assert.ok(Math.abs(expected.dx) + Math.abs(expected.dy) === t);
  }
});

test('misregistration: the elastic field is smooth and its largest displacement is the stated amplitude', () => {
  for (const a of [1, 4, 8]) {
    const { dx, dy } = elasticField(200, 150, a, new Rng(5));
    let max = 0, step = 0;
    for (let i = 0; i < dx.length; i++) max = Math.max(max, Math.hypot(dx[i]!, dy[i]!));
    for (let y = 0; y < 150; y++) for (let x = 1; x < 200; x++) step = Math.max(step, Math.abs(dx[y * 200 + x]! - dx[y * 200 + x - 1]!));
    assert.ok(Math.abs(max - a) < 1e-5, `max ${max} for ${a}`);
    assert.ok(step < a / 10, `neighbouring displacements differ by ${step}`);
  }
});

test('missing modality: zeros, or constant mid-gray (128), on the named input; single level', async () => {
  for (const [name, side, value] of [['missing-ir', 'ir', 0], ['missing-vis', 'vis', 0], ['gray-ir', 'ir', 128], ['gray-vis', 'vis', 128]] as const) {
    const c = getCorruption(name);
    assert.deepEqual(severitiesOf(c, [1, 3, 5]), [1]);
    const x = await corruptPair(pair, c, 1, 0);
    assert.ok(x[side].data.every((v) => v === value), name);
  }
});

test('occlusion: the holes of a severity include those of the lower ones; hidden pixels are 0', async () => {
  const masks = [1, 2, 3, 4, 6].map((n) => holeMask(300, 260, n, new Rng(9)));
  for (let k = 1; k < masks.length; k++) {
    for (let i = 0; i < masks[k]!.length; i++) if (masks[k - 1]![i] === 0) assert.equal(masks[k]![i], 0);
  }
  // At 260 px the holes are drawn at twice the training scale: a 32 px square or a disk of radius 16.
  const hidden = masks[0]!.reduce((s, v) => s + (v === 0 ? 1 : 0), 0);
  assert.ok(hidden === 32 * 32 || Math.abs(hidden - Math.PI * 16 * 16) < 120, `hidden ${hidden} px`);
  const x = await corruptPair(pair, getCorruption('occlusion-vis'), 5, 0);
  assert.ok(x.vis.data.some((v) => v === 0));
});

test('unknown corruption names and severities are usage errors', async () => {
  assert.throws(() => getCorruption('fog'), /Unknown corruption 'fog'. Valid corruptions: noise-ir/);
  await assert.rejects(corruptPair(pair, getCorruption('jpeg'), 6, 0), /severities 1..5/);
});
