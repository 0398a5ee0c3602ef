#!/usr/bin/python3
"""PyTorch timing of the same ISFuse architecture (tools/isfuse_torch.py), eval mode, no_grad,
torch.set_num_threads(2) on CPU: the side-by-side baseline of bench/infer.ts. --device cuda times it on the GPU
(synchronised before each clock read), the baseline of `bench/infer.ts --backend webgpu`.

    /usr/bin/python3 tools/bench_torch_infer.py [--size 480x640] [--runs 5] [--threads 2] [--device cpu|cuda] [--json]
"""
import argparse
import json
import os
import platform
import statistics
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from isfuse_torch import Network  # noqa: E402

ap = argparse.ArgumentParser()
ap.add_argument('--size', default='480x640')
ap.add_argument('--runs', type=int, default=5)
ap.add_argument('--threads', type=int, default=2)
ap.add_argument('--device', default='cpu', help="'cpu' or 'cuda'")
ap.add_argument('--json', action='store_true')
a = ap.parse_args()
dev = torch.device(a.device)
sync = torch.cuda.synchronize if dev.type == 'cuda' else (lambda: None)
h, w = (int(x) for x in a.size.lower().split('x'))
torch.set_num_threads(a.threads)
torch.manual_seed(0)
m = Network().eval().to(dev)
vi, ir = torch.rand(1, 1, h, w, device=dev), torch.rand(1, 1, h, w, device=dev)
times = []
with torch.no_grad():
    m(vi, ir)  # warm-up
    sync()
    for _ in range(a.runs):
        t0 = time.perf_counter()
        m(vi, ir)
        sync()
        times.append((time.perf_counter() - t0) * 1000)
gpu = torch.cuda.get_device_name(dev) if dev.type == 'cuda' else None
res = {'engine': f'PyTorch {torch.__version__} ' + (gpu or 'CPU'), 'threads': a.threads, 'size': f'{h}x{w}', 'runs': a.runs,
       'median_ms': statistics.median(times), 'min_ms': min(times), 'max_ms': max(times), 'times_ms': times,
       'python': platform.python_version()}
print(json.dumps(res) if a.json else f"{res['engine']} ({a.threads} threads) {h}x{w}: median {res['median_ms']:.0f} ms "
      f"(min {res['min_ms']:.0f}, max {res['max_ms']:.0f}, {a.runs} runs)")
