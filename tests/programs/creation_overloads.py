"""Tensor creation the way scripts write it: size= keywords, randint(high, size=...),
zeros(torch.Size), full() inferring its dtype, arange/linspace grids, tensors of tensors."""

import torch

torch.manual_seed(0)
batch, seq = 4, 6
idx = torch.randint(10, size=(batch, seq))
print("randint", tuple(idx.shape), idx.dtype, bool((idx >= 0).all() and (idx < 10).all()))
pos = torch.randint(2, 5, (3,))
print("randint low high", pos.dtype, bool(((pos >= 2) & (pos < 5)).all()))
mask = torch.full((seq, seq), float("-inf")).triu(1)
print("mask", mask.dtype, mask[0].tolist())
print("full int", torch.full((2,), 7).dtype, "bool", torch.full((2,), True).dtype)
print(
    "full from 0-d",
    torch.full((2,), torch.tensor(3)).dtype,
    torch.full((2,), torch.tensor(0.5)).tolist(),
)
h = torch.zeros(size=(2, 3))
c = torch.ones(h.size())
e = torch.empty(size=[2, 3]).shape
print("size kw", tuple(h.shape), tuple(c.shape), tuple(e), tuple(torch.zeros([2, 3]).shape))
print("rand size kw", tuple(torch.rand(size=(5,)).shape), tuple(torch.randn(size=(2, 2)).shape))
grid = torch.arange(0, 1, 0.1)
print("arange", grid.shape[0], [round(v, 6) for v in grid.tolist()[-2:]])
print("arange int step", torch.arange(10, 0, -3).tolist(), torch.arange(5.0).dtype)
t = torch.linspace(-1, 1, steps=5)
print("linspace", t.tolist(), torch.linspace(0, 10, 5, dtype=torch.int64).tolist())
print("logspace", torch.logspace(0, 3, 4).tolist(), torch.logspace(0, 2, 3, base=2).tolist())
freqs = 1.0 / (10000 ** (torch.arange(0, 8, 2)[: (8 // 2)].float() / 8))
print("rope freqs", [round(v, 6) for v in freqs.tolist()])
losses = [torch.tensor(0.5), torch.tensor(0.25, dtype=torch.float64)]
print("tensor of tensors", torch.tensor(losses).dtype, torch.tensor(losses).tolist())
pairs = torch.tensor([[torch.tensor(1), 2], [3, torch.tensor(4)]])
print("mixed", pairs.dtype, pairs.tolist())
like = torch.zeros_like(idx, dtype=torch.float32)
print("like", like.dtype, torch.ones_like(idx).dtype, torch.full_like(idx, 2.7).tolist()[0][:2])
print(
    "randn_like",
    torch.randn_like(like, dtype=torch.float64).dtype,
    tuple(torch.rand_like(like).shape),
)
