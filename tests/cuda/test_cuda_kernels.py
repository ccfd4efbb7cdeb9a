"""GPU kernels against the CPU kernels (ctorch._core) and NumPy references.

Every test carries the ``cuda`` marker and skips cleanly without a usable GPU.  ``both``
runs one kernel on the CPU backend (NumPy arrays) and on the GPU backend (CuPy copies of
the same arrays) and returns every array argument of each side, so inputs, outputs and
in-place state are all compared.
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch.cuda as cuda
from ctorch import _table
from ctorch._geometry import Window2d
from ctorch.cuda.backend import FAMILIES, KernelNamespace
from ctorch.cuda.backend import kernels as gpu

pytestmark = [
    pytest.mark.cuda,
    pytest.mark.skipif(not cuda.is_available(), reason="no usable CUDA GPU"),
]

DTYPES = [np.float32, np.float64]
TOL = {np.float32: dict(rtol=3e-5, atol=3e-6), np.float64: dict(rtol=1e-11, atol=1e-13)}

cpu = KernelNamespace("ctorch._core", FAMILIES)


@pytest.fixture(scope="module")
def cp():
    return cuda.require_cupy("the GPU kernel tests")


def _to_gpu(cp, a):
    return cp.asarray(a) if isinstance(a, np.ndarray) else a


def both(cp, name, *args, **kw):
    """Run kernel ``name`` on CPU and GPU; return (cpu arrays, gpu arrays as numpy, results)."""
    c_args = [a.copy() if isinstance(a, np.ndarray) else a for a in args]
    g_args = [_to_gpu(cp, a) for a in args]
    rc = getattr(cpu, name)(*c_args, **kw)
    rg = getattr(gpu, name)(*g_args, **kw)
    cp.cuda.get_current_stream().synchronize()
    g_np = [cp.asnumpy(a) if isinstance(a, cp.ndarray) else a for a in g_args]
    return c_args, g_np, rc, rg


def assert_same(c_args, g_args, dtype, scale=1.0):
    tol = {k: v * scale for k, v in TOL[dtype].items()}
    for i, (a, b) in enumerate(zip(c_args, g_args, strict=True)):
        if isinstance(a, np.ndarray):
            if a.dtype.kind == "f":
                np.testing.assert_allclose(b, a, err_msg=f"argument {i}", **tol)
            else:
                np.testing.assert_array_equal(b, a, err_msg=f"argument {i}")


def rnd(shape, dtype, seed=0, lo=None, hi=None):
    r = np.random.default_rng(seed)
    if lo is not None:
        return r.uniform(lo, hi, size=shape).astype(dtype)
    return r.standard_normal(shape).astype(dtype)


# ------------------------------------------------------------------------------ elementwise


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 7, 1000, 40001])
@pytest.mark.parametrize("op", [op.code for op in _table.BINARY])
def test_binary(cp, dtype, n, op):
    x = rnd(n, dtype, 1)
    y = rnd(n, dtype, 2)
    if op in (gpu.BIN_POW, gpu.BIN_LOGADDEXP):
        x = np.abs(x) + dtype(0.5)
    if n > 3:
        x[1] = np.nan  # MAX/MIN propagate NaN
    c, g, _, _ = both(cp, "binary", op, x, y, np.empty(n, dtype))
    assert_same(c, g, dtype)
    ref = getattr(np, _table.BINARY[op].ufunc)  # each row names the NumPy ufunc it matches
    np.testing.assert_allclose(g[3], ref(x, y), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
def test_binary_misaligned_views(cp, dtype):
    """Views at odd offsets take the scalar (non-float4) path."""
    n = 1029
    x, y = cp.asarray(rnd(n + 1, dtype, 1)), cp.asarray(rnd(n + 3, dtype, 2))
    out = cp.empty(n + 2, dtype)
    gpu.binary(gpu.BIN_MUL, x[1:], y[3:], out[2:])
    np.testing.assert_allclose(cp.asnumpy(out[2:]), cp.asnumpy(x[1:] * y[3:]), **TOL[dtype])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("op", [op.code for op in _table.BINARY])
def test_binary_scalar(cp, dtype, reverse, op):
    x = np.abs(rnd(777, dtype, 3)) + dtype(0.1)
    c, g, _, _ = both(cp, "binary_scalar", op, x, 1.7, np.empty_like(x), reverse)
    assert_same(c, g, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(5, 7, 1), (1, 9, 33), (3, 4, 50), (64, 128, 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_binary_bcast(cp, dtype, shape, reverse):
    outer, mid, inner = shape
    x = rnd(outer * mid * inner, dtype, 4)
    y = rnd(mid, dtype, 5) + dtype(3)
    for op in (gpu.BIN_ADD, gpu.BIN_SUB, gpu.BIN_DIV, gpu.BIN_MAX):
        c, g, _, _ = both(
            cp, "binary_bcast", op, x, y, np.empty_like(x), outer, mid, inner, reverse
        )
        assert_same(c, g, dtype)


_PARAMS = {
    "SOFTPLUS": (1.5, 20.0),
    "ELU": (1.3, 0.0),
    "LEAKY_RELU": (0.02, 0.0),
    "HARDTANH": (-0.7, 0.9),
    "CLAMP": (-0.5, math.nan),
}
_POSITIVE = {"LOG", "LOG1P", "SQRT", "RSQRT", "RECIPROCAL", "LOG2", "LOG10"}
_UNIT = {"ASIN", "ACOS", "ATANH"}
_UNARY = [n for n in dir(gpu) if n.startswith("UN_")]


def _unary_input(name, dtype, n=4097):
    if name in _POSITIVE:
        return rnd(n, dtype, 6, 0.1, 4.0)
    if name == "TAN":
        return rnd(n, dtype, 6, -1.2, 1.2)
    if name in _UNIT:
        return rnd(n, dtype, 6, -0.95, 0.95)
    if name == "ACOSH":
        return rnd(n, dtype, 6, 1.1, 6.0)
    x = rnd(n, dtype, 6) * dtype(3)
    x[::97] = 0  # exact zeros (sign, relu, abs gradients)
    return x


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", _UNARY)
def test_unary(cp, dtype, name):
    op = getattr(gpu, name)
    a, b = _PARAMS.get(name[3:], (0.0, 0.0))
    x = _unary_input(name[3:], dtype)
    c, g, _, _ = both(cp, "unary", op, x, np.empty_like(x), a, b)
    assert_same(c, g, dtype, scale=4.0)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", [n for n in _UNARY if getattr(gpu, n) in gpu.UNARY_GRAD_OPS])
def test_unary_backward(cp, dtype, name):
    op = getattr(gpu, name)
    a, b = _PARAMS.get(name[3:], (0.0, 0.0))
    x = _unary_input(name[3:], dtype)
    y = np.empty_like(x)
    cpu.unary(op, x, y, a, b)
    gy = rnd(x.size, dtype, 7)
    c, g, _, _ = both(cp, "unary_backward", op, gy, x, y, np.empty_like(x), a, b)
    assert_same(c, g, dtype, scale=4.0)


@pytest.mark.parametrize("dtype", DTYPES)
def test_where_fill_copy_axpy_scale(cp, dtype):
    n = 3001
    x, y = rnd(n, dtype, 1), rnd(n, dtype, 2)
    cond = (rnd(n, np.float64, 3) > 0).astype(np.uint8)
    assert_same(*both(cp, "where", cond, x, y, np.empty_like(x))[:2], dtype)
    assert_same(*both(cp, "fill", np.empty_like(x), 2.5)[:2], dtype)
    assert_same(*both(cp, "copy", x, np.empty_like(x))[:2], dtype)
    assert_same(*both(cp, "axpy", -0.75, x, y)[:2], dtype)
    assert_same(*both(cp, "scale", x, 3.25, np.empty_like(x))[:2], dtype)


def test_length_mismatch_names_the_kernel(cp):
    x = cp.zeros(10, cp.float32)
    with pytest.raises(ValueError, match=r"binary: y has 9 elements, expected 10"):
        gpu.binary(gpu.BIN_ADD, x, x[:9], x)
    with pytest.raises(ValueError, match=r"binary: y has dtype float64"):
        gpu.binary(gpu.BIN_ADD, x, cp.zeros(10), x)
    with pytest.raises(ValueError, match=r"sum_axis: out has 3 elements, expected 2"):
        gpu.sum_axis(x, cp.zeros(3, cp.float32), 2, 5, 1)
    with pytest.raises(ValueError, match="C-contiguous"):
        gpu.copy(cp.zeros((4, 4), cp.float32)[:, 1], cp.zeros(4, cp.float32))


def test_runs_on_the_current_stream(cp):
    x = cp.arange(100000, dtype=cp.float32)
    out = cp.empty_like(x)
    s = cp.cuda.Stream(non_blocking=True)
    with s:
        gpu.unary(gpu.UN_SQUARE, x, out)
        r = out * 1
    s.synchronize()
    np.testing.assert_allclose(cp.asnumpy(r), cp.asnumpy(x) ** 2, rtol=1e-6)


# ------------------------------------------------------------------------------ reduction

_AXES = [(1, 1, 1), (1, 100000, 1), (37, 513, 1), (1, 300, 70), (4, 33, 5), (3, 2, 1000), (0, 5, 1)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [0, 1, 1000, 1 << 20])
def test_sum_all(cp, dtype, n):
    x = rnd(n, dtype, 8)
    got = gpu.sum_all(cp.asarray(x))
    assert isinstance(got, cp.ndarray) and got.shape == () and got.dtype == np.float64
    np.testing.assert_allclose(
        float(got), float(np.sum(x, dtype=np.float64)), rtol=1e-12, atol=1e-9
    )
    np.testing.assert_allclose(float(got), float(cpu.sum_all(x)), rtol=1e-12, atol=1e-9)
    assert float(gpu.sum_all(cp.asarray(x))) == float(got)  # deterministic


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", _AXES)
def test_sum_var_axis(cp, dtype, shape):
    outer, mid, inner = shape
    x = rnd(outer * mid * inner, dtype, 9) + dtype(2)
    c, g, _, _ = both(cp, "sum_axis", x, np.empty(outer * inner, dtype), outer, mid, inner)
    assert_same(c, g, dtype, scale=10)
    np.testing.assert_allclose(
        g[1], x.reshape(outer, mid, inner).sum(1, dtype=np.float64).ravel(), **TOL[dtype]
    )
    for corr in (0, 1):
        c, g, _, _ = both(
            cp, "var_axis", x, np.empty(outer * inner, dtype), outer, mid, inner, corr
        )
        assert_same(c, g, dtype, scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [s for s in _AXES if s[1] > 0])
@pytest.mark.parametrize("kind", ["max", "min"])
def test_argext_axis(cp, dtype, shape, kind):
    outer, mid, inner = shape
    r = np.random.default_rng(10)
    x = r.integers(-3, 4, size=outer * mid * inner).astype(dtype)  # many ties
    if x.size > 10:
        x[x.size // 2] = np.nan
    n = outer * inner
    c, g, _, _ = both(
        cp, f"{kind}_axis", x, np.empty(n, dtype), np.empty(n, np.int64), outer, mid, inner
    )
    assert_same(c, g, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("nan", [False, True])
def test_argext_all(cp, dtype, nan):
    x = np.random.default_rng(11).integers(-50, 50, size=200003).astype(dtype)
    if nan:
        x[150000] = x[170000] = np.nan
    for kind in ("max", "min"):
        v, i = getattr(gpu, f"{kind}_all")(cp.asarray(x))
        cv, ci = getattr(cpu, f"{kind}_all")(x)
        assert int(i) == ci
        np.testing.assert_equal(float(v), cv)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mn", [(1, 1), (7, 10), (64, 1000), (3, 5000), (2, 0)])
def test_softmax_family(cp, dtype, mn):
    m, n = mn
    x = rnd(m * n, dtype, 12) * dtype(4)
    if n > 3:
        x[:n] = -np.inf  # an all -inf row
        x[n + 1] = np.inf
    for name in ("softmax_lastdim", "log_softmax_lastdim"):
        assert_same(*both(cp, name, x, np.empty_like(x), m, n)[:2], dtype, scale=4)
    assert_same(*both(cp, "logsumexp_lastdim", x, np.empty(m, dtype), m, n)[:2], dtype, scale=4)
    x = rnd(m * n, dtype, 13)
    y = np.empty_like(x)
    gy = rnd(m * n, dtype, 14)
    cpu.softmax_lastdim(x, y, m, n)
    assert_same(
        *both(cp, "softmax_backward_lastdim", gy, y, np.empty_like(x), m, n)[:2], dtype, scale=4
    )
    cpu.log_softmax_lastdim(x, y, m, n)
    assert_same(
        *both(cp, "log_softmax_backward_lastdim", gy, y, np.empty_like(x), m, n)[:2], dtype, scale=4
    )


# ------------------------------------------------------------------------------ conv / pool

_GEOMS = [  # N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw
    (2, 3, 8, 9, 3, 3, 1, 1, 1, 1, 1, 1),
    (1, 2, 11, 7, 3, 2, 2, 3, 1, 0, 2, 1),
    (3, 1, 5, 5, 5, 5, 1, 1, 2, 2, 1, 1),
    (2, 4, 16, 16, 2, 2, 2, 2, 0, 0, 1, 1),
]


def _out(H, k, s, p, d):
    return (H + 2 * p - d * (k - 1) - 1) // s + 1


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geo", _GEOMS)
def test_im2col_col2im(cp, dtype, geo):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw = geo
    oh, ow = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    rest = (Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow),)
    x = rnd(N * C * H * W, dtype, 15)
    cols = np.empty(N * C * kh * kw * oh * ow, dtype)
    assert_same(*both(cp, "im2col", x, cols, *rest)[:2], dtype)
    cols = rnd(cols.size, dtype, 16)
    assert_same(*both(cp, "col2im", cols, np.zeros_like(x), *rest)[:2], dtype, scale=4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geo", _GEOMS)
def test_maxpool(cp, dtype, geo):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw = geo
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    oh, ow = _out(H, kh, sh, ph, dh), _out(W, kw, sw, pw, dw)
    x = rnd(N * C * H * W, dtype, 17)
    x[5] = np.nan
    n = N * C * oh * ow
    c, g, _, _ = both(
        cp,
        "maxpool2d_forward",
        x,
        np.empty(n, dtype),
        np.empty(n, np.int64),
        Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow),
    )
    assert_same(c, g, dtype)
    gy = rnd(n, dtype, 18)
    gx = np.full(x.size, 7, dtype)  # zeroed by the kernel
    assert_same(
        *both(cp, "maxpool2d_backward", gy, c[2], gx, N * C, H * W, oh * ow)[:2], dtype, scale=4
    )


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("geo", _GEOMS)
@pytest.mark.parametrize("cip,div", [(True, None), (False, None), (True, 3)])
def test_avgpool(cp, dtype, geo, cip, div):
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _ = geo
    ph, pw = min(ph, kh // 2), min(pw, kw // 2)
    oh, ow = _out(H, kh, sh, ph, 1), _out(W, kw, sw, pw, 1)
    rest = (Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow), cip, div or 0)
    x = rnd(N * C * H * W, dtype, 19)
    assert_same(
        *both(cp, "avgpool2d_forward", x, np.empty(N * C * oh * ow, dtype), *rest)[:2], dtype
    )
    gy = rnd(N * C * oh * ow, dtype, 20)
    assert_same(*both(cp, "avgpool2d_backward", gy, np.full_like(x, 5), *rest)[:2], dtype, scale=4)


# ------------------------------------------------------------------------------ normalization


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(4, 3, 25), (64, 16, 1), (2, 5, 1000)])
@pytest.mark.parametrize("affine", [True, False])
def test_batchnorm(cp, dtype, shape, affine):
    N, C, HW = shape
    x = rnd(N * C * HW, dtype, 21) * dtype(2) + dtype(1)
    w = rnd(C, dtype, 22) if affine else None
    b = rnd(C, dtype, 23) if affine else None
    c, g, _, _ = both(
        cp, "batchnorm_stats", x, np.empty(C, dtype), np.empty(C, dtype), N, C, HW, 1e-5
    )
    assert_same(c, g, dtype, scale=4)
    mean, invstd = c[1], c[2]
    assert_same(
        *both(cp, "batchnorm_apply", x, mean, invstd, w, b, np.empty_like(x), N, C, HW)[:2], dtype
    )
    gy = rnd(x.size, dtype, 24)
    for training in (True, False):
        gw = np.empty(C, dtype) if affine else None
        gb = np.empty(C, dtype) if affine else None
        c, g, _, _ = both(
            cp,
            "batchnorm_backward",
            gy,
            x,
            mean,
            invstd,
            w,
            np.empty_like(x),
            gw,
            gb,
            N,
            C,
            HW,
            training,
        )
        assert_same(c, g, dtype, scale=30)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1, 8), (33, 768), (600, 20), (3, 5000)])
@pytest.mark.parametrize("affine", [True, False])
def test_layernorm(cp, dtype, shape, affine):
    M, D = shape
    x = rnd(M * D, dtype, 25) * dtype(3) + dtype(1)
    w = rnd(D, dtype, 26) if affine else None
    b = rnd(D, dtype, 27) if affine else None
    c, g, _, _ = both(
        cp,
        "layernorm_forward",
        x,
        w,
        b,
        np.empty_like(x),
        np.empty(M, dtype),
        np.empty(M, dtype),
        M,
        D,
        1e-5,
    )
    assert_same(c, g, dtype, scale=4)
    mean, rstd = c[4], c[5]
    gy = rnd(x.size, dtype, 28)
    gw = np.empty(D, dtype) if affine else None
    gb = np.empty(D, dtype) if affine else None
    c, g, _, _ = both(
        cp, "layernorm_backward", gy, x, mean, rstd, w, np.empty_like(x), gw, gb, M, D
    )
    assert_same(c, g, dtype, scale=30)


# ------------------------------------------------------------------------------ loss


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("MC", [(1, 2), (64, 10), (7, 1000)])
@pytest.mark.parametrize("weighted", [False, True])
@pytest.mark.parametrize("smoothing", [0.0, 0.1])
def test_cross_entropy(cp, dtype, MC, weighted, smoothing):
    M, C = MC
    r = np.random.default_rng(29)
    logits = rnd(M * C, dtype, 30) * dtype(3)
    target = r.integers(0, C, size=M).astype(np.int64)
    target[::3] = -100
    w = (rnd(C, dtype, 31, 0.5, 2.0)) if weighted else None
    c, g, _, _ = both(
        cp,
        "cross_entropy_forward",
        logits,
        target,
        w,
        np.empty_like(logits),
        np.empty(M, dtype),
        M,
        C,
        -100,
        smoothing,
    )
    assert_same(c, g, dtype, scale=4)
    logprob = c[3]
    grow = rnd(M, dtype, 32)
    c, g, _, _ = both(
        cp,
        "cross_entropy_backward",
        logprob,
        target,
        w,
        grow,
        np.empty_like(logits),
        M,
        C,
        -100,
        smoothing,
    )
    assert_same(c, g, dtype, scale=4)


# ------------------------------------------------------------------------------ nnmisc


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pad", [-1, 3])
def test_embedding_backward(cp, dtype, pad):
    V, D, n = 50, 17, 3000
    idx = np.random.default_rng(33).integers(0, V, size=n).astype(np.int64)
    gy = rnd(n * D, dtype, 34)
    c, g, _, _ = both(cp, "embedding_backward", gy, idx, np.full(V * D, 9, dtype), n, D, pad)
    assert_same(c, g, dtype, scale=10)
    g2 = cp.full(V * D, 9, dtype)
    gpu.embedding_backward(cp.asarray(gy), cp.asarray(idx), g2, n, D, pad)
    np.testing.assert_array_equal(cp.asnumpy(g2), g[2])  # deterministic: bitwise
    gpu.embedding_backward_atomic(cp.asarray(gy), cp.asarray(idx), g2, n, D, pad)
    np.testing.assert_allclose(cp.asnumpy(g2), g[2], **{k: v * 10 for k, v in TOL[dtype].items()})


@pytest.mark.parametrize("dtype", DTYPES)
def test_dropout_and_rng(cp, dtype):
    u = rnd(10001, dtype, 35, 0.0, 1.0)
    assert_same(*both(cp, "dropout_mask", u, np.empty_like(u), 0.3, 1 / 0.7)[:2], dtype)
    state = cuda.get_rng_state()
    try:
        cuda.manual_seed(42)
        a = cp.empty(1 << 20, dtype)
        gpu.uniform_(a)
        b = cp.empty(1 << 20, dtype)
        gpu.uniform_(b)
        cuda.manual_seed(42)
        a2 = cp.empty(1 << 20, dtype)
        gpu.uniform_(a2)
        assert cp.array_equal(a, a2) and not cp.array_equal(a, b)
        an = cp.asnumpy(a)
        assert an.min() >= 0 and an.max() < 1
        assert abs(an.mean() - 0.5) < 3e-3 and abs(an.var() - 1 / 12) < 3e-3
        m = cp.empty(1 << 20, dtype)
        cuda.manual_seed(42)
        gpu.dropout_mask_rng(m, 0.25, 4 / 3)
        ref = cp.where(a >= dtype(0.25), dtype(4 / 3), dtype(0))
        assert cp.array_equal(m, ref)  # same (seed, offset) stream as uniform_
    finally:
        cuda.set_rng_state(state)


# ------------------------------------------------------------------------------ optim


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize(
    "cfg",
    [
        dict(momentum=0.0, dampening=0.0, weight_decay=0.0, nesterov=False, maximize=False),
        dict(momentum=0.9, dampening=0.1, weight_decay=1e-2, nesterov=False, maximize=True),
        dict(momentum=0.9, dampening=0.0, weight_decay=0.0, nesterov=True, maximize=False),
    ],
)
def test_sgd(cp, dtype, cfg):
    n = 5003
    p, grad, buf = rnd(n, dtype, 36), rnd(n, dtype, 37), np.zeros(n, dtype)
    for first in (True, False):
        c, g, _, _ = both(
            cp,
            "sgd_step",
            p,
            grad,
            buf,
            0.1,
            cfg["momentum"],
            cfg["dampening"],
            cfg["weight_decay"],
            cfg["nesterov"],
            cfg["maximize"],
            first,
        )
        assert_same(c, g, dtype, scale=4)
        p, buf = c[0], c[2]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("amsgrad", [False, True])
@pytest.mark.parametrize("decoupled", [False, True])
@pytest.mark.parametrize("maximize", [False, True])
def test_adam(cp, dtype, amsgrad, decoupled, maximize):
    n = 4099
    p, grad = rnd(n, dtype, 38), rnd(n, dtype, 39)
    m, v, vmax = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    for step in (1, 2, 3):
        c, g, _, _ = both(
            cp,
            "adam_step",
            p,
            grad,
            m,
            v,
            vmax if amsgrad else None,
            1e-3,
            0.9,
            0.999,
            1e-8,
            1e-2,
            step,
            amsgrad,
            maximize,
            decoupled,
        )
        assert_same(c, g, dtype, scale=10)
        p, m, v = c[0], c[2], c[3]
        if amsgrad:
            vmax = c[4]
        grad = rnd(n, dtype, 40 + step)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("centered", [False, True])
@pytest.mark.parametrize("momentum", [0.0, 0.9])
def test_rmsprop(cp, dtype, centered, momentum):
    n = 3001
    p, grad = rnd(n, dtype, 44), rnd(n, dtype, 45)
    sa, ga, mb = np.zeros(n, dtype), np.zeros(n, dtype), np.zeros(n, dtype)
    c, g, _, _ = both(
        cp,
        "rmsprop_step",
        p,
        grad,
        sa,
        ga if centered else None,
        mb if momentum else None,
        1e-2,
        0.99,
        1e-8,
        1e-3,
        momentum,
        centered,
        False,
    )
    assert_same(c, g, dtype, scale=10)


@pytest.mark.parametrize("dtype", DTYPES)
def test_adagrad_adadelta(cp, dtype):
    n = 3001
    p, grad = rnd(n, dtype, 46), rnd(n, dtype, 47)
    c, g, _, _ = both(
        cp, "adagrad_step", p, grad, np.full(n, 0.1, dtype), 1e-2, 1e-3, 1e-4, 1e-10, 3, True
    )
    assert_same(c, g, dtype, scale=10)
    c, g, _, _ = both(
        cp,
        "adadelta_step",
        p,
        grad,
        np.zeros(n, dtype),
        np.zeros(n, dtype),
        1.0,
        0.9,
        1e-6,
        1e-3,
        False,
    )
    assert_same(c, g, dtype, scale=10)


# ------------------------------------------------------------------------------ runtime API


def test_runtime_api(cp):
    assert cuda.device_count() >= 1
    dev = cuda.current_device()
    cuda.set_device(dev)
    assert isinstance(cuda.get_device_name(), str) and cuda.get_device_name()
    cuda.synchronize()
    cuda.empty_cache()
    cuda.reset_peak_memory_stats()
    base = cuda.memory_allocated()
    a = cp.empty(64 << 20, dtype=cp.uint8)
    assert cuda.memory_allocated() >= base + (64 << 20)
    del a
    assert cuda.max_memory_allocated() >= base + (64 << 20)
    cuda.reset_peak_memory_stats()
    assert cuda.max_memory_allocated() == cuda.memory_allocated()


def test_modules_are_memoized(cp):
    from ctorch.cuda import _loader

    f1 = _loader.get_function("elementwise", "binary_kernel", np.float32)
    f2 = _loader.get_function("elementwise", "binary_kernel", np.dtype("float32"))
    assert f1 is f2
    assert _loader.get_module("elementwise") is _loader.get_module("elementwise")
