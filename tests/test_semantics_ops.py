"""Issue #11, indexing / reduction / misc ops and processes: ctorch against torch 2.13.

Each test here failed before its fix. Where torch itself crashes or hangs, ctorch is
expected to do better (said in the test)."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(c, t):
    c, t = _np(c), _np(t)
    assert c.shape == t.shape
    assert str(c.dtype) == str(t.dtype)
    np.testing.assert_allclose(c, t, rtol=1e-6, atol=1e-6, equal_nan=True)


def _raises_like(fn, exc=Exception):
    """Run fn on both libraries; both must raise; return (ctorch error, torch error)."""
    with pytest.raises(exc) as et:
        fn(torch)
    with pytest.raises(exc) as ec:
        fn(ctorch)
    return ec.value, et.value


# ------------------------------------------------------------------ item 1: misc ops
@pytest.mark.parametrize(
    "expr",
    [
        lambda m: m.tensor([1, 2]) % 0,
        lambda m: m.tensor([1, 2]) % m.tensor([0, 1]),
        lambda m: 5 % m.tensor([1, 0]),
        lambda m: m.remainder(m.tensor([1, 2]), 0),
        lambda m: m.fmod(m.tensor([1, 2]), 0),
        lambda m: m.fmod(m.tensor([1, 2]), m.tensor([1, 0])),
        lambda m: m.tensor([1, 2], dtype=m.uint8) % 0,
        lambda m: m.tensor([1, 2]).remainder_(0),
        lambda m: m.div(m.tensor([1, 2]), 0, rounding_mode="trunc"),
    ],
)
def test_integer_modulo_by_zero_raises(expr):
    ec, et = _raises_like(expr, RuntimeError)
    assert "ZeroDivisionError" in str(et)
    assert "ZeroDivisionError" in str(ec)


def test_float_modulo_by_zero_is_nan():
    _same(ctorch.tensor([1.0, 2.0]) % 0, torch.tensor([1.0, 2.0]) % 0)


@pytest.mark.parametrize(
    "expr",
    [
        lambda m: m.add(m.tensor([1.5]), 1, out=m.zeros(1, dtype=m.long)),
        lambda m: m.mul(m.tensor([1.5]), m.tensor([2.0]), out=m.zeros(1, dtype=m.int32)),
        lambda m: m.sin(m.tensor([1.5]), out=m.zeros(1, dtype=m.long)),
        lambda m: m.div(m.tensor([1]), m.tensor([2]), out=m.zeros(1, dtype=m.long)),
        lambda m: m.add(m.tensor([1.5]), 1, out=m.zeros(1, dtype=m.bool)),
        lambda m: m.add(m.tensor([1]), 1, out=m.zeros(1, dtype=m.bool)),
    ],
)
def test_out_refuses_lossy_cast(expr):
    ec, et = _raises_like(expr, RuntimeError)
    assert str(ec) == str(et)


def test_out_allows_safe_casts():
    for m in (ctorch, torch):
        o = m.zeros(1)
        m.add(m.tensor([1]), 1, out=o)
        assert o.tolist() == [2.0]
        o = m.zeros(1)
        m.add(m.tensor([1.5], dtype=m.float64), 1, out=o)
        assert o.tolist() == [2.5]


def test_cross_entropy_integer_logits_raises():
    def f(m):
        return m.nn.functional.cross_entropy(m.tensor([[1, 2], [3, 4]]), m.tensor([0, 1]))

    ec, et = _raises_like(f, NotImplementedError)
    assert str(ec) == str(et)


def test_tile_int_and_varargs():
    for args in [(2,), ((2,),), (2, 2), ([3, 1],)]:
        for shape in [(2,), (1, 2)]:
            x = np.arange(math.prod(shape)).reshape(shape)
            _same(ctorch.tensor(x).tile(*args), torch.tensor(x).tile(*args))
    # torch's *function* wants a tuple: same TypeError
    ec, et = _raises_like(lambda m: m.tile(m.tensor([1, 2]), 2), TypeError)
    assert str(ec) == str(et)
    _same(ctorch.tile(ctorch.tensor([1, 2]), (2,)), torch.tile(torch.tensor([1, 2]), (2,)))
