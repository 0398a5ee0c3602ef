#!/usr/bin/env python3
"""Writes test/fixtures/vifb/fft.json: numpy references for src/metrics/vifb/fft.ts and csf.ts.

For a few small, deliberately awkward sizes (odd, even, prime > 61 so that Bluestein is used, 1-pixel wide):
  * x:      a seeded random real matrix (values 0..255, rounded to integers),
  * fft2:   numpy.fft.fft2(x) (pocketfft, float64),
  * qcb / qcv: real(ifft2(ifftshift(fftshift(fft2(x)) * R))) with R the Chen-Blum / Mannos-Sakrison CSF on
            MATLAB's freqspace grid scaled by W/30, H/30 (Qcb) or W/8, H/8 (Qcv), exactly as metricsQcb.m /
            metricsQcv.m of VIFB write it (numpy's fftshift / ifftshift equal MATLAB's).
Run: /usr/bin/python3 tools/make_vifb_fft_fixture.py   (numpy only; output is deterministic).
"""
import json
import os

import numpy as np

SIZES = [(5, 7), (8, 6), (9, 10), (3, 67), (1, 12), (16, 15)]  # (height, width)


def freqspace(n):
    return (np.arange(n) - np.floor(n / 2)) * (2 / n)


def csf(x, k, response):
    h, w = x.shape
    u, v = np.meshgrid(freqspace(w), freqspace(h))
    u = (w / k) * u
    v = (h / k) * v
    r = np.sqrt(u ** 2 + v ** 2)
    return np.real(np.fft.ifft2(np.fft.ifftshift(np.fft.fftshift(np.fft.fft2(x)) * response(r))))


def qcb_response(r):
    return np.exp(-(r / 15.3870) ** 2) - 0.7622 * np.exp(-(r / 1.3456) ** 2)


def qcv_response(r):
    return 2.6 * (0.0192 + 0.144 * r) * np.exp(-(0.144 * r) ** 1.1)


def main():
    rs = np.random.RandomState(20240611)
    cases = []
    for h, w in SIZES:
        x = np.round(rs.uniform(0, 255, size=(h, w)))
        f = np.fft.fft2(x)
        cases.append({
            'height': h,
            'width': w,
            'x': x.ravel().tolist(),
            'fft2_re': f.real.ravel().tolist(),
            'fft2_im': f.imag.ravel().tolist(),
            'qcb': csf(x, 30, qcb_response).ravel().tolist(),
            'qcv': csf(x, 8, qcv_response).ravel().tolist(),
        })
    out = {
        'source': 'tools/make_vifb_fft_fixture.py, numpy ' + np.__version__ + ' (pocketfft), float64',
        'layout': 'row-major height x width',
        'cases': cases,
    }
    path = os.path.join(os.path.dirname(__file__), '..', 'test', 'fixtures', 'vifb', 'fft.json')
    with open(path, 'w') as fh:
        json.dump(out, fh, separators=(',', ':'))
        fh.write('\n')


if __name__ == '__main__':
    main()
