"""Issue #14, top-level functions and nn.functional on the edges: ctorch against torch 2.13.

Found by a differential sweep of ``ctorch.<name>`` / ``ctorch.nn.functional.<name>`` against
torch on float32, 0-d, empty, NaN/inf, int64 and bool inputs with dim 0/-1/2. Each test
asserts the expected answer on its own (so it runs without torch) and, where torch is
installed, compares with it. Where torch is wrong, ctorch is expected to do better (said in
the test)."""

from __future__ import annotations

import math
import random

import numpy as np
import pytest

import ctorch

try:
    import torch
except ImportError:  # the torch comparisons are skipped, the expectations still run
    torch = None

nan, inf = math.nan, math.inf
_LIBS = [ctorch] if torch is None else [ctorch, torch]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _same(c, t):
    c, t = _np(c), _np(t)
    assert c.shape == t.shape
    assert str(c.dtype) == str(t.dtype)
    np.testing.assert_allclose(c, t, rtol=1e-6, atol=1e-6, equal_nan=True)


def _raises(fn, exc, match):
    """fn(ctorch) raises ``exc`` whose text contains ``match``; torch too, with the same
    text, when installed."""
    texts = []
    for m in _LIBS:
        with pytest.raises(exc) as e:
            fn(m)
        assert match in str(e.value), (m.__name__, str(e.value))
        texts.append(str(e.value))
    assert len(set(texts)) == 1, texts


# ------------------------------------------------------------------ required arguments
@pytest.mark.parametrize(
    "expr, match",
    [
        (
            lambda m: m.ones(2, 3).softmax(),
            'softmax() missing 1 required positional arguments: "dim"',
        ),
        (
            lambda m: m.softmax(m.ones(2, 3)),
            'softmax() missing 1 required positional arguments: "dim"',
        ),
        (
            lambda m: m.log_softmax(m.ones(3)),
            'log_softmax() missing 1 required positional arguments: "dim"',
        ),
        (
            lambda m: m.ones(3).log_softmax(),
            'log_softmax() missing 1 required positional arguments: "dim"',
        ),
        (
            lambda m: m.ones(3).new_zeros(),
            'new_zeros() missing 1 required positional arguments: "size"',
        ),
        (
            lambda m: m.ones(3).new_ones(),
            'new_ones() missing 1 required positional arguments: "size"',
        ),
        (
            lambda m: m.ones(3).new_empty(),
            'new_empty() missing 1 required positional arguments: "size"',
        ),
    ],
)
def test_required_argument(expr, match):
    _raises(expr, TypeError, match)


def test_functional_softmax_still_infers_dim():
    for m in _LIBS:
        with pytest.warns(UserWarning, match="Implicit dimension choice for softmax"):
            y = m.nn.functional.softmax(m.tensor([[1.0, 2.0], [3.0, 5.0]]))
        assert np.allclose(_np(y).sum(1), 1.0)


def test_new_sized_by_keyword_and_empty_tuple():
    for m in _LIBS:
        x = m.ones(3, dtype=m.float64)
        assert tuple(x.new_zeros(size=(2, 3)).shape) == (2, 3)
        y = x.new_ones(())
        assert tuple(y.shape) == () and y.dtype == m.float64 and y.item() == 1.0


# ------------------------------------------------------------------ tensor-only arguments
_TENSOR_ONLY = [
    ("atan2", "other"),
    ("arctan2", "other"),
    ("maximum", "other"),
    ("minimum", "other"),
    ("fmax", "other"),
    ("fmin", "other"),
    ("hypot", "other"),
    ("logaddexp", "other"),
    ("logaddexp2", "other"),
    ("nextafter", "other"),
    ("ldexp", "other"),
    ("logical_and", "other"),
    ("logical_or", "other"),
    ("logical_xor", "other"),
    ("igamma", "other"),
    ("igammac", "other"),
    ("dist", "other"),
    ("take", "index"),
    ("heaviside", "values"),
]


@pytest.mark.parametrize("name, arg", _TENSOR_ONLY)
@pytest.mark.parametrize("number", [2, 2.5])
def test_number_where_a_tensor_is_required(name, arg, number):
    _raises(
        lambda m: getattr(m, name)(m.tensor([1.0, 2.0]), number),
        TypeError,
        f"{name}(): argument '{arg}' (position 2) must be Tensor, not {type(number).__name__}",
    )
    _raises(
        lambda m: getattr(m.tensor([1.0, 2.0]), name)(number),
        TypeError,
        f"{name}(): argument '{arg}' (position 1) must be Tensor, not {type(number).__name__}",
    )


@pytest.mark.parametrize("name", ["gcd", "lcm"])
def test_integer_tensor_only_ops_refuse_numbers(name):
    for call in (
        lambda m: getattr(m, name)(m.tensor([4, 6]), 2),
        lambda m: getattr(m.tensor([4, 6]), name + "_")(2),
    ):
        _raises(call, TypeError, "argument 'other'")


def test_tensor_only_ops_still_take_tensors():
    x = ctorch.tensor([1.0, -2.0])
    assert ctorch.atan2(x, ctorch.tensor(1.0)).shape == (2,)
    assert ctorch.maximum(x, ctorch.tensor([0.0, 0.0])).tolist() == [1.0, 0.0]
    assert x.hypot(ctorch.tensor([0.0, 0.0])).tolist() == [1.0, 2.0]
    assert ctorch.maximum(input=x, other=ctorch.zeros(2)).tolist() == [1.0, 0.0]


def test_take_checks_the_index_dtype_first():
    _raises(
        lambda m: m.take(m.ones(2, 2), m.tensor([[5.0]])),
        RuntimeError,
        "take(): Expected a long tensor for index, but got Float",
    )


def test_take_along_dim_without_dim_is_a_flat_gather():
    x = np.arange(6.0).reshape(2, 3)
    for m in _LIBS:
        t = m.tensor(x)
        assert m.take_along_dim(t, m.tensor([5, 0])).tolist() == [5.0, 0.0]
        with pytest.raises(
            RuntimeError, match="index -2 is out of bounds for dimension 0 with size 6"
        ):
            m.take_along_dim(t, m.tensor([1, -2]))
        with pytest.raises(RuntimeError, match="int32/int64 for index"):
            m.take_along_dim(t, m.tensor([0.0]))


# ------------------------------------------------------------------ mode with NaN
_MODE_ROWS = [
    ([nan, inf, -inf, 1.0], (nan, 0)),
    ([0.0, -0.0, 2.0, -3.0], (-0.0, 1)),
    ([nan, 1.0, nan, 2.0], (nan, 0)),
    ([1.0, nan, 1.0, nan, nan], (1.0, 0)),  # the two 1s never meet: torch's sort leaves NaN
    ([nan, nan, 1.0, 1.0], (1.0, 3)),
    ([2.0, 2.0, nan, nan, 3.0, 3.0], (2.0, 1)),
    ([nan], (nan, 0)),
]


@pytest.mark.parametrize("row, expected", _MODE_ROWS)
def test_mode_with_nan(row, expected):
    for m in _LIBS:
        r = m.mode(m.tensor(row))
        v, i = r.values.item(), r.indices.item()
        ev, ei = expected
        assert (math.isnan(v) and math.isnan(ev)) or (
            v == ev and math.copysign(1, v) == math.copysign(1, ev)
        ), m
        assert i == ei, m


def test_mode_with_nan_random_rows_match_torch():
    if torch is None:
        pytest.skip("needs torch")
    rng = random.Random(0)
    for _ in range(300):
        row = [rng.choice([nan, 1.0, 2.0, -0.0, 0.0, inf, -inf]) for _ in range(rng.randint(1, 16))]
        c, t = ctorch.mode(ctorch.tensor(row)), torch.mode(torch.tensor(row))
        _same(c.values, t.values)
        assert c.indices.item() == t.indices.item(), row
    x = [[nan, inf, -inf, 1.0], [0.0, -0.0, 2.0, -3.0]]
    for d in (0, 1, -1):
        c, t = ctorch.mode(ctorch.tensor(x), d), torch.mode(torch.tensor(x), d)
        _same(c.values, t.values)
        _same(c.indices, t.indices)


# ------------------------------------------------------------------ linspace, bit for bit
def _fma_ref(a, b, c, dt):
    from fractions import Fraction

    return dt.type(float(Fraction(float(a)) * Fraction(float(b)) + Fraction(float(c))))


def _linspace_ref(s, e, n, dt):
    """torch's rule in exact arithmetic: step in dt, then one rounding of start + step * i
    (first half) / end - step * (n - 1 - i) (second half)."""
    dt = np.dtype(dt)
    S, E = dt.type(s), dt.type(e)
    step = (E - S) / dt.type(n - 1)
    return np.array(
        [
            _fma_ref(step, dt.type(i), S, dt)
            if i < n // 2
            else _fma_ref(-step, dt.type(n - 1 - i), E, dt)
            for i in range(n)
        ],
        dt,
    )


@pytest.mark.parametrize("dt", ["float32", "float64"])
@pytest.mark.parametrize(
    "s, e, n",
    [
        (0, 1, 10),
        (-3.3, 7.1, 101),
        (-1, 1, 1000),
        (2.5, -4.7, 64),
        (0.1, 0.9, 7),
        (-1e-3, 1e6, 333),
    ],
)
def test_linspace_bits(dt, s, e, n):
    got = ctorch.linspace(s, e, n, dtype=getattr(ctorch, dt)).numpy()
    ref = _linspace_ref(s, e, n, dt)
    assert np.array_equal(got.view(np.uint8), ref.view(np.uint8))
    if torch is not None:
        t = torch.linspace(s, e, n, dtype=getattr(torch, dt)).numpy()
        assert np.array_equal(got.view(np.uint8), t.view(np.uint8))


def test_linspace_bits_random_ranges_match_torch():
    if torch is None:
        pytest.skip("needs torch")
    rng = random.Random(0)
    for _ in range(150):
        s, e = rng.uniform(-100, 100), rng.uniform(-100, 100)
        n = rng.choice([2, 3, 17, 33, 65, 100, 1001, 40000])
        for dt in ("float32", "float64", "int64", "int32"):
            c = ctorch.linspace(s, e, n, dtype=getattr(ctorch, dt)).numpy()
            t = torch.linspace(s, e, n, dtype=getattr(torch, dt)).numpy()
            assert np.array_equal(c.view(np.uint8), t.view(np.uint8)), (s, e, n, dt)


@pytest.mark.parametrize(
    "s, e, n, expected",
    [
        (-1e308, 1e308, 5, [nan, inf, -inf, -inf, nan]),  # the step overflows: inf * 0 is NaN
        (0, inf, 3, [nan, nan, nan]),  # step inf: inf * 0 and inf - inf
        (-0.0, 0.0, 3, [0.0, 0.0, 0.0]),  # fma(0, 0, -0.0) is +0.0
        (2, 3, 1, [2.0]),
    ],
)
def test_linspace_non_finite(s, e, n, expected):
    for m in _LIBS:
        got = m.linspace(s, e, n, dtype=m.float64).tolist()
        assert len(got) == len(expected)
        for g, x in zip(got, expected, strict=True):
            assert (math.isnan(g) and math.isnan(x)) or (
                g == x and math.copysign(1, g) == math.copysign(1, x)
            ), (m, got)
