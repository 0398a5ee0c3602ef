#!/usr/bin/python3
"""Reference values of the fidelity losses L_f (src/train/fidelity.ts, docs/TRAINING.md#fidelity-losses), computed
with PyTorch (Debian python3-torch) independently of the TypeScript code, for test/train/fidelity.test.ts.

    /usr/bin/python3 tools/make_fidelity_fixtures.py     # writes test/fixtures/train/fidelity-<name>.safetensors

One file per loss, all from the same inputs: vi, ir, y [N, H, W] (C = 1) in (0, 1), float32, N = 2, H = 10, W = 13
(not square, so that a transposed filter shows). Outputs, computed in float64 from the float32 inputs:
  L [1]             the loss
  part.<name> [1]   its addends as src/train/fidelity.ts names them (weights included; L is their sum)
  grad.y [N, H, W]  dL/dy
The inputs are drawn so that no argument of |.| or max(.) that the gradient passes through lies within 2e-5 of
its kink, so float32 rounding cannot flip a gradient sign (the seed is the first that satisfies this).
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isfuse_torch import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'train')
N, H, W = 2, 10, 13
MARGIN = 2e-5


class Kinks:
    """Collects the arguments of |.| and max(.) whose sign decides the gradient."""

    def __init__(self):
        self.args = []

    def abs(self, x):
        self.args.append(x)
        return torch.abs(x)

    def max(self, a, b):
        self.args.append(a - b)
        return torch.max(a, b)

    def l1(self, a, b):
        return torch.mean(self.abs(a - b))

    def min_margin(self):
        return min(float(torch.min(torch.abs(a))) for a in self.args)


def filt(x, rows):
    """Correlation with a 3x3 filter (rows, row-major), zero padding, same size."""
    return F.conv2d(x, torch.tensor(rows, dtype=x.dtype).view(1, 1, 3, 3), padding=1)


LAPLACIAN = [[1., 1., 1.], [1., -8., 1.], [1., 1., 1.]]


def paper(y, vi, ir, k):
    """ISFuse: L1(y, ir) + L1(y, vi) + L1(|Lap y|, max(|Lap ir|, |Lap vi|))."""
    lap_y = k.abs(filt(y, LAPLACIAN))
    target = torch.max(torch.abs(filt(ir, LAPLACIAN)), torch.abs(filt(vi, LAPLACIAN)))
    return {'ir': k.l1(y, ir), 'vi': k.l1(y, vi), 'grad': k.l1(lap_y, target)}


SOBEL_X = [[-1., 0., 1.], [-2., 0., 2.], [-1., 0., 1.]]
SOBEL_Y = [[-1., -2., -1.], [0., 0., 0.], [1., 2., 1.]]


def maxgrad(y, vi, ir, k):
    """SeAFusion / CDDFuse: L1(y, max(ir, vi)) + 10 L1(Sobel y, max(Sobel ir, Sobel vi)), Sobel = |Gx| + |Gy|."""
    def sobel(x, a=torch.abs):
        return a(filt(x, SOBEL_X)) + a(filt(x, SOBEL_Y))
    target = torch.max(sobel(ir), sobel(vi))
    return {'int': k.l1(y, torch.max(ir, vi)), 'grad': 10 * k.l1(sobel(y, k.abs), target)}


LOSSES = {'paper': paper, 'maxgrad': maxgrad}


def main():
    for seed in range(20260401, 20260501):
        gen = torch.Generator().manual_seed(seed)
        t = {name: torch.rand(N, 1, H, W, generator=gen, dtype=torch.float32) for name in ['vi', 'ir', 'y']}
        results = {}
        margin = float('inf')
        for name, loss in LOSSES.items():
            y = t['y'].double().requires_grad_(True)
            k = Kinks()
            parts = loss(y, t['vi'].double(), t['ir'].double(), k)
            total = sum(parts.values())
            (grad,) = torch.autograd.grad(total, y)
            margin = min(margin, k.min_margin())
            results[name] = (total, parts, grad)
        if margin > MARGIN:
            break
    else:
        raise SystemExit('no seed gave inputs away from every kink')
    os.makedirs(OUT, exist_ok=True)
    for name, (total, parts, grad) in results.items():
        tensors = {k: v[:, 0].numpy() for k, v in t.items()}
        tensors['L'] = np.array([float(total)], dtype=np.float64)
        tensors.update({f'part.{p}': np.array([float(v)], dtype=np.float64) for p, v in parts.items()})
        tensors['grad.y'] = grad[:, 0].detach().numpy()
        save_safetensors(os.path.join(OUT, f'fidelity-{name}.safetensors'), tensors,
                         {'source': 'tools/make_fidelity_fixtures.py', 'torch': torch.__version__, 'seed': str(seed)})
        print(f'{name:10s} L {float(total):.10f}  ' + '  '.join(f'{p} {float(v):.8f}' for p, v in parts.items()))
    print(f'seed {seed}, smallest kink margin {margin:.2e}')


if __name__ == '__main__':
    main()
