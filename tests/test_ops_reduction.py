"""Reductions: dim int/tuple/None, keepdim, var/std correction, max/min namedtuples, NaN."""

import numpy as np
import pytest
from helpers import HAS_TORCH, assert_close, check_op

import ctorch

DIMS = [None, 0, 1, -1, (0, 2), (-1, 0), (0, 1, 2)]


@pytest.mark.parametrize(
    "name,dim",
    [
        (n, d)
        for n in ["sum", "mean", "prod", "amax", "amin", "logsumexp", "norm"]
        for d in DIMS
        if not (n == "prod" and isinstance(d, tuple))  # torch.prod takes one dim
        and not (n == "norm" and d == (0, 1, 2))
    ],
)  # torch: matrix norm needs a 2-tuple
@pytest.mark.parametrize("keepdim", [False, True])
def test_reductions_dims(name, dim, keepdim):
    if name == "logsumexp" and dim is None:
        dim = (0, 1, 2)
    if dim is None and name != "norm":
        check_op(lambda T, x: getattr(T, name)(x), [(2, 3, 4)], low=0.5, high=1.5)
        return
    if name == "norm":
        check_op(lambda T, x: T.norm(x, dim=dim, keepdim=keepdim), [(2, 3, 4)])
        return
    check_op(lambda T, x: getattr(x, name)(dim, keepdim=keepdim), [(2, 3, 4)], low=0.5, high=1.5)


@pytest.mark.parametrize("name", ["var", "std"])
@pytest.mark.parametrize("dim", [None, 0, (1, 2), -1])
@pytest.mark.parametrize(
    "kw", [{}, {"unbiased": False}, {"correction": 0}, {"correction": 2}, {"keepdim": True}]
)
def test_var_std(name, dim, kw):
    check_op(
        lambda T, x: (
            getattr(T, name)(x, dim, **kw) if dim is not None else getattr(T, name)(x, **kw)
        ),
        [(3, 4, 5)],
    )


def test_var_mean_std_mean():
    check_op(lambda T, x: T.var_mean(x, 1), [(3, 4)])
    check_op(lambda T, x: T.std_mean(x, dim=0, keepdim=True), [(3, 4)])


def test_sum_dtype_and_int():
    a = np.array([[1, 2, 3], [4, 5, 6]], np.int32)
    r = check_op(lambda T, x: x.sum(), [a])
    assert r.dtype == ctorch.int64
    check_op(lambda T, x: x.sum(1, dtype=T.float64), [a])
    check_op(lambda T, x: x.prod(0), [a])
    b = np.array([True, False, True])
    check_op(lambda T, x: x.sum(), [b])
    check_op(lambda T, x: T.sum(x, dim=0, keepdim=True), [a])
    with pytest.raises(RuntimeError):
        ctorch.tensor([1, 2]).mean()


def test_mean_dtype():
    check_op(lambda T, x: x.mean(dtype=T.float64), [np.arange(6, dtype=np.int64).reshape(2, 3)])


@pytest.mark.parametrize("name", ["max", "min"])
def test_max_min_dim_namedtuple(name):
    x = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], np.float32)
    for dim in [0, 1, -1]:
        for keepdim in [False, True]:
            r = check_op(lambda T, t, d=dim, k=keepdim: getattr(T, name)(t, d, keepdim=k), [x])
            assert r.values is r[0] and r.indices is r[1]
            v, i = r
            assert i.dtype == ctorch.int64
    r = getattr(ctorch, name)(ctorch.tensor(x), dim=1)
    assert type(r).__name__ == name
    assert repr(r).startswith(f"ctorch.return_types.{name}(\nvalues=tensor(")
    # gradient flows to the selected element only
    check_op(lambda T, t: getattr(t, name)(1)[0], [(3, 4)])
    check_op(lambda T, t: getattr(t, name)(), [(3, 4)])


def test_max_min_all_and_binary_forms():
    check_op(lambda T, x, y: T.max(x, y), [(3, 4), (4,)])
    check_op(lambda T, x, y: T.min(x, y), [(3, 4), (4,)])
    x = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], np.float32)
    # ties in a full max: torch spreads the gradient evenly
    check_op(lambda T, t: t.max(), [x], grad_inputs=[0], gradcheck=False)
    check_op(lambda T, t: t.amax(1), [x], grad_inputs=[0], gradcheck=False)


@pytest.mark.parametrize("name", ["argmax", "argmin"])
def test_argmax_argmin(name):
    x = np.array([[1.0, 5.0, 5.0], [7.0, 0.0, 7.0]], np.float32)
    check_op(lambda T, t: getattr(T, name)(t), [x])
    check_op(lambda T, t: getattr(t, name)(1), [x])
    check_op(lambda T, t: getattr(t, name)(0, keepdim=True), [x])
    check_op(lambda T, t: getattr(t, name)(dim=-1, keepdim=True), [x])


def test_nan_semantics():
    x = np.array([[1.0, np.nan, 3.0], [4.0, 5.0, 6.0]], np.float32)
    for f in [
        lambda T, t: t.sum(1),
        lambda T, t: t.max(),
        lambda T, t: t.max(1),
        lambda T, t: t.min(1),
        lambda T, t: t.amax(1),
        lambda T, t: t.argmax(1),
        lambda T, t: t.argmin(),
        lambda T, t: T.nansum(t),
        lambda T, t: T.nanmean(t, 1),
        lambda T, t: T.maximum(t, t.flip(1)),
        lambda T, t: t.mean(0),
        lambda T, t: t.logsumexp(1),
        lambda T, t: T.softmax(t, 1),
    ]:
        check_op(f, [x], grad=False)


def test_logsumexp_large_values_stable():
    check_op(lambda T, x: T.logsumexp(x * 1000, 1), [(3, 4)])


@pytest.mark.parametrize("p", [1, 2, 3, float("inf"), "fro"])
def test_norm_p(p):
    if p == "fro":
        check_op(lambda T, x: x.norm(p="fro"), [(3, 4)])
        return
    check_op(lambda T, x: x.norm(p=p), [(3, 4)])
    check_op(lambda T, x: x.norm(p, dim=1, keepdim=True), [(3, 4)])


def test_all_any_count_nonzero():
    x = np.array([[True, False, True], [True, True, True]])
    for f in [
        lambda T, t: t.all(),
        lambda T, t: t.any(),
        lambda T, t: t.all(1),
        lambda T, t: t.any(0, keepdim=True),
        lambda T, t: T.all(t, dim=1),
        lambda T, t: T.count_nonzero(t),
        lambda T, t: T.count_nonzero(t, dim=0),
    ]:
        check_op(f, [x])
    check_op(lambda T, t: t.all(), [np.array([1.0, 2.0, 0.0], np.float32)])


def test_cumsum_cumprod():
    check_op(lambda T, x: x.cumsum(1), [(3, 4)])
    check_op(lambda T, x: T.cumsum(x, dim=0), [(3, 4)])
    check_op(lambda T, x: x.cumprod(1), [(3, 4)], low=0.5, high=1.5)
    check_op(lambda T, x: x.cumsum(0), [np.array([1, 2, 3], np.int32)])


@pytest.mark.parametrize("name", ["softmax", "log_softmax"])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_softmax(name, dim):
    check_op(lambda T, x: getattr(T, name)(x, dim), [(3, 5)])
    check_op(lambda T, x: getattr(x, name)(dim=dim), [(2, 3, 4)], gradcheck=False)
    check_op(lambda T, x: getattr(T, name)(x * 100, dim), [(3, 5)], gradcheck=False)


def test_softmax_large_kernel_path():
    check_op(lambda T, x: T.softmax(x, -1), [(20, 1000)], gradcheck=False, atol=1e-6)
    check_op(lambda T, x: T.log_softmax(x, -1), [(20, 1000)], gradcheck=False, atol=1e-5)
    check_op(lambda T, x: x.sum(-1), [(20, 1000)], gradcheck=False, atol=1e-4)
    check_op(lambda T, x: x.sum(), [(20, 1000)], gradcheck=False, atol=1e-2)
    check_op(lambda T, x: x.mean(0), [(20, 1000)], gradcheck=False, atol=1e-5)


def test_reduction_empty_and_errors():
    e = ctorch.zeros(0, 3)
    assert e.sum().item() == 0
    assert e.sum(0).shape == (3,)
    with pytest.raises(IndexError, match="Dimension out of range"):
        ctorch.ones(2, 3).sum(2)
    with pytest.raises(IndexError):
        ctorch.ones(2, 3).max(dim=5)
    with pytest.raises(RuntimeError):
        e.max()


def test_second_order_reductions():
    from helpers import _torch

    def run(lib):
        x = lib.tensor([[0.3, 0.7, 1.4], [0.1, -0.5, 2.0]], dtype=lib.float64, requires_grad=True)
        y = (
            x.pow(3).sum(1) * x.mean(1)
            + x.var(0).sum()
            + x.softmax(1)[:, 0].sum()
            + x.logsumexp(1).sum()
            + x.norm()
        ).sum()
        (g,) = lib.autograd.grad(y, x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        return g, gg

    g, gg = run(ctorch)
    x = ctorch.tensor([[0.3, 0.7, 1.4], [0.1, -0.5, 2.0]], dtype=ctorch.float64, requires_grad=True)
    assert ctorch.autograd.gradgradcheck(
        lambda t: t.pow(3).sum(1) * t.mean(1) + t.var(0).sum() + t.softmax(1)[:, 0].sum(), (x,)
    )
    if HAS_TORCH:
        gt, ggt = run(_torch)
        assert_close(g, gt, atol=1e-10)
        assert_close(gg, ggt, atol=1e-10)


@pytest.mark.parametrize("keepdim", [False, True])
@pytest.mark.parametrize("op", ["max", "min"])
def test_max_min_dim_of_1d_with_grad(op, keepdim):
    """A 1-D input's argmax is a NumPy scalar: keepdim with grad used to fail looking for
    CuPy (regression)."""
    x = ctorch.tensor([1.0, 3.0, -2.0], requires_grad=True)
    v, i = getattr(x, op)(-1, keepdim)
    assert tuple(v.shape) == ((1,) if keepdim else ()) and i.dtype == ctorch.int64
    v.sum().backward()
    want = [0.0, 1.0, 0.0] if op == "max" else [0.0, 0.0, 1.0]
    assert x.grad.tolist() == want and i.reshape(-1).tolist() == [want.index(1.0)]


@pytest.mark.parametrize("op", ["softmax", "log_softmax"])
@pytest.mark.parametrize("n", [1, 7, 16, 32, 33, 64, 65])
def test_short_rows_four_at_a_time_give_each_rows_bits(op, n):
    """float32 rows of at most 64 go through the row kernel four at a time (interleaved);
    every row must come out bit for bit as when it is computed alone (one-row path)."""
    rng = np.random.default_rng(n)
    x = rng.standard_normal((9, n)).astype(np.float32) * 4
    x[2, 0] = -np.inf
    x[5, n // 2] = 60.0
    whole = getattr(ctorch.tensor(x), op)(-1).numpy()
    for r in range(9):
        alone = getattr(ctorch.tensor(x[r : r + 1]), op)(-1).numpy()
        np.testing.assert_array_equal(whole[r : r + 1], alone)
    if HAS_TORCH:
        import torch

        want = getattr(torch.tensor(x), op)(-1).numpy()
        np.testing.assert_allclose(whole, want, rtol=2e-6, atol=1e-6)
