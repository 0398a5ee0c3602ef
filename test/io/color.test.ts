import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { grayMmif, rgbToYCrCb, yCrCbToRgb, roundHalfEven, luminance } from '../../src/io/color.js';

// Reference: OpenCV 4.6 (Debian python3-opencv) outputs written by tools/make_color_fixtures.py,
// which also checked the same formulas against cv2 on all 2^24 inputs. Tolerance: exact bytes.
const dir = new URL('../fixtures/color/', import.meta.url);
const read = (name: string) => new Uint8Array(readFileSync(new URL(name, dir)));
const input = read('input.u8');
const n = input.length / 3;

test('RGB -> YCrCb equals cv2.COLOR_RGB2YCrCb byte for byte', () => {
  const { y, cr, cb } = rgbToYCrCb(input, n, 1);
  const ref = read('rgb2ycrcb.u8');
  for (let i = 0; i < n; i++) {
    assert.deepEqual([y[i], cr[i], cb[i]], [ref[3 * i], ref[3 * i + 1], ref[3 * i + 2]], `triple ${i}: ${input.subarray(3 * i, 3 * i + 3)}`);
  }
});

test('YCrCb -> RGB equals cv2.COLOR_YCrCb2RGB byte for byte', () => {
  const y = new Uint8Array(n), cr = new Uint8Array(n), cb = new Uint8Array(n);
  for (let i = 0; i < n; i++) [y[i], cr[i], cb[i]] = [input[3 * i]!, input[3 * i + 1]!, input[3 * i + 2]!];
  assert.deepEqual(yCrCbToRgb(y, cr, cb), read('ycrcb2rgb.u8'));
});

test('mmif gray read equals np.round(cv2 BGR2GRAY on float32)', () => {
  const g = grayMmif({ width: n, height: 1, channels: 3, bitDepth: 8, data: input });
  assert.deepEqual(Uint8Array.from(g), read('gray_mmif.u8'));
});

test('gray read of a 1-channel image returns its values; 16-bit is reduced to 8 bits like cv2.imread', () => {
  assert.deepEqual(Array.from(grayMmif({ width: 3, height: 1, channels: 1, bitDepth: 8, data: Uint8Array.of(0, 7, 255) })), [0, 7, 255]);
  assert.deepEqual(Array.from(grayMmif({ width: 2, height: 1, channels: 1, bitDepth: 16, data: Uint16Array.of(65535, 511) })), [255, 1]);
});

test('YCrCb round trip of gray pixels is exact, colour round trip within 1 level', () => {
  const { y, cr, cb } = rgbToYCrCb(input, n, 1);
  const back = yCrCbToRgb(y, cr, cb);
  let maxErr = 0;
  for (let i = 0; i < input.length; i++) maxErr = Math.max(maxErr, Math.abs(back[i]! - input[i]!));
  // 8-bit quantisation of the chroma limits the round trip; OpenCV's own round trip has the same error.
  assert.ok(maxErr <= 3, `max round-trip error ${maxErr}`);
  const grays = new Uint8Array(256 * 3).map((_, i) => Math.floor(i / 3));
  const g = rgbToYCrCb(grays, 256, 1);
  assert.deepEqual(yCrCbToRgb(g.y, g.cr, g.cb), grays);
});

test('roundHalfEven matches numpy on halves', () => {
  assert.deepEqual([0.5, 1.5, 2.5, -0.5, -1.5, 2.4999, 2.5001].map(roundHalfEven), [0, 2, 2, -0, -2, 2, 3]);
});

test('luminance is 0.299R + 0.587G + 0.114B scaled to [0, 1]', () => {
  const l = luminance({ width: 2, height: 1, channels: 3, bitDepth: 8, data: Uint8Array.of(255, 0, 0, 10, 20, 30) });
  assert.ok(Math.abs(l[0]! - 0.299) < 1e-6);
  assert.ok(Math.abs(l[1]! - (0.299 * 10 + 0.587 * 20 + 0.114 * 30) / 255) < 1e-6);
});
