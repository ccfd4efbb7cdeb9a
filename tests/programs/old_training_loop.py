# ruff: noqa: B905, UP031 - written the way 2017 training scripts are (% formatting included)
"""A training loop written the 2017 way: Variable wrappers, hand-written SGD-with-momentum and
Adam updates through the scalar-first overloads (``p.data.add_(-lr, grad)``,
``exp_avg_sq.mul_(beta2).addcmul_(1 - beta2, grad, grad)``, ``p.data.addcdiv_(-step, m, d)``),
a linear layer as ``torch.addmm(beta, bias, alpha, x, w)`` and an RNN cell built from
``addmv``/``addr``/``baddbmm``/``addbmm``. Data from NumPy, float64 throughout. The one
deprecation warning torch raises (once per process) is printed with the line it points at."""

import math
import warnings

import numpy as np
import torch
from torch.autograd import Variable

recorder = warnings.catch_warnings(record=True)
caught = recorder.__enter__()  # every warning of the run
warnings.simplefilter("always")
rng = np.random.RandomState(0)
X = torch.from_numpy(rng.randn(64, 5))
true_w = torch.from_numpy(rng.randn(5, 3))
Y = torch.from_numpy(np.tanh(X.numpy() @ true_w.numpy()) + 0.01 * rng.randn(64, 3))

w1 = Variable(torch.from_numpy(rng.randn(5, 8) * 0.3), requires_grad=True)
b1 = Variable(torch.zeros(1, 8, dtype=torch.float64), requires_grad=True)
w2 = Variable(torch.from_numpy(rng.randn(8, 3) * 0.3), requires_grad=True)
b2 = Variable(torch.zeros(1, 3, dtype=torch.float64), requires_grad=True)
params = [w1, b1, w2, b2]


def forward(x):
    h = torch.tanh(torch.addmm(1, b1.expand(x.size(0), 8), 1, x, w1))
    return torch.addmm(1, b2.expand(x.size(0), 3), h, w2)


first = torch.add(torch.ones(2, dtype=torch.float64), 2, torch.ones(2, dtype=torch.float64))
print("first add", first.tolist())

# momentum SGD, 2017 style
momentum, lr, dampening = 0.9, 0.05, 0.0
bufs = [None] * len(params)
for epoch in range(8):
    x, y = Variable(X), Variable(Y)
    out = forward(x)
    loss = (out - y).pow(2).mean()
    for p in params:
        if p.grad is not None:
            p.grad.data.zero_()
    loss.backward()
    for i, p in enumerate(params):
        d_p = p.grad.data
        d_p = d_p.add(1e-4, p.data)  # weight decay, deprecated form
        if bufs[i] is None:
            bufs[i] = d_p.clone()
        else:
            bufs[i].mul_(momentum).add_(1 - dampening, d_p)
        p.data.add_(-lr, bufs[i])
    print("sgd epoch %d loss %.10f" % (epoch, loss.item()))

# Adam, the 2017 optimizer body
state = [dict(step=0, m=torch.zeros_like(p.data), v=torch.zeros_like(p.data)) for p in params]
beta1, beta2, eps, lr = 0.9, 0.999, 1e-8, 0.02
for epoch in range(8):
    out = forward(Variable(X))
    loss = (out - Variable(Y)).pow(2).mean()
    for p in params:
        p.grad.data.zero_()
    loss.backward()
    for p, st in zip(params, state):
        grad = p.grad.data
        st["step"] += 1
        st["m"].mul_(beta1).add_(1 - beta1, grad)
        st["v"].mul_(beta2).addcmul_(1 - beta2, grad, grad)
        denom = st["v"].sqrt().add_(eps)
        bias_correction1 = 1 - beta1 ** st["step"]
        bias_correction2 = 1 - beta2 ** st["step"]
        step_size = lr * math.sqrt(bias_correction2) / bias_correction1
        p.data.addcdiv_(-step_size, st["m"], denom)
    print("adam epoch %d loss %.10f" % (epoch, loss.item()))

# the rest of the beta-first family, and the old sub/addcmul/addcdiv function forms
h0 = torch.from_numpy(rng.randn(8))
W = torch.from_numpy(rng.randn(8, 8) * 0.2)
h1 = torch.addmv(0.5, h0, 2, W, h0.tanh())
outer = torch.addr(0.1, torch.ones(8, 8, dtype=torch.float64), 0.3, h0, h1)
B1 = torch.from_numpy(rng.randn(4, 8, 3))
B2 = torch.from_numpy(rng.randn(4, 3, 8))
bb = torch.baddbmm(0.5, outer.expand(4, 8, 8), 0.25, B1, B2)
ab = outer.clone().addbmm_(0.5, 0.25, B1, B2)
print("addmv", "%.10f" % h1.sum().item(), "addr", "%.10f" % outer.sum().item())
print("baddbmm", "%.10f" % bb.sum().item(), "addbmm_", "%.10f" % ab.sum().item())
s = torch.sub(h1, 3, h0)
c = torch.addcmul(h0, 0.5, h1, s)
d = torch.addcdiv(h0, -0.5, h1, s.abs().add(1))
print("sub", "%.10f" % s.sum().item(), "addcmul", "%.10f" % c.sum().item())
print(
    "addcdiv", "%.10f" % d.sum().item(), "mm_ method", "%.10f" % W.addmm(0.5, 2, W, W).sum().item()
)
print("keyword other", "%.10f" % h0.clone().add_(2, other=h1).sum().item())
recorder.__exit__(None, None, None)
for w in caught:
    if "This overload" in str(w.message):
        msg = str(w.message).split(" (Triggered internally")[0]
        print("warned", w.category.__name__, msg.splitlines()[0], w.lineno, w.filename == __file__)
