"""A real-valued grad_output of another dtype is cast to the output's dtype (as torch does);
complex/real mismatches raise."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch


def _both(lib):
    x = lib.tensor([0.5, -1.0, 2.0], dtype=lib.float64, requires_grad=True)
    y = x * x
    (g,) = lib.autograd.grad(y, x, grad_outputs=lib.tensor([1.0, 2.0, 3.0]))  # float32
    z = x.sin()
    z.backward(lib.tensor([1, 2, 3]))  # int64
    return g, x.grad


def test_grad_outputs_cast_to_output_dtype():
    g, xg = _both(ctorch)
    assert g.dtype == ctorch.float64 and xg.dtype == ctorch.float64
    x = np.array([0.5, -1.0, 2.0])
    np.testing.assert_allclose(g.numpy(), 2 * x * [1, 2, 3])
    np.testing.assert_allclose(xg.numpy(), np.cos(x) * [1, 2, 3])


def test_grad_outputs_cast_matches_torch():
    torch = pytest.importorskip("torch")
    ours, theirs = _both(ctorch), _both(torch)
    for o, t in zip(ours, theirs, strict=True):
        assert str(o.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
        np.testing.assert_allclose(o.numpy(), t.numpy(), rtol=1e-15)


def test_complex_mismatch_raises():
    x = ctorch.tensor([1.0, 2.0], requires_grad=True)
    y = x * 2
    with pytest.raises(RuntimeError, match="Mismatch in dtype"):
        y.backward(ctorch.tensor([1 + 1j, 2 + 0j]))
