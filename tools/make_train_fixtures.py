#!/usr/bin/python3
"""Reference values of the ISFuse training losses (docs/TRAINING.md#losses), computed with PyTorch (Debian python3-torch)
independently of the TypeScript code, for test/train/losses.test.ts.

    /usr/bin/python3 tools/make_train_fixtures.py     # writes test/fixtures/train/losses.safetensors

Inputs are small fixed random tensors (seeded), N = 2, H = W = 12, stored NHWC-free as [N, H, W] (C = 1):
  vi, ir, y (base output), y_comp, y_rand, y_novi, y_noir in (0, 1);
  comp.g3 [N,3,3], comp.g4 [N,6,6], comp.g5 [N,12,12] and the same for rand (gates of those passes; some
  values pushed to 0 / 1 so that the entropy clamp matters).
Outputs (float64 scalars, shape [1]):
  L_f, L_f.ir, L_f.vi, L_f.grad; comp.stability, comp.sparsity, comp.entropy (and rand.*);
  L_inv.maximise, L_inv.minimise (the two gateEntropy signs); L_nec;
  L.default (= L_f + 0.1 L_inv.maximise + 0.05 L_nec), L.flipped (= L_f + 0.1 L_inv.minimise - 0.05 L_nec);
  lap.y [N,H,W]: |Laplacian(y)| with zero padding.
All computed in float64 from the float32-rounded inputs.
"""
import os
import sys

import numpy as np
import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isfuse_torch import save_safetensors  # noqa: E402

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'train')
ETA = 0.3
N, H, W = 2, 12, 12


def lap(x):
    k = torch.tensor([[1., 1., 1.], [1., -8., 1.], [1., 1., 1.]], dtype=x.dtype).view(1, 1, 3, 3)
    return torch.abs(F.conv2d(x, k, padding=1))


def l_f(y, vi, ir):
    a, b = F.l1_loss(y, ir), F.l1_loss(y, vi)
    c = F.l1_loss(lap(y), torch.max(lap(ir), lap(vi)))
    return a + b + c, a, b, c


def mean_gate(gates):
    return sum(F.interpolate(g, size=(H, W), mode='bilinear', align_corners=False) for g in gates) / len(gates)


def inv_term(y_do, y, gates):
    g = mean_gate(gates)
    stability = torch.mean(torch.abs(y_do - y) * g)
    sparsity = torch.mean(torch.abs(g.mean(dim=(1, 2, 3)) - ETA))
    p = g.clamp(1e-6, 1 - 1e-6)
    entropy = torch.mean(-(p * torch.log(p) + (1 - p) * torch.log(1 - p)))
    return stability, sparsity, entropy


def main():
    gen = torch.Generator().manual_seed(20260305)
    r = lambda *s: torch.rand(*s, generator=gen, dtype=torch.float32)  # noqa: E731
    t = {name: r(N, 1, H, W) for name in ['vi', 'ir', 'y', 'y_comp', 'y_rand', 'y_novi', 'y_noir']}
    for p in ['comp', 'rand']:
        for name, s in [('g3', 3), ('g4', 6), ('g5', 12)]:
            g = r(N, 1, s, s)
            g[0, 0, 0, :2] = 0.0
            g[1, 0, -1, -2:] = 1.0
            t[f'{p}.{name}'] = g
    d = {k: v.double() for k, v in t.items()}
    out = {}
    lf, a, b, c = l_f(d['y'], d['vi'], d['ir'])
    out.update({'L_f': lf, 'L_f.ir': a, 'L_f.vi': b, 'L_f.grad': c})
    inv = {'maximise': 0.0, 'minimise': 0.0}
    for p in ['comp', 'rand']:
        st, sp, en = inv_term(d[f'y_{p}'], d['y'], [d[f'{p}.g3'], d[f'{p}.g4'], d[f'{p}.g5']])
        out.update({f'{p}.stability': st, f'{p}.sparsity': sp, f'{p}.entropy': en})
        inv['maximise'] = inv['maximise'] + (st + sp - en) / 2
        inv['minimise'] = inv['minimise'] + (st + sp + en) / 2
    nec = F.l1_loss(d['y'], d['y_novi']) + F.l1_loss(d['y'], d['y_noir'])
    out.update({'L_inv.maximise': inv['maximise'], 'L_inv.minimise': inv['minimise'], 'L_nec': nec})
    out['L.default'] = lf + 0.1 * inv['maximise'] + 0.05 * nec
    out['L.flipped'] = lf + 0.1 * inv['minimise'] - 0.05 * nec
    tensors = {k: v[:, 0].numpy() for k, v in t.items()}
    tensors.update({k: np.array([float(v)], dtype=np.float64) for k, v in out.items()})
    tensors['lap.y'] = lap(d['y'])[:, 0].numpy()
    os.makedirs(OUT, exist_ok=True)
    save_safetensors(os.path.join(OUT, 'losses.safetensors'), tensors,
                     {'source': 'tools/make_train_fixtures.py', 'torch': torch.__version__})
    for k, v in out.items():
        print(f'{k:16s} {float(v):.10f}')


if __name__ == '__main__':
    main()
