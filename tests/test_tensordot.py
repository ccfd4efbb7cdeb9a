"""tensordot: values and gradients against torch for int and list ``dims`` (negative dims
included), and torch's errors for bad ``dims`` and mismatched sizes."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

A = np.random.default_rng(0).random((2, 3, 4))
B = np.random.default_rng(1).random((4, 3, 5))


def _run(L, dims):
    a = L.tensor(A, requires_grad=True)
    b = L.tensor(B, requires_grad=True)
    try:
        out = L.tensordot(a, b, dims=dims)
    except Exception as e:  # noqa: BLE001 (the error itself is compared)
        return type(e), str(e)
    out.backward(L.ones_like(out))
    return out.detach().numpy(), a.grad.numpy(), b.grad.numpy()


@pytest.mark.parametrize(
    "dims",
    [
        0,
        1,
        ([1, -1], [1, 0]),
        ([2], [0]),
        ([0, 1, 2], []),
        -1,
        2,
        4,
        ([1], [1, 0]),
        ([5], [0]),
        ([1, 1], [1, 1]),
    ],
)
def test_tensordot_matches_torch(dims):
    c, t = _run(ctorch, dims), _run(torch, dims)
    if isinstance(t[0], type):
        assert c == t
    else:
        for x, y in zip(c, t, strict=True):
            np.testing.assert_allclose(x, y, rtol=1e-12)


def test_tensordot_dtype_and_out():
    with pytest.raises(RuntimeError, match="both inputs should have same dtype"):
        ctorch.tensordot(ctorch.ones(2, 3), ctorch.ones(3, dtype=ctorch.float64), dims=1)
    out = ctorch.empty(0)
    r = ctorch.tensordot(ctorch.ones(2, 3), ctorch.ones(3, 4), dims=1, out=out)
    assert r is out and out.shape == (2, 4) and float(out.sum()) == 24.0
