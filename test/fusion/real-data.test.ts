// Every registered classical method on real benchmark pairs (read from ../shared/data, never shipped):
// a TNO pair (gray stored as RGB: gray output) and a RoadScene pair (colour visible JPEG: colour output).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fuse } from '../../src/fusion/fuse.js';
import { listMethods } from '../../src/fusion/registry.js';

const data = resolve('..', 'shared', 'data');
const first = (dir: string): string => readdirSync(dir).sort()[0]!;

for (const [set, channels, colorFrom] of [['TNO', 1, 'none'], ['RoadScene', 3, 'vis']] as const) {
  test(`${set}: every classical method fuses a real pair (${channels === 3 ? 'colour' : 'gray'} output)`, async (t) => {
    const dir = join(data, set, 'test');
    if (!existsSync(dir)) return t.skip(`${dir} absent: real-data check skipped`);
    const name = first(join(dir, 'ir'));
    for (const m of listMethods().filter((x) => x.name !== 'isfuse')) {
      const r = await fuse(join(dir, 'ir', name), join(dir, 'vi', name), { method: m.name });
      assert.equal(r.image.channels, channels, m.name);
      assert.equal(r.colorFrom, colorFrom, m.name);
      let lo = 255, hi = 0;
      for (const v of r.fused.data) { lo = Math.min(lo, v); hi = Math.max(hi, v); }
      assert.ok(lo >= 0 && hi <= 1 && hi - lo > 0.2, `${m.name}: fused range ${lo}..${hi}`);
    }
  });
}
