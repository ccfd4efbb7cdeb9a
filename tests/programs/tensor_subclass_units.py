"""Tensor subclasses the way libraries write them: a tensor that carries metadata (a unit)
through ops via ``__torch_function__``, a logging subclass, a plain ``as_subclass`` marker
type, a ``TorchFunctionMode`` that counts the ops of a training step, and
``DisableTorchFunctionSubclass`` to reach the plain tensor."""

from collections import Counter

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode


class Quantity(torch.Tensor):
    """A tensor with a unit; results of ops keep the unit of their first Quantity argument."""

    @staticmethod
    def __new__(cls, data, unit):
        t = torch.Tensor._make_subclass(cls, data, data.requires_grad)
        t.unit = unit
        return t

    def __init__(self, data, unit):
        pass

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        units = [a.unit for a in args if isinstance(a, Quantity) and hasattr(a, "unit")]
        if (
            func in (torch.add, torch.Tensor.add, torch.sub, torch.Tensor.sub)
            and len(set(units)) > 1
        ):
            raise ValueError(f"{func.__name__}: units differ {sorted(set(units))}")
        out = super().__torch_function__(func, types, args, kwargs)
        if units:
            _tag(out, units[0])
        return out

    def __repr__(self):
        with torch._C.DisableTorchFunctionSubclass():
            return f"Quantity({self.tolist()}, unit={self.unit!r})"


def _tag(out, unit):
    if isinstance(out, Quantity) and not hasattr(out, "unit"):
        out.unit = unit
    elif isinstance(out, (tuple, list)):
        for o in out:
            _tag(o, unit)


class Logged(torch.Tensor):
    log = []

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        cls.log.append(func.__name__)
        return super().__torch_function__(func, types, args, kwargs)


class Marker(torch.Tensor):
    pass


class CountOps(TorchFunctionMode):
    def __init__(self):
        super().__init__()
        self.counts = Counter()

    def __torch_function__(self, func, types, args=(), kwargs=None):
        self.counts[func.__name__] += 1
        return func(*args, **(kwargs or {}))


rng = np.random.default_rng(0)
data = torch.from_numpy(rng.standard_normal((6, 3)))
target = torch.from_numpy(rng.standard_normal((6, 1)))

dist = Quantity(data[:, 0].clone(), "m")
speed = dist / 2.0
print("quantity", type(speed).__name__, speed.unit, [round(v, 6) for v in speed.tolist()])
print("sum keeps", type(dist.sum()).__name__, dist.sum().unit, round(dist.sum().item(), 6))
rows = dist.split(2)
print("split", [type(r).__name__ for r in rows], [r.unit for r in rows])
try:
    dist + Quantity(data[:, 1].clone(), "s")
except ValueError as e:
    print("error", e)
print("repr", repr(Quantity(torch.tensor([1.5, 2.0], dtype=torch.float64), "kg")))

torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
opt = torch.optim.SGD(model.parameters(), lr=0.1)
x = Quantity(data.clone(), "m")
for step in range(3):
    opt.zero_grad()
    out = model(x)
    loss = F.mse_loss(out, target)
    loss.backward()
    opt.step()
    print("step", step, type(out).__name__, out.unit, type(loss).__name__, round(loss.item(), 6))
print("grad types", sorted({type(p.grad).__name__ for p in model.parameters()}))

Logged.log.clear()
lx = data.clone().as_subclass(Logged)
y = F.relu(lx @ torch.ones(3, 2, dtype=torch.float64)).mean(0)
print("logged", Logged.log, type(y).__name__, [round(v, 6) for v in y.tolist()])

m = data.as_subclass(Marker)
print("marker", type(m[0]).__name__, type(m.T).__name__, type(torch.cat([data, m])).__name__)
with torch._C.DisableTorchFunctionSubclass():
    print("disabled", type(m + 1).__name__)
print("plain again", type(m + 1).__name__, type(torch.nn.Parameter(data) * 2).__name__)

counter = CountOps()
with counter:
    out = model(data)
    loss = F.mse_loss(out, target)
print("mode counts", sorted(counter.counts.items()))
print("mode loss", round(loss.item(), 6))
