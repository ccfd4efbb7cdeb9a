"""A tutorial-style script that prints and parses what torch prints (session 20's fixes):
dtype strings parsed the way configs store them, reductions/softmax/cat of transposed tensors
followed by .view, a seeded physics-style simulation with in-place updates, seeded samples of
the distributions a policy or VAE draws from, a OneCycle/ReduceLROnPlateau schedule saved and
restored, and printing with set_printoptions."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.distributions import Cauchy, Exponential, Multinomial

# --- a config that stores dtypes as strings (as Hugging Face configs do)
cfg = {"torch_dtype": str(torch.float16).replace("torch.", ""), "shape": str(torch.Size([2, 3]))}
print("config", cfg, getattr(torch, cfg["torch_dtype"]) is torch.float16)
print(
    "iinfo", torch.iinfo(torch.int16), torch.iinfo(torch.int32).max, torch.iinfo(torch.uint8).bits
)
print("max type", type(torch.ones(2, 2).max(1)).__name__)

# --- attention-style reshapes: the ops torch allocates contiguous take .view afterwards
x = torch.from_numpy(np.arange(24, dtype=np.float32).reshape(2, 3, 4) / 10)
heads = x.transpose(1, 2)  # (2, 4, 3), not contiguous
print("softmax view", heads.softmax(-1).view(2, -1).sum(1).tolist())
print("cat view", torch.cat([heads, heads], -1).view(2, -1).shape)
print("mean view", heads.mean(1, keepdim=True).view(-1).tolist())
print("cumsum view", [round(v, 4) for v in heads.cumsum(1).view(-1)[:5].tolist()])
print("masked view", round(heads.masked_fill(heads > 1.0, 0.0).view(-1).sum().item(), 4))
print("flatten is x", heads.flatten(1, 1) is heads)

# --- seeded simulation with in-place updates on views (differentiable physics style)
torch.manual_seed(0)
pos = nn.Parameter(torch.randn(3, 2))
opt = torch.optim.Adam([pos], lr=0.05)
for step in range(3):
    opt.zero_grad()
    p = pos.clone()
    vel = torch.zeros(3, 2)
    for _ in range(5):
        force = torch.zeros_like(p)
        force[:, 1] -= 9.81
        force[1] += (p[0] - p[1]) * 2.0
        vel = vel + force * 0.01
        p = p + vel * 0.01
        p[0] = pos[0].detach()
    loss = (p - torch.tensor([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])).pow(2).mean()
    loss.backward()
    opt.step()
    print(f"sim step {step} loss {loss.item():.6f}")

# --- seeded draws: the same numbers as torch
torch.manual_seed(1)
print("exp", [round(v, 5) for v in Exponential(2.0).sample((3,)).tolist()])
print("cauchy", [round(v, 5) for v in Cauchy(0.0, 1.0).sample((2,)).tolist()])
print("multinomial", Multinomial(10, torch.tensor([0.2, 0.3, 0.5])).sample().tolist())
w = torch.empty(4, 3).t()
print("normal_ on a transposed view", [round(v, 5) for v in w.normal_().flatten()[:3].tolist()])
print("uniform_ on a transposed view", [round(v, 5) for v in w.uniform_().flatten()[:3].tolist()])

# --- a schedule saved mid-run and restored
model = nn.Linear(3, 1)
opt = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
sched = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
for _ in range(4):
    opt.step()
    sched.step()
state = sched.state_dict()
print("onecycle keys", sorted(k for k in state if not callable(state[k])))
sched2 = torch.optim.lr_scheduler.OneCycleLR(opt, max_lr=0.5, total_steps=10)
sched2.load_state_dict(state)
opt.step()
sched2.step()
print("onecycle lr", [round(v, 6) for v in sched2.get_last_lr()])
plateau = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, patience=0)
plateau.step(1.0)
plateau.step(2.0)
print("plateau", sorted(plateau.state_dict()), [round(g["lr"], 6) for g in opt.param_groups])

# --- printing
torch.set_printoptions(sci_mode=False, precision=3)
print(torch.tensor([1e-5, 2.5e-5]), torch.tensor([3.0e9, -1.5e10]))
torch.set_printoptions(profile="default")
torch.set_printoptions(sci_mode=None)
print(torch.tensor([math.pi, 1e-6]))
print("format", f"{torch.tensor(2.0):.3f}", "{:+.2f}".format(torch.tensor([1.5])[0]))  # noqa: UP032
try:
    f"{torch.ones(2):.2f}"
except TypeError as e:
    print("format error", e)

# --- mistakes get torch's errors
for name, fn in [
    ("float targets", lambda: F.cross_entropy(torch.ones(2, 3), torch.tensor([0.0, 1.0]))),
    ("bool minus", lambda: torch.tensor([True]) - torch.tensor([False])),
    ("2-D interpolate", lambda: F.interpolate(torch.ones(2, 3), scale_factor=2)),
]:
    try:
        fn()
    except (RuntimeError, NotImplementedError) as e:
        print("error", name, type(e).__name__, str(e).split(".")[0][:60])
