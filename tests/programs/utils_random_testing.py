"""A training-loop fragment that uses torch.random.fork_rng for a side computation, the
torch 2.6 gradient-clipping pieces, BatchNorm folding from torch.nn.utils, skip_init, the
channels-last weight conversion, torch.testing helpers and torch.types annotations."""

import warnings

import numpy as np
import torch
import torch.nn as nn
from torch.types import Device, Number, _size


def scale(x: torch.Tensor, k: Number, shape: _size, device: Device = None) -> torch.Tensor:
    return (x * k).reshape(shape).to(device or "cpu")


torch.random.manual_seed(0)
a = torch.rand(3)
torch.random.manual_seed(0)
with torch.random.fork_rng(devices=[]):
    torch.rand(100)  # a side computation's draws ...
b = torch.rand(3)  # ... do not shift the main stream
print("fork_rng keeps the stream", bool(torch.equal(a, b)))
state = torch.random.get_rng_state()
c = torch.rand(2)
torch.random.set_rng_state(state)
print("state round trip", bool(torch.equal(c, torch.rand(2))))

rng = np.random.default_rng(0)
model = nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 2)).double()
with torch.no_grad():
    for p in model.parameters():
        p.copy_(torch.from_numpy(rng.standard_normal(tuple(p.shape))))
x = torch.from_numpy(rng.standard_normal((16, 4)))
loss = model(x).pow(2).sum()
loss.backward()
grads = [p.grad for p in model.parameters()]
total = nn.utils.get_total_norm(grads, norm_type=2.0)
nn.utils.clip_grads_with_norm_(model.parameters(), max_norm=1.0, total_norm=total)
after = nn.utils.get_total_norm([p.grad for p in model.parameters()])
print("total norm", round(total.item(), 6), "after clipping", round(after.item(), 6))

conv = nn.Conv2d(2, 3, 3).double().eval()
bn = nn.BatchNorm2d(3).double().eval()
with torch.no_grad():
    conv.weight.copy_(torch.from_numpy(rng.standard_normal((3, 2, 3, 3))))
    conv.bias.copy_(torch.from_numpy(rng.standard_normal(3)))
    bn.running_mean.copy_(torch.from_numpy(rng.standard_normal(3)))
    bn.running_var.copy_(torch.from_numpy(rng.random(3) + 0.5))
    bn.weight.copy_(torch.from_numpy(rng.standard_normal(3)))
    bn.bias.copy_(torch.from_numpy(rng.standard_normal(3)))
img = torch.from_numpy(rng.standard_normal((2, 2, 6, 6)))
fused = nn.utils.fuse_conv_bn_eval(conv, bn)
with torch.no_grad():
    diff = (fused(img) - bn(conv(img))).abs().max().item()
print("fused conv-bn matches", diff < 1e-12, type(fused).__name__)

lin = nn.utils.skip_init(nn.Linear, 5, 7)
print("skip_init", type(lin).__name__, tuple(lin.weight.shape))
net = nn.utils.convert_conv2d_weight_memory_format(
    nn.Sequential(conv, nn.ReLU()), torch.channels_last
)
print("converted", type(net).__name__, tuple(net[0].weight.shape))

t = torch.testing.make_tensor(
    3, 4, dtype=torch.float32, device="cpu", low=-1, high=1, requires_grad=True
)
n = torch.testing.make_tensor((2, 5), dtype=torch.int64, device="cpu", noncontiguous=True)
print("make_tensor", tuple(t.shape), t.dtype, t.requires_grad, bool((t.abs() <= 1).all()))
print(
    "make_tensor ints",
    tuple(n.shape),
    n.dtype,
    n.is_contiguous(),
    bool(((n >= -9) & (n < 10)).all()),
)
with warnings.catch_warnings():
    warnings.simplefilter("ignore", FutureWarning)
    torch.testing.assert_allclose(torch.tensor([1.0, float("nan")]), [1.0, float("nan")])
torch.testing.assert_close(scale(torch.ones(4), 2, (2, 2)), torch.full((2, 2), 2.0))
print("testing helpers ok")
