/**
 * Checks every classical fuser must pass, registered as node:test cases by each method's test file.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { plane, type Plane } from '../../../src/core/image.js';
import { IsfuseError } from '../../../src/core/errors.js';
import type { Fuser } from '../../../src/fusion/types.js';
import { decodeF32, loadFixture, makeInputs, maxAbsDiff, range } from './inputs.js';

type PureFuse = (ir: Plane, vis: Plane, options?: never) => Plane;

export interface CommonSpec {
  fuser: Fuser;
  pure: PureFuse;
  /** Largest error allowed between identical inputs and the output. */
  identityTolerance: number;
  /** Largest error allowed against the fixture of the independent reference. */
  referenceTolerance: number;
  /** Option sets to run the identity / range / size checks with. */
  optionSets: Record<string, unknown>[];
}

const SIZES: [number, number][] = [[1, 1], [2, 3], [3, 2], [1, 7], [7, 1], [37, 23], [64, 48]];

function isKind(kind: 'usage' | 'input', message?: RegExp) {
  return (e: unknown): boolean => {
    assert.ok(e instanceof IsfuseError, `expected IsfuseError, got ${String(e)}`);
    assert.equal(e.kind, kind);
    if (message) assert.match(e.message, message);
    return true;
  };
}

export function commonFuserTests(spec: CommonSpec): void {
  const { fuser, pure } = spec;
  const name = fuser.name;
  const fuse = (ir: Plane, vis: Plane, o: Record<string, unknown>): Plane => pure(ir, vis, o as never);

  test(`${name}: identical inputs return that input (tolerance ${spec.identityTolerance})`, () => {
    for (const opts of spec.optionSets) {
      for (const [w, h] of SIZES) {
        const { ir } = makeInputs(w, h, w * 100 + h);
        const out = fuse(ir, ir, opts);
        assert.equal(out.width, w);
        assert.equal(out.height, h);
        const err = maxAbsDiff(out.data, ir.data);
        assert.ok(err <= spec.identityTolerance, `${w}x${h} ${JSON.stringify(opts)}: max error ${err}`);
      }
    }
  });

  test(`${name}: output has the input size and stays in [0, 1], for any size >= 1x1`, () => {
    for (const opts of spec.optionSets) {
      for (const [w, h] of SIZES) {
        const { ir, vis } = makeInputs(w, h, 7 * w + h);
        // Extreme inputs: a 0/1 checkerboard against its inverse makes multiscale methods overshoot.
        const cb = new Float32Array(w * h);
        for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) cb[y * w + x] = (x + y) % 2;
        const inv = cb.map((v) => 1 - v);
        for (const [a, b] of [[ir, vis], [vis, ir], [plane(w, h, cb), plane(w, h, inv)]] as [Plane, Plane][]) {
          const out = fuse(a, b, opts);
          assert.equal(out.data.length, w * h);
          assert.ok(out.data instanceof Float32Array);
          const [lo, hi] = range(out.data);
          assert.ok(lo >= 0 && hi <= 1, `${w}x${h}: range [${lo}, ${hi}]`);
          assert.ok(out.data.every(Number.isFinite));
        }
      }
    }
  });

  test(`${name}: matches the independent reference (tools/make_fusion_fixtures.py) within ${spec.referenceTolerance}`, () => {
    const fx = loadFixture(name);
    assert.ok(fx.cases.length > 0);
    for (const c of fx.cases) {
      const { ir, vis } = makeInputs(c.width, c.height, c.seed);
      const out = fuse(ir, vis, c.options);
      const err = maxAbsDiff(out.data, decodeF32(c.output));
      assert.ok(err <= spec.referenceTolerance, `${c.width}x${c.height} ${JSON.stringify(c.options)}: max error ${err}`);
    }
  });

  test(`${name}: the Fuser object wraps the pure function and documents itself`, async () => {
    assert.equal(typeof fuser.description, 'string');
    assert.ok(fuser.description.length > 10);
    assert.ok(fuser.options !== undefined);
    const { ir, vis } = makeInputs(9, 6, 3);
    const viaFuser = await fuser.fuse(ir, vis, spec.optionSets[0]);
    assert.deepEqual(viaFuser.data, fuse(ir, vis, spec.optionSets[0]!).data);
    for (const key of Object.keys(spec.optionSets.find((o) => Object.keys(o).length > 0) ?? {})) {
      assert.ok(key in fuser.options!, `option ${key} is documented`);
    }
  });

  test(`${name}: rejects mismatched, empty, malformed and non-finite planes with input errors`, async () => {
    const a = makeInputs(5, 4, 1).ir;
    const b = makeInputs(4, 5, 1).ir;
    assert.throws(() => fuse(a, b, {}), isKind('input', /^Expected ir and vis of the same size for \w+ but received 5x4 and 4x5$/));
    const empty: Plane = { width: 0, height: 3, data: new Float32Array(0) };
    assert.throws(() => fuse(empty, empty, {}), isKind('input', /at least 1x1/));
    const short: Plane = { width: 5, height: 4, data: new Float32Array(19) };
    assert.throws(() => fuse(short, a, {}), isKind('input', /Expected 20 samples/));
    await assert.rejects(fuser.fuse(a, b), isKind('input'));
    const withNaN = makeInputs(5, 4, 2).vis;
    withNaN.data[7] = Number.NaN;
    assert.throws(() => fuse(a, withNaN, {}), isKind('input', /^Expected finite samples for \w+ vis but found NaN at \(2, 1\)$/));
  });

  test(`${name}: rejects unknown option keys with a usage error listing the valid keys`, async () => {
    const { ir, vis } = makeInputs(5, 4, 1);
    const valid = Object.keys(fuser.options ?? {});
    const msg = valid.length === 0
      ? new RegExp(`^Unknown option 'bogus' for ${name}, which takes no options$`)
      : new RegExp(`^Unknown option 'bogus' for ${name}\\. Valid options: ${valid.join(', ')}$`);
    assert.throws(() => fuse(ir, vis, { bogus: 1 }), isKind('usage', msg));
    await assert.rejects(fuser.fuse(ir, vis, { bogus: 1 }), isKind('usage', msg));
    assert.throws(() => fuse(ir, vis, 'fast' as never), isKind('usage', /^Expected an object for \w+ options but received 'fast'$/));
  });
}

export { isKind };
