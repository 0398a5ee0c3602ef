// Hole-mask statistics and the complementary rule (docs/TRAINING.md#hole-masks), over many seeded draws.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/random.js';
import { drawHoles, drawInterventionMasks, rasterizeHoles, HOLE_RADIUS, HOLE_SQUARE } from '../../src/train/masks.js';

test('holes: 1..6 per sample, every count seen, shapes wholly inside, ~70% squares', () => {
  const rng = new Rng(5);
  const counts = new Set<number>();
  let squares = 0, total = 0;
  for (const [h, w] of [[17, 17], [32, 40], [128, 128]] as const) {
    for (let k = 0; k < 2000; k++) {
      const holes = drawHoles(rng, h, w);
      assert.ok(holes.length >= 1 && holes.length <= 6);
      counts.add(holes.length);
      for (const hole of holes) {
        total++;
        if (hole.kind === 'square') {
          squares++;
          assert.ok(hole.x >= 0 && hole.y >= 0 && hole.x + HOLE_SQUARE <= w && hole.y + HOLE_SQUARE <= h, JSON.stringify(hole));
        } else {
          assert.ok(hole.x >= HOLE_RADIUS && hole.y >= HOLE_RADIUS && hole.x <= w - 1 - HOLE_RADIUS && hole.y <= h - 1 - HOLE_RADIUS, JSON.stringify(hole));
        }
      }
    }
  }
  assert.deepEqual([...counts].sort(), [1, 2, 3, 4, 5, 6]);
  // binomial: sd = sqrt(0.21 / n) ~ 0.003 for n ~ 21000; 5 sd
  assert.ok(Math.abs(squares / total - 0.7) < 0.016, `square fraction ${squares / total}`);
});

test('rasterized shapes: a square hides 256 pixels, a disk of radius 8 hides 197', () => {
  const sq = rasterizeHoles([{ kind: 'square', x: 3, y: 4 }], 32, 32);
  assert.equal(sq.filter((v) => v === 0).length, 256);
  assert.equal(sq[4 * 32 + 3], 0);
  assert.equal(sq[19 * 32 + 18], 0);
  assert.equal(sq[20 * 32 + 18], 1);
  const disk = rasterizeHoles([{ kind: 'disk', x: 8, y: 8 }], 17, 17);
  assert.equal(disk.filter((v) => v === 0).length, 197); // lattice points with x^2 + y^2 <= 64
  assert.equal(disk[0], 1);
  assert.equal(disk[8 * 17 + 0], 0);
});

test('complementary masks never hide a pixel in both; the coin splits the overlap fairly', () => {
  const rng = new Rng(9);
  let overlap = 0, toVi = 0;
  for (let k = 0; k < 200; k++) {
    const m = drawInterventionMasks(rng, 2, 32, 32);
    for (let i = 0; i < m.compVi.length; i++) {
      assert.ok(m.compVi[i] === 1 || m.compIr[i] === 1, `pixel ${i} hidden in both`);
    }
    // reconstruct the overlap from the holes drawn and see which side kept it
    for (let s = 0; s < 2; s++) {
      const a = rasterizeHoles(m.holes[s]!.vi, 32, 32), b = rasterizeHoles(m.holes[s]!.ir, 32, 32);
      for (let i = 0; i < a.length; i++) {
        if (a[i] === 0 && b[i] === 0) {
          overlap++;
          if (m.compVi[s * 1024 + i] === 1) toVi++;
        } else {
          assert.equal(m.compVi[s * 1024 + i], a[i]);
          assert.equal(m.compIr[s * 1024 + i], b[i]);
        }
      }
      assert.deepEqual(Array.from(m.rand.subarray(s * 1024, (s + 1) * 1024)), Array.from(rasterizeHoles(m.holes[s]!.rand, 32, 32)));
    }
  }
  assert.ok(overlap > 1000, `overlap ${overlap}`);
  assert.ok(Math.abs(toVi / overlap - 0.5) < 5 * Math.sqrt(0.25 / overlap), `coin ${toVi}/${overlap}`);
});

test('too small crops are refused', () => {
  assert.throws(() => drawHoles(new Rng(1), 16, 40), /at least 17x17/);
});
