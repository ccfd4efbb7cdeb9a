"""CPU reduction kernels (ctorch._core.reduction) against NumPy.

Every kernel runs with 1 and 2 threads; the two results must be bitwise identical (fixed
blocking).  Shapes cover single blocks, many blocks, the row-split path and odd tails.
"""

import math

import numpy as np
import pytest

from ctorch._core import _threads
from ctorch._core import reduction as R

DTYPES = [np.float32, np.float64]
ULP = {np.float32: 2.0**-23, np.float64: 2.0**-52}
BIG_ROW = R.ROW_SPLIT + 4099  # takes the split-row path (several blocks, ragged tail)


def run_threads(fn):
    """Run fn() -> array or tuple of arrays with 1 and 2 threads; require identical bits."""
    old = _threads.get_num_threads()
    try:
        _threads.set_num_threads(1)
        r1 = fn()
        r1 = tuple(np.array(a, copy=True) for a in r1) if isinstance(r1, tuple) else r1
        r1 = r1 if isinstance(r1, tuple) else (np.array(r1, copy=True),)
        _threads.set_num_threads(2)
        r2 = fn()
        r2 = tuple(np.array(a, copy=True) for a in r2) if isinstance(r2, tuple) else (r2,)
    finally:
        _threads.set_num_threads(old)
    for a, b in zip(r1, r2, strict=True):
        a, b = np.asarray(a), np.asarray(b)
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes(), "1 vs 2 threads differ"
    return r1 if len(r1) > 1 else r1[0]


def rand(n, dtype, seed=0, kind="normal"):
    g = np.random.default_rng(seed)
    if kind == "ties":
        return g.integers(-3, 4, n).astype(dtype)
    if kind == "positive":
        return g.random(n).astype(dtype)
    return g.standard_normal(n).astype(dtype)


# ---------------------------------------------------------------------------------------------
# sums
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 15, 17, 4096, 4097, 2 * R.PARALLEL_THRESHOLD + 5, 1000003])
def test_sum_all(n, dtype):
    x = rand(n, dtype)
    got = run_threads(lambda: np.float64(R.sum_all(x)))
    exact = math.fsum(x.astype(np.float64).tolist())
    assert abs(float(got) - exact) <= 1e-13 * max(1.0, np.abs(x.astype(np.float64)).sum())


# (outer, mid, inner)
AXIS_SHAPES = [
    (1, 1, 1),
    (3, 7, 1),
    (5, 1, 3),
    (1, 9, 5),
    (2, 3, 300),
    (40, 4097, 1),
    (1, 200001, 1),
    (3, 1100, 37),
    (1, 2000, 300),
    (70, 33, 20),
    (2, 5, 0),
    (0, 5, 2),
]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", AXIS_SHAPES)
def test_sum_axis(shape, dtype):
    o, m, i = shape
    for kind in ("positive", "normal"):
        x = rand(o * m * i, dtype, kind=kind)
        out = np.empty(o * i, dtype)
        got = run_threads(lambda x=x, out=out: (R.sum_axis(x, out, o, m, i), out)[1])
        x64 = x.astype(np.float64).reshape(o, m, i)
        ref = x64.sum(axis=1).ravel()
        # float32: double accumulation, then one rounding; float64: blocked lane sums
        rtol = ULP[dtype] if dtype == np.float32 else 16 * ULP[dtype]
        if kind == "positive":  # no cancellation
            np.testing.assert_allclose(got, ref, rtol=rtol, atol=0)
        else:
            bound = np.abs(x64).sum(axis=1).ravel()
            assert np.all(np.abs(got - ref) <= rtol * (np.abs(ref) + bound) + 1e-300)


def test_sum_axis_empty_mid():
    out = np.full(6, 7.0)
    R.sum_axis(np.empty(0), out, 2, 0, 3)
    np.testing.assert_array_equal(out, 0.0)


# ---------------------------------------------------------------------------------------------
# max / min
# ---------------------------------------------------------------------------------------------


def ext_ref(x3, is_min):
    with np.errstate(invalid="ignore"):
        idx = np.argmin(x3, axis=1) if is_min else np.argmax(x3, axis=1)
    vals = np.take_along_axis(x3, idx[:, None, :], axis=1)[:, 0, :]
    return vals.ravel(), idx.ravel()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in AXIS_SHAPES if s[1] > 0])
@pytest.mark.parametrize("is_min", [False, True])
@pytest.mark.parametrize("kind", ["ties", "normal", "nan"])
def test_max_min_axis(kind, is_min, shape, dtype):
    o, m, i = shape
    x = rand(o * m * i, dtype, seed=2, kind="normal" if kind == "normal" else "ties")
    if kind == "nan":
        g = np.random.default_rng(3)
        x[g.random(x.size) < 0.002] = np.nan
        x[g.random(x.size) < 0.01] = -np.inf if is_min else np.inf
    vals = np.empty(o * i, dtype)
    idx = np.empty(o * i, np.int64)
    fn = R.min_axis if is_min else R.max_axis
    gv, gi = run_threads(lambda: (fn(x, vals, idx, o, m, i), (vals, idx))[1])
    rv, ri = ext_ref(x.reshape(o, m, i), is_min)
    np.testing.assert_array_equal(gv, rv)
    np.testing.assert_array_equal(gi, ri)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_nan_semantics(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([[1, nan, 3, nan], [-inf, -inf, -inf, -inf], [2, 5, 5, 1], [nan, 0, 0, 9]], dtype)
    v = np.empty(4, dtype)
    i = np.empty(4, np.int64)
    R.max_axis(x.ravel(), v, i, 4, 4, 1)
    np.testing.assert_array_equal(v, [nan, -inf, 5, nan])
    np.testing.assert_array_equal(i, [1, 0, 1, 0])
    R.min_axis(x.ravel(), v, i, 4, 4, 1)
    np.testing.assert_array_equal(v, [nan, -inf, 1, nan])
    np.testing.assert_array_equal(i, [1, 0, 3, 0])
    # NaN deep inside a long row (another block than the maximum)
    y = rand(50000, dtype)
    y[100] = 1e6
    y[40000] = nan
    assert R.max_all(y)[1] == 40000 and math.isnan(R.max_all(y)[0])
    y[40000] = 1e6
    assert R.max_all(y) == (1e6, 100)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 17, 4097, 2 * R.PARALLEL_THRESHOLD + 5, 1000003])
def test_max_min_all(n, dtype):
    x = rand(n, dtype, seed=4, kind="ties")
    for fn, ref in [(R.max_all, np.argmax), (R.min_all, np.argmin)]:
        got = run_threads(lambda fn=fn: np.array(fn(x), dtype=np.float64))
        assert got[0] == x[ref(x)] and int(got[1]) == ref(x)
    with pytest.raises(ValueError, match="max_all"):
        R.max_all(np.empty(0, dtype))


# ---------------------------------------------------------------------------------------------
# softmax family
# ---------------------------------------------------------------------------------------------

ROW_SHAPES = [(1, 1), (3, 7), (5, 33), (64, 1000), (7, 4097), (2, BIG_ROW), (1, 3 * BIG_ROW)]
TOL = {np.float32: dict(rtol=4e-6, atol=1e-7), np.float64: dict(rtol=1e-13, atol=1e-15)}


def softmax_ref(x):
    e = np.exp(x - x.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def log_softmax_ref(x):
    s = x - x.max(axis=1, keepdims=True)
    return s - np.log(np.exp(s).sum(axis=1, keepdims=True))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
def test_softmax_log_softmax(shape, dtype):
    m, n = shape
    x = (rand(m * n, dtype, seed=5) * 4).astype(dtype)
    x64 = x.astype(np.float64).reshape(m, n)
    out = np.empty_like(x)
    got = run_threads(lambda: (R.softmax_lastdim(x, out, m, n), out)[1])
    np.testing.assert_allclose(got.reshape(m, n), softmax_ref(x64), **TOL[dtype])
    got = run_threads(lambda: (R.log_softmax_lastdim(x, out, m, n), out)[1])
    ref = log_softmax_ref(x64)
    tol = TOL[dtype]
    np.testing.assert_allclose(got.reshape(m, n), ref, rtol=tol["rtol"], atol=tol["rtol"] * 10)
    out1 = np.empty(m, dtype)
    got = run_threads(lambda: (R.logsumexp_lastdim(x, out1, m, n), out1)[1])
    mx = x64.max(axis=1)
    np.testing.assert_allclose(got, mx + np.log(np.exp(x64 - mx[:, None]).sum(axis=1)), **tol)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", ROW_SHAPES)
def test_softmax_backward(shape, dtype):
    m, n = shape
    x = rand(m * n, dtype, seed=6)
    gy = rand(m * n, dtype, seed=7)
    y = np.empty_like(x)
    R.softmax_lastdim(x, y, m, n)
    gx = np.empty_like(x)
    got = run_threads(lambda: (R.softmax_backward_lastdim(gy, y, gx, m, n), gx)[1])
    y64 = y.astype(np.float64).reshape(m, n)
    g64 = gy.astype(np.float64).reshape(m, n)
    ref = y64 * (g64 - (g64 * y64).sum(axis=1, keepdims=True))
    np.testing.assert_allclose(got.reshape(m, n), ref, rtol=1e-5, atol=1e-6 * np.abs(ref).max())

    R.log_softmax_lastdim(x, y, m, n)
    got = run_threads(lambda: (R.log_softmax_backward_lastdim(gy, y, gx, m, n), gx)[1])
    y64 = y.astype(np.float64).reshape(m, n)
    ref = g64 - np.exp(y64) * g64.sum(axis=1, keepdims=True)
    np.testing.assert_allclose(got.reshape(m, n), ref, rtol=1e-5, atol=1e-5 * np.abs(ref).max())


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_special_rows(dtype):
    nan, inf = np.nan, np.inf
    x = np.array([[-inf, -inf, -inf], [inf, 1, 2], [0, -inf, 0], [1, nan, 2], [1000, 0, -1000]])
    x = x.astype(dtype)
    out = np.empty(x.size, dtype)
    R.softmax_lastdim(x.ravel(), out, 5, 3)
    out = out.reshape(5, 3)
    assert np.isnan(out[0]).all() and np.isnan(out[1]).all() and np.isnan(out[3]).all()
    np.testing.assert_array_equal(out[2], [0.5, 0, 0.5])
    np.testing.assert_array_equal(out[4], [1, 0, 0])
    lse = np.empty(5, dtype)
    R.logsumexp_lastdim(x.ravel(), lse, 5, 3)
    assert lse[0] == -inf and lse[1] == inf and np.isnan(lse[3]) and lse[4] == 1000
    np.testing.assert_allclose(lse[2], math.log(2), rtol=1e-6)


# ---------------------------------------------------------------------------------------------
# variance
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in AXIS_SHAPES if s[1] > 0])
@pytest.mark.parametrize("correction", [0, 1])
def test_var_axis(correction, shape, dtype):
    o, m, i = shape
    x = (rand(o * m * i, dtype, seed=8) * 3 + 100).astype(dtype)  # offset: stability
    out = np.empty(o * i, dtype)
    got = run_threads(lambda: (R.var_axis(x, out, o, m, i, correction), out)[1])
    if m - correction <= 0:
        ref = np.full(o * i, np.nan)  # 0 / 0
    else:
        ref = x.astype(np.float64).reshape(o, m, i).var(axis=1, ddof=correction).ravel()
    np.testing.assert_allclose(got, ref, rtol=4 * ULP[dtype], atol=0)


# ---------------------------------------------------------------------------------------------
# validation
# ---------------------------------------------------------------------------------------------


def test_length_mismatch_raises():
    x = np.ones(12)
    cases = [
        ("sum_axis", lambda: R.sum_axis(x, np.empty(5), 3, 4, 1)),
        ("sum_axis", lambda: R.sum_axis(x, np.empty(3), 3, 5, 1)),
        ("max_axis", lambda: R.max_axis(x, np.empty(3), np.empty(2, np.int64), 3, 4, 1)),
        ("min_axis", lambda: R.min_axis(x, np.empty(4), np.empty(3, np.int64), 3, 4, 1)),
        ("softmax_lastdim", lambda: R.softmax_lastdim(x, np.empty(11), 3, 4)),
        ("log_softmax_lastdim", lambda: R.log_softmax_lastdim(x, np.empty(12), 3, 5)),
        ("softmax_backward_lastdim", lambda: R.softmax_backward_lastdim(x, x[:6], x, 3, 4)),
        ("log_softmax_backward_lastdim", lambda: R.log_softmax_backward_lastdim(x, x, x, 4, 4)),
        ("logsumexp_lastdim", lambda: R.logsumexp_lastdim(x, np.empty(4), 3, 4)),
        ("var_axis", lambda: R.var_axis(x, np.empty(2), 3, 4, 1, 1)),
        ("max_axis", lambda: R.max_axis(np.empty(0), np.empty(3), np.empty(3, np.int64), 3, 0, 1)),
    ]
    for name, fn in cases:
        with pytest.raises(ValueError, match=name):
            fn()
