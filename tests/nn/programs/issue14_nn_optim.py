"""A short training script written as real torch code is (run by test_layers_extra.py under
``python -m ctorch.run``): lazy conv, instance norm, weight/spectral norm parametrizations,
activation checkpointing, affine_grid + grid_sample, EmbeddingBag, NAdam with a step hook and
CyclicLR."""

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils.parametrizations import spectral_norm, weight_norm
from torch.optim.lr_scheduler import CyclicLR
from torch.utils.checkpoint import checkpoint

torch.manual_seed(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv = nn.LazyConv2d(8, 3, padding=1)
        self.norm = nn.InstanceNorm2d(8, affine=True)
        self.block = nn.Sequential(weight_norm(nn.Conv2d(8, 8, 3, padding=1)), nn.ReLU())
        self.pool = nn.AdaptiveAvgPool2d(1)
        self.bag = nn.EmbeddingBag(20, 8, mode="mean")
        self.head = spectral_norm(nn.Linear(16, 3))

    def forward(self, x, tokens):
        h = self.norm(self.conv(x))
        h = checkpoint(self.block, h, use_reentrant=False)
        theta = torch.tensor([[[1.0, 0.1, 0.0], [0.0, 1.0, 0.0]]]).repeat(x.shape[0], 1, 1)
        h = F.grid_sample(
            h, F.affine_grid(theta, h.shape, align_corners=False), align_corners=False
        )
        h = self.pool(h).flatten(1)
        return self.head(torch.cat([h, self.bag(tokens)], 1))


net = Net()
x = torch.randn(4, 3, 8, 8)
tokens = torch.randint(0, 20, (4, 5))
y = torch.randint(0, 3, (4,))
net(x, tokens)
opt = torch.optim.NAdam(net.parameters(), lr=1e-2)
calls = [0]


def count(o, a, k):
    calls[0] += 1


opt.register_step_post_hook(count)
losses = []
sched = CyclicLR(opt, 1e-3, 1e-2, step_size_up=5)
for _step in range(10):
    opt.zero_grad()
    loss = F.cross_entropy(net(x, tokens), y)
    loss.backward()
    opt.step()
    sched.step()
    losses.append(loss.item())
assert type(net.conv).__name__ == "Conv2d"
assert "block.0.parametrizations.weight.original0" in net.state_dict()
assert "head.parametrizations.weight.0._u" in net.state_dict()
assert calls == [10], calls
print("losses", " ".join(f"{v:.4f}" for v in losses))
