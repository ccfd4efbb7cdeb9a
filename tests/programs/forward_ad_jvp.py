"""Forward-mode AD the way PyTorch's tutorial uses it: dual tensors through a function, a
module's parameters swapped for dual tensors (delattr/setattr), functional_call with dual
parameters, and a JVP used as a training signal (its square backpropagated)."""

import numpy as np
import torch
import torch.autograd.forward_ad as fwAD
import torch.nn as nn
from torch.func import functional_call

rng = np.random.default_rng(0)
primal = torch.from_numpy(rng.standard_normal((10, 10)))
tangent = torch.from_numpy(rng.standard_normal((10, 10)))
plain = torch.from_numpy(rng.standard_normal((10, 10)))


def fn(x, y):
    return x**2 + y**2


with fwAD.dual_level():
    dual_input = fwAD.make_dual(primal, tangent)
    assert fwAD.unpack_dual(dual_input).tangent is tangent
    dual_output = fn(dual_input, plain)
    jvp = fwAD.unpack_dual(dual_output).tangent
print("jvp equals 2 x v", torch.allclose(jvp, 2 * primal * tangent))
print("tangent after level", fwAD.unpack_dual(dual_output).tangent)


def init(model):
    with torch.no_grad():
        for i, p in enumerate(model.parameters()):
            p.copy_(torch.from_numpy(np.sin(np.arange(p.numel()) + i).reshape(p.shape)))
    return model


model = init(nn.Linear(5, 5).double())
inp = torch.from_numpy(rng.standard_normal((16, 5)))
params = {name: p for name, p in model.named_parameters()}
tangents = {name: torch.from_numpy(rng.random(tuple(p.shape))) for name, p in params.items()}

with fwAD.dual_level():
    for name, p in params.items():
        delattr(model, name)
        setattr(model, name, fwAD.make_dual(p, tangents[name]))
    out = model(inp)
    jvp_setattr = fwAD.unpack_dual(out).tangent
print("module jvp", f"{jvp_setattr.sum().item():.10f}")

model = init(nn.Linear(5, 5).double())
with fwAD.dual_level():
    dual_params = {name: fwAD.make_dual(p, tangents[name]) for name, p in params.items()}
    out = functional_call(model, dual_params, (inp,))
    jvp_fc = fwAD.unpack_dual(out).tangent
print("functional_call jvp equal", torch.allclose(jvp_fc, jvp_setattr))
expected = inp @ tangents["weight"].T + tangents["bias"]
print("linear jvp exact", torch.allclose(jvp_fc, expected))

# a directional-derivative penalty trained with SGD (Jacobian regularisation style)
net = init(nn.Sequential(nn.Linear(5, 8), nn.Tanh(), nn.Linear(8, 1)).double())
opt = torch.optim.SGD(net.parameters(), lr=0.05)
direction = torch.from_numpy(rng.standard_normal((16, 5)))
for step in range(5):
    opt.zero_grad()
    with fwAD.dual_level():
        y, dy = fwAD.unpack_dual(net(fwAD.make_dual(inp, direction)))
        penalty = (dy**2).mean()
        penalty.backward()
    opt.step()
    print("step", step, f"penalty {penalty.item():.10f}")
