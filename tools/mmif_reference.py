#!/usr/bin/env python3
"""Reference values and timings for the mmif metric convention, in numpy (development tool, not shipped).

Restates the formulas of docs/METRICS.md#mmif (CDDFuse utils/Evaluator.py at commit
fd8da1f39d8d403b7343e577bd5a30cba38c7b7b) with the same libraries and number types the reference uses:
images read as OpenCV gray float32 (section 0), scipy convolve2d, scikit-learn mutual_info_score,
scikit-image (<= 0.19) structural_similarity with its defaults. --float64 runs the same formulas on float64
copies (what isfuse's float64 implementation should match to ~1e-9).

Usage:
  /usr/bin/python3 tools/mmif_reference.py values IR VIS FUSED [--float64]        # JSON of the 12 values
  /usr/bin/python3 tools/mmif_reference.py avg IR VIS [--float64]                 # values for F = floor((A+B+1)/2)
  /usr/bin/python3 tools/mmif_reference.py avg-dir SETDIR [--limit N] [--float64]  # values for F = floor((A+B+1)/2)
  /usr/bin/python3 tools/mmif_reference.py bench SETDIR [--limit N]                # seconds per pair per metric (JSON)
SETDIR holds ir/ and vi/ with the same file names (e.g. ../shared/data/MSRS/test).
"""
import json
import math
import os
import platform
import sys
import time

import cv2
import numpy as np
import sklearn.metrics as skm
from scipy.signal import convolve2d
from skimage.metrics import structural_similarity

NAMES = ['EN', 'SD', 'SF', 'AG', 'MI', 'MSE', 'CC', 'PSNR', 'SCD', 'VIF', 'Qabf', 'SSIM']


def gray(path):
    """cv2.imread (BGR uint8) -> float32 -> BGR2GRAY -> round half to even: float32 array of 0..255."""
    bgr = cv2.imread(path)
    if bgr is None:
        raise SystemExit(f'cannot read {path}')
    return np.round(cv2.cvtColor(bgr.astype(np.float32), cv2.COLOR_BGR2GRAY))


def pearson(x, y):
    dx, dy = x - x.mean(), y - y.mean()
    return np.sum(dx * dy) / np.sqrt(np.sum(dx ** 2) * np.sum(dy ** 2))


def en(f):
    q = np.uint8(np.round(f)).ravel()
    h = np.bincount(q) / q.size
    return -sum(h * np.log2(h + (h == 0)))


def sd(f):
    return np.std(f)


def sf(f):
    return np.sqrt(np.mean((f[:, 1:] - f[:, :-1]) ** 2) + np.mean((f[1:, :] - f[:-1, :]) ** 2))


def ag(f):
    gx, gy = np.zeros_like(f), np.zeros_like(f)
    gx[:, 0], gx[:, -1] = f[:, 1] - f[:, 0], f[:, -1] - f[:, -2]
    gx[:, 1:-1] = (f[:, 2:] - f[:, :-2]) / 2
    gy[0, :], gy[-1, :] = f[1, :] - f[0, :], f[-1, :] - f[-2, :]
    gy[1:-1, :] = (f[2:, :] - f[:-2, :]) / 2
    return np.mean(np.sqrt((gx ** 2 + gy ** 2) / 2))


def mi(f, a, b):
    return skm.mutual_info_score(f.ravel(), a.ravel()) + skm.mutual_info_score(f.ravel(), b.ravel())


def mse(f, a, b):
    return (np.mean((a - f) ** 2) + np.mean((b - f) ** 2)) / 2


def cc(f, a, b):
    return (pearson(a, f) + pearson(b, f)) / 2


def psnr(f, a, b):
    return 10 * np.log10(np.max(f) ** 2 / mse(f, a, b))


def scd(f, a, b):
    return pearson(a, f - b) + pearson(b, f - a)


def vifp(ref, dist):
    eps, noise = 1e-10, 2.0
    num = den = 0.0
    for scale in range(1, 5):
        n = 2 ** (5 - scale) + 1
        s = n / 5.0
        m = (n - 1) / 2.0
        y, x = np.ogrid[-m:m + 1, -m:m + 1]
        h = np.exp(-(x * x + y * y) / (2 * s * s))
        h[h < np.finfo(h.dtype).eps * h.max()] = 0
        win = h / h.sum()
        filt = lambda im: convolve2d(im, np.rot90(win, 2), mode='valid')
        if scale > 1:
            ref, dist = filt(ref)[::2, ::2], filt(dist)[::2, ::2]
        mu1, mu2 = filt(ref), filt(dist)
        s1 = filt(ref * ref) - mu1 * mu1
        s2 = filt(dist * dist) - mu2 * mu2
        s12 = filt(ref * dist) - mu1 * mu2
        s1[s1 < 0] = 0
        s2[s2 < 0] = 0
        g = s12 / (s1 + eps)
        sv = s2 - g * s12
        low1 = s1 < eps
        g[low1], sv[low1], s1[low1] = 0, s2[low1], 0
        low2 = s2 < eps
        g[low2], sv[low2] = 0, 0
        neg = g < 0
        sv[neg], g[neg] = s2[neg], 0
        sv[sv <= eps] = eps
        num += np.sum(np.log10(1 + g * g * s1 / (sv + noise)))
        den += np.sum(np.log10(1 + s1 / noise))
    v = num / den
    return 1.0 if np.isnan(v) else v


def vif(f, a, b):
    return vifp(a, f) + vifp(b, f)


def sobel(img):
    kx = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
    ky = np.array([[1, 2, 1], [0, 0, 0], [-1, -2, -1]], dtype=np.float32)
    sx, sy = convolve2d(img, kx, mode='same'), convolve2d(img, ky, mode='same')
    g = np.sqrt(sx * sx + sy * sy)
    alpha = np.zeros_like(img)
    alpha[sx == 0] = math.pi / 2
    nz = sx != 0
    alpha[nz] = np.arctan(sy[nz] / sx[nz])
    return g, alpha


def q_xf(ax, gx, af, gf):
    G = np.zeros_like(ax)
    G[gx > gf] = gf[gx > gf] / gx[gx > gf]
    G[gx == gf] = gf[gx == gf]
    G[gx < gf] = gx[gx < gf] / gf[gx < gf]
    A = 1 - np.abs(ax - af) / (math.pi / 2)
    return (0.9994 / (1 + np.exp(-15 * (G - 0.5)))) * (0.9879 / (1 + np.exp(-22 * (A - 0.8))))


def qabf(f, a, b):
    ga, aa = sobel(a)
    gb, ab = sobel(b)
    gf, af = sobel(f)
    return np.sum(q_xf(aa, ga, af, gf) * ga + q_xf(ab, gb, af, gf) * gb) / np.sum(ga + gb)


def ssim(f, a, b):
    return structural_similarity(f, a) + structural_similarity(f, b)


FUNCS = {'EN': lambda f, a, b: en(f), 'SD': lambda f, a, b: sd(f), 'SF': lambda f, a, b: sf(f),
         'AG': lambda f, a, b: ag(f), 'MI': mi, 'MSE': mse, 'CC': cc, 'PSNR': psnr, 'SCD': scd, 'VIF': vif,
         'Qabf': qabf, 'SSIM': ssim}


def values(f, a, b):
    return {k: float(FUNCS[k](f, a, b)) for k in NAMES}


def avg_fused(a, b):
    return np.floor((a + b + 1) / 2).astype(a.dtype)


def arg(flag, default=None):
    return sys.argv[sys.argv.index(flag) + 1] if flag in sys.argv else default


def pairs(setdir, limit):
    names = sorted(os.listdir(os.path.join(setdir, 'ir')))
    return names[:limit] if limit else names


def main():
    if len(sys.argv) < 3:
        raise SystemExit(__doc__)
    cmd = sys.argv[1]
    f64 = '--float64' in sys.argv
    cast = (lambda x: x.astype(np.float64)) if f64 else (lambda x: x)
    if cmd == 'values':
        a, b, f = (cast(gray(p)) for p in sys.argv[2:5])
        print(json.dumps(values(f, a, b)))
    elif cmd == 'avg':
        a, b = gray(sys.argv[2]), gray(sys.argv[3])
        print(json.dumps(values(cast(avg_fused(a, b)), cast(a), cast(b))))
    elif cmd == 'avg-dir':
        setdir, limit = sys.argv[2], int(arg('--limit', 0))
        out = {}
        for name in pairs(setdir, limit):
            a, b = gray(os.path.join(setdir, 'ir', name)), gray(os.path.join(setdir, 'vi', name))
            out[name] = values(cast(avg_fused(a, b)), cast(a), cast(b))
        print(json.dumps(out))
    elif cmd == 'bench':
        setdir, limit = sys.argv[2], int(arg('--limit', 5))
        per = {k: [] for k in NAMES}
        names = pairs(setdir, limit)
        cpu = 0.0
        for name in names:
            a, b = gray(os.path.join(setdir, 'ir', name)), gray(os.path.join(setdir, 'vi', name))
            f = avg_fused(a, b)
            c0 = time.process_time()
            for k in NAMES:
                t = time.perf_counter()
                FUNCS[k](f, a, b)
                per[k].append(time.perf_counter() - t)
            cpu += time.process_time() - c0
        med = {k: float(np.median(v)) for k, v in per.items()}
        totals = [sum(per[k][i] for k in NAMES) for i in range(len(names))]
        print(json.dumps({'pairs': len(names), 'median_s': med, 'total_median_s': float(np.median(totals)),
                          'cpu_per_pair_s': cpu / len(names), 'load_avg': os.getloadavg(),
                          'python': platform.python_version(), 'numpy': np.__version__}))
    else:
        raise SystemExit(__doc__)


if __name__ == '__main__':
    main()
