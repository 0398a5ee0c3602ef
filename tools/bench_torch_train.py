#!/usr/bin/python3
"""The reference PyTorch five-pass training step (docs/TRAINING.md#training-step), timed side by side with `isfuse bench train`.

    /usr/bin/python3 tools/bench_torch_train.py [--batch 8] [--crop 128] [--warmup 1] [--repeats 3] [--threads 2] [--device cpu|cuda] [--json]

Same architecture (tools/isfuse_torch.py), train mode, five passes (base, complementary masking,
identical-region masking, two modality dropouts), L = L_f + 0.1 L_inv + 0.05 L_nec with the authors' signs,
Adam lr 1e-4; random inputs and masks (the masks are drawn as docs/TRAINING.md#hole-masks says, outside the timed region).
Prints median and spread (min, max) of ms per step.
"""
import argparse
import json
import os
import statistics
import sys
import time

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isfuse_torch import Network  # noqa: E402


def hole_mask(n, s, gen):
    m = torch.ones(n, 1, s, s)
    yy, xx = torch.meshgrid(torch.arange(s), torch.arange(s), indexing='ij')
    for i in range(n):
        for _ in range(int(torch.randint(1, 7, (1,), generator=gen))):
            if torch.rand(1, generator=gen) < 0.7:
                x, y = (int(v) for v in torch.randint(0, s - 15, (2,), generator=gen))
                m[i, 0, y:y + 16, x:x + 16] = 0
            else:
                cx, cy = (int(v) for v in torch.randint(8, s - 8, (2,), generator=gen))
                m[i, 0][(xx - cx) ** 2 + (yy - cy) ** 2 <= 64] = 0
    return m


def lap(x):
    k = torch.tensor([[1., 1., 1.], [1., -8., 1.], [1., 1., 1.]], device=x.device).view(1, 1, 3, 3)
    return torch.abs(F.conv2d(x, k, padding=1))


def inv_term(y_do, y, gates, s):
    g = sum(F.interpolate(t, size=(s, s), mode='bilinear', align_corners=False) for t in gates.values()) / 3
    p = g.clamp(1e-6, 1 - 1e-6)
    ent = torch.mean(-(p * torch.log(p) + (1 - p) * torch.log(1 - p)))
    return torch.mean(torch.abs(y_do - y) * g) + torch.mean(torch.abs(g.mean(dim=(1, 2, 3)) - 0.3)) - ent


def step(model, opt, vi, ir, mv, mi, m, s):
    opt.zero_grad()
    y, _, _ = model(vi, ir)
    lf = F.l1_loss(y, ir) + F.l1_loss(y, vi) + F.l1_loss(lap(y), torch.max(lap(ir), lap(vi)))
    yc, _, gc = model(vi * mv, ir * mi)
    yr, _, gr = model(vi * m, ir * m)
    y0v, _, _ = model(torch.zeros_like(vi), ir)
    y0i, _, _ = model(vi, torch.zeros_like(ir))
    linv = (inv_term(yc, y, gc, s) + inv_term(yr, y, gr, s)) / 2
    lnec = F.l1_loss(y, y0v) + F.l1_loss(y, y0i)
    loss = lf + 0.1 * linv + 0.05 * lnec
    loss.backward()
    opt.step()
    return float(loss)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--batch', type=int, default=8)
    ap.add_argument('--crop', type=int, default=128)
    ap.add_argument('--warmup', type=int, default=1)
    ap.add_argument('--repeats', type=int, default=3)
    ap.add_argument('--threads', type=int, default=2)
    ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda' (the GPU side of the webgpu comparison)")
    ap.add_argument('--json', action='store_true')
    a = ap.parse_args()
    dev = torch.device(a.device)
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(0)
    model = Network().train().to(dev)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)
    n, s = a.batch, a.crop
    vi, ir = torch.rand(n, 1, s, s).to(dev), torch.rand(n, 1, s, s).to(dev)
    times = []
    for k in range(a.warmup + a.repeats):
        mv, mi, m = hole_mask(n, s, gen), hole_mask(n, s, gen), hole_mask(n, s, gen)
        both = (mv == 0) & (mi == 0)
        coin = torch.rand(mv.shape, generator=gen) < 0.5
        mv[both & coin] = 1
        mi[both & ~coin] = 1
        mv, mi, m = mv.to(dev), mi.to(dev), m.to(dev)
        t0 = time.perf_counter()
        loss = step(model, opt, vi, ir, mv, mi, m, s)  # float(loss) waits for the GPU
        dt = (time.perf_counter() - t0) * 1000
        if k >= a.warmup:
            times.append(dt)
        print(f'# step {k} {"(warm-up) " if k < a.warmup else ""}{dt:.0f} ms loss {loss:.4f}', file=sys.stderr)
    where = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else 'CPU'
    res = {'engine': f'PyTorch {torch.__version__} {where}', 'threads': a.threads, 'batch': n, 'crop': s,
           'warmup': a.warmup, 'repeats': a.repeats, 'median_ms': statistics.median(times),
           'min_ms': min(times), 'max_ms': max(times), 'times_ms': times}
    print(json.dumps(res) if a.json else
          f"{res['engine']} ({a.threads} threads): batch {n}, {s}x{s}: median {res['median_ms']:.0f} ms/step "
          f"(min {res['min_ms']:.0f}, max {res['max_ms']:.0f}, {a.repeats} repeats after {a.warmup} warm-up)")


if __name__ == '__main__':
    main()
