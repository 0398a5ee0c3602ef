#!/usr/bin/python3
"""Build the ISFuse parity fixtures from the PyTorch reference architecture (tools/isfuse_torch.py).

    /usr/bin/python3 tools/make_model_fixtures.py            # writes test/fixtures/model/*.safetensors
    /usr/bin/python3 tools/make_model_fixtures.py --check F  # F (e.g. written by the TS code) must load
                                                             # with load_state_dict(strict=True); prints a summary
    /usr/bin/python3 tools/make_model_fixtures.py --check F --against G
                                                             # ... and its tensors must equal those of G

Fixtures (all float32 unless stated; NCHW tensors stored as [N,H,W] since C = 1):
  weights.safetensors  a full reference state dict (233 tensors, num_batches_tracked as I64) with random
                       weights and non-trivial BatchNorm statistics.
  cases.safetensors    eval mode: for each size HxW in SIZES, `HxW.vi`, `HxW.ir` (inputs, [1,H,W]),
                       `HxW.fused` ([1,H,W]), `HxW.g3|g4|g5` (gates at H/4, H/2, H);
                       train mode (batch 2, 24x30, from the same weights, computed in float64, stored as float32): `train.vi`, `train.ir`,
                       `train.fused`, `train.g3|g4|g5`, `train.state.<name>` = every BatchNorm buffer after the
                       step (running stats updated with momentum 0.1, unbiased running_var), and
                       `train.grad.<name>` = d loss / d param for every used parameter of at most 1024 values and the
                       3x3 conv weights in GRAD_WEIGHTS, with
                       loss = mean((fused - vi)^2) + mean(g3) + mean(g4) + mean(g5).
"""
import argparse
import os
import sys

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isfuse_torch import Network, UNUSED_PREFIXES, load_safetensors, save_safetensors  # noqa: E402

SIZES = [(32, 32), (37, 45), (64, 48)]
GRAD_WEIGHTS = {'encoder_vis.module1.0.weight', 'encoder_ir.module3.3.weight', 'cfi3.gate.0.weight',
                'cfi4.refine.0.weight', 'cfi5.refine.0.weight', 'adjust_channels4.0.weight',
                'adjust_channels5.3.weight', 'final_decoder.0.weight'}
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'model')


def randomise(model, gen):
    """PyTorch default conv init (already there) plus BatchNorm affine and running stats away from identity."""
    with torch.no_grad():
        for name, mod in model.named_modules():
            if isinstance(mod, torch.nn.BatchNorm2d):
                c = mod.num_features
                mod.weight.copy_(0.6 + 0.8 * torch.rand(c, generator=gen))
                mod.bias.copy_(0.2 * torch.randn(c, generator=gen))
                mod.running_mean.copy_(0.1 * torch.randn(c, generator=gen))
                mod.running_var.copy_(0.5 + torch.rand(c, generator=gen))
                mod.num_batches_tracked.fill_(int(torch.randint(1, 1000, (1,), generator=gen)))
        # spread the outputs so that parity tests are sensitive: peakier attention, gates and output away
        # from their near-constant default-init values
        for name, p in model.named_parameters():
            if name.endswith('.weight') and ('.q_' in name or '.k_' in name):
                p.mul_(3.0)
            if name.endswith('gate.3.weight'):
                p.mul_(6.0)
            if name == 'final_decoder.0.weight':
                p.mul_(10.0)


def smooth_image(gen, n, h, w):
    """Random image in [0,1] with some structure: noise plus a blurred random field."""
    x = torch.rand(n, 1, h, w, generator=gen)
    f = torch.nn.functional.avg_pool2d(torch.rand(n, 1, h + 6, w + 6, generator=gen), 7, 1)
    return (0.5 * x + 0.5 * (f - f.min()) / (f.max() - f.min() + 1e-6)).clamp(0, 1)


def make():
    torch.manual_seed(0)
    gen = torch.Generator().manual_seed(1234)
    model = Network()
    randomise(model, gen)
    os.makedirs(OUT, exist_ok=True)
    sd = model.state_dict()
    save_safetensors(os.path.join(OUT, 'weights.safetensors'), sd, {'format': 'pt', 'source': 'tools/make_model_fixtures.py'})

    cases = {}
    model.eval()
    with torch.no_grad():
        for (h, w) in SIZES:
            vi, ir = smooth_image(gen, 1, h, w), smooth_image(gen, 1, h, w)
            out, _, g = model(vi, ir)
            key = f'{h}x{w}'
            cases[f'{key}.vi'], cases[f'{key}.ir'], cases[f'{key}.fused'] = vi[:, 0], ir[:, 0], out[:, 0]
            for k in ('g3', 'g4', 'g5'):
                cases[f'{key}.{k}'] = g[k][:, 0]
            print(f'{key}: fused in [{out.min():.4f}, {out.max():.4f}] mean {out.mean():.4f}; '
                  f'g5 in [{g["g5"].min():.4f}, {g["g5"].max():.4f}]')

    # one training-mode step (forward + backward) on a batch of 2 from a fresh copy of the same weights
    # computed in float64: training-mode BatchNorm on a batch this small is ill-conditioned (PyTorch's own
    # float32 gradients differ from float64 by up to 2.5% of a tensor's largest value), so the reference is
    # the float64 result, stored as float32
    tm = Network()
    tm.load_state_dict(sd, strict=True)
    tm.double().train()
    vi, ir = smooth_image(gen, 2, 24, 30), smooth_image(gen, 2, 24, 30)
    out, _, g = tm(vi.double(), ir.double())
    loss = ((out - vi) ** 2).mean() + g['g3'].mean() + g['g4'].mean() + g['g5'].mean()
    loss.backward()
    f32 = lambda t: t.detach().float()  # noqa: E731
    cases['train.vi'], cases['train.ir'], cases['train.fused'] = vi[:, 0], ir[:, 0], f32(out[:, 0])
    for k in ('g3', 'g4', 'g5'):
        cases[f'train.{k}'] = f32(g[k][:, 0])
    cases['train.loss'] = f32(loss.reshape(1))
    for name, t in tm.state_dict().items():
        if name.endswith(('running_mean', 'running_var', 'num_batches_tracked')) and not name.startswith(UNUSED_PREFIXES):
            cases[f'train.state.{name}'] = t if name.endswith('num_batches_tracked') else f32(t)
    for name, p in tm.named_parameters():
        # every small gradient (biases, BatchNorm affine, 1x1 convs) plus a few 3x3 conv weights (size budget)
        if not name.startswith(UNUSED_PREFIXES) and (p.numel() <= 1024 or name in GRAD_WEIGHTS):
            cases[f'train.grad.{name}'] = f32(p.grad)
    print(f'train: loss {loss.item():.6f}')
    save_safetensors(os.path.join(OUT, 'cases.safetensors'), cases, {'source': 'tools/make_model_fixtures.py'})
    for f in ('weights.safetensors', 'cases.safetensors'):
        print(f, os.path.getsize(os.path.join(OUT, f)), 'bytes')


def check(path, against=None):
    sd = {k: torch.from_numpy(v) for k, v in load_safetensors(path).items()}
    model = Network()
    model.load_state_dict(sd, strict=True)  # raises on missing / unexpected / mis-shaped tensors
    for k, v in model.state_dict().items():
        if v.dtype != sd[k].dtype:
            raise SystemExit(f'{k}: dtype {sd[k].dtype}, expected {v.dtype}')
    n_params = sum(p.numel() for p in model.parameters())
    msg = f'OK: {path} loads with strict=True ({len(sd)} tensors, {n_params} parameters)'
    if against:
        ref = load_safetensors(against)
        worst = max(float(np.abs(ref[k].astype(np.float64) - sd[k].numpy().astype(np.float64)).max()) for k in ref)
        if set(ref) != set(sd) or worst != 0.0:
            raise SystemExit(f'{path} differs from {against}: max abs diff {worst}')
        msg += f'; equal to {against}'
    print(msg)


if __name__ == '__main__':
    ap = argparse.ArgumentParser()
    ap.add_argument('--check')
    ap.add_argument('--against')
    a = ap.parse_args()
    check(a.check, a.against) if a.check else make()
