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
from helpers import as_numpy, same_result

import ctorch

try:
    import torch
except ImportError:  # the torch comparisons are skipped, the expectations still run
    torch = None

nan, inf = math.nan, math.inf
_LIBS = [ctorch] if torch is None else [ctorch, torch]


_np, _same = as_numpy, same_result  # (tests/helpers.py)


def _raises(fn, exc, match, same_text=True):
    """fn(ctorch) raises ``exc`` whose text contains ``match``; torch too, when installed,
    with the same text (``same_text=False``: ctorch may add to it, e.g. the op's name)."""
    texts = []
    for m in _LIBS:
        with pytest.raises(exc) as e:
            fn(m)
        assert match in str(e.value), (m.__name__, str(e.value))
        texts.append(str(e.value))
    assert not same_text or len(set(texts)) == 1, texts


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


# ------------------------------------------------------------------ arange / range
def test_arange_float_bits_match_torch():
    if torch is None:
        pytest.skip("needs torch")
    rng = random.Random(1)
    for _ in range(60):
        s, st = rng.uniform(-100, 100), rng.uniform(0.001, 3) * rng.choice([1, -1])
        n = rng.choice([5, 17, 100, 1000, 40000])
        e = s + st * n
        for dt in ("float64", "float32"):
            c = ctorch.arange(s, e, st, dtype=getattr(ctorch, dt)).numpy()
            t = torch.arange(s, e, st, dtype=getattr(torch, dt)).numpy()
            assert c.shape == t.shape and np.array_equal(c.view(np.uint8), t.view(np.uint8))


def test_arange_float_blocks_rule():
    """torch's arange rounds block-wise (4 doubles): values past a block's first one are
    fma(k, step, first), not start + step * i; the tail after the last pair of blocks is."""
    from fractions import Fraction as Fr

    s, st, n = 0.1, 0.7, 11
    got = ctorch.arange(s, s + st * n - 0.35, st, dtype=ctorch.float64).tolist()
    assert len(got) == n

    def fma(a, b, c):
        return float(Fr(a) * Fr(b) + Fr(c))

    ref = []
    for b in (0, 4):
        first = fma(st, b, s)
        ref += [fma(k, st, first) for k in range(4)]
    ref += [fma(st, i, s) for i in range(8, n)]
    assert got == ref


@pytest.mark.parametrize(
    "args, dtype, expected",
    [
        ((0, 3, 1.5), "int64", [0, 1, 2]),  # int64: truncated start/end/step, integer count
        ((0, 3, 1.5), "int32", [0, 1]),  # others: the count from the float range
        ((0.5, 7.9, 2.5), "int64", [0, 2, 4, 6]),
        ((0.5, 7.9, 2.5), "int16", [0, 2, 4]),
        ((5, 0.5, -1.5), "int64", [5, 4, 3, 2, 1]),
        ((-5.5, 5, 2.2), "int8", [-5, -3, -1, 1, 3]),
        ((0, 1, 0.3), "int32", [0, 0, 0, 0]),
    ],
)
def test_arange_integer_dtype_with_float_arguments(args, dtype, expected):
    for m in _LIBS:
        v = m.arange(*args, dtype=getattr(m, dtype))
        assert v.tolist() == expected and v.dtype == getattr(m, dtype)


def test_arange_int64_zero_step_after_truncation():
    _raises(lambda m: m.arange(0, 1, 0.3, dtype=m.int64), ValueError, "step must be nonzero")


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize("fn", ["arange", "range"])
@pytest.mark.parametrize("args", [(5, 1, 1), (1, 5, -1), (2.5, 0.5, 0.5)])
def test_range_step_walking_away_from_end(fn, args):
    # torch's words: "lower bound" (ctorch said "larger bound")
    _raises(
        lambda m: getattr(m, fn)(*args),
        RuntimeError,
        "upper bound and lower bound inconsistent with step sign",
    )


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
@pytest.mark.parametrize(
    "args, dtype, expected",
    [
        ((0.5, 3.7, 1.5), "int64", [0, 1, 2, 3]),
        ((-2.5, 3.7, 2.9), "int32", [-2, 0, 2]),
        ((5.9, 1, -2.5), "int16", [5, 3, 1]),
        ((1, 4), "float32", [1.0, 2.0, 3.0, 4.0]),
    ],
)
def test_range_integer_dtype(args, dtype, expected):
    for m in _LIBS:
        assert m.range(*args, dtype=getattr(m, dtype)).tolist() == expected


@pytest.mark.filterwarnings("ignore:torch.range is deprecated")
def test_range_edges():
    # tensors as bounds (torch takes 0-d tensors as numbers)
    for m in _LIBS:
        assert m.range(m.tensor(1.5), 4).tolist() == [1.5, 2.5, 3.5]
    _raises(
        lambda m: m.range(4), TypeError, 'range() missing 1 required positional arguments: "end"'
    )
    _raises(lambda m: m.range(1, 4, 0), RuntimeError, "step must be nonzero")
    # torch 2.13 dies of SIGFPE on a step that truncates to 0 in an integer dtype: ctorch
    # raises a clear error instead (torch not called)
    with pytest.raises(RuntimeError, match=r"range\(\): step 0.3 is 0 in int64"):
        ctorch.range(0, 1, 0.3, dtype=ctorch.int64)


# ------------------------------------------------------------------ sequences and sizes
@pytest.mark.parametrize(
    "name",
    [
        "cat",
        "concat",
        "concatenate",
        "stack",
        "hstack",
        "vstack",
        "row_stack",
        "dstack",
        "column_stack",
    ],
)
def test_joins_refuse_one_tensor(name):
    _raises(
        lambda m: getattr(m, name)(m.ones(2, 2)),
        TypeError,
        f"{name}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor",
    )


@pytest.mark.parametrize("name", ["atleast_1d", "atleast_2d", "atleast_3d"])
def test_atleast_takes_several_tensors(name):
    for m in _LIBS:
        f = getattr(m, name)
        one = f(m.tensor(1.0))
        assert isinstance(one, m.Tensor)
        for r in (f(m.tensor(1.0), m.ones(2)), f([m.tensor(1.0), m.ones(2)]), f((m.ones(2),))):
            assert isinstance(r, tuple) and all(t.ndim == int(name[-2]) for t in r)


@pytest.mark.parametrize("name", ["zeros", "ones", "empty", "rand", "randn"])
def test_size_refuses_non_integer_tensors(name):
    match = f"{name}(): argument 'size' (position 1) must be tuple of ints, not Tensor"
    for bad in (lambda m: m.tensor(1.5), lambda m: m.tensor([2, 3]), lambda m: m.empty(0, 4)):
        with pytest.raises(TypeError, match=re_escape(match)):
            getattr(ctorch, name)(bad(ctorch))
        if torch is not None:
            with pytest.raises(TypeError):
                getattr(torch, name)(bad(torch))
    for m in _LIBS:  # a 0-d integer tensor is an int
        assert tuple(getattr(m, name)(m.tensor(2), 3).shape) == (2, 3)


def test_full_refuses_a_tensor_size():
    for size in (lambda m: m.tensor(2), lambda m: m.empty(0, 4)):
        _raises(
            lambda m, size=size: m.full(size(m), 0.0),
            TypeError,
            "full(): argument 'size' (position 1) must be tuple of ints, not Tensor",
        )


def re_escape(s):
    import re

    return re.escape(s)


@pytest.mark.parametrize(
    "name, args, match",
    [
        (
            "reshape",
            (-1,),
            "reshape(): argument 'shape' (position 2) must be tuple of ints, not int",
        ),
        ("reshape", (2, 2), "reshape() takes 2 positional arguments but 3 were given"),
        ("flip", (0,), "flip(): argument 'dims' (position 2) must be tuple of ints, not int"),
        ("flip", (0, 1), "flip() takes 2 positional arguments but 3 were given"),
        ("permute", (), 'permute() missing 1 required positional arguments: "dims"'),
        ("permute", (1, 0), "permute() takes 2 positional arguments but 3 were given"),
        (
            "broadcast_to",
            (4,),
            "broadcast_to(): argument 'size' (position 2) must be tuple of ints, not int",
        ),
        (
            "expand_copy",
            (2,),
            "expand_copy(): argument 'size' (position 2) must be tuple of ints, not int",
        ),
    ],
)
def test_function_forms_take_one_sequence(name, args, match):
    with pytest.raises(TypeError, match=re_escape(match)):
        getattr(ctorch, name)(ctorch.ones(2, 2), *args)
    if torch is not None:
        with pytest.raises(TypeError):
            getattr(torch, name)(torch.ones(2, 2), *args)


def test_function_forms_keywords_and_methods_unchanged():
    for m in _LIBS:
        assert tuple(m.reshape(m.ones(4), shape=(2, 2)).shape) == (2, 2)
        assert tuple(m.reshape(input=m.ones(4), shape=[4]).shape) == (4,)
        assert tuple(m.permute(m.ones(2, 3), dims=[1, 0]).shape) == (3, 2)
        assert tuple(m.ones(4).reshape(2, 2).shape) == (2, 2)  # the methods keep varargs
        assert tuple(m.ones(2, 3).permute(1, 0).shape) == (3, 2)
        assert m.ones(2, 3).flip(0, 1).shape == m.ones(2, 3).shape


# ------------------------------------------------------------------ values and 0-d dims
def test_kl_div_negative_target_is_nan():
    x = [[nan, inf, -inf, 1.0], [0.0, -0.0, 2.0, -3.0]]
    for m in _LIBS:
        t = m.tensor(x)
        got = m.nn.functional.kl_div(t, t, reduction="none").flatten().tolist()
        # xlogy(t, t) - t * t: 0 at t == 0, NaN at t < 0 and at +-inf (inf - inf, NaN * ...)
        assert got[3:7] == [-1.0, 0.0, 0.0, pytest.approx(2 * math.log(2) - 4)]
        assert all(math.isnan(v) for v in got[:3] + got[7:]), got


def test_kl_div_gradients_match_torch():
    if torch is None:
        pytest.skip("needs torch")
    logits = [[1.0, 2.0, 3.0, 4.0], [0.0, 1.0, 0.0, 1.0]]
    tgt = [[0.2, 0.0, 0.5, 0.3], [0.1, 0.4, 0.5, 0.0]]
    grads = []
    for m in (ctorch, torch):
        inp = m.log_softmax(m.tensor(logits), 1).detach().requires_grad_()
        t = m.tensor(tgt).requires_grad_()
        m.nn.functional.kl_div(inp, t, reduction="batchmean").backward()
        grads.append((inp.grad, t.grad))
    _same(grads[0][0], grads[1][0])
    _same(grads[0][1], grads[1][1])  # NaN where the target is 0, as torch


def test_mvlgamma_of_minus_inf():
    for m in _LIBS:
        for p in (1, 3):
            assert m.mvlgamma(m.tensor([-inf, 3.0]), p)[0].item() == inf


def test_hardtanh_inplace_without_range_check():
    for m in _LIBS:
        F = m.nn.functional
        assert F.hardtanh_(m.tensor([-3.0, 0.0, 1.5, 3.0]), 2.0).tolist() == [1.0] * 4
        assert F.hardtanh_(m.tensor([[1, -5, 3]]), -2, 2).tolist() == [[1, -2, 2]]
        with pytest.raises(ValueError, match="min_val cannot be greater than max_val"):
            F.hardtanh(m.tensor([1.0]), 2.0)


@pytest.mark.parametrize(
    "expr",
    [
        lambda m: m.sort(m.tensor(1.5), 2),
        lambda m: m.argsort(m.tensor(1.5), 2),
        lambda m: m.tensor(1.5).sort(dim=-2),
        lambda m: m.flatten(m.tensor(1.5), 2),
        lambda m: m.flatten(m.tensor(1.5), 0, 2),
    ],
)
def test_zero_dim_tensor_dims_out_of_range(expr):
    _raises(expr, IndexError, "Dimension out of range (expected to be in range of [-1, 0]", False)


def test_searchsorted_empty_batch():
    for m in _LIBS:
        r = m.searchsorted(m.empty(0, 4), m.empty(0, 4))
        assert tuple(r.shape) == (0, 4) and r.dtype == m.int64


# ------------------------------------------------------------------ typed arguments
@pytest.mark.parametrize(
    "expr, match",
    [
        (lambda m: m.unique(m.ones(3), 0), "argument 'sorted'"),
        (lambda m: m.ones(3).unique(0), "argument 'sorted'"),
        (lambda m: m.unique_consecutive(m.ones(3), 0), "argument 'return_inverse'"),
        (
            lambda m: m.qr(m.ones(3, 3), 0),
            "qr(): argument 'some' (position 2) must be bool, not int",
        ),
        (lambda m: m.ones(3, 3).qr(0), "qr(): argument 'some' (position 1) must be bool, not int"),
        (
            lambda m: m.svd(m.ones(3, 3), 0),
            "svd(): argument 'some' (position 2) must be bool, not int",
        ),
        (
            lambda m: m.kthvalue(m.ones(3), 2.5),
            "kthvalue(): argument 'k' (position 2) must be int, not float",
        ),
        (
            lambda m: m.kthvalue(m.ones(3), True),
            "kthvalue(): argument 'k' (position 2) must be int, not bool",
        ),
        (
            lambda m: m.ones(3).kthvalue(1.0),
            "kthvalue(): argument 'k' (position 1) must be int, not float",
        ),
        (
            lambda m: m.tril(m.ones(3, 3), 1.0),
            "tril(): argument 'diagonal' (position 2) must be int, not float",
        ),
        (
            lambda m: m.ones(3, 3).triu(1.0),
            "triu(): argument 'diagonal' (position 1) must be int, not float",
        ),
        (
            lambda m: m.mvlgamma(m.ones(3) + 2, 2.5),
            "mvlgamma(): argument 'p' (position 2) must be int, not float",
        ),
        (
            lambda m: m.mvlgamma(m.ones(3) + 2, m.tensor(2.0)),
            "mvlgamma(): argument 'p' (position 2) must be int, not Tensor",
        ),
        (
            lambda m: m.hann_window(4.0),
            "hann_window(): argument 'window_length' (position 1) must be int, not float",
        ),
        (
            lambda m: m.bartlett_window(True),
            "bartlett_window(): argument 'window_length' (position 1) must be int, not bool",
        ),
        (
            lambda m: m.nan_to_num(m.ones(3), m.ones(3)),
            "nan_to_num(): argument 'nan' (position 2) must be float, not Tensor",
        ),
        (
            lambda m: m.isclose(m.ones(3), 1),
            "isclose(): argument 'other' (position 2) must be Tensor, not int",
        ),
        (
            lambda m: m.ones(3).allclose(1.0),
            "allclose(): argument 'other' (position 1) must be Tensor, not float",
        ),
        (
            lambda m: m.outer(m.ones(2), 2),
            "outer(): argument 'vec2' (position 2) must be Tensor, not int",
        ),
        (
            lambda m: m.nn.functional.soft_margin_loss(m.ones(3), 0),
            "soft_margin_loss(): argument 'target' (position 2) must be Tensor, not int",
        ),
        (
            lambda m: m.nn.functional.hinge_embedding_loss(m.ones(3), 1),
            "hinge_embedding_loss(): argument 'target' (position 2) must be Tensor, not int",
        ),
        (
            lambda m: m.nn.functional.poisson_nll_loss(m.ones(3), 1.0),
            "poisson_nll_loss(): argument 'target' (position 2) must be Tensor, not float",
        ),
    ],
)
def test_typed_arguments(expr, match):
    _raises(expr, TypeError, match, same_text=False)


def test_typed_arguments_accept_their_types():
    for m in _LIBS:
        x = m.ones(3, 3)
        assert m.tril(x, m.tensor(1)).shape == x.shape  # a 0-d integer tensor is an int
        assert m.tril(x, diagonal=1).shape == x.shape
        assert m.mvlgamma(m.ones(2) + 2, m.tensor(2)).shape == (2,)
        assert m.hann_window(4).shape == (4,)
        assert m.nan_to_num(m.tensor([nan]), 1).tolist() == [1.0]
        assert m.unique(m.tensor([2, 1, 2]), True).tolist() == [1, 2]
        assert m.kthvalue(m.tensor([3.0, 1.0, 2.0]), 2).values.item() == 2.0


@pytest.mark.parametrize(
    "expr, exc, match",
    [
        (
            lambda m: m.logical_not(m.tensor([True]), m.tensor([True])),
            TypeError,
            "logical_not() takes 1 positional argument",
        ),
        (
            lambda m: m.normal(m.tensor([1, 2])),
            NotImplementedError,
            "\"normal_kernel_cpu\" not implemented for 'Long'",
        ),
        (
            lambda m: m.normal(0.0, m.tensor([True])),
            NotImplementedError,
            "\"normal_kernel_cpu\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.normal(m.tensor([1.0]), -1.0),
            RuntimeError,
            "normal expects std >= 0.0, but found std -1",
        ),
        (
            lambda m: m.kthvalue(m.tensor([True, False]), 1),
            NotImplementedError,
            "\"kthvalue_cpu\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.trapezoid(m.tensor([True, False])),
            RuntimeError,
            "trapezoid: received a bool input for `y`",
        ),
        (
            lambda m: m.mvlgamma(m.tensor([True]), 1),
            RuntimeError,
            "The input tensor may not be a boolean tensor.",
        ),
        (
            lambda m: m.outer(m.tensor(1.0), m.ones(2)),
            RuntimeError,
            "outer: Expected 1-D argument self, but got 0-D",
        ),
        (
            lambda m: m.outer(m.ones(2), m.ones(2, 2)),
            RuntimeError,
            "outer: Expected 1-D argument vec2, but got 2-D",
        ),
    ],
)
def test_refusals(expr, exc, match):
    _raises(expr, exc, match)


def test_logical_not_leaves_a_second_tensor_alone():
    """ctorch.logical_not(x, y) used to write not-x into y (NumPy's positional out)."""
    y = ctorch.tensor([True, True])
    with pytest.raises(TypeError):
        ctorch.logical_not(ctorch.tensor([True, False]), y)
    assert y.tolist() == [True, True]


def test_logical_ops_out():
    for m in _LIBS:
        x, y = m.tensor([True, False]), m.tensor([True, True])
        o = m.empty(2, dtype=m.bool)
        assert m.logical_and(x, y, out=o) is o and o.tolist() == [True, False]
        o = m.empty(2)
        assert m.logical_not(x, out=o) is o and o.tolist() == [0.0, 1.0]


# ------------------------------------------------------------------ the type of dim
_DIM_OPS = [
    lambda m, d: m.ones(2, 3).sum(d),
    lambda m, d: m.softmax(m.ones(2, 3), d),
    lambda m, d: m.ones(2, 3).unsqueeze(d),
    lambda m, d: m.cat([m.ones(2, 3), m.ones(2, 3)], d),
    lambda m, d: m.ones(2, 3).sum((d,)),
    lambda m, d: m.cumsum(m.ones(2, 3), d),
]


@pytest.mark.parametrize("op", _DIM_OPS)
@pytest.mark.parametrize(
    "bad",
    [
        lambda m: 1.0,
        lambda m: True,
        lambda m: np.float32(1),
        lambda m: m.tensor(1.0),
        lambda m: m.tensor([1, 0]),
    ],
)
def test_dim_must_be_an_int(op, bad):
    with pytest.raises(TypeError, match="argument 'dim' must be int, not"):
        op(ctorch, bad(ctorch))
    if torch is not None:  # torch's text varies with its overloads
        with pytest.raises(TypeError):
            op(torch, bad(torch))


@pytest.mark.parametrize("op", _DIM_OPS)
def test_dim_accepts_integer_likes(op):
    for m in _LIBS:
        ref = op(m, 1)
        for d in (np.int64(1), m.tensor(1)):
            assert op(m, d).shape == ref.shape


@pytest.mark.parametrize(
    "expr, exc, match",
    [
        (
            lambda m: m.reshape(m.ones(4), m.tensor([4])),
            TypeError,
            "reshape(): argument 'shape' (position 2) must be tuple of ints, not Tensor",
        ),
        (
            lambda m: m.rot90(m.ones(2, 2), 2.5),
            TypeError,
            "rot90(): argument 'k' (position 2) must be int, not float",
        ),
        (
            lambda m: m.tril_indices(m.tensor(1.5), 3),
            TypeError,
            "tril_indices(): argument 'row' (position 1) must be int, not Tensor",
        ),
        (
            lambda m: m.randperm(m.tensor(1.5)),
            TypeError,
            "randperm(): argument 'n' (position 1) must be int, not Tensor",
        ),
        (
            lambda m: m.multinomial(m.ones(3), 2.5),
            TypeError,
            "multinomial(): argument 'num_samples' (position 2) must be int, not float",
        ),
        (
            lambda m: m.pinverse(m.ones(2, 2), m.ones(2, 2)),
            TypeError,
            "pinverse(): argument 'rcond' (position 2) must be float, not Tensor",
        ),
        (
            lambda m: m.igamma(m.tensor([1, 2]), m.tensor([1, 2])),
            NotImplementedError,
            "\"igamma_cpu\" not implemented for 'Long'",
        ),
        (
            lambda m: m.igammac(m.tensor([True]), m.tensor([True])),
            NotImplementedError,
            "\"igammac_cpu\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.unique_consecutive(m.tensor(1.5), dim=0),
            IndexError,
            "Dimension specified as 0 but tensor has no dimensions",
        ),
        (
            lambda m: m.matmul(m.ones(3, dtype=m.bool), m.ones(3, dtype=m.bool)),
            NotImplementedError,
            "\"dot\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.mm(m.ones(2, 2, dtype=m.bool), m.ones(2, 2, dtype=m.bool)),
            NotImplementedError,
            "\"addmm_impl_cpu_\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.ones(2, 3, dtype=m.bool) @ m.ones(3, dtype=m.bool),
            NotImplementedError,
            "\"addmv_impl_cpu\" not implemented for 'Bool'",
        ),
        (
            lambda m: m.bmm(m.ones(1, 2, 2, dtype=m.bool), m.ones(1, 2, 2, dtype=m.bool)),
            NotImplementedError,
            "\"bmm\" not implemented for 'Bool'",
        ),
    ],
)
def test_more_refusals(expr, exc, match):
    _raises(expr, exc, match)


def test_integer_igamma_with_a_float_operand_is_fine():
    for m in _LIBS:
        r = m.igamma(m.tensor([1, 2]), m.tensor([1.0, 2.0]))
        assert r.dtype == m.float32 and r.shape == (2,)


# ------------------------------------------------------------------ Python ints past 64 bits
@pytest.mark.parametrize(
    "expr",
    [
        lambda m, t: t < -(2**64),
        lambda m, t: t > 2**70,
        lambda m, t: t + 2**64,
        lambda m, t: t.eq(2**64),
        lambda m, t: m.lt(t, 2**64),
        lambda m, t: t.float() < 2**64,
        lambda m, t: t.float() * -(2**64),
        lambda m, t: (t > 0) == 2**64,
        lambda m, t: t.clamp(max=2**64),
        lambda m, t: t.float().clamp(min=-(2**64)),
        lambda m, t: t.masked_fill(t > 0, 2**64),
        lambda m, t: t.fill_(2**64),
        lambda m, t: m.full((2,), 2**64),
        lambda m, t: m.where(t > 0, t, 2**64),
    ],
)
def test_python_int_outside_64_bits_is_overflow_error(expr):
    """torch's argument parser takes a Python int in [-2**63, 2**64) (int64 or uint64) and
    refuses any other with OverflowError, whatever the tensor's dtype."""
    for m in _LIBS:
        with pytest.raises(OverflowError, match="int too big to convert|negative int to unsigned"):
            expr(m, m.tensor([1, 2, 3]))


def test_python_int_in_uint64_range_still_compares():
    for m in _LIBS:
        t = m.tensor([1, 2, 3])
        assert (t == 2**63).tolist() == [False] * 3
        assert (t.float() < 2**63).tolist() == [True] * 3
        assert (t + 2**63).tolist() == [1 - 2**63, 2 - 2**63, 3 - 2**63]  # wraps, as torch
        with pytest.raises(RuntimeError, match="without overflow"):
            t.fill_(2**63)  # past int64: torch's conversion error, not the parser's
