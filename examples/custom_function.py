"""A custom autograd Function: forward and backward written by hand, checked numerically.

``ctorch.autograd.Function`` works as ``torch.autograd.Function``: static ``forward(ctx, ...)``
and ``backward(ctx, grad_output)``, ``ctx.save_for_backward`` / ``ctx.saved_tensors``,
``ctx.needs_input_grad``, and ``.apply`` to call it. Here: a numerically stable softplus whose
forward and backward run in NumPy, used inside a small regression and verified with
``gradcheck``.

Run: python examples/custom_function.py
"""

import numpy as np

import ctorch
from ctorch.autograd import Function, gradcheck


class SoftPlus(Function):
    """softplus(x) = log(1 + exp(x)), computed as max(x, 0) + log1p(exp(-|x|))."""

    @staticmethod
    def forward(ctx, x):
        ctx.save_for_backward(x)
        a = x.detach().numpy()
        return ctorch.from_numpy(np.maximum(a, 0) + np.log1p(np.exp(-np.abs(a))))

    @staticmethod
    def backward(ctx, grad_output):
        (x,) = ctx.saved_tensors
        sig = 1.0 / (1.0 + np.exp(-x.detach().numpy()))  # d softplus / dx = sigmoid(x)
        return grad_output * ctorch.from_numpy(sig) if ctx.needs_input_grad[0] else None


softplus = SoftPlus.apply

# Check the hand-written backward against finite differences (float64).
x = ctorch.randn(10, dtype=ctorch.float64, requires_grad=True)
print("gradcheck:", gradcheck(softplus, (x,), eps=1e-6, atol=1e-5))

# Compare with the built-in.
z = ctorch.linspace(-30, 30, 7, dtype=ctorch.float64)
print(
    "matches F.softplus:",
    np.allclose(softplus(z).numpy(), ctorch.nn.functional.softplus(z).numpy()),
)

# Use it in a model: y = softplus(w * x + b) fitted to data made with w=2, b=-1.
ctorch.manual_seed(0)
xs = ctorch.linspace(-3, 3, 200)
ys = softplus(2.0 * xs - 1.0).detach()
w = ctorch.zeros((), requires_grad=True)
b = ctorch.zeros((), requires_grad=True)
opt = ctorch.optim.Adam([w, b], lr=0.1)
for step in range(300):
    opt.zero_grad()
    loss = ((softplus(w * xs + b) - ys) ** 2).mean()
    loss.backward()
    opt.step()
    if step % 100 == 0:
        print(f"step {step:3d} loss {loss.item():.6f}")
print(f"fitted w={w.item():.3f} b={b.item():.3f} (true 2, -1)")
print(
    "graph:",
    type(loss.grad_fn).__name__,
    "->",
    [type(f).__name__ for f, _ in loss.grad_fn.next_functions if f is not None],
)
assert abs(w.item() - 2) < 0.05 and abs(b.item() + 1) < 0.05
