#!/usr/bin/python3
"""Reference outputs for the classical fusers (src/fusion/classical/), from independent implementations.

Writes test/fixtures/fusion/{average,max,lp,dwt,gff}.json. Run from the repository root with Debian's
Python and packages (python3-numpy, python3-scipy, python3-opencv, python3-pywt):

    /usr/bin/python3 tools/make_fusion_fixtures.py

Inputs are not stored: they are small deterministic pseudo-random planes that the tests rebuild from the
same formula (make_inputs below == makeInputs in test/fusion/classical/inputs.ts): an LCG (Numerical
Recipes constants) gives noise (8 integer + 16 fractional bits, all exact in float64): strong inside a disk and
weak outside (ir), on a diagonal ramp, strong on the left half and weak on the right (vis), so that each
source wins the saliency / max-abs contests in some regions; samples are v / 255 rounded to float32, exactly as the TypeScript side builds
them. The fractional bits keep the max-abs and saliency decisions away from exact ties, which 8-bit
inputs produce (e.g. opposite Haar details of equal size) and which float rounding would then break
differently in two implementations. Nothing here comes from
../shared/data.

References (all float64):
  average, max  numpy
  lp            cv2.pyrDown / cv2.pyrUp (BORDER_REFLECT_101, pyrUp to the exact finer size)
  dwt           pywt.wavedec2 / pywt.waverec2, mode='symmetric'
  gff           a NumPy/SciPy transcription of the authors' GFF.m: scipy.ndimage filters with
                mode='nearest' (= MATLAB imfilter 'replicate'), He's guided filter with cumulative-sum box
                sums over the clipped window.
Outputs are stored as base64 little-endian float32 (key 'output'). Each lp/dwt/gff case also records
'margin': how far the case is from a decision tie (max-abs choice, saliency comparison, uint8 rounding of the
weights); the script refuses cases with a margin below 1e-9, where float rounding could flip a decision.
"""

import base64
import json
import math
import os
import sys
import warnings

import cv2
import numpy as np
import pywt
from scipy import ndimage

OUT_DIR = os.path.join('test', 'fixtures', 'fusion')
MIN_MARGIN = 1e-9


# ---------------------------------------------------------------------------------------------- inputs

def make_inputs(w, h, seed):
    """Deterministic pair (ir, vis), float32 values k/255, shape (h, w). Mirrors inputs.ts."""
    s = seed & 0xFFFFFFFF

    def nxt():
        # 8-bit integer part from the top byte, 16-bit fraction from the next bits (avoids exact ties)
        nonlocal s
        s = (1664525 * s + 1013904223) & 0xFFFFFFFF
        return (s >> 24) + ((s >> 8) & 0xFFFF) / 65536

    cx, cy = (2 * w) // 5, (3 * h) // 5
    r2 = (min(w, h) // 3) ** 2
    ir = np.zeros((h, w), np.float32)
    vis = np.zeros((h, w), np.float32)
    for y in range(h):
        for x in range(w):
            n_ir = nxt()
            n_vis = nxt()
            inside = (x - cx) ** 2 + (y - cy) ** 2 <= r2
            ir[y, x] = np.float32((120 + n_ir % 128 if inside else 40 + n_ir % 32) / 255)
            vis[y, x] = np.float32(((x * 7 + y * 11) % 64 + (n_vis % 128 if 2 * x < w else n_vis % 32)) / 255)
    return ir.astype(np.float64), vis.astype(np.float64)


def b64(a):
    return base64.b64encode(np.ascontiguousarray(a, dtype='<f4').tobytes()).decode('ascii')


def choice_margin(a, b):
    """Smallest ||a|-|b|| over coefficients where the max-abs choice changes the result by > 1e-9."""
    m = np.abs(a - b) > 1e-9
    if not m.any():
        return math.inf
    return float(np.min(np.abs(np.abs(a[m]) - np.abs(b[m]))))


def max_abs(a, b):
    """Max-abs selection, ties to b (vis)."""
    return np.where(np.abs(a) > np.abs(b), a, b)


# -------------------------------------------------------------------------------------- average / max

def average_ref(ir, vis):
    return np.clip((ir + vis) / 2, 0, 1), math.inf


def max_ref(ir, vis):
    return np.clip(np.maximum(ir, vis), 0, 1), math.inf


# ------------------------------------------------------------------------------------------------ lp

def lp_levels(levels, h, w):
    return max(1, min(levels, int(math.floor(math.log2(min(h, w))))))


def lp_ref(ir, vis, levels):
    h, w = ir.shape
    L = lp_levels(levels, h, w)

    def pyramid(x):
        g = [x]
        for _ in range(L):
            g.append(cv2.pyrDown(g[-1]))
        lap = [g[k] - cv2.pyrUp(g[k + 1], dstsize=(g[k].shape[1], g[k].shape[0])) for k in range(L)]
        return lap, g[L]

    la, ba = pyramid(ir)
    lb, bb = pyramid(vis)
    margin = min(choice_margin(a, b) for a, b in zip(la, lb))
    r = (ba + bb) / 2
    for k in reversed(range(L)):
        d = max_abs(la[k], lb[k])
        r = d + cv2.pyrUp(r, dstsize=(d.shape[1], d.shape[0]))
    return np.clip(r, 0, 1), margin, L


# ----------------------------------------------------------------------------------------------- dwt

def dwt_levels(levels, wavelet, h, w):
    F = pywt.Wavelet(wavelet).dec_len
    return max(1, min(levels, pywt.dwt_max_level(min(h, w), F)))


def dwt_ref(ir, vis, wavelet, levels):
    h, w = ir.shape
    L = dwt_levels(levels, wavelet, h, w)
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')  # "level too high" for tiny images: intended
        ca = pywt.wavedec2(ir, wavelet, mode='symmetric', level=L)
        cb = pywt.wavedec2(vis, wavelet, mode='symmetric', level=L)
    fused = [(ca[0] + cb[0]) / 2]
    margin = math.inf
    for da, db in zip(ca[1:], cb[1:]):
        fused.append(tuple(max_abs(x, y) for x, y in zip(da, db)))
        margin = min([margin] + [choice_margin(x, y) for x, y in zip(da, db)])
    out = pywt.waverec2(fused, wavelet, mode='symmetric')[:h, :w]
    return np.clip(out, 0, 1), margin, L


# ----------------------------------------------------------------------------------------------- gff

def box_sum_valid(x, r):
    """Sum over the (2r+1)^2 window clipped to the image, from zero-led cumulative sums (any r)."""
    def along(a, axis):
        n = a.shape[axis]
        c = np.cumsum(a, axis=axis)
        zero = np.zeros_like(np.take(c, [0], axis=axis))
        c = np.concatenate([zero, c], axis=axis)
        i = np.arange(n)
        hi = np.minimum(i + r + 1, n)
        lo = np.maximum(i - r, 0)
        return np.take(c, hi, axis=axis) - np.take(c, lo, axis=axis)
    return along(along(x, 0), 1)


def guided_filter(I, p, r, eps):
    """He et al.'s guidedfilter.m (gray guide)."""
    N = box_sum_valid(np.ones_like(I), r)
    mean_I = box_sum_valid(I, r) / N
    mean_p = box_sum_valid(p, r) / N
    mean_Ip = box_sum_valid(I * p, r) / N
    cov_Ip = mean_Ip - mean_I * mean_p
    mean_II = box_sum_valid(I * I, r) / N
    var_I = mean_II - mean_I * mean_I
    a = cov_Ip / (var_I + eps)
    b = mean_p - a * mean_I
    mean_a = box_sum_valid(a, r) / N
    mean_b = box_sum_valid(b, r) / N
    return mean_a * I + mean_b


def matlab_uint8(v):
    """double(uint8(v)): saturate to [0, 255], round half away from zero."""
    return np.clip(np.floor(np.clip(v, 0, 255) + 0.5), 0, 255)


def gff_ref(ir, vis, r1=45, eps1=0.3, r2=7, eps2=1e-6, weights='authors'):
    imgs = [vis, ir]  # the authors' stack order as VIFB runs it: ties go to the first (vis)
    lap_k = np.array([[0, 1, 0], [1, -4, 1], [0, 1, 0]], np.float64)
    t = np.arange(-5, 6, dtype=np.float64)
    g2 = np.exp(-(t[:, None] ** 2 + t[None, :] ** 2) / (2 * 5.0 ** 2))
    g2 /= g2.sum()  # fspecial('gaussian', 11, 5)
    S = [ndimage.correlate(np.abs(ndimage.correlate(x, lap_k, mode='nearest')), g2, mode='nearest') for x in imgs]
    P0 = (S[0] >= S[1]).astype(np.float64)
    print(f'  gff {ir.shape[1]}x{ir.shape[0]}: vis wins saliency at {P0.mean():.0%} of pixels')
    P = [P0, 1 - P0]
    dS = np.abs(S[0] - S[1])
    margin = float(np.min(dS[dS > 0])) if (dS > 0).any() else math.inf  # exact ties (flat inputs) are structural

    def refine(r, eps):
        nonlocal margin
        W = [guided_filter(imgs[k], P[k], r, eps) for k in range(2)]
        if weights == 'authors':
            for x in W:
                s = np.clip(x * 255, 0, 255)
                frac = s - np.floor(s)
                inner = (s > 0) & (s < 255)
                if inner.any():
                    margin = min(margin, float(np.min(np.abs(frac[inner] - 0.5))))
            W = [matlab_uint8(x * 255) / 255 + 1e-12 for x in W]
        tot = W[0] + W[1]
        return [x / tot for x in W]

    WB = refine(r1, eps1)
    WD = refine(r2, eps2)
    F = np.zeros_like(ir)
    for k in range(2):
        B = ndimage.uniform_filter(imgs[k], size=31, mode='nearest')  # imfilter(average 31x31, 'replicate')
        F += WB[k] * B + WD[k] * (imgs[k] - B)
    return np.clip(F, 0, 1), margin


# -------------------------------------------------------------------------------------- building blocks

def pyramid_blocks():
    """cv2.pyrDown and cv2.pyrUp (exact size) of a few odd/even sizes, for test/filters/pyramid.test.ts."""
    out = []
    for (w, h, seed) in [(37, 23, 11), (8, 5, 12), (1, 5, 13), (2, 3, 14)]:
        ir, _ = make_inputs(w, h, seed)
        d = cv2.pyrDown(ir)
        u = cv2.pyrUp(d, dstsize=(w, h))
        out.append({'width': w, 'height': h, 'seed': seed, 'source': 'ir',
                    'down': {'width': d.shape[1], 'height': d.shape[0], 'data': b64(d)},
                    'up': {'width': w, 'height': h, 'data': b64(u)}})
    return out


def wavelet_blocks():
    """pywt.dwt2 (mode 'symmetric') subbands, for test/filters/wavelet.test.ts. (cH, cV, cD) = (lh, hl, hh)."""
    out = []
    for (w, h, seed, wav) in [(7, 5, 21, 'haar'), (7, 5, 22, 'db2'), (2, 3, 23, 'db2'), (1, 1, 24, 'db2')]:
        ir, _ = make_inputs(w, h, seed)
        cA, (cH, cV, cD) = pywt.dwt2(ir, wav, mode='symmetric')
        out.append({'width': w, 'height': h, 'seed': seed, 'source': 'ir', 'wavelet': wav,
                    'bandWidth': cA.shape[1], 'bandHeight': cA.shape[0],
                    'll': b64(cA), 'lh': b64(cH), 'hl': b64(cV), 'hh': b64(cD)})
    return out


# ---------------------------------------------------------------------------------------------- main

def case(w, h, seed, options, fn, *extra):
    ir, vis = make_inputs(w, h, seed)
    res = fn(ir, vis, *extra)
    out, margin = res[0], res[1]
    if margin < MIN_MARGIN:
        sys.exit(f'{fn.__name__} {w}x{h} seed {seed}: decision margin {margin:.3g} < {MIN_MARGIN}; pick another seed')
    c = {'width': w, 'height': h, 'seed': seed, 'options': options,
         'margin': None if math.isinf(margin) else margin, 'output': b64(out)}
    if len(res) > 2:
        c['effectiveLevels'] = res[2]
    return c


def write(name, reference, cases, **extra):
    doc = {'generator': 'tools/make_fusion_fixtures.py', 'reference': reference,
           'versions': {'numpy': np.__version__, 'opencv': cv2.__version__, 'pywt': pywt.__version__,
                        'scipy': __import__('scipy').__version__},
           'cases': cases, **extra}
    os.makedirs(OUT_DIR, exist_ok=True)
    path = os.path.join(OUT_DIR, f'{name}.json')
    with open(path, 'w') as f:
        json.dump(doc, f, indent=1)
        f.write('\n')
    print(f'{path}: {len(cases)} cases, {os.path.getsize(path)} bytes')


def main():
    write('average', 'numpy: clip((ir + vis) / 2, 0, 1)',
          [case(37, 23, 1, {}, average_ref), case(1, 1, 2, {}, average_ref)])
    write('max', 'numpy: clip(maximum(ir, vis), 0, 1)',
          [case(37, 23, 3, {}, max_ref), case(1, 1, 4, {}, max_ref)])

    lp_cases = []
    for (w, h, seed, levels) in [(37, 23, 5, 4), (64, 48, 6, 8), (31, 40, 7, 2), (2, 3, 8, 4), (1, 5, 9, 4), (1, 1, 10, 4)]:
        lp_cases.append(case(w, h, seed, {'levels': levels}, lambda a, b, L=levels: lp_ref(a, b, L)))
    write('lp', 'cv2.pyrDown/pyrUp (float64, BORDER_REFLECT_101), max-abs details (ties to vis), mean base, clip',
          lp_cases, pyramid=pyramid_blocks())

    dwt_cases = []
    for (w, h, seed, wav, levels) in [(37, 23, 31, 'haar', 3), (37, 23, 32, 'db2', 3), (64, 48, 33, 'db2', 8),
                                      (40, 31, 34, 'haar', 8), (2, 3, 35, 'db2', 3), (2, 3, 36, 'haar', 3),
                                      (1, 1, 37, 'db2', 3), (5, 1, 38, 'haar', 3)]:
        dwt_cases.append(case(w, h, seed, {'wavelet': wav, 'levels': levels},
                              lambda a, b, wv=wav, L=levels: dwt_ref(a, b, wv, L)))
    write('dwt', "pywt.wavedec2/waverec2 (mode 'symmetric', float64), max-abs details (ties to vis), mean approximation, crop, clip",
          dwt_cases, dwt2=wavelet_blocks())

    gff_cases = []
    for (w, h, seed, opts) in [(37, 23, 41, {}), (96, 100, 42, {}), (61, 47, 43, {'r1': 5, 'eps1': 0.1, 'r2': 2, 'eps2': 1e-3}),
                               (37, 23, 44, {'weights': 'paper'}), (2, 3, 45, {}), (1, 1, 46, {})]:
        gff_cases.append(case(w, h, seed, opts, lambda a, b, o=opts: gff_ref(a, b, **o)))
    write('gff', "NumPy/SciPy transcription of the authors' GFF.m (sources stacked as (vis, ir)) with He's guided filter",
          gff_cases)


if __name__ == '__main__':
    main()
