"""Functions and layers real code reaches for, used as it does: top-level torch.conv2d /
layer_norm / dropout, a 3-D CNN (Conv3d, InstanceNorm3d, MaxPool3d, AvgPool3d,
AdaptiveAvgPool3d), F.embedding_bag with offsets, gumbel_softmax(hard=True) straight-through,
parametrize (a custom symmetric parametrization and orthogonal), activation checkpointing with
and without reentrancy and checkpoint_sequential, and the small tensor functions (cross, kron,
cartesian_prod, trapezoid, diff, cdist, isclose, expand_copy)."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.nn.utils.parametrize as parametrize
from torch.nn.utils.parametrizations import orthogonal
from torch.utils.checkpoint import checkpoint, checkpoint_sequential

rng = np.random.default_rng(0)


def t(*shape):
    return torch.from_numpy(rng.standard_normal(shape))


def fill(module, seed):
    r = np.random.default_rng(seed)
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(torch.from_numpy(r.standard_normal(tuple(p.shape)) * 0.3))
    return module


x, w = t(2, 3, 6, 6), t(4, 3, 3, 3)
y = torch.conv2d(x, w, None, 1, 1)
z = torch.layer_norm(y, (6, 6))
print("top-level conv/layer_norm", tuple(z.shape), f"{z.pow(2).mean().item():.10f}")
print("dropout eval identity", torch.equal(torch.dropout(z, 0.5, False), z))
kept = torch.dropout(torch.ones(1000, dtype=torch.float64), 0.25, True)
print("dropout train scale", set(kept.unique().tolist()) <= {0.0, 1 / 0.75})

net3d = fill(
    nn.Sequential(
        nn.Conv3d(2, 4, 3, padding=1),
        nn.InstanceNorm3d(4, affine=True),
        nn.ReLU(),
        nn.MaxPool3d(2),
        nn.AvgPool3d(2, ceil_mode=True),
        nn.AdaptiveAvgPool3d((1, 1, 1)),
        nn.Flatten(),
        nn.Linear(4, 3),
    ).double(),
    1,
)
vol = t(2, 2, 6, 6, 6).requires_grad_()
out = net3d(vol)
out.sum().backward()
print("3d cnn", tuple(out.shape), f"{out.sum().item():.10f}", f"{vol.grad.abs().sum().item():.10f}")

weight = t(10, 3).requires_grad_()
ids = torch.tensor([1, 2, 4, 5, 4, 3, 2, 9])
offsets = torch.tensor([0, 4])
bag = F.embedding_bag(ids, weight, offsets, mode="sum")
bag.pow(2).sum().backward()
print("embedding_bag", f"{bag.sum().item():.10f}", f"{weight.grad.abs().sum().item():.10f}")

logits = t(5, 4).requires_grad_()
hard = F.gumbel_softmax(logits, tau=0.5, hard=True)
print("gumbel hard one-hot", bool(((hard == 0) | (hard == 1)).all()), hard.sum(1).tolist())
(hard * torch.arange(4.0, dtype=torch.float64)).sum().backward()
print("gumbel straight-through grad", logits.grad is not None and logits.grad.shape == (5, 4))


class Symmetric(nn.Module):
    def forward(self, X):
        return X.triu() + X.triu(1).transpose(-1, -2)


lin = fill(nn.Linear(4, 4).double(), 2)
parametrize.register_parametrization(lin, "weight", Symmetric())
print("symmetric", torch.allclose(lin.weight, lin.weight.T), parametrize.is_parametrized(lin))
q = orthogonal(fill(nn.Linear(5, 5).double(), 3))
eye = q.weight @ q.weight.T
print("orthogonal", torch.allclose(eye, torch.eye(5, dtype=torch.float64), atol=1e-10))
opt = torch.optim.SGD(list(lin.parameters()) + list(q.parameters()), lr=0.1)
inp = t(3, 4)
loss = (lin(inp) ** 2).sum() + q(t(3, 5)).pow(2).sum()
loss.backward()
opt.step()
print("still symmetric after a step", torch.allclose(lin.weight, lin.weight.T))
print("still orthogonal after a step", torch.allclose(q.weight @ q.weight.T, eye, atol=1e-10))

block = fill(nn.Sequential(nn.Linear(4, 8), nn.Tanh(), nn.Linear(8, 8), nn.GELU()).double(), 4)
h = t(6, 4).requires_grad_()
plain = block(h).sum()
g_plain = torch.autograd.grad(plain, [h, *block.parameters()])
for reentrant in (False, True):
    hc = h.detach().requires_grad_()
    out = checkpoint(block, hc, use_reentrant=reentrant).sum()
    out.backward()
    same = torch.allclose(hc.grad, g_plain[0]) and all(
        torch.allclose(p.grad, g) for p, g in zip(block.parameters(), g_plain[1:], strict=True)
    )
    print("checkpoint reentrant", reentrant, "same grads", same)
    block.zero_grad()
seq = checkpoint_sequential(block, 2, h, use_reentrant=False)
print("checkpoint_sequential", torch.allclose(seq.sum(), plain))

a, b = t(4, 3), t(4, 3)
print("cross", f"{torch.cross(a, b, dim=1).sum().item():.10f}")
print("kron", tuple(torch.kron(t(2, 3), t(3, 2)).shape))
print(
    "cartesian_prod", torch.cartesian_prod(torch.tensor([1, 2]), torch.tensor([3, 4, 5])).tolist()
)
xs = torch.linspace(0, 1, 11, dtype=torch.float64)
print("trapezoid", f"{torch.trapezoid(xs**2, xs).item():.10f}")
print("diff", torch.diff(torch.tensor([1, 4, 9, 16]), n=2).tolist())
print("cdist", f"{torch.cdist(a, b).sum().item():.10f}")
print("isclose", torch.isclose(torch.tensor([1.0, 2.0]), torch.tensor([1.0 + 1e-9, 2.1])).tolist())
print("expand_copy", torch.expand_copy(torch.tensor([[1], [2]]), (2, 3)).tolist())
