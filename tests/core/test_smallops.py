"""ctorch._core._smallops: the small-array entry points give the elementwise kernels' values
(bit for bit) and NumPy's for + - * /, and decline (None) what they do not handle."""

from __future__ import annotations

import numpy as np
import pytest

from ctorch import _table
from ctorch._core import _smallops as S
from ctorch._core import elementwise as E
from ctorch.ops.binary import ADD, DIV, MUL, SUB

_UNARY = [op for op in _table.UNARY]
_UNARY_BWD = [op for op in _table.UNARY if op.grads]


def _data(n, dt, seed=0):
    rng = np.random.default_rng(seed)
    x = (rng.standard_normal(n) * 3).astype(dt)
    if n > 4:
        x[:4] = np.array([0.0, -0.0, np.inf, np.nan], dt)
    return x


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("op", [ADD, SUB, MUL, DIV])
@pytest.mark.parametrize("shape", [(), (1,), (16,), (3, 5), (0, 4), (16384,)])
def test_binary_matches_numpy(op, dt, shape):
    n = int(np.prod(shape))
    x = _data(n, dt, 1).reshape(shape)
    y = _data(n, dt, 2).reshape(shape)
    uf = {ADD: np.add, SUB: np.subtract, MUL: np.multiply, DIV: np.divide}[op]
    with np.errstate(all="ignore"):
        want = uf(x, y)
        r = S.binary(op, x, y)
        np.testing.assert_array_equal(r, want)
        assert r.dtype == dt and r.shape == shape
        for s in (0.5, -3, 1e300):
            np.testing.assert_array_equal(S.binary_scalar(op, x, s), uf(x, dt(s)))
            np.testing.assert_array_equal(S.binary_scalar(op, x, s, True), uf(dt(s), x))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("op", _UNARY, ids=lambda o: o.name)
def test_unary_matches_kernel(op, dt):
    x = _data(37, dt)
    a, b = (-0.5, 0.75) if op.name in ("clamp", "hardtanh") else (0.1, 0.2)
    want = np.empty_like(x)
    E.unary(op.code, x, want, a, b)
    np.testing.assert_array_equal(S.unary(op.code, x, a, b), want)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("op", _UNARY_BWD, ids=lambda o: o.name)
def test_unary_backward_matches_kernel(op, dt):
    x = _data(37, dt)
    y = np.empty_like(x)
    E.unary(op.code, x, y, 0.0, 0.0)
    g = _data(37, dt, 5)
    got = S.unary_backward(op.code, g, x, y, 0.0, 0.0)
    try:
        want = np.empty_like(x)
        E.unary_backward(op.code, g, x, y, want, 0.0, 0.0)
    except ValueError:  # no backward kernel for this row: declined too
        assert got is None
        return
    np.testing.assert_array_equal(got, want)


def test_declines_what_it_does_not_handle():
    x = np.arange(16, dtype=np.float32)
    relu = _table.UNARY_BY_NAME["relu"].code
    assert S.binary(ADD, x, x.astype(np.float64)) is None  # mixed dtypes
    assert S.binary(ADD, x, x.reshape(4, 4)) is None  # shapes differ
    assert S.binary(ADD, x[::2], x[::2]) is None  # not contiguous
    assert S.binary(ADD, x.astype(np.int64), x.astype(np.int64)) is None
    assert S.binary(ADD, x.astype(np.float16), x.astype(np.float16)) is None
    assert S.binary(ADD, x.astype(">f4"), x.astype(">f4")) is None  # byte-swapped
    assert S.binary(ADD, x.tolist(), x) is None  # not an ndarray
    assert S.binary(-1, x, x) is None and S.binary(10**6, x, x) is None
    big = np.zeros(S.MAX_SMALL_SIZE + 1, np.float32)
    assert S.binary(ADD, big, big) is None and S.unary(relu, big) is None
    assert S.unary(relu, x[::2]) is None and S.unary(-1, x) is None
    assert S.unary_backward(relu, x, x, x[:8]) is None
    np.testing.assert_array_equal(S.unary(relu, x.reshape(4, 4)), np.maximum(x, 0).reshape(4, 4))
