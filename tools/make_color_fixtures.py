#!/usr/bin/env python3
"""Colour fixtures for test/io/color.test.ts, from Debian's python3-opencv.

1. Checks the fixed-point formulas that src/io/color.ts uses against cv2 on ALL 2^24 inputs
   (RGB -> YCrCb and YCrCb -> RGB), and the float32 gray read of the mmif convention on all 2^24 RGB values.
2. Writes a sample (a regular grid plus seeded random values, 8192 triples) with cv2's outputs as raw
   uint8 files in test/fixtures/color/, which the TypeScript test compares byte for byte.

Run: /usr/bin/python3 tools/make_color_fixtures.py   (prints the cv2 version and the check results)
"""
import json
import os
import numpy as np
import cv2

OUT = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'color')


def all_triples():
    v = np.arange(1 << 24, dtype=np.uint32)
    return np.stack([(v >> 16) & 255, (v >> 8) & 255, v & 255], axis=1).astype(np.uint8)


def descale(x):
    return (x + (1 << 13)) >> 14


def formula_rgb2ycrcb(t):
    r, g, b = (t[:, i].astype(np.int64) for i in range(3))
    y = descale(r * 4899 + g * 9617 + b * 1868)
    cr = descale((r - y) * 11682 + (128 << 14))
    cb = descale((b - y) * 9241 + (128 << 14))
    return np.clip(np.stack([y, cr, cb], 1), 0, 255).astype(np.uint8)


def formula_ycrcb2rgb(t):
    y, cr, cb = (t[:, i].astype(np.int64) for i in range(3))
    dr, db = cr - 128, cb - 128
    r = y + descale(dr * 22987)
    g = y + descale(db * -5636 + dr * -11698)
    b = y + descale(db * 29049)
    return np.clip(np.stack([r, g, b], 1), 0, 255).astype(np.uint8)


def cv(t, code):
    img = t.reshape(4096, -1, 3)
    return cv2.cvtColor(np.ascontiguousarray(img), code).reshape(-1, t.shape[-1] if code != cv2.COLOR_BGR2GRAY else 1)


def cv_gray_f32(t_rgb):
    bgr = t_rgb[:, ::-1].astype(np.float32).reshape(4096, -1, 3)
    return cv2.cvtColor(np.ascontiguousarray(bgr), cv2.COLOR_BGR2GRAY).reshape(-1)


def formula_gray_f32(t_rgb):
    """fma(R, 0.299f, fma(G, 0.587f, B * 0.114f)) with each fma emulated as float64 then rounded to float32,
    exactly as src/io/color.ts computes it."""
    f, d = np.float32, np.float64
    r, g, b = (t_rgb[:, i].astype(f) for i in range(3))
    acc = b * f(0.114)
    acc = (d(g) * d(f(0.587)) + d(acc)).astype(f)
    return (d(r) * d(f(0.299)) + d(acc)).astype(f)


def main():
    full = all_triples()
    ok1 = np.array_equal(cv(full, cv2.COLOR_RGB2YCrCb), formula_rgb2ycrcb(full))
    ok2 = np.array_equal(cv(full, cv2.COLOR_YCrCb2RGB), formula_ycrcb2rgb(full))
    ok3 = np.array_equal(cv_gray_f32(full), formula_gray_f32(full))
    print('cv2', cv2.__version__, 'RGB2YCrCb formula == cv2 on 2^24:', ok1, '; YCrCb2RGB:', ok2, '; float32 gray:', ok3)

    grid = np.arange(0, 256, 17, dtype=np.uint8)
    g = np.stack(np.meshgrid(grid, grid, grid, indexing='ij'), -1).reshape(-1, 3)
    rng = np.random.default_rng(20261126)
    sample = np.concatenate([g, rng.integers(0, 256, size=(8192 - len(g), 3), dtype=np.uint8)])
    # Pad to a multiple of 4096 rows for the reshape in cv().
    os.makedirs(OUT, exist_ok=True)
    img = sample.reshape(1, -1, 3)
    ycc = cv2.cvtColor(img, cv2.COLOR_RGB2YCrCb).reshape(-1, 3)
    rgb = cv2.cvtColor(img, cv2.COLOR_YCrCb2RGB).reshape(-1, 3)
    bgr = np.ascontiguousarray(sample[:, ::-1].astype(np.float32).reshape(1, -1, 3))
    gray = np.round(cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)).astype(np.uint8).reshape(-1)
    for name, arr in [('input.u8', sample), ('rgb2ycrcb.u8', ycc), ('ycrcb2rgb.u8', rgb), ('gray_mmif.u8', gray)]:
        arr.astype(np.uint8).tofile(os.path.join(OUT, name))
    meta = {
        'generator': 'tools/make_color_fixtures.py',
        'opencv': cv2.__version__,
        'count': int(len(sample)),
        'files': {
            'input.u8': 'count x 3 uint8 triples (used as RGB, and as Y,Cr,Cb for ycrcb2rgb)',
            'rgb2ycrcb.u8': 'cv2.cvtColor(input, COLOR_RGB2YCrCb): Y, Cr, Cb',
            'ycrcb2rgb.u8': 'cv2.cvtColor(input, COLOR_YCrCb2RGB): R, G, B',
            'gray_mmif.u8': 'np.round(cv2.cvtColor(float32 BGR of input, COLOR_BGR2GRAY))',
        },
        'exhaustive_check': {'rgb2ycrcb': bool(ok1), 'ycrcb2rgb': bool(ok2), 'gray_float32': bool(ok3)},
    }
    with open(os.path.join(OUT, 'meta.json'), 'w') as f:
        json.dump(meta, f, indent=1)
    print('wrote', OUT)


if __name__ == '__main__':
    main()
