"""relu_ / leaky_relu_ / hardtanh_ (ReLU, LeakyReLU, ReLU6 with inplace=True) under autograd:
computed in the tensor's own buffer, the node keeping the result (torch's ReluBackward0,
LeakyReluBackward1, HardtanhBackward0), against torch: values, gradients, node names, versions, the error when
the result is modified before backward, views (the general CopySlices path), leaves, double
backward, and a negative slope (torch refuses its backward; ours is the out-of-place one)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # pragma: no cover
    torch = None

LIBS = [ctorch] if torch is None else [ctorch, torch]
X = np.linspace(-8.0, 8.0, 17)
W = np.arange(17.0)


def _forms(lib):
    F = lib.nn.functional
    return {
        "Tensor.relu_": lambda y: y.relu_(),
        "F.relu(inplace)": lambda y: F.relu(y, inplace=True),
        "nn.ReLU(inplace)": lambda y: lib.nn.ReLU(inplace=True)(y),
        "F.leaky_relu(inplace)": lambda y: F.leaky_relu(y, 0.2, inplace=True),
        "F.leaky_relu_ slope 0": lambda y: F.leaky_relu_(y, 0.0),
        "nn.LeakyReLU(inplace)": lambda y: lib.nn.LeakyReLU(0.1, inplace=True)(y),
        "F.relu6(inplace)": lambda y: F.relu6(y, inplace=True),
        "F.hardtanh(inplace)": lambda y: F.hardtanh(y, -1.5, 1.0, inplace=True),
        "nn.ReLU6(inplace)": lambda y: lib.nn.ReLU6(inplace=True)(y),
        "F.hardtanh_ lo > hi": lambda y: F.hardtanh_(y, 1.0, -1.0),
    }


def _run(lib, form, dtype):
    x = lib.tensor(X, dtype=getattr(lib, dtype), requires_grad=True)
    y = x * 1
    z = _forms(lib)[form](y)
    assert z is y
    (y * lib.tensor(W, dtype=y.dtype)).sum().backward()
    return y.detach().float().numpy(), x.grad.float().numpy(), y.grad_fn.name(), y._version


@pytest.mark.parametrize("dtype", ["float32", "float64", "bfloat16"])
@pytest.mark.parametrize("form", list(_forms(ctorch)))
def test_values_grads_node(form, dtype):
    y, g, name, version = _run(ctorch, form, dtype)
    if "tanh" in form or "6" in form:
        lo, hi = {"F.hardtanh(inplace)": (-1.5, 1.0), "F.hardtanh_ lo > hi": (1.0, -1.0)}.get(
            form, (0.0, 6.0)
        )
        want, gwant = np.minimum(np.maximum(X, lo), hi), np.where((X > lo) & (X < hi), W, 0)
        wname = "HardtanhBackward0"
    else:
        slope = {"F.leaky_relu(inplace)": 0.2, "nn.LeakyReLU(inplace)": 0.1}.get(form, 0.0)
        want, gwant = np.where(X > 0, X, X * slope), np.where(X > 0, W, W * slope)
        wname = "LeakyReluBackward1" if "leaky" in form.lower() else "ReluBackward0"
    np.testing.assert_allclose(y, want, rtol=1e-2 if dtype == "bfloat16" else 1e-7)
    np.testing.assert_allclose(g, gwant, rtol=1e-2)
    assert name == wname
    assert version == 1
    if torch is not None:
        ty, tg, tname, tversion = _run(torch, form, dtype)
        np.testing.assert_array_equal(y, ty)
        np.testing.assert_array_equal(g, tg)
        assert (name, version) == (tname, tversion)


@pytest.mark.parametrize("lib", LIBS)
def test_result_modified_before_backward_raises(lib):
    x = lib.tensor(X, requires_grad=True)
    y = x * 1
    lib.nn.functional.leaky_relu(y, 0.2, inplace=True)
    y.mul_(2)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


@pytest.mark.parametrize("lib", LIBS)
def test_views_leaves_and_saved_result(lib):
    x = lib.tensor(X, requires_grad=True)
    b = x * 1
    v = b[2:6]
    v.relu_()  # a view: its base takes a CopySlices node
    b.sum().backward()
    np.testing.assert_array_equal(
        x.grad.numpy(),
        np.where((np.arange(X.size) >= 2) & (np.arange(X.size) < 6) & (X <= 0), 0.0, 1.0),
    )
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        lib.tensor(X, requires_grad=True).relu_()
    y = x * 1
    view = y[:3]  # a tensor with a live view: the general path, the view sees the result
    y.relu_()
    np.testing.assert_array_equal(view.detach().numpy(), np.maximum(X[:3], 0))
    y = x * 1
    y.relu_()
    np.testing.assert_array_equal(y.grad_fn._saved_result.detach().numpy(), np.maximum(X, 0))


def test_double_backward_and_negative_slope():
    x = ctorch.tensor(X, requires_grad=True)
    y = x * x
    ctorch.nn.functional.leaky_relu(y, 0.3, inplace=True)
    (g,) = ctorch.autograd.grad(y.sum(), x, create_graph=True)
    np.testing.assert_allclose(
        g.detach().numpy(), np.where(X != 0, 2 * X, 0) * np.where(X != 0, 1.0, 0.3)
    )
    (gg,) = ctorch.autograd.grad(g.sum(), x)
    np.testing.assert_allclose(gg.numpy(), np.where(X != 0, 2.0, 0.6))
    # a negative slope: torch's in-place backward raises; ours is the out-of-place gradient
    x.grad = None
    y = x * 1
    ctorch.nn.functional.leaky_relu(y, -0.5, inplace=True)
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.where(X > 0, 1.0, -0.5))
