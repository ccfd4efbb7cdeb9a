"""ctorch.signal.windows against torch.signal.windows, and the ctorch.overrides helpers."""

from __future__ import annotations

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch

WINDOWS = [
    ("hann", {}),
    ("hamming", {}),
    ("blackman", {}),
    ("nuttall", {}),
    ("bartlett", {}),
    ("cosine", {}),
    ("gaussian", {"std": 2.5}),
    ("kaiser", {"beta": 5.0}),
    ("exponential", {"tau": 2.0}),
    ("general_hamming", {"alpha": 0.6}),
    ("general_cosine", {"a": [0.4, 0.5, 0.1]}),
]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("name,kw", WINDOWS)
@pytest.mark.parametrize("M", [0, 1, 2, 5, 8, 33])
@pytest.mark.parametrize("sym", [True, False])
def test_windows_match_torch(name, kw, M, sym):
    import torch

    for dt in ("float32", "float64"):
        t = getattr(torch.signal.windows, name)(M, sym=sym, dtype=getattr(torch, dt), **kw)
        c = getattr(ctorch.signal.windows, name)(M, sym=sym, dtype=getattr(ctorch, dt), **kw)
        assert c.dtype == getattr(ctorch, dt) and tuple(c.shape) == tuple(t.shape)
        tol = 1e-6 if dt == "float32" else 1e-12
        np.testing.assert_allclose(c.numpy(), t.numpy(), rtol=tol, atol=tol)
    assert ctorch.signal.windows.hann(4).dtype == ctorch.float32


def test_window_errors_and_options():
    W = ctorch.signal.windows
    with pytest.raises(ValueError, match="hann|general_cosine"):
        W.hann(-1)
    with pytest.raises(ValueError, match="expects float32 or float64 dtypes"):
        W.hann(4, dtype=ctorch.int64)
    with pytest.raises(ValueError, match="Center must be None for symmetric windows"):
        W.exponential(4, center=1.0)
    with pytest.raises(ValueError, match="Standard deviation must be positive"):
        W.gaussian(4, std=0)
    w = W.exponential(5, center=1.0, sym=False, requires_grad=True)
    assert w.requires_grad and w.argmax().item() == 1


def test_overrides_protocol():
    from ctorch.overrides import (
        handle_torch_function,
        has_torch_function,
        has_torch_function_unary,
        is_tensor_like,
        wrap_torch_function,
    )

    class Logged:
        calls: list = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(func.__name__)
            return "handled"

    def scale(x, k=2):
        if has_torch_function((x,)):
            return handle_torch_function(scale, (x,), x, k=k)
        return x * k

    assert scale(ctorch.ones(2)).tolist() == [2.0, 2.0]
    assert scale(Logged()) == "handled" and Logged.calls == ["scale"]
    assert not has_torch_function_unary(ctorch.ones(1)) and has_torch_function_unary(Logged())
    assert is_tensor_like(ctorch.ones(1)) and is_tensor_like(Logged()) and not is_tensor_like(1)

    @wrap_torch_function(lambda x: (x,))
    def double(x):
        return x + x

    assert double(ctorch.ones(1)).item() == 2.0 and double(Logged()) == "handled"

    class Refuses:
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return NotImplemented

    with pytest.raises(TypeError, match="no implementation found for"):
        handle_torch_function(scale, (Refuses(),), Refuses())
    with ctorch.overrides.BaseTorchFunctionMode():  # passes every call through
        assert ctorch.ones(1).item() == 1.0
    # the base class's handler is abstract: a call inside it raises, as in torch
    with pytest.raises(NotImplementedError), ctorch.overrides.TorchFunctionMode():
        ctorch.ones(1)
    assert ctorch.ones(1).item() == 1.0  # the mode was popped
