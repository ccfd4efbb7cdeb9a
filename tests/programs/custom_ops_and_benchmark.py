"""A custom-operator + benchmarking script as real projects write them: a
``torch.library.custom_op`` with a fake impl and a registered backward (called directly and as
``torch.ops.mylib.<op>``), a ``torch.library.Library`` fragment, ``opcheck``, FLOP counting of
a small MLP, CNN and attention block forward+backward with
``torch.utils.flop_counter.FlopCounterMode``, ``torch.utils.benchmark`` timing (only the
structure printed: timings differ), ``torch.futures`` chaining, and an optional C++ extension
that falls back to Python when it cannot be built."""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.benchmark as benchmark
from torch.futures import Future, collect_all
from torch.utils.flop_counter import FlopCounterMode

try:
    from torch.utils.cpp_extension import load_inline

    ext = load_inline("fused_gelu", cpp_sources="torch::Tensor f(torch::Tensor x);")
except Exception:  # no compiler / no C++ ABI: the script uses its Python path
    ext = None
print("cpp extension built", ext is not None)


@torch.library.custom_op("mylib::softclip", mutates_args=())
def softclip(x: torch.Tensor, limit: float = 1.0) -> torch.Tensor:
    a = x.detach().cpu().numpy()
    return torch.from_numpy(limit * np.tanh(a / limit))


@softclip.register_fake
def _(x, limit=1.0):
    return torch.empty_like(x)


def _setup(ctx, inputs, output):
    ctx.save_for_backward(output)
    ctx.limit = inputs[1]


def _backward(ctx, grad):
    (y,) = ctx.saved_tensors
    return grad * (1 - (y / ctx.limit) ** 2), None


softclip.register_autograd(_backward, setup_context=_setup)

lib = torch.library.Library("mylib", "FRAGMENT")
lib.define("axpy(Tensor x, Tensor y, float a) -> Tensor")
lib.impl("axpy", lambda x, y, a: a * x + y, "CompositeImplicitAutograd")

rng = np.random.default_rng(0)
x = torch.tensor(rng.standard_normal((3, 4)), requires_grad=True)
y = softclip(x, 2.0)
z = torch.ops.mylib.softclip.default(x, limit=2.0)
print(
    "softclip", [round(v, 6) for v in y.detach().reshape(-1)[:5].tolist()], bool(torch.equal(y, z))
)
(y * torch.arange(12.0, dtype=torch.float64).reshape(3, 4)).sum().backward()
print("softclip grad", [round(v, 6) for v in x.grad.reshape(-1)[:6].tolist()])
w = torch.ops.mylib.axpy(x.detach(), torch.ones(3, 4, dtype=torch.float64), 0.5)
print("axpy", round(float(w.sum()), 6))
res = torch.library.opcheck(softclip, (x.detach().requires_grad_(), 2.0))
print("opcheck", [res[k] for k in ("test_schema", "test_autograd_registration", "test_faketensor")])

torch.manual_seed(0)
mlp = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 10))
cnn = nn.Sequential(
    nn.Conv2d(3, 8, 3, padding=1),
    nn.ReLU(),
    nn.Conv2d(8, 4, 3, stride=2),
    nn.Flatten(),
    nn.Linear(4 * 3 * 3, 5),
)


class Attn(nn.Module):
    def __init__(self, d=16, h=2):
        super().__init__()
        self.h = h
        self.qkv = nn.Linear(d, 3 * d)
        self.proj = nn.Linear(d, d)
        self.register_buffer("mask", torch.tril(torch.ones(8, 8)).view(1, 1, 8, 8))

    def forward(self, t):
        b, s, d = t.shape
        q, k, v = self.qkv(t).split(d, dim=2)
        q, k, v = (u.reshape(b, s, self.h, d // self.h).transpose(1, 2) for u in (q, k, v))
        att = (q @ k.transpose(-2, -1)) * (1.0 / math.sqrt(k.size(-1)))  # minGPT's attention
        att = att.masked_fill(self.mask[:, :, :s, :s] == 0, float("-inf"))
        o = F.softmax(att, dim=-1) @ v
        return self.proj(o.transpose(1, 2).reshape(b, s, d))


for name, model, inp in (
    ("mlp", mlp, torch.randn(8, 16)),
    ("cnn", cnn, torch.randn(2, 3, 8, 8)),
    ("attn", Attn(), torch.randn(2, 6, 16)),
):
    # (F.scaled_dot_product_attention is counted in the unit tests: torch 2.13 counts 0 FLOPs
    # when its CPU flash kernel runs, which has no formula in its table)
    with FlopCounterMode(display=False, depth=1) as fc:
        model(inp).sum().backward()
    per_op = {str(k): v for k, v in fc.get_flop_counts()["Global"].items()}
    print(name, "flops", fc.get_total_flops(), sorted(per_op.items()))
    print(fc.get_table())

t = benchmark.Timer(
    stmt="softclip(x, 2.0)",
    globals={"softclip": softclip, "x": x.detach()},
    label="softclip",
    sub_label="3x4",
    description="python",
    num_threads=1,
)
m = t.timeit(20)
print("timeit", m.number_per_run, len(m.times), m.title, m.num_threads)
m2 = t.blocked_autorange(min_run_time=0.02)
print("blocked", m2.number_per_run >= 1, len(m2.times) >= 1)
cmp = benchmark.Compare([m, m2])
print("compare lines", len(str(cmp).splitlines()))

fut = Future()
chained = fut.then(lambda f: f.value() * 2)
fut.set_result(torch.tensor(21.0))
both = collect_all([fut, chained]).wait()
print("futures", [float(f.value()) for f in both])
