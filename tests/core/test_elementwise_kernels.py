"""CPU elementwise kernels (ctorch._core.elementwise) against NumPy.

Every kernel runs with 1 and 2 threads; the two results must be bitwise identical.
Sizes straddle the threading threshold and use odd lengths for SIMD tails.
"""

import math
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from ctorch import _table
from ctorch._core import _threads
from ctorch._core import elementwise as E

DTYPES = [np.float32, np.float64]
SIZES = [0, 1, 7, 33, 1000, 2 * E.PARALLEL_THRESHOLD + 3, 3 * E.CHUNK_SIZE + 17]
ULP = {np.float32: 2.0**-23, np.float64: 2.0**-52}


def run_threads(fn):
    """Run fn() (which returns an array) with 1 and 2 threads; require bitwise equality."""
    old = _threads.get_num_threads()
    try:
        _threads.set_num_threads(1)
        r1 = np.array(fn(), copy=True)
        _threads.set_num_threads(2)
        r2 = np.array(fn(), copy=True)
    finally:
        _threads.set_num_threads(old)
    assert r1.dtype == r2.dtype
    assert r1.tobytes() == r2.tobytes(), "results differ between 1 and 2 threads"
    return r1


def rng(seed=0):
    return np.random.default_rng(seed)


def close(got, ref, dtype, ulps=4.0, atol=0.0):
    ref = np.asarray(ref, dtype=np.float64)
    np.testing.assert_allclose(
        got.astype(np.float64), ref, rtol=ulps * ULP[dtype], atol=atol, equal_nan=True
    )


# ---------------------------------------------------------------------------------------------
# binary
# ---------------------------------------------------------------------------------------------

# each binary row names the NumPy ufunc that computes the same thing: NumPy is the reference
BIN_REF = {op.code: getattr(np, op.ufunc) for op in _table.BINARY}
# exactly rounded ops compare bitwise; the others within a few ulps
_EXACT_BIN = {E.BIN_ADD, E.BIN_SUB, E.BIN_MUL, E.BIN_DIV, E.BIN_MAX, E.BIN_MIN}
_ULP_BIN = {op.code: 4 for op in _table.BINARY if op.code not in _EXACT_BIN}
_ULP_BIN[E.BIN_HYPOT] = 1


def bin_inputs(op, n, dtype, seed=0):
    g = rng(seed)
    x = g.standard_normal(n).astype(dtype)
    y = g.standard_normal(n).astype(dtype)
    if op == E.BIN_POW:
        x = np.abs(x) + dtype(0.1)
        y = y * dtype(2)
    if op == E.BIN_DIV:
        y = y + np.where(y >= 0, dtype(0.5), dtype(-0.5))
    return x, y


def check_bin(op, got, ref, dtype):
    if op in _ULP_BIN:
        # an absolute term at the inputs' scale (~1): logaddexp cancels near 0 (max + log1p)
        atol = 40 * ULP[dtype]
        close(got, ref, dtype, ulps=_ULP_BIN[op], atol=atol)
    else:
        np.testing.assert_array_equal(got, ref)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("op", sorted(BIN_REF))
def test_binary(op, n, dtype):
    x, y = bin_inputs(op, n, dtype)
    out = np.empty(n, dtype)
    got = run_threads(lambda: (E.binary(op, x, y, out), out)[1])
    check_bin(op, got, BIN_REF[op](x, y), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 5, 2 * E.PARALLEL_THRESHOLD + 3])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("op", sorted(BIN_REF))
def test_binary_scalar(op, reverse, n, dtype):
    x, _ = bin_inputs(op, n, dtype)
    scalars = [1.75, -0.5, 2.0, 0.5, 1.0, 0.0] if op == E.BIN_POW else [1.75, -0.5, 3.0]
    for s in scalars:
        xx = x
        if op == E.BIN_POW and reverse:
            s = abs(s) + 0.25
            xx = (x - dtype(1)) * dtype(3)
        if op == E.BIN_DIV and reverse:
            xx = x + np.where(x >= 0, dtype(0.5), dtype(-0.5))
        out = np.empty(n, dtype)
        got = run_threads(
            lambda xx=xx, s=s, out=out: (E.binary_scalar(op, xx, s, out, reverse), out)[1]
        )
        sd = dtype(s)
        ref = BIN_REF[op](sd, xx) if reverse else BIN_REF[op](xx, sd)
        check_bin(op, got, ref, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "shape", [(3, 5, 1), (1, 7, 1), (4, 3, 6), (1, 1, 9), (60, 1201, 1), (4, 30, 1001)]
)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("op", [E.BIN_ADD, E.BIN_SUB, E.BIN_MUL, E.BIN_DIV, E.BIN_MAX])
def test_binary_bcast(op, reverse, shape, dtype):
    outer, mid, inner = shape
    g = rng(1)
    x = g.standard_normal(outer * mid * inner).astype(dtype)
    y = (g.standard_normal(mid) + 3).astype(dtype)
    if op == E.BIN_DIV and reverse:
        x = x + np.where(x >= 0, dtype(0.5), dtype(-0.5))
    out = np.empty_like(x)
    got = run_threads(lambda: (E.binary_bcast(op, x, y, out, outer, mid, inner, reverse), out)[1])
    x3 = x.reshape(outer, mid, inner)
    y3 = y.reshape(1, mid, 1)
    ref = BIN_REF[op](y3, x3) if reverse else BIN_REF[op](x3, y3)
    np.testing.assert_array_equal(got, ref.ravel())


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_nan_propagation(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([nan, 1.0, nan, -inf, 2.0, 0.0, inf], dtype)
    y = np.array([1.0, nan, nan, 3.0, -inf, -0.0, nan], dtype)
    out = np.empty_like(x)
    for op, ref in [(E.BIN_MAX, np.maximum), (E.BIN_MIN, np.minimum)]:
        E.binary(op, x, y, out)
        np.testing.assert_array_equal(out, ref(x, y))
        for s in (nan, 0.5):
            E.binary_scalar(op, x, s, out)
            np.testing.assert_array_equal(out, ref(x, dtype(s)))


# ---------------------------------------------------------------------------------------------
# unary
# ---------------------------------------------------------------------------------------------

_erf = np.vectorize(math.erf, otypes=[np.float64])
_erfc = np.vectorize(math.erfc, otypes=[np.float64])


def _softplus(x, beta, thr):
    with np.errstate(over="ignore"):
        return np.where(x * beta > thr, x, np.log1p(np.exp(beta * x)) / beta)


def _sigmoid(x):
    with np.errstate(over="ignore"):
        return 1.0 / (1.0 + np.exp(-x))


K = math.sqrt(2.0 / math.pi)

# op -> (reference on float64, input generator, params, tolerance in ulps (None: exact),
#         absolute tolerance scale)
UNARY = {
    "neg": (np.negative, "normal", (), None),
    "abs": (np.abs, "normal", (), None),
    "exp": (np.exp, "wide", (), 2),
    "log": (np.log, "positive", (), 2),
    "log1p": (np.log1p, "gt-1", (), 2),
    "expm1": (np.expm1, "normal", (), 2),
    "sqrt": (np.sqrt, "positive", (), 1),
    "rsqrt": (lambda x: 1 / np.sqrt(x), "positive", (), 2),
    "sin": (np.sin, "normal", (), 2),
    "cos": (np.cos, "normal", (), 2),
    "tan": (np.tan, "tan", (), 2),
    "tanh": (np.tanh, "normal", (), 2),
    "sigmoid": (_sigmoid, "wide", (), 4),
    "relu": (lambda x: np.maximum(x, 0), "normal", (), None),
    "erf": (_erf, "normal", (), 2),
    "sign": (np.sign, "normal", (), None),
    "floor": (np.floor, "halves", (), None),
    "ceil": (np.ceil, "halves", (), None),
    "round": (np.round, "halves", (), None),
    "reciprocal": (np.reciprocal, "normal", (), 1),
    "square": (np.square, "normal", (), 1),
    "gelu": (lambda x: x * (0.5 * _erfc(-x * math.sqrt(0.5))), "normal", (), 2),
    "gelu_tanh": (
        lambda x: x / (1 + np.exp(-2 * K * (x + 0.044715 * x**3))),
        "normal",
        (),
        8,
    ),
    "silu": (lambda x: x * _sigmoid(x), "wide", (), 4),
    "softplus": (lambda x: _softplus(x, 1.5, 10.0), "normal", (1.5, 10.0), 8),
    "mish": (lambda x: x * np.tanh(np.log1p(np.exp(x))), "normal", (), 8),
    "elu": (lambda x: np.where(x > 0, x, 0.7 * np.expm1(x)), "normal", (0.7, 1.0), 4),
    "leaky_relu": (lambda x: np.where(x > 0, x, x * 0.01), "normal", (0.01,), 1),
    "hardtanh": (lambda x: np.clip(x, -0.5, 1.25), "normal", (-0.5, 1.25), None),
    "clamp": (lambda x: np.clip(x, -1.0, 0.75), "normal", (-1.0, 0.75), None),
}
UNARY.update(
    {
        "asin": (np.arcsin, "unit", (), 2),
        "acos": (np.arccos, "unit", (), 2),
        "atan": (np.arctan, "normal", (), 2),
        "sinh": (np.sinh, "normal", (), 2),
        "cosh": (np.cosh, "normal", (), 2),
        "asinh": (np.arcsinh, "normal", (), 2),
        "acosh": (np.arccosh, "gt1", (), 2),
        "atanh": (np.arctanh, "unit", (), 2),
        "log2": (np.log2, "positive", (), 2),
        "log10": (np.log10, "positive", (), 2),
        "exp2": (np.exp2, "normal", (), 2),
        "trunc": (np.trunc, "halves", (), None),
        "frac": (lambda x: x - np.trunc(x), "halves", (), None),
        "hardswish": (lambda x: x * np.clip(x + 3, 0, 6) / 6, "normal", (), 4),
        "logsigmoid": (lambda x: np.minimum(x, 0) - np.log1p(np.exp(-np.abs(x))), "wide", (), 4),
        "celu": (lambda x: np.where(x > 0, x, 0.7 * np.expm1(x / 0.7)), "normal", (0.7,), 4),
        "hardsigmoid": (lambda x: np.clip(x + 3, 0, 6) / 6, "normal", (), 1),
        "softshrink": (
            # lambd exactly representable in every dtype, so x - lambd rounds once as in the kernel
            lambda x: np.where(x > 0.5, x - 0.5, np.where(x < -0.5, x + 0.5, 0.0)),
            "normal",
            (0.5,),
            1,
        ),
        "hardshrink": (lambda x: np.where(np.abs(x) <= 0.5, 0, x), "normal", (0.5,), None),
        "threshold": (lambda x: np.where(x <= 0.25, -2.0, x), "normal", (0.25, -2.0), None),
    }
)


def test_every_table_row_has_a_reference():
    """The parametrisation is the op table: a new row without a reference here fails."""
    assert set(UNARY) == {op.name for op in _table.UNARY}
    assert all(op.ufunc for op in _table.BINARY)


UN_CODE = {op.name: op.code for op in _table.UNARY}


def unary_input(kind, n, dtype, seed=0):
    g = rng(seed)
    if kind == "normal":
        x = g.standard_normal(n) * 3
    elif kind == "wide":
        x = g.uniform(-80, 80, n) if dtype == np.float32 else g.uniform(-700, 700, n)
        x[::3] = g.standard_normal(x[::3].shape) * 4
    elif kind == "positive":
        x = np.exp(g.uniform(-20, 20, n))
    elif kind == "gt-1":
        x = np.exp(g.uniform(-20, 5, n)) - 1
    elif kind == "unit":
        x = g.uniform(-0.95, 0.95, n)
    elif kind == "gt1":
        x = 1.1 + np.exp(g.uniform(-3, 5, n))
    elif kind == "tan":
        x = g.uniform(-1.5, 1.5, n)
    elif kind == "halves":
        x = np.round(g.standard_normal(n) * 8) / 2
    return x.astype(dtype)


def unary_ref(op, x, dtype):
    ref, _, params, ulps = UNARY[op]
    with np.errstate(all="ignore"):
        if ulps is None:
            return ref(x), None
        return ref(x.astype(np.float64)), ulps


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
@pytest.mark.parametrize("op", sorted(UNARY))
def test_unary(op, n, dtype):
    _, kind, params, _ = UNARY[op]
    x = unary_input(kind, n, dtype)
    out = np.empty(n, dtype)
    got = run_threads(lambda: (E.unary(UN_CODE[op], x, out, *params), out)[1])
    ref, ulps = unary_ref(op, x, dtype)
    if ulps is None:
        np.testing.assert_array_equal(got, ref.astype(dtype))
    else:
        # ulps of the result, plus the result's sensitivity to rounding of the inputs for the
        # composite functions (an absolute term relative to the output scale)
        close(got, ref, dtype, ulps=ulps, atol=ulps * ULP[dtype] * 1e-3)


@pytest.mark.parametrize("dtype", DTYPES)
def test_unary_special_values(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([nan, inf, -inf, 0.0, -0.0, 1e-30, -1e-30, 100.0, -100.0, 1000.0, -1000.0], dtype)
    out = np.empty_like(x)
    with np.errstate(all="ignore"):
        E.unary(E.UN_EXP, x, out)
        ref = np.exp(x)
        fin = np.isfinite(ref) & (ref != 0)
        np.testing.assert_array_equal(out[~fin], ref[~fin])
        close(out[fin], ref[fin], dtype, ulps=1)
        E.unary(E.UN_SIGMOID, x, out)
        np.testing.assert_array_equal(out[:3], [nan, 1.0, 0.0])
        assert out[9] == 1.0 and out[10] == 0.0
        E.unary(E.UN_RELU, x, out)
        np.testing.assert_array_equal(out, np.where(x < 0, 0, x))
        E.unary(E.UN_SIGN, x, out)  # torch.sign(nan) == 0
        np.testing.assert_array_equal(out, np.nan_to_num(np.sign(x), nan=0.0))
        E.unary(E.UN_SILU, x, out)
        np.testing.assert_array_equal(out[:3], [nan, inf, nan])
        E.unary(E.UN_TANH, x, out)
        np.testing.assert_array_equal(out[:3], [nan, 1.0, -1.0])
        E.unary(E.UN_SOFTPLUS, x, out, 1.0, 20.0)
        np.testing.assert_array_equal(out[[0, 1, 2, 9, 10]], [nan, inf, 0.0, 1000.0, 0.0])
    # exp at the ends of the range: overflow to inf, gradual underflow
    x = np.array([88.7, 88.73, -87.5, -100.0, -104.0, 709.7, 709.8, -740.0, -746.0], dtype)
    with np.errstate(all="ignore"):
        ref = np.exp(x.astype(np.float64)).astype(dtype)
    out = np.empty_like(x)
    E.unary(E.UN_EXP, x, out)
    ok = (out == ref) | (np.abs(out.astype(np.float64) - ref) <= 2 * np.spacing(ref))
    assert ok.all(), (out, ref)


@pytest.mark.parametrize("dtype", DTYPES)
def test_clamp_nan_bounds(dtype):
    x = np.array([-3.0, -1.0, 0.0, 2.0, 5.0, np.nan], dtype)
    out = np.empty_like(x)
    E.unary(E.UN_CLAMP, x, out, np.nan, 2.5)
    np.testing.assert_array_equal(out, [-3.0, -1.0, 0.0, 2.0, 2.5, np.nan])
    E.unary(E.UN_CLAMP, x, out, -1.5, np.nan)
    np.testing.assert_array_equal(out, [-1.5, -1.0, 0.0, 2.0, 5.0, np.nan])
    E.unary(E.UN_CLAMP, x, out, 3.0, 1.0)  # min > max: everything is max (torch)
    np.testing.assert_array_equal(out[:5], [1.0] * 5)
    gy = np.ones_like(x)
    gx = np.empty_like(x)
    E.unary_backward(E.UN_CLAMP, gy, x, x, gx, np.nan, 2.5)
    np.testing.assert_array_equal(gx, [1, 1, 1, 1, 0, 0])


# the rows that save their input or output have a backward kernel
BACKWARD_OPS = [op.name for op in _table.UNARY if op.has_backward_kernel]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 37, 2 * E.PARALLEL_THRESHOLD + 3])
@pytest.mark.parametrize("op", BACKWARD_OPS)
def test_unary_backward(op, n, dtype):
    ref, kind, params, _ = UNARY[op]
    g = rng(3)
    if kind in ("wide", "normal"):
        x64 = g.standard_normal(n) * 3
    elif kind == "positive":
        x64 = np.exp(g.uniform(-3, 3, n))
    elif kind == "gt-1":
        x64 = np.exp(g.uniform(-3, 3, n)) - 1
    else:
        x64 = unary_input(kind, n, np.float64, seed=3)
    # stay away from kinks (relu, clamp, hardtanh, abs, leaky, elu)
    x64 = np.where(np.abs(x64) < 1e-2, x64 + 0.05, x64)
    for b in params:
        x64 = np.where(np.abs(x64 - b) < 1e-2, x64 + 0.05, x64)
    x = x64.astype(dtype)
    gy = rng(4).standard_normal(n).astype(dtype)
    y = np.empty_like(x)
    code = UN_CODE[op]
    E.unary(code, x, y, *params)
    gx = np.empty_like(x)
    got = run_threads(lambda: (E.unary_backward(code, gy, x, y, gx, *params), gx)[1])
    # central differences of the float64 reference at the same (rounded) inputs
    xd = x.astype(np.float64)
    h = 1e-6 * np.maximum(1.0, np.abs(xd))
    with np.errstate(all="ignore"):
        num = (ref(xd + h) - ref(xd - h)) / (2 * h) * gy.astype(np.float64)
    tol = 2e-5 if dtype == np.float32 else 1e-6
    scale = np.maximum(1.0, np.abs(num))
    err = np.abs(got.astype(np.float64) - num) / scale
    assert np.nanmax(err, initial=0.0) < tol, (op, np.nanmax(err))


def _gelu_ref(xd):
    phi = 0.5 * _erfc(-xd * math.sqrt(0.5))
    return xd * phi, phi + xd * np.exp(-0.5 * xd * xd) / math.sqrt(2 * math.pi)


@pytest.fixture(params=["tables", "erfc"])
def gelu_scheme(request):
    """Both float32 GELU schemes: the AVX-512 tables (_gelu_f32.h; the erfc scheme where the
    CPU has no AVX-512F) and the op table's erfc scheme (_ct_math.h)."""
    was = E._set_gelu_avx512(request.param == "tables")
    yield request.param
    E._set_gelu_avx512(was)


def test_gelu_float32_dense_accuracy(gelu_scheme):
    """float32 GELU over a dense grid that covers the whole range where the result is a normal
    float: max error in ulps of the result."""
    x = np.concatenate(
        [np.linspace(-14.0, 10.0, 300_001), np.linspace(-1e-3, 1e-3, 2001), [-13.3, 5.5, 9.9]]
    ).astype(np.float32)
    out = np.empty_like(x)
    got = run_threads(lambda: (E.unary(E.UN_GELU, x, out), out)[1]).astype(np.float64)
    ref, dref = _gelu_ref(x.astype(np.float64))
    normal = np.abs(ref) > np.finfo(np.float32).tiny
    ulps = np.abs(got - ref)[normal] / np.spacing(np.abs(ref[normal]).astype(np.float32))
    assert ulps.max() <= 2.5, (ulps.max(), x[normal][ulps.argmax()])
    assert ulps.mean() < 0.5
    # below the normal range the result still has a small absolute error
    assert np.abs(got - ref)[~normal].max(initial=0.0) <= 2 * 2.0**-149
    gy = np.ones_like(x)
    gx = np.empty_like(x)
    dgot = run_threads(lambda: (E.unary_backward(E.UN_GELU, gy, x, out, gx), gx)[1])
    derr = np.abs(dgot.astype(np.float64) - dref)
    assert (derr <= 4 * 2.0**-24 * np.abs(dref) + 2.0**-24).all(), derr.max()


def test_gelu_float32_schemes_in_place_and_in_pieces(gelu_scheme):
    """Each scheme gives the same bits in place, on any slice (the AVX-512 tail vectors are
    masked), and with the lanes it hands to the erfc scheme (x <= -5.875, -inf, NaN) mixed in;
    the two schemes agree to within the accuracy bound."""
    rng = np.random.default_rng(5)
    x = (rng.standard_normal(4099) * 3).astype(np.float32)
    x[::97] = -7.5
    x[5], x[6], x[7], x[8] = -np.inf, np.inf, np.nan, -5.875
    want = np.empty_like(x)
    E.unary(E.UN_GELU, x, want)
    gy = rng.standard_normal(x.size).astype(np.float32)
    gwant = np.empty_like(x)
    E.unary_backward(E.UN_GELU, gy, x, want, gwant)
    for a, b in [(0, 4099), (3, 20), (1, 4098), (17, 33), (4000, 4099)]:
        part = np.empty(b - a, np.float32)
        E.unary(E.UN_GELU, x[a:b], part)
        np.testing.assert_array_equal(part.view(np.int32), want[a:b].view(np.int32))
        gpart = np.empty(b - a, np.float32)
        E.unary_backward(E.UN_GELU, gy[a:b], x[a:b], want[a:b], gpart)
        np.testing.assert_array_equal(gpart.view(np.int32), gwant[a:b].view(np.int32))
    inplace = x.copy()
    E.unary(E.UN_GELU, inplace, inplace)
    np.testing.assert_array_equal(inplace.view(np.int32), want.view(np.int32))
    ginplace = x.copy()
    E.unary_backward(E.UN_GELU, gy, ginplace, want, ginplace)
    np.testing.assert_array_equal(ginplace.view(np.int32), gwant.view(np.int32))
    E._set_gelu_avx512(gelu_scheme != "tables")
    other = np.empty_like(x)
    E.unary(E.UN_GELU, x, other)
    ok = ~np.isnan(want)
    np.testing.assert_array_equal(np.isnan(other), ~ok)
    np.testing.assert_allclose(other[ok], want[ok], rtol=5 * 2.0**-24, atol=1e-44)


def test_erf_float32_dense_accuracy():
    """float32 erf (vectorised, see _ct_math.h): max error in ulps over a dense grid."""
    x = np.concatenate(
        [np.linspace(-6.0, 6.0, 300_001), np.linspace(-1e-3, 1e-3, 2001), [0.5, -0.5, 4.0]]
    ).astype(np.float32)
    out = np.empty_like(x)
    got = run_threads(lambda: (E.unary(E.UN_ERF, x, out), out)[1]).astype(np.float64)
    ref = _erf(x.astype(np.float64))
    nz = ref != 0
    ulps = np.abs(got - ref)[nz] / np.spacing(np.abs(ref[nz]).astype(np.float32))
    assert ulps.max() <= 2.5, (ulps.max(), x[nz][ulps.argmax()])
    assert ulps.mean() < 0.5
    sp = np.array([np.nan, np.inf, -np.inf, 0.0, -0.0, 1e-30, -1e-40, 10.0, -10.0], np.float32)
    y = np.empty_like(sp)
    E.unary(E.UN_ERF, sp, y)
    assert np.isnan(y[0])
    np.testing.assert_array_equal(y[[1, 2, 3, 4, 7, 8]], [1, -1, 0, 0, 1, -1])
    np.testing.assert_allclose(y[5:7], _erf(sp[5:7].astype(np.float64)), rtol=2.0**-22, atol=1e-44)
    assert np.signbit(y[4])


def test_gelu_special_values():
    nan, inf = np.nan, np.inf
    for dtype in DTYPES:
        x = np.array([nan, inf, -inf, 0.0, -0.0, 1e-30, -1e-30, 3e38, -3e38, 20.0, -20.0], dtype)
        y = np.empty_like(x)
        E.unary(E.UN_GELU, x, y)
        want = np.array([nan, inf, 0.0, 0.0, -0.0, 5e-31, -5e-31, 3e38, -0.0, 20.0, -0.0])
        idx = [0, 3, 4, 5, 6, 7, 8, 9]
        np.testing.assert_array_equal(y[idx], want[idx].astype(dtype))
        assert -1e-80 <= float(y[10]) <= 0.0
        if dtype == np.float32:  # float64 keeps erfc's own limits (inf * 0 at -inf)
            assert y[1] == inf and y[2] == 0.0
        assert np.signbit(y[4]) and not np.signbit(y[3])
        g = np.empty_like(x)
        E.unary_backward(E.UN_GELU, np.ones_like(x), x, y, g)
        assert np.isnan(g[0])
        np.testing.assert_array_equal(g[3:7], [0.5] * 4)
        assert g[9] == 1.0 and abs(float(g[10])) < 1e-80


def test_unary_backward_rejects_ops_without_gradient():
    x = np.ones(3)
    no_kernel = [op.code for op in _table.UNARY if not op.has_backward_kernel]
    assert E.UN_NEG in no_kernel and E.UN_FLOOR in no_kernel
    for op in (*no_kernel, 99):
        with pytest.raises(ValueError, match="unary_backward"):
            E.unary_backward(op, x, x, x, x.copy())


# ---------------------------------------------------------------------------------------------
# where / fill / copy / axpy / scale
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", SIZES)
def test_where_fill_copy_axpy_scale(n, dtype):
    g = rng(5)
    x = g.standard_normal(n).astype(dtype)
    y = g.standard_normal(n).astype(dtype)
    c = (g.random(n) < 0.5).astype(np.uint8)
    out = np.empty(n, dtype)
    got = run_threads(lambda: (E.where(c, x, y, out), out)[1])
    np.testing.assert_array_equal(got, np.where(c.astype(bool), x, y))
    got = run_threads(lambda: (E.fill(out, 2.5), out)[1])
    np.testing.assert_array_equal(got, np.full(n, 2.5, dtype))
    got = run_threads(lambda: (E.copy(x, out), out)[1])
    np.testing.assert_array_equal(got, x)

    def axpy():
        yy = y.copy()
        E.axpy(0.3, x, yy)
        return yy

    got = run_threads(axpy)
    np.testing.assert_array_equal(got, y + dtype(0.3) * x)
    got = run_threads(lambda: (E.scale(x, -1.7, out), out)[1])
    np.testing.assert_array_equal(got, x * dtype(-1.7))


def test_in_place_aliasing():
    x = rng(6).standard_normal(100003)
    ref = np.maximum(x, 0)
    E.unary(E.UN_RELU, x, x)
    np.testing.assert_array_equal(x, ref)
    ref = x + x
    E.binary(E.BIN_ADD, x, x, x)
    np.testing.assert_array_equal(x, ref)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def test_length_mismatch_raises():
    a = np.ones(5)
    b = np.ones(4)
    cases = [
        ("binary", lambda: E.binary(E.BIN_ADD, a, b, a.copy())),
        ("binary", lambda: E.binary(E.BIN_ADD, a, a, b.copy())),
        ("binary_scalar", lambda: E.binary_scalar(E.BIN_ADD, a, 1.0, b.copy())),
        ("binary_bcast", lambda: E.binary_bcast(E.BIN_ADD, a, b, a.copy(), 1, 5, 1)),
        ("binary_bcast", lambda: E.binary_bcast(E.BIN_ADD, a, a, a.copy(), 2, 5, 1)),
        ("unary", lambda: E.unary(E.UN_EXP, a, b.copy())),
        ("unary_backward", lambda: E.unary_backward(E.UN_EXP, a, a, b, a.copy())),
        ("where", lambda: E.where(np.ones(4, np.uint8), a, a, a.copy())),
        ("copy", lambda: E.copy(a, b.copy())),
        ("axpy", lambda: E.axpy(1.0, a, b.copy())),
        ("scale", lambda: E.scale(a, 2.0, b.copy())),
    ]
    for name, fn in cases:
        with pytest.raises(ValueError, match=name):
            fn()
    with pytest.raises(ValueError, match="binary"):
        E.binary(len(_table.BINARY), a, a, a.copy())
    with pytest.raises(ValueError, match="unary"):
        E.unary(len(_table.UNARY), a, a.copy())


def test_dtype_mismatch_raises():
    with pytest.raises((ValueError, TypeError)):
        E.binary(E.BIN_ADD, np.ones(3), np.ones(3, np.float32), np.ones(3))


def test_gelu_tables_match_their_generator():
    """_gelu_tables.h is tools/gen_gelu_tables.py's output, not edited by hand."""
    pytest.importorskip("scipy")
    root = Path(__file__).resolve().parents[2]
    gen = root / "tools" / "gen_gelu_tables.py"
    header = root / "src" / "ctorch" / "_core" / "_gelu_tables.h"
    if not gen.exists() or not header.exists():
        pytest.skip("needs the source tree (tools/ and src/)")
    out = subprocess.run([sys.executable, str(gen)], capture_output=True, text=True, check=True)
    # The text must match apart from the last digits of the fitted coefficients: the
    # generator's least-squares fits end in residual-sized terms (|c| ~ 1e-16 .. 1e-8) whose
    # bits depend on the LAPACK build and SciPy version it runs with (seen here: 3.4e-14 at
    # most, on coefficients up to 5.8). A hand edit changes the text or a value by far more.
    num = re.compile(r"[-+]?\d+\.\d+e[-+]\d+")
    want = header.read_text()
    assert num.sub("#", out.stdout) == num.sub("#", want)
    got_v = np.array([float(v) for v in num.findall(out.stdout)])
    want_v = np.array([float(v) for v in num.findall(want)])
    assert got_v.size == want_v.size > 100
    np.testing.assert_allclose(got_v, want_v, rtol=1e-7, atol=1e-12)
