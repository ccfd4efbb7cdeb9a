"""torch.func the way tutorials and research code use it: per-sample gradients with
functional_call + vmap(grad), Jacobians/Hessians, model ensembling, and
torch.autograd.functional for a Newton step."""

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.autograd.functional import hessian as ag_hessian
from torch.autograd.functional import hvp, jacobian
from torch.func import functional_call, grad, hessian, jacrev, stack_module_state, vmap

rng = np.random.default_rng(0)


class Net(nn.Module):
    def __init__(self):
        super().__init__()
        self.fc1 = nn.Linear(4, 8)
        self.fc2 = nn.Linear(8, 3)

    def forward(self, x):
        return self.fc2(torch.tanh(self.fc1(x)))


def init(model, seed):
    r = np.random.default_rng(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.copy_(torch.from_numpy(r.standard_normal(tuple(p.shape)) * 0.5))
    return model


model = init(Net().double(), 1)
data = torch.from_numpy(rng.standard_normal((6, 4)))
targets = torch.from_numpy(rng.integers(0, 3, 6))
params = {k: v.detach() for k, v in model.named_parameters()}
buffers = {k: v.detach() for k, v in model.named_buffers()}


def compute_loss(params, buffers, sample, target):
    batch = sample.unsqueeze(0)
    targets = target.unsqueeze(0)
    predictions = functional_call(model, (params, buffers), (batch,))
    return F.cross_entropy(predictions, targets)


ft_compute_sample_grad = vmap(grad(compute_loss), in_dims=(None, None, 0, 0))
per_sample = ft_compute_sample_grad(params, buffers, data, targets)
for name, g in per_sample.items():
    print("per-sample", name, list(g.shape), f"{g.abs().sum().item():.10f}")
model.zero_grad()
F.cross_entropy(model(data), targets).backward()
print(
    "mean equals batch grad",
    bool(torch.allclose(per_sample["fc1.weight"].mean(0), model.fc1.weight.grad)),
)

x = torch.from_numpy(rng.standard_normal(3))
jac = jacrev(lambda v: v.sin() * v.sum())(x)
print("jacrev", list(jac.shape), f"{jac.sum().item():.10f}")
hes = hessian(lambda v: (v.exp() * v).sum())(x)
print("hessian", list(hes.shape), f"{hes.sum().item():.10f}")
jac2 = jacobian(lambda a, b: (a * b, a.sum() * b), (x, x.flip(0)))
print(
    "jacobian nesting",
    len(jac2),
    len(jac2[0]),
    list(jac2[1][0].shape),
    f"{jac2[1][1].sum().item():.10f}",
)


# one Newton step on a convex function with autograd.functional
def f(w):
    return (w - 1.0).pow(4).sum() + (w * w).sum()


w = torch.zeros(3, dtype=torch.float64)
for step in range(3):
    H = ag_hessian(f, w)
    g = torch.autograd.grad(f(w.requires_grad_()), w)[0]
    w = (w - g / H.diagonal()).detach()  # this Hessian is diagonal
    print("newton", step, f"{f(w).item():.10f}")
_, hv = hvp(f, w, torch.ones(3, dtype=torch.float64))
print("hvp", f"{hv.sum().item():.10f}")

# ensembling: stack the states of 3 models and run them at once
models = [init(Net().double(), s) for s in (2, 3, 4)]
ens_params, ens_buffers = stack_module_state(models)
base = Net().double()
out = vmap(lambda p, b, xx: functional_call(base, (p, b), (xx,)), in_dims=(0, 0, None))(
    ens_params, ens_buffers, data
)
print("ensemble", list(out.shape), f"{out.sum().item():.10f}")
