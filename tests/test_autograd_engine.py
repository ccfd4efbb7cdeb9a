"""The compiled autograd engine (``ctorch._core._autograd``): paths of the backward walk and
the forward record that the op tests reach rarely, each checked against torch's behaviour."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.autograd import Function


def _leaf(n=4, seed=0):
    x0 = np.random.default_rng(seed).standard_normal(n).astype(np.float32)
    return x0, ctorch.tensor(x0, requires_grad=True)


class _Scale(Function):
    @staticmethod
    def forward(ctx, x, k):
        ctx.k = k
        return x * k

    @staticmethod
    def backward(ctx, g):
        return g * ctx.k, None, None  # one trailing None more than inputs: allowed


class _TooMany(Function):
    @staticmethod
    def forward(ctx, x):
        return x * 2

    @staticmethod
    def backward(ctx, g):
        return g, g


class _TooFew(Function):
    @staticmethod
    def forward(ctx, x, y):
        return x * y

    @staticmethod
    def backward(ctx, g):
        return (g,)


def test_trailing_none_gradients_dropped_extra_tensors_rejected():
    x0, x = _leaf()
    _Scale.apply(x, 3.0).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, 3.0, np.float32))
    with pytest.raises(RuntimeError, match="incorrect number of gradients"):
        _TooMany.apply(x).sum().backward()
    _, y = _leaf(seed=1)
    with pytest.raises(RuntimeError, match=r"incorrect number of gradients \(expected 2, got 1"):
        _TooFew.apply(x, y).sum().backward()


def test_apply_func_and_super_apply():
    class Sub(_Scale):
        @classmethod
        def apply(cls, *args):
            return super().apply(*args)

    x0, x = _leaf()
    y = Function.apply.__func__(_Scale, x, 2.0)
    assert type(y.grad_fn).__name__ == "_ScaleBackward"
    z = Sub.apply(x, 5.0)
    (y + z).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), np.full(4, 7.0, np.float32))


def test_saved_output_modified_in_place_raises_in_fast_unary_backward():
    x0, x = _leaf()
    y = x.relu()  # saves its output
    y.add_(1.0)
    with pytest.raises(RuntimeError, match="modified by an inplace operation"):
        y.sum().backward()


def test_unary_chain_matches_torch_bitwise_forward_and_close_backward():
    torch = pytest.importorskip("torch")
    x0, x = _leaf(16)
    c0 = np.linspace(0.5, 1.5, 16, dtype=np.float32)
    tx = torch.tensor(x0, requires_grad=True)
    y, ty = x, tx
    for i in range(40):
        k = i % 4
        if k == 0:
            y, ty = y + ctorch.tensor(c0), ty + torch.tensor(c0)
        elif k == 1:
            y, ty = y * 0.9, ty * 0.9
        elif k == 2:
            y, ty = y.tanh(), ty.tanh()
        else:
            y, ty = y.relu(), ty.relu()
    y.sum().backward()
    ty.sum().backward()
    np.testing.assert_allclose(y.detach().numpy(), ty.detach().numpy(), rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-4, atol=1e-6)


def test_second_backward_without_retain_graph_raises_and_retain_graph_accumulates():
    x0, x = _leaf()
    y = (x.tanh() * x).sum()
    y.backward(retain_graph=True)
    g1 = x.grad.numpy().copy()
    y.backward()
    np.testing.assert_allclose(x.grad.numpy(), 2 * g1, rtol=1e-6)
    with pytest.raises(RuntimeError, match="backward through the graph a second time"):
        y.backward()


def test_hooks_order_and_grad_with_inputs():
    x0, x = _leaf()
    calls = []
    a = x * 2.0
    b = a.tanh()
    a.register_hook(lambda g: calls.append("a") or g * 10)
    b.grad_fn.register_prehook(lambda g: calls.append("pre-b"))
    b.grad_fn.register_hook(lambda gi, go: calls.append("post-b"))
    (ga,) = ctorch.autograd.grad(b.sum(), [a], retain_graph=True)
    assert calls == ["pre-b", "post-b", "a"]
    np.testing.assert_allclose(ga.numpy(), 10 * (1 - np.tanh(2 * x0) ** 2), rtol=1e-5)
    unused = ctorch.tensor(x0, requires_grad=True)
    gx, gu = ctorch.autograd.grad(b.sum(), [x, unused], allow_unused=True)
    assert gu is None
    np.testing.assert_allclose(gx.numpy(), 20 * (1 - np.tanh(2 * x0) ** 2), rtol=1e-5)


def test_double_backward_through_small_ops():
    x0, x = _leaf()
    y = (x * x * x).sum()
    (g,) = ctorch.autograd.grad(y, [x], create_graph=True)
    g.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), 6 * x0, rtol=1e-5)


def test_anomaly_trace_names_the_forward_line():
    class NanGrad(Function):
        @staticmethod
        def forward(ctx, x):
            return x.clone()

        @staticmethod
        def backward(ctx, g):
            return g * float("nan")

    x0, x = _leaf()
    with ctorch.autograd.detect_anomaly():
        y = NanGrad.apply(x)  # the line the trace must show
        with pytest.raises(RuntimeError, match="NanGradBackward") as ei:
            y.sum().backward()
    assert "the line the trace must show" in str(ei.value)


def test_no_grad_and_non_recording_apply_keep_dirty_version_bumps():
    class AddOneInPlace(Function):
        @staticmethod
        def forward(ctx, x):
            x._a += 1
            ctx.mark_dirty(x)
            return x

        @staticmethod
        def backward(ctx, g):
            return g

    t = ctorch.zeros(3)
    v = t._version
    with ctorch.no_grad():
        r = AddOneInPlace.apply(t)
    assert r is t and t._version == v + 1
    r2 = AddOneInPlace.apply(t)  # grad mode on, nothing requires grad
    assert r2 is t and t._version == v + 2
    np.testing.assert_array_equal(t.numpy(), np.full(3, 2.0, np.float32))
