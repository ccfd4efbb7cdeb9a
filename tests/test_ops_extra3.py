"""The top-level ops of issues #13/#14 (ops/scan_extremes.py, matrix_build.py, statistics.py,
bits.py): forward vs torch (and NumPy where it has the op), gradients by float64 finite
differences and vs torch, methods/in-place/out=, and torch's errors."""

from __future__ import annotations

import re

import numpy as np
import pytest
from helpers import assert_close, check_op

import ctorch

torch = pytest.importorskip("torch")

NAN, INF = float("nan"), float("inf")


def _both(a):
    return ctorch.tensor(a), torch.tensor(a)


# ------------------------------------------------------------------ cummax / cummin
@pytest.mark.parametrize("name", ["cummax", "cummin"])
@pytest.mark.parametrize(("shape", "dim"), [((7,), 0), ((3, 5), 1), ((3, 5), -2), ((2, 0, 3), 1)])
def test_cum_extreme_forward_and_grad(name, shape, dim):
    check_op(lambda lib, x: getattr(lib, name)(x, dim), [shape])
    check_op(lambda lib, x: getattr(x, name)(dim=dim), [shape], grad=False)


@pytest.mark.parametrize("name", ["cummax", "cummin"])
def test_cum_extreme_nan_ties_ints_0d(name):
    a = np.array([[1, 3, NAN, 2, 5, NAN, 1], [2, 2, 1, 2, 0, -1, 3]], np.float32)
    c, t = _both(a)
    r, e = getattr(ctorch, name)(c, 1), getattr(torch, name)(t, 1)
    assert_close(r.values, e.values)
    assert_close(r.indices, e.indices)
    for arr in (np.array([3, 1, 3, 0, 5, 5], np.int64), np.array([True, False, True])):
        c, t = _both(arr)
        r, e = getattr(ctorch, name)(c, 0), getattr(torch, name)(t, 0)
        assert_close(r.values, e.values)
        assert_close(r.indices, e.indices)
    r = getattr(ctorch, name)(ctorch.tensor(2.5), 0)
    assert r.values.item() == 2.5 and r.indices.item() == 0 and r.indices.dim() == 0
    assert type(r).__name__ == name and r.values.grad_fn is None


def test_cum_extreme_grad_fn_and_ties_grad():
    x = ctorch.tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
    t = torch.tensor([1.0, 3.0, 3.0, 2.0, 3.0], requires_grad=True)
    v = ctorch.cummax(x, 0).values
    assert type(v.grad_fn).__name__ == "CummaxBackward0"
    g = np.arange(5.0, dtype=np.float32)
    v.backward(ctorch.tensor(g))
    torch.cummax(t, 0).values.backward(torch.tensor(g))
    assert_close(x.grad, t.grad)


def test_cum_extreme_errors():
    with pytest.raises(IndexError):
        ctorch.cummax(ctorch.ones(3), 1)
    with pytest.raises(TypeError, match="cummin"):
        ctorch.cummin([1, 2], 0)


# ------------------------------------------------------------------ addr / addbmm
@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (0.5, 2.0), (0, -1.5)])
def test_addr(beta, alpha):
    # beta == 0: the input is not used (ctorch records no gradient for it, as its addmm)
    gi = [1, 2] if beta == 0 else None
    check_op(
        lambda lib, m, a, b: lib.addr(m, a, b, beta=beta, alpha=alpha),
        [(3, 4), (3,), (4,)],
        grad_inputs=gi,
    )
    check_op(
        lambda lib, m, a, b: m.addr(a, b, beta=beta, alpha=alpha),
        [(4,), (3,), (4,)],
        grad_inputs=gi,
    )


def test_addr_beta_zero_ignores_nan_and_inplace_out():
    m = np.full((2, 3), NAN, np.float32)
    a, b = np.array([1.0, 2.0], np.float32), np.array([1.0, -1.0, 0.5], np.float32)
    r = ctorch.addr(ctorch.tensor(m), ctorch.tensor(a), ctorch.tensor(b), beta=0)
    assert_close(r, np.outer(a, b))
    x = ctorch.zeros(2, 3)
    assert x.addr_(ctorch.tensor(a), ctorch.tensor(b), alpha=2) is x
    assert_close(x, 2 * np.outer(a, b))
    out = ctorch.empty(0)
    ctorch.addr(ctorch.zeros(2, 3), ctorch.tensor(a), ctorch.tensor(b), out=out)
    assert_close(out, np.outer(a, b))
    ia, ib = np.array([1, 2]), np.array([3, 4, 5])
    assert_close(
        ctorch.addr(ctorch.zeros(2, 3, dtype=ctorch.long), ctorch.tensor(ia), ctorch.tensor(ib)),
        torch.addr(torch.zeros(2, 3, dtype=torch.long), torch.tensor(ia), torch.tensor(ib)),
    )


def test_addr_errors():
    with pytest.raises(RuntimeError, match="addr: Expected 1-D argument vec1"):
        ctorch.addr(ctorch.zeros(3, 3), ctorch.ones(3, 1), ctorch.ones(3))
    with pytest.raises(RuntimeError):
        ctorch.addr(ctorch.zeros(2, 3), ctorch.ones(3), ctorch.ones(3))
    with pytest.raises(RuntimeError, match="beta must not be a floating"):
        ctorch.addr(
            ctorch.zeros(3, 3, dtype=ctorch.long),
            ctorch.ones(3).long(),
            ctorch.ones(3).long(),
            beta=0.5,
        )


@pytest.mark.parametrize(("beta", "alpha"), [(1, 1), (0.5, 2.0)])
@pytest.mark.parametrize("b", [3, 1, 0])
def test_addbmm(beta, alpha, b):
    check_op(
        lambda lib, m, x, y: lib.addbmm(m, x, y, beta=beta, alpha=alpha),
        [(2, 4), (b, 2, 3), (b, 3, 4)],
    )
    check_op(lambda lib, m, x, y: m.addbmm(x, y), [(4,), (b, 2, 3), (b, 3, 4)])


def test_addbmm_inplace_and_errors():
    x, y = ctorch.ones(2, 2, 3), ctorch.ones(2, 3, 2)
    m = ctorch.ones(2, 2)
    assert m.addbmm_(x, y, beta=2) is m
    assert_close(m, np.full((2, 2), 8.0, np.float32))
    with pytest.raises(RuntimeError, match="batch1 must be a 3D tensor"):
        ctorch.addbmm(m, ctorch.ones(2, 2), y)
    with pytest.raises(RuntimeError, match="same number of batches, got 2 and 3"):
        ctorch.addbmm(m, x, ctorch.ones(3, 3, 2))
    with pytest.raises(RuntimeError, match=r"Incompatible matrix sizes for bmm \(2x3 and 2x2\)"):
        ctorch.addbmm(m, x, ctorch.ones(2, 2, 2))


# ------------------------------------------------------------------ block_diag / vander / tri
def test_block_diag():
    check_op(lambda lib, a, b, c: lib.block_diag(a, b, c), [(2, 3), (4,), (1, 2)])
    check_op(lambda lib, a, b: lib.block_diag(a, b), [(), (0, 3)])
    got = ctorch.block_diag(ctorch.tensor([1, 2]), ctorch.tensor([[0.5]]))
    assert_close(got, torch.block_diag(torch.tensor([1, 2]), torch.tensor([[0.5]])))
    assert_close(ctorch.block_diag(), torch.block_diag())
    with pytest.raises(RuntimeError, match="Input 1 has 3 dimensions"):
        ctorch.block_diag(ctorch.ones(2), ctorch.ones(1, 1, 1))


@pytest.mark.parametrize("n", [None, 0, 1, 4])
@pytest.mark.parametrize("inc", [False, True])
def test_vander(n, inc):
    # torch's vander records an in-place cumprod_ on a slice and cannot run backward (and has
    # no grad_fn for N <= 1): forward vs torch, gradient by finite differences only
    check_op(lambda lib, x: lib.vander(x, N=n, increasing=inc), [(5,)], grad=False)
    check_op(lambda lib, x: lib.vander(x, n, inc), [np.array([2, -3, 0, 1])])
    check_op(lambda lib, x: lib.vander(x, n), [np.array([True, False])])
    x = ctorch.tensor([0.5, -1.5, 2.0, 0.0], dtype=ctorch.float64, requires_grad=True)
    if n is None or n > 1:
        assert ctorch.autograd.gradcheck(lambda v: ctorch.vander(v, n, inc), (x,))
    if n is None:
        np.testing.assert_allclose(
            ctorch.vander(ctorch.tensor([1.0, 2.0, 3.0]), increasing=inc).numpy(),
            np.vander(np.array([1.0, 2.0, 3.0]), increasing=inc),
        )


def test_vander_errors():
    with pytest.raises(RuntimeError, match="one-dimensional"):
        ctorch.vander(ctorch.ones(2, 2))
    with pytest.raises(RuntimeError, match="N must be non-negative"):
        ctorch.vander(ctorch.ones(2), N=-1)


@pytest.mark.parametrize("name", ["tril_indices", "triu_indices"])
@pytest.mark.parametrize(
    ("r", "c", "off"), [(3, 3, 0), (3, 4, 1), (4, 3, -2), (0, 3, 0), (3, 5, 9)]
)
def test_tri_indices(name, r, c, off):
    assert_close(getattr(ctorch, name)(r, c, off), getattr(torch, name)(r, c, off))
    got = getattr(ctorch, name)(r, c, off, dtype=ctorch.int32)
    assert_close(got, getattr(torch, name)(r, c, off, dtype=torch.int32))


def test_tri_indices_errors():
    with pytest.raises(RuntimeError, match="row must be non-negative, got-1"):
        ctorch.tril_indices(-1, 3)
    with pytest.raises(RuntimeError, match="col must be non-negative"):
        ctorch.triu_indices(2, -3)
    with pytest.raises(NotImplementedError, match="tril_indices"):
        ctorch.tril_indices(3, 3, dtype=ctorch.float32)


# ------------------------------------------------------------------ renorm / pdist
@pytest.mark.parametrize(
    ("p", "dim", "maxnorm"), [(2, 0, 1.0), (1, 1, 0.5), (3.5, -1, 2.0), (INF, 0, 1.0)]
)
def test_renorm(p, dim, maxnorm):
    check_op(lambda lib, x: lib.renorm(x, p, dim, maxnorm), [(4, 3)])
    check_op(lambda lib, x: x.renorm(p, dim, maxnorm), [(2, 3, 4)], low=-0.3, high=0.3)


def test_renorm_inplace_and_errors():
    a = np.random.default_rng(1).normal(size=(3, 4)).astype(np.float32)
    c, t = _both(a)
    assert c.renorm_(2, 0, 0.5) is c
    assert_close(c, t.renorm_(2, 0, 0.5))
    with pytest.raises(RuntimeError, match="at least 2 dimensions, got 1"):
        ctorch.renorm(ctorch.ones(3), 2, 0, 1)
    with pytest.raises(RuntimeError, match="non-positive-norm"):
        ctorch.renorm(ctorch.ones(3, 1), 0, 0, 1)
    with pytest.raises(RuntimeError, match="maxnorm to be >= 0 but got -1"):
        ctorch.renorm(ctorch.ones(3, 1), 2, 0, -1)
    with pytest.raises(RuntimeError, match="floating point"):
        ctorch.renorm(ctorch.ones(3, 1).long(), 2, 0, 1)
    with pytest.raises(IndexError):
        ctorch.renorm(ctorch.ones(3, 1), 2, 2, 1)


@pytest.mark.parametrize("p", [2.0, 1.0, 0.5, 3.0, INF, 0.0])
@pytest.mark.parametrize("n", [5, 2, 1, 0])
def test_pdist(p, n):
    # torch 2.13 segfaults in pdist's backward with 0 rows (p != 0): forward only there
    check_op(lambda lib, x: lib.pdist(x, p), [(n, 3)], gradcheck=p != 0.0, grad=n > 0)
    if n == 0:
        x = ctorch.ones(0, 3, requires_grad=True)
        ctorch.pdist(x, p).sum().backward()
        assert x.grad.shape == (0, 3)
    check_op(lambda lib, x: lib.nn.functional.pdist(x, p), [(n, 3)], grad=False)


def test_pdist_errors():
    with pytest.raises(RuntimeError, match="pdist only supports 2D tensors, got: 1D"):
        ctorch.pdist(ctorch.ones(3))
    with pytest.raises(RuntimeError, match="non-negative p"):
        ctorch.pdist(ctorch.ones(3, 2), -1)
    with pytest.raises(RuntimeError, match="floating-point"):
        ctorch.pdist(ctorch.ones(3, 2).long())


# ------------------------------------------------------------------ cov / corrcoef / histc
@pytest.mark.parametrize("shape", [(3, 6), (6,), (1, 4), (2, 1)])
@pytest.mark.parametrize("correction", [1, 0, 2])
def test_cov(shape, correction):
    # no degrees of freedom left (one observation, correction > 0): NaN, no gradient to check
    nan = shape[-1] - correction <= 0
    check_op(lambda lib, x: lib.cov(x, correction=correction), [shape], gradcheck=not nan)
    if shape != (2, 1):
        check_op(lambda lib, x: x.corrcoef(), [shape])


def test_cov_weights_and_np():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(3, 5))
    fw = np.array([1, 2, 0, 3, 1])
    aw = rng.uniform(0.1, 1.0, size=5)
    check_op(
        lambda lib, a, f, w: lib.cov(a, fweights=f, aweights=w),
        [x, fw, aw],
        grad_inputs=[0, 2],
        dtype=np.float64,
    )
    check_op(
        lambda lib, a, f: lib.cov(a, fweights=f, correction=0),
        [x, fw],
        grad_inputs=[0],
        dtype=np.float64,
    )
    np.testing.assert_allclose(
        ctorch.cov(
            ctorch.tensor(x), fweights=ctorch.tensor(fw), aweights=ctorch.tensor(aw)
        ).numpy(),
        np.cov(x, fweights=fw, aweights=aw),
    )
    np.testing.assert_allclose(
        ctorch.corrcoef(ctorch.tensor(x)).numpy(), np.corrcoef(x), atol=1e-12
    )
    ints = np.array([[1, 4, 2], [3, 3, 9]])
    assert_close(ctorch.cov(ctorch.tensor(ints)), torch.cov(torch.tensor(ints)))
    assert_close(ctorch.corrcoef(ctorch.tensor(ints)), torch.corrcoef(torch.tensor(ints)))


def test_cov_degenerate():
    with pytest.warns(UserWarning, match="degrees of freedom is <= 0"):
        r = ctorch.cov(ctorch.tensor([1.0]))
    assert np.isnan(r.item())
    with pytest.warns(UserWarning):
        assert_close(ctorch.cov(ctorch.ones(2, 0)), torch.cov(torch.ones(2, 0)))


def test_cov_errors():
    x = ctorch.ones(3)
    cases = [
        (lambda: ctorch.cov(ctorch.tensor([True])), "bool dtype is not supported"),
        (
            lambda: ctorch.cov(ctorch.ones(2, 2, 2)),
            "two or fewer dimensions but got an input with 3",
        ),
        (lambda: ctorch.cov(x, fweights=ctorch.ones(3)), "fweights to have integral dtype"),
        (lambda: ctorch.cov(x, fweights=ctorch.tensor([1, 2])), "same numel .* 2 != 3"),
        (
            lambda: ctorch.cov(x, aweights=ctorch.tensor([1, 2, 3])),
            "aweights to have floating point",
        ),
        (
            lambda: ctorch.cov(x, aweights=ctorch.tensor([-1.0, 2, 3])),
            "aweights cannot be negative",
        ),
        (lambda: ctorch.cov(x, fweights=ctorch.tensor([-1, 2, 3])), "fweights cannot be negative"),
        (lambda: ctorch.cov(x, fweights=ctorch.tensor([0, 0, 0])), "weights sum to zero"),
    ]
    for fn, msg in cases:
        with pytest.raises(RuntimeError, match=msg):
            fn()


@pytest.mark.parametrize(
    ("bins", "lo", "hi"), [(100, 0, 0), (4, 0, 0), (7, -1.0, 0.5), (3, 2.0, 2.0), (5, -3, 3)]
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_histc(bins, lo, hi, dtype):
    a = np.random.default_rng(0).normal(size=(50,)).astype(dtype)
    a[:5] = [0.0, 0.5, -1.0, 2.0, 2.0]
    for arr in (a, a.reshape(5, 10), a[:0], np.array(1.25, dtype)):
        c, t = _both(arr)
        assert_close(ctorch.histc(c, bins, lo, hi), torch.histc(t, bins, lo, hi), atol=0, rtol=0)
        assert_close(
            c.histc(bins=bins, min=lo, max=hi), torch.histc(t, bins, lo, hi), atol=0, rtol=0
        )


def test_histc_nan_in_range_and_errors():
    c, t = _both(np.array([1.0, NAN, 2.0], np.float32))
    assert_close(ctorch.histc(c, 4, 0, 3), torch.histc(t, 4, 0, 3))
    with pytest.raises(RuntimeError, match="is not finite"):
        ctorch.histc(c, 4)
    with pytest.raises(RuntimeError, match="is not finite"):
        ctorch.histc(ctorch.tensor([1.0, INF]), 4)
    with pytest.raises(RuntimeError, match="bins must be > 0"):
        ctorch.histc(ctorch.ones(3), -1)
    with pytest.raises(RuntimeError, match="max must be larger than min"):
        ctorch.histc(ctorch.ones(3), 4, 2, 1)
    with pytest.raises(NotImplementedError, match="histogram_cpu"):
        ctorch.histc(ctorch.tensor([1, 2]))
    x = ctorch.ones(3, requires_grad=True)
    assert not ctorch.histc(x, 3).requires_grad


# ------------------------------------------------------------------ bits
_INTS = [np.int64, np.int32, np.int16, np.uint8]


@pytest.mark.parametrize("name", ["gcd", "lcm"])
@pytest.mark.parametrize("dt", _INTS)
def test_gcd_lcm(name, dt):
    rng = np.random.default_rng(0)
    lo = 0 if dt == np.uint8 else -30
    a = rng.integers(lo, 30, size=(4, 5)).astype(dt)
    b = rng.integers(lo, 30, size=(5,)).astype(dt)
    a[0, :2] = 0
    b[:2] = [0, 7]
    check_op(lambda lib, x, y: getattr(lib, name)(x, y), [a, b])
    check_op(lambda lib, x, y: getattr(x, name)(y), [a, b])
    check_op(lambda lib, x, y: getattr(x.clone(), name + "_")(y), [a, b])
    ref = np.gcd(a, b) if name == "gcd" else np.lcm(a, b)
    np.testing.assert_array_equal(
        getattr(ctorch, name)(ctorch.tensor(a), ctorch.tensor(b)).numpy(), ref
    )


def test_gcd_mixed_and_errors():
    c = ctorch.gcd(ctorch.tensor([4, 6]), ctorch.tensor([6, 9], dtype=ctorch.int32))
    assert_close(c, torch.gcd(torch.tensor([4, 6]), torch.tensor([6, 9], dtype=torch.int32)))
    with pytest.raises(NotImplementedError, match="gcd_cpu.*Float"):
        ctorch.gcd(ctorch.tensor([1.0]), ctorch.tensor([2]))
    with pytest.raises(NotImplementedError, match="lcm_cpu.*Bool"):
        ctorch.lcm(ctorch.tensor([True]), ctorch.tensor([True]))


@pytest.mark.parametrize("name", ["bitwise_left_shift", "bitwise_right_shift"])
@pytest.mark.parametrize("dt", [np.int64, np.int32, np.int8, np.uint8])
def test_shifts(name, dt):
    bits = np.dtype(dt).itemsize * 8
    lo = 0 if dt == np.uint8 else -100
    a = np.random.default_rng(0).integers(lo, 100, size=(12,)).astype(dt)
    s = np.array([0, 1, 3, bits - 1, bits, bits + 5, 2, 1, 0, 4, 5, 6]).astype(dt)
    if dt != np.uint8:
        s[-1] = -1
    check_op(lambda lib, x, y: getattr(lib, name)(x, y), [a, s])
    check_op(lambda lib, x, y: getattr(x, name)(y), [a, s[:1]])
    check_op(lambda lib, x, y: getattr(x.clone(), name + "_")(y), [a, s])
    check_op(lambda lib, x: getattr(lib, name)(x, 2), [a])
    check_op(lambda lib, x: getattr(lib, name)(3, x), [np.abs(s[:4])])


def test_shift_operators():
    a = np.array([1, -8, 5])
    c, t = _both(a)
    assert_close(c << 2, t << 2)
    assert_close(c >> 1, t >> 1)
    assert_close(3 << ctorch.tensor([1, 2]), 3 << torch.tensor([1, 2]))
    assert_close(64 >> ctorch.tensor([1, 2]), 64 >> torch.tensor([1, 2]))
    c <<= 1
    t <<= 1
    assert_close(c, t)
    c >>= 2
    t >>= 2
    assert_close(c, t)
    with pytest.raises(NotImplementedError, match="lshift_cpu"):
        ctorch.ones(2) << 1


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_nextafter(dt):
    a = np.array([0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 1e-38, 3.0], dt)
    b = np.array([1.0, -1.0, 2.0, 0.0, 0.0, 0.0, 1.0, 0.0, 3.0], dt)
    check_op(lambda lib, x, y: lib.nextafter(x, y), [a, b], atol=0, rtol=0)
    check_op(lambda lib, x, y: x.nextafter(y), [a, b[:1]], atol=0, rtol=0)
    check_op(lambda lib, x, y: x.clone().nextafter_(y), [a, b], atol=0, rtol=0)
    np.testing.assert_array_equal(
        ctorch.nextafter(ctorch.tensor(a), ctorch.tensor(b)).numpy(), np.nextafter(a, b)
    )
    assert_close(
        ctorch.nextafter(ctorch.tensor(a[:3]), ctorch.tensor(b[:3].astype(np.float64))),
        torch.nextafter(torch.tensor(a[:3]), torch.tensor(b[:3].astype(np.float64))),
    )
    with pytest.raises(NotImplementedError, match="nextafter_cpu.*Long"):
        ctorch.nextafter(ctorch.tensor([1]), ctorch.tensor([2]))


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.uint8])
def test_heaviside(dt):
    a = np.array([-2 if dt != np.uint8 else 9, 0, 3, 0, 1], dt)
    v = np.array([5, 7, 1, 0, 2], dt)
    check_op(lambda lib, x, y: lib.heaviside(x, y), [a, v])
    check_op(lambda lib, x, y: x.heaviside(y), [a, v[:1]])
    check_op(lambda lib, x, y: x.clone().heaviside_(y), [a, v])


def test_heaviside_nan_and_errors():
    c, t = _both(np.array([NAN, -0.0, -INF, INF], np.float32))
    v = np.array([2.0], np.float32)
    assert_close(ctorch.heaviside(c, ctorch.tensor(v)), torch.heaviside(t, torch.tensor(v)))
    with pytest.raises(RuntimeError, match="different dtypes"):
        ctorch.heaviside(ctorch.ones(2), ctorch.ones(2).double())


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_copysign(dt):
    a = np.array([1.0, -2.0, 0.0, -0.0, INF, NAN, 3.0, 0.5], dt)
    b = np.array([-1.0, 0.0, -0.0, -3.0, -1.0, -1.0, NAN, INF], dt)
    check_op(lambda lib, x, y: lib.copysign(x, y), [a, b], gradcheck=False)
    check_op(lambda lib, x, y: lib.copysign(x, y), [(3, 4), (4,)])
    check_op(lambda lib, x: x.copysign(-1), [(3, 4)])
    check_op(lambda lib, x, y: x.clone().copysign_(y), [(3, 4), (3, 4)])
    np.testing.assert_array_equal(
        ctorch.copysign(ctorch.tensor(a), ctorch.tensor(b)).numpy(), np.copysign(a, b)
    )


def test_copysign_dtypes_and_grad_fn():
    i = np.array([1, -2, 3])
    for args in ((i, i), (i, np.array([-1.0]))):
        assert_close(
            ctorch.copysign(*map(ctorch.tensor, args)), torch.copysign(*map(torch.tensor, args))
        )
    assert_close(ctorch.copysign(ctorch.tensor(i), -1), torch.copysign(torch.tensor(i), -1))
    x = ctorch.tensor([1.0, -2.0, 0.0], requires_grad=True)
    o = ctorch.tensor([-1.0, 0.0, -0.0], requires_grad=True)
    z = ctorch.copysign(x, o)
    assert type(z.grad_fn).__name__ == "CopysignBackward0"
    z.sum().backward()
    assert_close(x.grad, np.array([-1.0, -1.0, 0.0], np.float32))
    assert_close(o.grad, np.zeros(3, np.float32))


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_ldexp(dt):
    # torch's LdexpBackward takes pow(2, other) in the exponent's integer dtype: 2 ** -2 = 0, a
    # zero gradient for negative integer exponents; ctorch's (2.0 ** other) is the true one
    check_op(lambda lib, x, e: lib.ldexp(x, e), [(3, 4), np.array([1, 2, 0, 5])], dtype=dt)
    x = ctorch.tensor(np.ones((2, 3), dt), requires_grad=True)
    ctorch.ldexp(x, ctorch.tensor([-2, 0, 3])).sum().backward()
    assert_close(x.grad, np.tile(np.array([0.25, 1.0, 8.0], dt), (2, 1)))
    check_op(lambda lib, x, e: lib.ldexp(x, e), [(3, 4), (4,)], dtype=dt)
    check_op(lambda lib, x, e: x.ldexp(e), [(3, 4), np.array([3])], dtype=dt)
    check_op(lambda lib, x, e: x.clone().ldexp_(e), [(3, 4), np.array([3])], dtype=dt)
    assert_close(
        ctorch.ldexp(ctorch.tensor([3, 4]), ctorch.tensor([1, 2])),
        torch.ldexp(torch.tensor([3, 4]), torch.tensor([1, 2])),
    )


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.float16])
def test_frexp(dt):
    a = np.array([1.5, -3.0, 0.0, -0.0, INF, -INF, NAN, 1e-3, 1024.0, 0.75], dt)
    c, t = _both(a)
    r, e = ctorch.frexp(c), torch.frexp(t)
    assert type(r).__name__ == "frexp"
    assert_close(r.mantissa, e.mantissa, atol=0, rtol=0)
    assert_close(r.exponent, e.exponent)
    m, x = np.frexp(a)
    np.testing.assert_array_equal(c.frexp().mantissa.numpy(), m)
    np.testing.assert_array_equal(c.frexp()[1].numpy(), x)
    if dt != np.float16:
        check_op(lambda lib, v: lib.frexp(v).mantissa, [(3, 4)], dtype=dt, low=-50, high=50)


def test_frexp_out_and_errors():
    m, e = ctorch.empty(0), ctorch.empty(0, dtype=ctorch.int32)
    r = ctorch.frexp(ctorch.tensor([4.0, 0.25]), out=(m, e))
    assert r.mantissa is m and r.exponent is e
    assert_close(m, np.array([0.5, 0.5], np.float32))
    assert_close(e, np.array([3, -1], np.int32))
    with pytest.raises(RuntimeError, match="only supports floating-point"):
        ctorch.frexp(ctorch.tensor([1, 2]))


def test_out_variants():
    a, b = ctorch.tensor([12, 18]), ctorch.tensor([8, 27])
    out = ctorch.empty(2, dtype=ctorch.long)
    assert ctorch.gcd(a, b, out=out) is out
    assert_close(out, np.array([4, 9]))
    fo = ctorch.empty(2)
    ctorch.copysign(ctorch.tensor([1.0, 2.0]), ctorch.tensor([-1.0, 1.0]), out=fo)
    assert_close(fo, np.array([-1.0, 2.0], np.float32))


def test_out_variants_of_scans_histc_renorm():
    x = ctorch.tensor([1.0, 3.0, 2.0, 5.0])
    v, i = ctorch.empty(0), ctorch.empty(0, dtype=ctorch.long)
    r = ctorch.cummax(x, 0, out=(v, i))
    assert r.values is v and r.indices is i
    assert_close(v, np.array([1.0, 3.0, 3.0, 5.0], np.float32))
    assert_close(i, np.array([0, 1, 1, 3]))
    h = ctorch.empty(0)
    assert ctorch.histc(x, 4, 0, 8, out=h) is h
    assert_close(h, torch.histc(torch.tensor([1.0, 3.0, 2.0, 5.0]), 4, 0, 8))
    o = ctorch.empty(0)
    m = ctorch.tensor([[3.0, 4.0], [0.3, 0.4]])
    assert ctorch.renorm(m, 2, 0, 1.0, out=o) is o
    assert_close(o, torch.renorm(torch.tensor([[3.0, 4.0], [0.3, 0.4]]), 2, 0, 1.0))


def test_ldexp_dtypes():
    # an integer exponent keeps a 16-bit input's dtype (2 ** e taken in float32, rounded once);
    # a float16 exponent computes 2 ** e in float16 (overflow: inf), as torch
    for x, e in (
        (np.array([1e-4, 1.5], np.float16), np.array([20, -3])),
        (np.array([1e-4, 1.5], np.float16), np.array([20.0, 2.0], np.float16)),
        (np.array([1e-4, 1.5], np.float16), np.array([20.0, 2.0], np.float32)),
        (np.array([3, 4], np.int32), np.array([2, 1], np.int16)),
        (np.array([3, 4]), np.array([2.0, 1.0])),
    ):
        assert_close(
            ctorch.ldexp(ctorch.tensor(x), ctorch.tensor(e)),
            torch.ldexp(torch.tensor(x), torch.tensor(e)),
        )


def test_pdist_gram_path_matches_exact_path():
    # float32 p=2 runs through a float64 Gram matrix, float64 through exact differences:
    # the two agree (values and gradients), also with duplicate rows (distance 0: gradient 0)
    rng = np.random.default_rng(7)
    x = rng.normal(size=(30, 5))
    x[3] = x[7]
    x[10] = x[10] * 1e3
    g = rng.normal(size=(30 * 29 // 2,))
    grads = []
    for dt in (ctorch.float32, ctorch.float64):
        t = ctorch.tensor(x, dtype=dt, requires_grad=True)
        d = ctorch.pdist(t)
        d.backward(ctorch.tensor(g, dtype=dt))
        grads.append((d.detach().double().numpy(), t.grad.double().numpy()))
    np.testing.assert_allclose(grads[0][0], grads[1][0], rtol=1e-6, atol=1e-4)
    np.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-4, atol=1e-4)
    tx = torch.tensor(x.astype(np.float32), requires_grad=True)
    torch.pdist(tx).backward(torch.tensor(g.astype(np.float32)))
    np.testing.assert_allclose(grads[0][1], tx.grad.double().numpy(), rtol=1e-4, atol=1e-4)
    assert type(ctorch.pdist(ctorch.ones(3, 2, requires_grad=True)).grad_fn).__name__ == (
        "PdistBackward0"
    )


def test_nextafter_bfloat16_bits():
    a = np.array([0.0, -0.0, 1.0, -1.0, 1.5, -3.0, INF, -INF, NAN, 1e-40, 3.0, 2.0], np.float32)
    b = np.array([1.0, -1.0, 2.0, 0.0, -5.0, -4.0, 0.0, 0.0, 1.0, 0.0, 3.0, NAN], np.float32)
    c = ctorch.nextafter(ctorch.tensor(a).bfloat16(), ctorch.tensor(b).bfloat16())
    t = torch.nextafter(torch.tensor(a).bfloat16(), torch.tensor(b).bfloat16())
    assert c.dtype == ctorch.bfloat16
    np.testing.assert_array_equal(c.float().numpy(), t.float().numpy())


@pytest.mark.parametrize(
    "call,exc,words",
    [
        (lambda L: L.cov(L.ones(3, 5), correction=1.5), TypeError, "must be int, not float"),
        (lambda L: L.cov(L.ones(3, 5), correction=True), TypeError, "must be int, not bool"),
        (lambda L: L.corrcoef(L.ones(2, 3, 4)), RuntimeError, "corrcoef(): expected input"),
        (lambda L: L.frobenius_norm(L.ones(2, 3, 4), (0, 1, 2)), RuntimeError, "at most 2 dim"),
    ],
)
def test_cov_corrcoef_frobenius_refusals(call, exc, words):
    libs = [ctorch]
    try:
        import torch

        libs.append(torch)
    except ImportError:  # pragma: no cover
        pass
    for lib in libs:
        with pytest.raises(exc, match=re.escape(words)):
            call(lib)
