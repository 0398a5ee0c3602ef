"""The ISFuse network (docs/NETWORK.md) in PyTorch, written from the specification, and hand-written
safetensors I/O (Debian ships no `safetensors` package).

Module and parameter names follow the reference implementation's state dict, so a checkpoint of the
reference model loads here with `load_state_dict(strict=True)` and vice versa. Shared by
tools/make_model_fixtures.py and tools/bench_torch_infer.py.
"""
import json
import math
import struct

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn


def cbl(i, o, k):
    """conv k x k (padding k//2, bias) -> BatchNorm -> LeakyReLU(0.01), as a flat list of modules."""
    return [nn.Conv2d(i, o, k, padding=k // 2), nn.BatchNorm2d(o), nn.LeakyReLU(0.01)]


class Encoder(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.module1 = nn.Sequential(*cbl(1, dim, 3), *cbl(dim, dim, 3))
        self.down1 = nn.MaxPool2d(2)
        self.module2 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))
        self.down2 = nn.MaxPool2d(2)
        self.module3 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))

    def forward(self, x):
        x1 = self.module1(x)
        x2 = self.module2(self.down1(x1))
        x3 = self.module3(self.down2(x2))
        return x1, x2, x3


class CFI(nn.Module):
    """Causal Feature Integrator: pooled (8x8 adaptive) cross-attention both ways, gated against fv + fi."""

    def __init__(self, dim=32, reduce=8):
        super().__init__()
        self.reduce = reduce
        self.q_v, self.k_v, self.v_v = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
        self.q_i, self.k_i, self.v_i = nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1), nn.Conv2d(dim, dim, 1)
        self.gate = nn.Sequential(*cbl(dim, dim // 2, 3), nn.Conv2d(dim // 2, 1, 1), nn.Sigmoid())
        self.refine = nn.Sequential(*cbl(dim, dim, 3))

    def att(self, q, k, v):
        n, c, h, w = q.shape
        r = self.reduce
        kf = F.adaptive_avg_pool2d(k, (r, r)).reshape(n, c, r * r)
        vf = F.adaptive_avg_pool2d(v, (r, r)).reshape(n, c, r * r)
        qf = q.reshape(n, c, h * w)
        a = torch.softmax(torch.bmm(qf.transpose(1, 2), kf) * (1.0 / math.sqrt(c)), dim=-1)  # [N,HW,64]
        return torch.bmm(vf, a.transpose(1, 2)).reshape(n, c, h, w)

    def forward(self, fv, fi):
        cross = self.att(self.q_v(fv), self.k_i(fi), self.v_i(fi)) + self.att(self.q_i(fi), self.k_v(fv), self.v_v(fv))
        local = fv + fi
        g = self.gate(cross)
        return self.refine(g * cross + (1.0 - g) * local), g


class Network(nn.Module):
    def __init__(self, dim=32):
        super().__init__()
        self.encoder_ir = Encoder(dim)
        self.encoder_vis = Encoder(dim)
        self.adjust_channels3 = nn.Sequential(*cbl(2 * dim, dim, 1))  # unused by forward (reference keeps it)
        self.adjust_channels4 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))
        self.adjust_channels5 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))
        self.module4 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))  # unused
        self.module5 = nn.Sequential(*cbl(dim, dim, 3), *cbl(dim, dim, 3))  # unused
        self.final_decoder = nn.Sequential(nn.Conv2d(dim, 1, 3, padding=1), nn.Sigmoid())
        self.cfi3 = CFI(dim)
        self.cfi4 = CFI(dim)
        self.cfi5 = CFI(dim)

    def forward(self, vi, ir):
        v1, v2, v3 = self.encoder_vis(vi)
        i1, i2, i3 = self.encoder_ir(ir)
        x3, g3 = self.cfi3(v3, i3)
        f4, g4 = self.cfi4(v2, i2)
        x4 = self.adjust_channels4(F.interpolate(x3, size=v2.shape[-2:], mode='bilinear', align_corners=False) + f4)
        f5, g5 = self.cfi5(v1, i1)
        x5 = self.adjust_channels5(F.interpolate(x4, size=v1.shape[-2:], mode='bilinear', align_corners=False) + f5)
        return self.final_decoder(x5), (x3, x4, x5), {'g3': g3, 'g4': g4, 'g5': g5}


UNUSED_PREFIXES = ('adjust_channels3.', 'module4.', 'module5.')

_NP = {'F32': np.float32, 'F64': np.float64, 'F16': np.float16, 'I64': np.int64, 'I32': np.int32}
_ST = {np.dtype(v): k for k, v in _NP.items()}


def save_safetensors(path, tensors, metadata=None):
    """tensors: name -> numpy array (or torch tensor). Little-endian, names sorted, header padded to 8 bytes."""
    arrays = {k: (v.detach().cpu().numpy() if torch.is_tensor(v) else np.asarray(v)) for k, v in tensors.items()}
    header, offset, blobs = {}, 0, []
    if metadata:
        header['__metadata__'] = {str(k): str(v) for k, v in metadata.items()}
    for name in sorted(arrays):
        a = np.array(arrays[name], order="C")  # (ascontiguousarray would turn 0-d into 1-d)
        b = a.astype(a.dtype.newbyteorder('<')).tobytes()
        header[name] = {'dtype': _ST[a.dtype], 'shape': list(a.shape), 'data_offsets': [offset, offset + len(b)]}
        blobs.append(b)
        offset += len(b)
    h = json.dumps(header, separators=(',', ':')).encode()
    h += b' ' * (-len(h) % 8)
    with open(path, 'wb') as f:
        f.write(struct.pack('<Q', len(h)))
        f.write(h)
        for b in blobs:
            f.write(b)


def load_safetensors(path):
    with open(path, 'rb') as f:
        raw = f.read()
    (n,) = struct.unpack('<Q', raw[:8])
    header = json.loads(raw[8:8 + n])
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == '__metadata__':
            continue
        s, e = info['data_offsets']
        dt = np.dtype(_NP[info['dtype']]).newbyteorder('<')
        out[name] = np.frombuffer(raw[base + s:base + e], dtype=dt).reshape(info['shape']).copy()
    return out
