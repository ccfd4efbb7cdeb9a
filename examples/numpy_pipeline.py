"""Embedding ctorch in a NumPy pipeline.

A ctorch tensor on the CPU wraps a NumPy array: ``from_numpy`` and ``.numpy()`` share memory,
NumPy ufuncs accept tensors, and a parameter can live in a buffer that NumPy code owns and
updates. This script fits a small model whose weights sit in one NumPy array; gradients flow
back into a second NumPy-owned array, and a plain NumPy update rule does the optimisation.

Run: python examples/numpy_pipeline.py
"""

import numpy as np

import ctorch

rng = np.random.default_rng(0)

# 1. Zero-copy both ways: the tensor and the array are the same memory.
a = np.arange(6, dtype=np.float32).reshape(2, 3)
t = ctorch.from_numpy(a)
a[0, 0] = 100.0  # NumPy writes, ctorch sees it
assert t[0, 0].item() == 100.0
t.mul_(2)  # ctorch writes in place, NumPy sees it
assert a[0, 0] == 200.0
assert np.shares_memory(t.numpy(), a)
print("shared memory:", a.tolist())

# 2. NumPy functions and ufuncs take tensors (through __array__ / the ufunc protocol).
x = ctorch.linspace(0, 1, 5)
s = np.sin(x)  # a ufunc on a tensor gives a tensor back
print(
    "np.sin(tensor):",
    type(s).__name__,
    [round(v, 4) for v in s.tolist()],
    "| np.mean:",
    float(np.mean(x)),
)

# 3. Data prepared by NumPy, a model whose parameters live in a NumPy-owned buffer.
n, d = 256, 4
X = rng.standard_normal((n, d)).astype(np.float32)
true_w = np.array([1.5, -2.0, 0.5, 3.0], dtype=np.float32)
y = X @ true_w + 0.7 + 0.05 * rng.standard_normal(n).astype(np.float32)

params = np.zeros(d + 1, dtype=np.float32)  # [w..., b] owned by NumPy
grads = np.zeros_like(params)  # gradient buffer owned by NumPy
p = ctorch.from_numpy(params).requires_grad_()  # a leaf tensor over the same memory
p.grad = ctorch.from_numpy(grads)  # backward accumulates into `grads`

Xt, yt = ctorch.from_numpy(X), ctorch.from_numpy(y)
for step in range(200):
    pred = Xt @ p[:d] + p[d]
    loss = ((pred - yt) ** 2).mean()
    grads[...] = 0.0  # zero the NumPy buffer
    loss.backward()  # ... and ctorch fills it
    params -= 0.1 * grads  # a NumPy update, seen by `p`
    if step % 50 == 0:
        print(f"step {step:3d}  loss {loss.item():.5f}  |grad| {np.linalg.norm(grads):.4f}")

print("fitted w:", np.round(params[:d], 2).tolist(), "b:", round(float(params[d]), 2))
assert np.allclose(params[:d], true_w, atol=0.05) and abs(params[d] - 0.7) < 0.05
assert p.grad.numpy() is grads or np.shares_memory(p.grad.numpy(), grads)

# 4. Results go back to NumPy without a copy (detach first when they carry a graph).
with ctorch.no_grad():
    residual = (Xt @ p[:d] + p[d] - yt).numpy()
print("residual std (NumPy):", round(float(residual.std()), 4))
