"""torch 2's autograd.Function style: ``forward`` without ``ctx`` and a separate
``setup_context(ctx, inputs, output)``, as libraries written for torch.func use."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch


def _functions(lib):
    class ScaledSquare(lib.autograd.Function):
        @staticmethod
        def forward(x, k):
            return x * x * k

        @staticmethod
        def setup_context(ctx, inputs, output):
            x, k = inputs
            ctx.save_for_backward(x)
            ctx.k = k

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return 2 * x * g * ctx.k, None

    class SinCos(lib.autograd.Function):
        @staticmethod
        def forward(x):
            return x.sin(), x.cos()

        @staticmethod
        def setup_context(ctx, inputs, output):
            ctx.save_for_backward(inputs[0])
            ctx.mark_non_differentiable(output[1])

        @staticmethod
        def backward(ctx, gs, gc):
            (x,) = ctx.saved_tensors
            return gs * x.cos()

    return ScaledSquare, SinCos


def _run(lib):
    ScaledSquare, SinCos = _functions(lib)
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = ScaledSquare.apply(x, 3.0)
    s, c = SinCos.apply(x)
    (y.sum() + s.sum()).backward()
    return y.detach().numpy(), x.grad.numpy(), c.requires_grad


def test_setup_context_style_function():
    y, g, c_rg = _run(ctorch)
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(y, 3 * x * x)
    np.testing.assert_allclose(g, 6 * x + np.cos(x))
    assert c_rg is False


def test_setup_context_matches_torch():
    torch = pytest.importorskip("torch")
    for a, b in zip(_run(ctorch), _run(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-15)


def test_gradcheck_through_setup_context_function():
    ScaledSquare, _ = _functions(ctorch)
    x = ctorch.tensor([0.3, -0.7], dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradcheck(lambda t: ScaledSquare.apply(t, 1.5), (x,))
