"""The compiled small-tensor entry points of ``_core._smallops`` (issue #15's per-op
overhead): softmax/log_softmax rows, layer norm rows, cat/stack and small matrix products.

Each must give the values of the general path it short-cuts (bitwise where both run the
same row kernel), torch's values and semantics, and return None (the general path then
runs, with its errors) for everything it does not handle."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
import ctorch.nn.functional as F
from ctorch._core import _smallops as S
from ctorch._core import normalization as NK
from ctorch._core import reduction as RK


def _rng():
    return np.random.default_rng(1234)


# ------------------------------------------------------------------ softmax rows
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 3, 16, 17, 100])
@pytest.mark.parametrize("log", [False, True])
def test_softmax_rows_match_the_row_kernels_bitwise(dt, n, log):
    a = _rng().standard_normal((7, n)).astype(dt) * 5
    a[0, 0] = -np.inf
    a[1, :] = -np.inf  # a row of -inf: NaN, as torch
    a[2, n // 2] = np.nan
    a[3, 0] = np.inf
    ref = np.empty_like(a)
    (RK.log_softmax_lastdim if log else RK.softmax_lastdim)(a.reshape(-1), ref.reshape(-1), 7, n)
    got = S.softmax_rows(a, log)
    np.testing.assert_array_equal(got, ref)
    gy = _rng().standard_normal(a.shape).astype(dt)
    y = ref
    gref = np.empty_like(a)
    bk = RK.log_softmax_backward_lastdim if log else RK.softmax_backward_lastdim
    bk(gy.reshape(-1), y.reshape(-1), gref.reshape(-1), 7, n)
    np.testing.assert_array_equal(S.softmax_rows_backward(gy, y, log), gref)


def test_softmax_rows_decline_what_they_do_not_handle():
    a = np.ones((4, 8), np.float32)
    assert S.softmax_rows(a.T, False) is None  # not C-contiguous
    assert S.softmax_rows(a.astype(np.int32), False) is None
    assert S.softmax_rows(a.astype(np.float16), False) is None
    assert S.softmax_rows(np.float32(1.0).reshape(()), False) is None  # 0-d
    assert S.softmax_rows(np.ones((3, 0), np.float32), False) is None
    assert S.softmax_rows(np.ones((S.MAX_SMALL_SIZE + 1,), np.float32), False) is None
    assert S.softmax_rows([1.0, 2.0], False) is None
    y = np.ones((4, 8), np.float32) / 8
    assert S.softmax_rows_backward(np.ones((4, 8)), y, False) is None  # mixed dtypes
    assert S.softmax_rows_backward(np.ones((8, 4), np.float32), y, False) is None


@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_no_grad_fast_path_equals_the_recorded_path(fn):
    x = ctorch.randn(6, 10)
    xr = x.clone().requires_grad_()
    fast = getattr(F, fn)(x, -1)
    rec = getattr(F, fn)(xr, dim=1)
    assert fast.grad_fn is None and rec.grad_fn is not None
    np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
    with ctorch.no_grad():
        r = getattr(xr, fn)(-1)
    assert not r.requires_grad
    np.testing.assert_array_equal(r.numpy(), fast.numpy())
    # the gradient through the small backward rows equals the float64 formula
    rec.backward(ctorch.ones_like(rec))
    y = rec.detach().numpy().astype(np.float64)
    want = 1 - np.exp(y) * 10 if fn == "log_softmax" else y * (1 - y.sum(1, keepdims=True))
    np.testing.assert_allclose(xr.grad.numpy(), want, rtol=1e-5, atol=1e-6)


def test_softmax_fast_path_keeps_torchs_errors_and_dims():
    x = ctorch.randn(3, 4)
    with pytest.raises(IndexError, match="Dimension out of range"):
        F.softmax(x, 2)
    with pytest.raises(NotImplementedError, match="softmax"):
        F.softmax(ctorch.ones(3, 4, dtype=ctorch.int64), -1)
    assert F.softmax(ctorch.tensor(2.0), -1).item() == 1.0  # 0-d: the general path
    assert F.softmax(x, -1, dtype=ctorch.float64).dtype == ctorch.float64
    np.testing.assert_allclose(F.softmax(x.t(), -1).numpy().sum(1), 1, rtol=1e-6)


# ------------------------------------------------------------------ layer norm rows
@pytest.mark.parametrize("affine", [False, True])
@pytest.mark.parametrize("D", [1, 5, 16, 64])
def test_layernorm_rows_match_the_kernel_bitwise(affine, D):
    rng = _rng()
    a = rng.standard_normal((9, D)).astype(np.float32) * 3 + 1
    a[4, 0] = np.nan
    w = rng.standard_normal(D).astype(np.float32) if affine else None
    b = rng.standard_normal(D).astype(np.float32) if affine else None
    y, m, r = np.empty_like(a), np.empty(9, np.float32), np.empty(9, np.float32)
    NK.layernorm_forward(a.reshape(-1), w, b, y.reshape(-1), m, r, 9, D, 1e-5)
    got = S.layernorm_rows(a, D, w, b, 1e-5)
    for g, want in zip(got, (y, m, r), strict=True):
        np.testing.assert_array_equal(g, want)


def test_layernorm_rows_decline_what_they_do_not_handle():
    a = np.ones((4, 8), np.float32)
    w = np.ones(8, np.float32)
    assert S.layernorm_rows(a.astype(np.float64), 8, None, None, 1e-5) is None
    assert S.layernorm_rows(a, 4, None, None, 1e-5) is None  # D is not the last dim
    assert S.layernorm_rows(a, 8, w.reshape(1, 8), None, 1e-5) is None
    assert S.layernorm_rows(a, 8, w[:4], None, 1e-5) is None
    assert S.layernorm_rows(a, 8, None, w.astype(np.float64), 1e-5) is None
    assert S.layernorm_rows(np.ones((0, 8), np.float32), 8, None, None, 1e-5) is None


def test_layer_norm_no_grad_fast_path_equals_the_recorded_path_and_keeps_errors():
    x = ctorch.randn(5, 12)
    ln = ctorch.nn.LayerNorm(12)
    ln.weight.data.normal_()
    with ctorch.no_grad():
        fast = ln(x)
    rec = ln(x)
    assert fast.grad_fn is None and rec.grad_fn is not None
    np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
    np.testing.assert_array_equal(
        F.layer_norm(x, [12]).numpy(), F.layer_norm(x, ctorch.Size([12])).numpy()
    )
    with pytest.raises(RuntimeError, match="normalized_shape"):
        F.layer_norm(x, (11,))
    with pytest.raises(RuntimeError, match="weight"):
        F.layer_norm(x, (12,), ctorch.ones(1, 12))
    assert F.layer_norm(x.double(), (12,)).dtype == ctorch.float64


# ------------------------------------------------------------------ cat / stack
@pytest.mark.parametrize("dt", [np.float32, np.int64, np.bool_, np.float16, np.complex64])
@pytest.mark.parametrize("dim", [0, 1, 2, -1, -2])
def test_join_small_matches_numpy(dt, dim):
    rng = _rng()
    parts = [(rng.standard_normal((2, 3, 4)) * 4).astype(dt) for _ in range(3)]
    parts[1] = (rng.standard_normal((2, 3, 4)) * 4).astype(dt)
    ts = [ctorch.from_numpy(p) for p in parts]
    got = S.join_small(ts, dim, ctorch.Tensor, True, False)
    np.testing.assert_array_equal(got, np.concatenate(parts, axis=dim))
    got = S.join_small(ts, dim, ctorch.Tensor, True, True)
    np.testing.assert_array_equal(got, np.stack(parts, axis=dim))
    assert got.flags.c_contiguous


def test_join_small_uneven_parts_and_public_cat():
    a, b = ctorch.randn(2, 1, 3), ctorch.randn(2, 5, 3)
    r = ctorch.cat((a, b), 1)
    np.testing.assert_array_equal(r.numpy(), np.concatenate([a.numpy(), b.numpy()], 1))
    assert r.is_contiguous()


def test_join_small_declines_and_the_general_path_runs():
    x = ctorch.randn(2, 3)
    T = ctorch.Tensor
    assert S.join_small([x, x.t().t().contiguous().t()], 0, T, True, False) is None
    assert S.join_small([x, x.double()], 0, T, True, False) is None  # promotion: general path
    assert ctorch.cat([x, x.double()]).dtype == ctorch.float64
    assert S.join_small([x] * 33, 0, T, True, False) is None
    assert S.join_small([x, ctorch.randn(2, 0)], 1, T, True, False) is None
    assert S.join_small((x, x), 3, T, True, True) is None
    assert S.join_small(iter([x]), 0, T, True, False) is None
    assert S.join_small([ctorch.randn(512, 129)], 0, T, True, False) is None  # > 256 KiB
    xr = x.clone().requires_grad_()
    assert S.join_small([x, xr], 0, T, True, False) is None  # grad: the node records
    assert ctorch.cat([x, xr]).grad_fn.name() == "CatBackward0"
    assert ctorch.stack([x, xr]).grad_fn.name() == "StackBackward0"
    with ctorch.no_grad():
        assert ctorch.cat([x, xr]).grad_fn is None
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        ctorch.cat([x, ctorch.randn(3, 3)], 1)
    with pytest.raises(RuntimeError, match="stack expects each tensor to be equal size"):
        ctorch.stack([x, ctorch.randn(3, 2)])
    with pytest.raises(IndexError, match="Dimension out of range"):
        ctorch.stack([x, x], 3)
    with pytest.raises(RuntimeError, match="zero-dimensional"):
        ctorch.cat([ctorch.tensor(1.0)])


def test_cat_result_does_not_alias_its_inputs():
    x = ctorch.randn(2, 3)
    r = ctorch.cat([x])
    r[0, 0] = 100.0
    assert x[0, 0].item() != 100.0


# ------------------------------------------------------------------ small matrix products
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1, 1), (3, 7, 5), (8, 16, 16), (2, 100, 3), (5, 2, 33)])
def test_mm_small_matches_float64_and_is_layout_independent(dt, shape):
    M, K, N = shape
    rng = _rng()
    x = rng.standard_normal((M, K)).astype(dt)
    w = rng.standard_normal((N, K)).astype(dt)
    b = rng.standard_normal(N).astype(dt)
    got = S.mm_small(x, w.T, b)
    assert got is not None and got.flags.c_contiguous and got.dtype == dt
    want = x.astype(np.float64) @ w.T.astype(np.float64) + b
    tol = 1e-5 if dt == np.float32 else 1e-12
    np.testing.assert_allclose(got, want, rtol=tol, atol=tol * K)
    # every element is the same ordered sum whatever the layout of the operands
    np.testing.assert_array_equal(S.mm_small(x, np.ascontiguousarray(w.T), b), got)
    np.testing.assert_array_equal(S.mm_small(np.asfortranarray(x), w.T, b), got)
    # and the bias is added after the products, as a separate add would
    np.testing.assert_array_equal(S.mm_small(x, w.T) + b, got)


def test_mm_small_propagates_nan_and_inf_as_a_product_does():
    x = np.array([[np.inf, 1.0], [np.nan, 0.0], [1.0, 2.0]], np.float32)
    w = np.array([[0.0, 1.0], [1.0, 1.0]], np.float32)
    got = S.mm_small(x, w)
    want = np.array([[np.nan, np.inf], [np.nan, np.nan], [2.0, 3.0]], np.float32)
    np.testing.assert_array_equal(got, want)


def test_mm_small_declines_what_it_does_not_handle():
    x = np.ones((4, 8), np.float32)
    assert S.mm_small(x, np.ones((8, 4), np.float64)) is None
    assert S.mm_small(x.astype(np.float16), np.ones((8, 4), np.float16)) is None
    assert S.mm_small(x.astype(np.int64), np.ones((8, 4), np.int64)) is None
    assert S.mm_small(x, np.ones((7, 4), np.float32)) is None  # shapes do not match
    assert S.mm_small(x, np.ones((8, 0), np.float32)) is None  # empty: the general path
    big = np.ones((64, 64), np.float32)
    assert S.mm_small(big, big) is None
    assert S.mm_small(x, np.ones((8, 4), np.float32), np.ones(5, np.float32)) is None
    assert S.mm_small(x, np.ones((8, 4), np.float32), np.ones((1, 4), np.float32)) is None
    assert S.mm_small(x[None], np.ones((8, 4), np.float32)) is None


def test_linear_and_matmul_fast_paths_equal_the_recorded_paths():
    lin = ctorch.nn.Linear(16, 8)
    x = ctorch.randn(4, 16)
    with ctorch.no_grad():
        fast = lin(x)
    rec = lin(x)
    assert fast.grad_fn is None and rec.grad_fn.name() == "AddmmBackward0"
    np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
    w = ctorch.randn(16, 8)
    np.testing.assert_array_equal((x @ w).numpy(), (x @ w.requires_grad_()).detach().numpy())
    rec.sum().backward()
    np.testing.assert_allclose(
        lin.weight.grad.numpy(), np.tile(x.numpy().sum(0), (8, 1)), rtol=1e-5
    )
    with pytest.raises(RuntimeError, match="mat1 and mat2 shapes cannot be multiplied"):
        ctorch.randn(2, 3) @ ctorch.randn(4, 2)
    with pytest.raises(RuntimeError, match="same dtype"):
        ctorch.randn(2, 3) @ ctorch.randn(3, 2, dtype=ctorch.float64)


def test_small_paths_match_torch():
    torch = pytest.importorskip("torch")
    rng = _rng()
    a = rng.standard_normal((6, 20)).astype(np.float32)
    w = rng.standard_normal((7, 20)).astype(np.float32)
    b = rng.standard_normal(7).astype(np.float32)
    x, tx = ctorch.from_numpy(a), torch.from_numpy(a)
    pairs = [
        (F.softmax(x, -1), torch.softmax(tx, -1)),
        (F.log_softmax(x, -1), torch.log_softmax(tx, -1)),
        (F.layer_norm(x, (20,)), torch.nn.functional.layer_norm(tx, (20,))),
        (
            F.linear(x, ctorch.from_numpy(w), ctorch.from_numpy(b)),
            torch.nn.functional.linear(tx, torch.from_numpy(w), torch.from_numpy(b)),
        ),
        (x @ ctorch.from_numpy(w.T.copy()), tx @ torch.from_numpy(w.T.copy())),
        (ctorch.cat([x, x], 1), torch.cat([tx, tx], 1)),
        (ctorch.stack([x, x], -1), torch.stack([tx, tx], -1)),
    ]
    for got, want in pairs:
        assert tuple(got.shape) == tuple(want.shape)
        assert got.stride() == want.stride()
        np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-5, atol=2e-5)


# ------------------------------------------------------------------ basic subscripts
@pytest.mark.parametrize(
    "idx,basic",
    [
        ((slice(None), slice(0, 2)), True),
        (1, True),
        ((1, 2, 3), True),
        ((Ellipsis, 1), True),
        ((None, 0, Ellipsis, None), True),
        (slice(5, 10), True),
        ((0, slice(-2, None, 2)), True),
        ((), True),
        (True, False),  # a bool adds a dim in torch: the general path
        ((0, [1, 2]), False),
        ((slice(None, None, -1),), False),  # torch raises: the general path says so
        ((slice(0, 2.0),), False),
        (np.int64(1), False),
    ],
)
def test_basic_index_classifies_subscripts(idx, basic):
    assert S.basic_index(idx) is basic


def test_basic_subscript_fast_path_is_a_view_with_torchs_values_and_errors():
    a = np.arange(24.0, dtype=np.float32).reshape(2, 3, 4)
    x = ctorch.from_numpy(a)
    for idx in [(slice(None), slice(0, 2)), 1, (1, 2, 3), (Ellipsis, 1), (-1, -1, -1)]:
        r = x[idx]
        np.testing.assert_array_equal(r.numpy(), a[idx])
        assert r._base is x
    assert x[1, 2, 3].shape == () and x[1, 2, 3].item() == 23.0  # a 0-d view, no scalar
    y = x[0]
    y[0, 0] = 100.0
    assert a[0, 0, 0] == 100.0 and x._version == 1
    with pytest.raises(IndexError, match="index 5 is out of bounds for dimension 0 with size 2"):
        x[5]
    with pytest.raises(IndexError, match="^too many indices for tensor of dimension 3$"):
        x[0, 0, 0, 0]
    with pytest.raises(ValueError, match="step must be greater than zero"):
        x[::-1]
    xr = x.clone().requires_grad_()
    assert xr[0, 1:].grad_fn is not None


# ------------------------------------------------------------------ permute / expand / unsqueeze
def test_view_fast_paths_match_torch_strides_and_errors():
    torch = pytest.importorskip("torch")
    a = np.random.default_rng(0).random((2, 1, 3)).astype(np.float32)
    x, t = ctorch.from_numpy(a), torch.from_numpy(a)
    for args in [(0, 1, 2), (2, 0, 1), (-1, 0, 1), ((1, 2, 0),), ([2, 1, 0],)]:
        r, q = x.permute(*args), t.permute(*args)
        assert r.stride() == q.stride() and r._base is x
    for d in [0, 1, 2, 3, -1, -4]:
        r, q = x.unsqueeze(d), t.unsqueeze(d)
        assert tuple(r.shape) == tuple(q.shape) and r.stride() == q.stride()
    for sizes in [(2, 4, 3), (5, 2, 4, 3), (-1, 4, -1), ((2, 4, 3),), (2, 1, 3), (0, 2, 4, 3)]:
        r, q = x.expand(*sizes), t.expand(*sizes)
        assert tuple(r.shape) == tuple(q.shape) and r.stride() == q.stride()
        np.testing.assert_array_equal(r.numpy(), q.numpy())
    p = x.permute(2, 1, 0)  # not contiguous: broadcast_to's view
    assert p.expand(3, 4, 2).stride() == t.permute(2, 1, 0).expand(3, 4, 2).stride()
    y = x.expand(2, 4, 3)
    a[0, 0, 0] = 5.0  # a view: writes through the source show
    assert y._base is x and y[0, 3, 0].item() == 5.0
    with pytest.raises(RuntimeError, match="more than one element of the written-to tensor"):
        y.add_(1)
    # no element repeats: a writable view, as torch's (x.expand(x.shape), a new leading 1)
    z = ctorch.ones(2, 3)
    z.expand(2, 3).add_(1)
    w = ctorch.ones(3)
    w.expand(1, 3).add_(1)
    assert z.sum().item() == 12.0 and w.sum().item() == 6.0
    for bad in [(0, 1), (0, 0, 1), (0, 1, 3)]:
        with pytest.raises((RuntimeError, IndexError)):
            x.permute(*bad)
    with pytest.raises(RuntimeError, match="non-existing dimension 0"):
        x.expand(-1, 2, 4, 3)
    with pytest.raises(RuntimeError, match="must match the existing size"):
        x.expand(3, 4, 3)
    with pytest.raises(RuntimeError, match="non-negative"):
        x.expand(2, -2, 3)
    xr = x.clone().requires_grad_()
    assert xr.permute(2, 0, 1).grad_fn.name() == "PermuteBackward0"
    assert xr.expand(2, 4, 3).grad_fn.name() == "ExpandBackward0"
    assert xr.unsqueeze(0).grad_fn.name() == "UnsqueezeBackward0"


@pytest.mark.parametrize(
    "args,shape,want",
    [
        ((0, 1), (2, 3), (0, 1)),
        ((-1, 0), (2, 3), (1, 0)),
        (([1, 0],), (2, 3), (1, 0)),
        ((0, 0), (2, 3), None),
        ((0, 2), (2, 3), None),
        ((0,), (2, 3), None),
        ((0, 1.0), (2, 3), None),
    ],
)
def test_perm_dims(args, shape, want):
    assert S.perm_dims(args, len(shape)) == want


# ------------------------------------------------------------------ softmax over any dim, max/min
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 16), (3, 4, 5), (7,)])
@pytest.mark.parametrize("fn", ["softmax", "log_softmax"])
def test_softmax_over_any_dim_is_the_row_kernel_on_the_moved_axis(dt, shape, fn):
    a = (np.random.default_rng(3).standard_normal(shape) * 3).astype(dt)
    x = ctorch.from_numpy(a)
    for d in range(-len(shape), len(shape)):
        got = getattr(x, fn)(d).numpy()
        moved = ctorch.from_numpy(np.ascontiguousarray(np.moveaxis(a, d, -1)))
        np.testing.assert_array_equal(got, np.moveaxis(getattr(moved, fn)(-1).numpy(), -1, d))
        xr = x.clone().requires_grad_()
        y = getattr(xr, fn)(d)
        g = np.random.default_rng(4).standard_normal(shape).astype(dt)
        y.backward(ctorch.from_numpy(g))
        yd = y.detach().numpy().astype(np.float64)
        if fn == "softmax":
            want = yd * (g - (g * yd).sum(d, keepdims=True))
        else:
            want = g - np.exp(yd) * g.sum(d, keepdims=True)
        np.testing.assert_allclose(xr.grad.numpy(), want, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 16), (3, 4, 5), (1,), (7,)])
def test_extreme_small_is_torchs_max_min_with_first_index_and_nan(dt, shape):
    rng = np.random.default_rng(5)
    a = rng.integers(0, 4, shape).astype(dt)  # ties: the first index wins
    if a.size > 5:
        a.flat[3] = np.nan
        a.flat[-2] = np.nan
    for ax in range(len(shape)):
        for is_max in (True, False):
            v, i = S.extreme_small(a, ax, is_max)
            nan = np.isnan(a)
            want_i = np.where(nan.any(ax), nan.argmax(ax), a.argmax(ax) if is_max else a.argmin(ax))
            np.testing.assert_array_equal(i, want_i)
            np.testing.assert_array_equal(
                v, np.take_along_axis(a, np.expand_dims(i, ax), ax).squeeze(ax)
            )
    assert S.extreme_small(a, len(shape), True) is None
    assert S.extreme_small(np.ones((3, 0), dt), 1, True) is None
    assert S.extreme_small(np.ones(shape, np.int32), 0, True) is None


def test_max_min_argmax_fast_paths_match_torch():
    torch = pytest.importorskip("torch")
    rng = np.random.default_rng(6)
    a = rng.integers(0, 4, (3, 4, 5)).astype(np.float32)
    a[1, 2, 3] = np.nan
    x, t = ctorch.from_numpy(a), torch.from_numpy(a)
    for d in range(-3, 3):
        for kd in (False, True):
            for f in ("max", "min"):
                r, q = getattr(x, f)(d, kd), getattr(t, f)(d, kd)
                np.testing.assert_array_equal(r.values.numpy(), q.values.numpy())
                np.testing.assert_array_equal(r.indices.numpy(), q.indices.numpy())
            for f in ("argmax", "argmin"):
                np.testing.assert_array_equal(
                    getattr(x, f)(d, kd).numpy(), getattr(t, f)(d, kd).numpy()
                )
    with pytest.raises(IndexError, match="Expected reduction dim 1 to have non-zero size"):
        ctorch.randn(3, 0).max(1)
    xr = x.clone().requires_grad_()
    assert xr.max(1).values.grad_fn.name() == "MaxBackward0"
    with ctorch.no_grad():
        assert not xr.max(1).values.requires_grad


# ------------------------------------------------------------------ broadcast + - * /
_BCAST = [
    ((8, 16), (16,)),
    ((8, 16), (1, 16)),
    ((16,), (8, 16)),
    ((8, 16), (8, 1)),
    ((8, 16), (1,)),
    ((1,), (8, 16)),
    ((2, 3, 4), (3, 4)),
    ((3, 4), (2, 3, 4)),
    ((2, 3, 4), (2, 3, 1)),
]


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("sx,sy", _BCAST)
def test_small_binary_broadcasts_round_as_numpy(dt, sx, sy):
    from ctorch.ops import binary as B

    rng = np.random.default_rng(7)
    x = rng.standard_normal(sx).astype(dt)
    y = rng.standard_normal(sy).astype(dt) + 3
    y.flat[0] = np.nan
    for code, f in (
        (B.ADD, np.add),
        (B.SUB, np.subtract),
        (B.MUL, np.multiply),
        (B.DIV, np.divide),
    ):
        got = S.binary(code, x, y)
        want = f(x, y)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)
    tx, ty = ctorch.from_numpy(x), ctorch.from_numpy(y)
    np.testing.assert_array_equal((tx - ty).numpy(), x - y)
    np.testing.assert_array_equal((ty / tx).numpy(), y / x)


def test_small_binary_declines_other_broadcasts():
    x = np.ones((8, 16), np.float32)
    assert S.binary(0, x, np.ones((8,), np.float32)) is None  # not a trailing part
    assert S.binary(0, x, np.ones((1, 1, 16), np.float32)) is None  # the result gains a dim
    assert S.binary(0, np.ones((2, 3, 4)), np.ones((2, 1, 4))) is None
    assert S.binary(0, x, np.ones((16,), np.float64)) is None  # mixed dtypes: promotion
    r = ctorch.ones(8, 16) + ctorch.ones(1, 1, 16)
    assert tuple(r.shape) == (1, 8, 16)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_mm_small_batches_are_the_per_matrix_products(dt):
    rng = np.random.default_rng(8)
    x = rng.standard_normal((3, 4, 5)).astype(dt)
    y = rng.standard_normal((3, 5, 6)).astype(dt)
    got = S.mm_small(x, y)
    np.testing.assert_array_equal(got, np.stack([S.mm_small(x[i], y[i]) for i in range(3)]))
    np.testing.assert_allclose(got, x.astype(np.float64) @ y, rtol=1e-5, atol=1e-5)
    yt = np.ascontiguousarray(y.transpose(0, 2, 1)).transpose(0, 2, 1)
    np.testing.assert_array_equal(S.mm_small(x, yt), got)
    yb = np.broadcast_to(y[:1], y.shape)  # a batch stride of 0 (an expanded operand)
    np.testing.assert_array_equal(S.mm_small(x, yb)[2], S.mm_small(x[2], y[0]))
    assert S.mm_small(x, y[:2]) is None  # batch sizes differ: the general path broadcasts
    assert S.mm_small(x, y[0]) is None  # ranks differ
    assert S.mm_small(x, y, np.ones(6, dt)) is None  # no bias for batches
    xb, wb = ctorch.from_numpy(x), ctorch.from_numpy(y)
    np.testing.assert_array_equal(ctorch.bmm(xb, wb).numpy(), got)
    xr = xb.clone().requires_grad_()
    out = ctorch.bmm(xr, wb)
    assert out.grad_fn.name() == "BmmBackward0"
    np.testing.assert_array_equal(out.detach().numpy(), got)


# ------------------------------------------------------------------ clamp / to(dtype)
def test_clamp_number_bounds_fast_path_matches_torch():
    torch = pytest.importorskip("torch")
    vals = [-2.0, -0.5, 0.0, 0.3, 2.0, np.nan, np.inf, -np.inf]
    for cdt, tdt in ((ctorch.float32, torch.float32), (ctorch.float64, torch.float64)):
        x, t = ctorch.tensor(vals, dtype=cdt), torch.tensor(vals, dtype=tdt)
        for lo, hi in [(0.1, 0.9), (None, 0.5), (-1, None), (1.0, 0.0), (np.nan, 1.0), (0, 1)]:
            r, q = x.clamp(lo, hi), t.clamp(lo, hi)
            assert r.dtype == cdt
            np.testing.assert_array_equal(r.numpy(), q.numpy())
    x = ctorch.randn(3)
    y = x.clamp(min=-10.0)
    y[0] = 100.0  # a new tensor, not a view of x
    assert x[0].item() != 100.0
    with pytest.raises(RuntimeError, match="At least one of 'min' or 'max'"):
        x.clamp()
    assert ctorch.randn(2, requires_grad=True).clamp(0, 1).grad_fn.name() == "ClampBackward1"


def test_to_float_dtype_fast_path():
    x = ctorch.randn(3, 4)
    assert x.to(ctorch.float32) is x
    y = x.to(ctorch.float64)
    assert y.dtype == ctorch.float64 and np.array_equal(y.numpy(), x.numpy().astype(np.float64))
    assert ctorch.tensor([1, 2]).to(ctorch.float32).dtype == ctorch.float32
    xr = x.clone().requires_grad_()
    assert xr.to(ctorch.float64).grad_fn.name() == "ToCopyBackward0"
    with ctorch.no_grad():
        assert not xr.to(ctorch.float64).requires_grad


# ------------------------------------------------------------------ gather / index_select
def _torch():
    return pytest.importorskip("torch")


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int32, np.bool_, np.float16])
def test_take_small_is_gather_and_index_select_for_any_dtype_and_strides(dt):
    x = (_rng().standard_normal((5, 6, 4)) * 4).astype(dt)
    for xs in (x, x.transpose(1, 0, 2)[:, :5]):  # C-ordered and strided
        for d in range(3):
            n = xs.shape[d]
            shape = list(xs.shape)
            shape[d] = 2
            gi = _rng().integers(0, n, shape)
            np.testing.assert_array_equal(
                S.take_small(xs, gi, d, True, True), np.take_along_axis(xs, gi, d)
            )
            sel = np.array([n - 1, 0, n - 1])
            np.testing.assert_array_equal(
                S.take_small(xs, sel, d, False, False), np.take(xs, sel, d)
            )
    # an expanded (stride-0) index, as x.gather(1, i.view(1, 3).expand(8, 3)) builds
    a = np.arange(128.0, dtype=np.float32).reshape(8, 16)
    gi = np.broadcast_to(np.array([[0, 2, 3]]), (8, 3))
    np.testing.assert_array_equal(S.take_small(a, gi, 1, True, True), np.take_along_axis(a, gi, 1))


def test_take_small_declines_and_public_ops_keep_torchs_errors():
    a = np.ones((4, 5), np.float32)
    assert S.take_small(a, np.array([4]), 0, False, False) is None  # out of range
    assert S.take_small(a, np.array([-1]), 0, False, False) is None  # negative
    assert S.take_small(a, np.array([0], np.int32), 0, False, True) is None  # gather: int64 only
    assert S.take_small(a, np.array([0.0]), 0, False, False) is None  # float index
    assert S.take_small(a, np.zeros((4, 6), np.int64), 0, True, True) is None  # index too wide
    assert S.take_small(np.array(["a"], object), np.array([0]), 0, False, False) is None
    x = ctorch.randn(4, 5)
    with pytest.raises(RuntimeError, match="index 5 is out of bounds for dimension 1"):
        x.gather(1, ctorch.tensor([[0, 5]] * 4))
    with pytest.raises(IndexError, match="index out of range"):
        x.index_select(0, ctorch.tensor([-1]))
    with pytest.raises(IndexError, match="index out of range"):
        F.embedding(ctorch.tensor([[0, 4]]), x)


def test_gather_index_select_embedding_fast_paths_equal_the_recorded_paths():
    torch = _torch()
    x = ctorch.randn(8, 16)
    xg = x.clone().requires_grad_()
    gi = ctorch.tensor([0, 2, 15]).view(1, 3).expand(8, 3)
    i = ctorch.tensor([[1, 7], [0, 0]])
    for fast, rec, ref in (
        (
            x.gather(1, gi),
            xg.gather(1, gi),
            torch.from_numpy(x.numpy()).gather(1, torch.from_numpy(gi.contiguous().numpy())),
        ),
        (
            x.index_select(1, gi[0]),
            xg.index_select(1, gi[0]),
            torch.from_numpy(x.numpy()).index_select(1, torch.tensor([0, 2, 15])),
        ),
        (
            F.embedding(i, x),
            F.embedding(i, xg),
            torch.nn.functional.embedding(
                torch.tensor([[1, 7], [0, 0]]), torch.from_numpy(x.numpy())
            ),
        ),
    ):
        assert fast.shape == rec.shape == ref.shape and fast.is_contiguous()
        np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
        np.testing.assert_array_equal(fast.numpy(), ref.numpy())


# ------------------------------------------------------------------ sort / topk
@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int64, np.int32])
@pytest.mark.parametrize("shape", [(8, 16), (3, 5, 4), (7,)])
def test_sort_small_is_torchs_stable_sort_with_nan_largest(dt, shape):
    torch = _torch()
    a = _rng().integers(0, 5, shape).astype(dt)
    if a.dtype.kind == "f":
        a[_rng().random(shape) < 0.2] = np.nan
        a[_rng().random(shape) < 0.1] = np.inf
        a[_rng().random(shape) < 0.1] = -np.inf
    t = torch.from_numpy(a)
    for d in range(len(shape)):
        for desc in (False, True):
            want = torch.sort(t, dim=d, descending=desc, stable=True)
            v, i = S.sort_small(a, d, desc, shape[d])
            np.testing.assert_array_equal(v, want.values.numpy())
            np.testing.assert_array_equal(i, want.indices.numpy())
            got = ctorch.sort(ctorch.tensor(a), d, descending=desc)
            np.testing.assert_array_equal(got.indices.numpy(), want.indices.numpy())
            k = min(3, shape[d])
            tk = ctorch.topk(ctorch.tensor(a), k, d, largest=desc)
            np.testing.assert_array_equal(
                tk.values.numpy(), torch.topk(t, k, d, largest=desc).values.numpy()
            )
            np.testing.assert_array_equal(
                np.take_along_axis(a, tk.indices.numpy(), d), tk.values.numpy()
            )


def test_descending_sort_puts_nan_before_inf_on_the_general_path_too():
    # the general path negated the values and mapped NaN to -inf, tying NaN with +inf
    a = np.array([1.0, np.nan, np.inf, 2.0, np.inf, np.nan, 1.0] * 20, np.float32)  # > MAX_SORT
    assert S.sort_small(a, 0, True, a.size) is None
    got = ctorch.sort(ctorch.tensor(a), descending=True)
    assert np.isnan(got.values.numpy()[:40]).all() and (got.values.numpy()[40:80] == np.inf).all()
    np.testing.assert_array_equal(got.indices.numpy()[:3], [1, 5, 8])  # stable among NaNs
    b = ctorch.tensor([True, False, True])
    np.testing.assert_array_equal(ctorch.sort(b, descending=True).indices.numpy(), [0, 2, 1])
    big = ctorch.tensor([np.iinfo(np.int64).min, 0, np.iinfo(np.int64).max])
    np.testing.assert_array_equal(ctorch.sort(big, descending=True).indices.numpy(), [2, 1, 0])


def test_sort_small_declines():
    a = np.ones((4, 5), np.float32)
    assert S.sort_small(a.T, 0, False, 4) is None  # not C-contiguous
    assert S.sort_small(a.astype(np.int16), 0, False, 4) is None
    assert S.sort_small(a, 1, False, 6) is None  # k past the extent
    assert S.sort_small(np.ones((0, 3), np.float32), 1, False, 0) is None
    assert S.sort_small(np.ones(S.MAX_SMALL_SIZE + 1, np.float32), 0, False, 1) is None


# ------------------------------------------------------------------ var / std / norm
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(8, 16), (3, 5, 4), (7,), ()])
def test_moments_small_match_the_recorded_path_and_torch(dt, shape):
    torch = _torch()
    a = np.asarray(_rng().standard_normal(shape) * 3 + 1).astype(dt)
    t, u, ug = torch.from_numpy(a), ctorch.tensor(a), ctorch.tensor(a, requires_grad=True)
    for d in [None, *range(len(shape))]:
        for kd in (False, True):
            for corr in (0, 1) if shape else (0,):
                kw = {"correction": corr, "keepdim": kd}
                for name in ("var", "std"):
                    want = getattr(torch, name)(t, d, **kw)
                    fast = getattr(ctorch, name)(u, d, **kw)
                    rec = getattr(ctorch, name)(ug, d, **kw)
                    assert tuple(fast.shape) == tuple(rec.shape) == want.shape
                    np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())  # one kernel
                    np.testing.assert_allclose(fast.numpy(), want.numpy(), rtol=2e-6)
            want = torch.linalg.vector_norm(t, dim=d, keepdim=kd)
            for got in (
                ctorch.norm(u, dim=d, keepdim=kd),
                ctorch.linalg.vector_norm(u, dim=d, keepdim=kd),
            ):
                assert tuple(got.shape) == want.shape
                np.testing.assert_allclose(got.numpy(), want.numpy(), rtol=2e-6)


def test_moments_small_nan_inf_and_overflow():
    x = np.array([[1, np.nan, 3], [np.inf, 1, 2], [1e30, 0, 0]], np.float32)
    np.testing.assert_array_equal(ctorch.var(ctorch.tensor(x), 1).numpy()[:2], [np.nan, np.nan])
    assert ctorch.var(ctorch.tensor(x), 1).numpy()[2] == np.inf  # 3.3e59 past float32, as torch
    n = ctorch.norm(ctorch.tensor(x), dim=1).numpy()
    # float64 accumulation: the norm of [1e30, 0, 0] is 1e30 (torch's float32 sum overflows
    # to inf; ctorch is right here)
    np.testing.assert_array_equal(n, np.array([np.nan, np.inf, 1e30], np.float32))
    assert ctorch.var(ctorch.tensor([1e30] * 3)).item() == 0.0  # a constant slice: exactly 0
    with pytest.warns(UserWarning, match="degrees of freedom"):  # the general path still warns
        assert np.isnan(ctorch.var(ctorch.tensor([1.0])).item())
    assert S.moments_small(np.ones((2, 3, 4), np.float32), (0, 2), 0, 1.0, False) is None


# ------------------------------------------------------------------ cross-entropy
@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("red", ["mean", "sum", "none"])
def test_cross_entropy_fast_path_equals_the_recorded_path_bitwise(dt, red):
    torch = _torch()
    for M, C in [(8, 16), (3, 5), (1, 1), (100, 7)]:
        x = (_rng().standard_normal((M, C)) * 3).astype(dt)
        t = _rng().integers(0, C, M)
        t[0] = -100
        fast = F.cross_entropy(ctorch.tensor(x), ctorch.tensor(t), reduction=red)
        rec = F.cross_entropy(ctorch.tensor(x, requires_grad=True), ctorch.tensor(t), reduction=red)
        np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
        want = torch.nn.functional.cross_entropy(
            torch.from_numpy(x), torch.from_numpy(t), reduction=red
        )
        np.testing.assert_allclose(fast.numpy(), want.numpy(), rtol=1e-5)


def test_cross_entropy_fast_path_errors_and_all_ignored():
    with pytest.raises(IndexError, match="out of bounds"):
        F.cross_entropy(ctorch.randn(3, 4), ctorch.tensor([0, 1, 4]))
    assert np.isnan(F.cross_entropy(ctorch.randn(3, 4), ctorch.tensor([-100] * 3)).item())
    assert S.ce_rows_small(np.ones((3, 4), np.float32), np.array([0, 1], np.int64), -100) is None
    assert S.ce_rows_small(np.ones((3, 4), np.float32), np.array([0, 1, 2], np.int32), -100) is None


# ------------------------------------------------------------------ sum / mean / cumsum
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_sum_small_is_numpys_pairwise_sum_bitwise(dt):
    rng = _rng()
    for n in [*range(1, 140), 255, 256, 257, 1000, 1024, 4000]:
        a = (rng.standard_normal(n) * rng.choice([1.0, 1e3, 1e-3])).astype(dt)
        np.testing.assert_array_equal(S.sum_small(a, False, False, 1.0), np.add.reduce(a))
        b = a.reshape(1, -1).repeat(3, 0) + np.arange(3, dtype=dt)[:, None]
        np.testing.assert_array_equal(S.sum_small(b, True, False, 1.0), np.add.reduce(b, 1))
        np.testing.assert_array_equal(
            S.sum_small(b, True, True, n),
            np.true_divide(np.add.reduce(b, 1, keepdims=True), n, dtype=dt),
        )
    assert str(S.sum_small(np.array([-0.0], dt), False, False, 1.0)) == "0.0"  # as NumPy, torch
    assert S.sum_small(np.ones((2, 0), dt), True, False, 1.0) is None


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_sum_mean_cumsum_fast_paths_equal_the_recorded_paths(dt):
    torch = _torch()
    rng = _rng()
    for shape in [(8, 16), (3, 5, 7), (300,), (1,), (2, 129)]:
        a = (rng.standard_normal(shape) * 100).astype(dt)
        a.reshape(-1)[0] = np.inf if len(shape) == 2 else a.reshape(-1)[0]
        x, xg = ctorch.tensor(a), ctorch.tensor(a, requires_grad=True)
        for name in ("sum", "mean"):
            for d in (None, -1, len(shape) - 1, 0):
                for kd in (False,) if d is None else (False, True):
                    kw = {} if d is None else {"dim": d, "keepdim": kd}
                    fast = getattr(ctorch, name)(x, **kw)
                    rec = getattr(ctorch, name)(xg, **kw)
                    assert fast.shape == rec.shape
                    np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
                    want = getattr(torch, name)(torch.from_numpy(a), **kw)
                    np.testing.assert_allclose(fast.numpy(), want.numpy(), rtol=1e-5)
        for d in range(len(shape)):
            fast = ctorch.cumsum(x, d)
            np.testing.assert_array_equal(fast.numpy(), ctorch.cumsum(xg, d).detach().numpy())
            np.testing.assert_allclose(
                fast.numpy(), torch.cumsum(torch.from_numpy(a), d).numpy(), rtol=1e-5
            )


# ------------------------------------------------------------------ tensor(list), arange
def test_list_array_infers_torchs_dtypes_and_rounds_as_numpy():
    torch = _torch()
    cases = [
        [1.0, 2.0, 3.0],
        [1, 2, 3],
        [True, False],
        [1, 2.5],
        [1e300, -1e300, float("nan"), float("inf")],
        [3.4028235677973366e38, 3.4028235677973362e38, 3.4028234663852886e38, 1e-46],
        [2**62, -(2**63)],
        [0.1, 1 / 3],
    ]
    for d in cases:
        got, want = ctorch.tensor(d), torch.tensor(d)
        assert str(got.dtype).split(".")[1] == str(want.dtype).split(".")[1], d
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    for other in ([True, 1], [1.0, True], [2**63], [1 + 2j], [np.float32(1)], [[1, 2]], [], (1, 2)):
        assert S.list_array(other, np.dtype(np.float32)) is None  # the general path's inference
        if other != [2**63]:
            assert ctorch.tensor(other).dtype == getattr(
                ctorch, str(torch.tensor(other).dtype).split(".")[1]
            )
    ctorch.set_default_dtype(ctorch.float64)
    try:
        assert ctorch.tensor([1.0, 2]).dtype == ctorch.float64
    finally:
        ctorch.set_default_dtype(ctorch.float32)
    t = ctorch.tensor([1.0], requires_grad=True)
    assert t.requires_grad and t.is_leaf


def test_arange_int_fast_path():
    torch = _torch()
    for args in [(5,), (2, 9, 3), (0,), (5, 2, -1), (3, 3), (-4, 4, 3)]:
        got, want = ctorch.arange(*args), torch.arange(*args)
        assert got.dtype == ctorch.int64
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    with pytest.raises(RuntimeError, match="upper bound"):
        ctorch.arange(5, 2)


# ------------------------------------------------------------------ pow 2, masked_fill, overflow
def test_square_masked_fill_fast_paths_match_torch():
    torch = _torch()
    x = ctorch.randn(8, 16)
    x[0, 0], x[0, 1], x[0, 2] = float("nan"), float("inf"), -0.0
    tx = torch.from_numpy(x.numpy().copy())
    np.testing.assert_array_equal((x**2).numpy(), (tx**2).numpy())
    assert (ctorch.tensor([1, 2]) ** 2).dtype == ctorch.int64
    m = x > 0.5
    for v in (0.0, float("inf"), float("nan"), 3, True):
        got = x.masked_fill(m, v)
        np.testing.assert_array_equal(
            got.numpy(), tx.masked_fill(torch.from_numpy(m.numpy()), v).numpy()
        )
        assert got.dtype == ctorch.float32 and got.is_contiguous()
    np.testing.assert_array_equal(
        ctorch.tensor([1, 2, 3]).masked_fill(ctorch.tensor([False, True, True]), 2.7).numpy(),
        [1, 2, 2],
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda L: L.zeros(2).fill_(1e39),
        lambda L: L.full((2,), 1e39),
        lambda L: L.zeros(2).index_fill(0, L.tensor([0]), 1e39),
        lambda L: L.where(L.tensor([True]), L.zeros(1), 1e39),
        lambda L: L.zeros(2, dtype=L.float16).masked_fill(L.tensor([True, False]), 1e5),
        lambda L: L.zeros(2).masked_fill(L.tensor([True, False]), -1e39),
        lambda L: L.zeros(2).clamp(max=1e39),
        lambda L: L.zeros(2, requires_grad=True).clamp(min=-1e39),
    ],
)
def test_a_number_past_a_float_dtype_is_refused_as_torch(fn):
    torch = _torch()
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        fn(torch)
    with pytest.raises(RuntimeError, match="cannot be converted to type .* without overflow"):
        fn(ctorch)


def test_inf_nan_and_wide_dtypes_are_still_stored():
    assert np.isinf(ctorch.zeros(2).fill_(float("inf")).numpy()).all()
    assert np.isnan(ctorch.full((2,), float("nan")).numpy()).all()
    assert ctorch.zeros(2, dtype=ctorch.float64).fill_(1e39)[0].item() == 1e39
    assert np.isinf((ctorch.zeros(2) + 1e39).numpy()).all()  # arithmetic rounds, as torch


def test_where_fast_path_matches_torch_and_the_general_path():
    torch = _torch()
    x = ctorch.randn(8, 16)
    x[0, 0] = float("nan")
    tx = torch.from_numpy(x.numpy().copy())
    m, tm = x > 0, tx > 0
    for o in (0.0, 2, float("nan"), float("-inf")):
        for args, targs in (((m, x, o), (tm, tx, o)), ((m, o, x), (tm, o, tx))):
            got = ctorch.where(*args)
            assert got.dtype == ctorch.float32 and got.is_contiguous()
            np.testing.assert_array_equal(got.numpy(), torch.where(*targs).numpy())
    y = ctorch.randn(16)
    np.testing.assert_array_equal(
        ctorch.where(m, x, y).numpy(), torch.where(tm, tx, torch.from_numpy(y.numpy())).numpy()
    )
    assert ctorch.where(m, x, x.double()).dtype == ctorch.float64  # promotion: general path
    assert ctorch.where(m, x.double(), 1).dtype == ctorch.float64
    with pytest.raises(RuntimeError, match="cannot be broadcast"):
        ctorch.where(m, x, ctorch.randn(3))
    xg = ctorch.randn(8, 16, requires_grad=True)
    assert type(ctorch.where(m, xg, 0.0).grad_fn).__name__ == "WhereBackward0"


@pytest.mark.parametrize("op", ["__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"])
def test_comparison_fast_path_matches_torch(op):
    torch = _torch()
    x = ctorch.tensor([[1.0, float("nan"), 3.0], [float("inf"), -0.0, 0.0]])
    tx = torch.from_numpy(x.numpy().copy())
    for o, to in ((x, tx), (0.0, 0.0), (3, 3), (float("nan"), float("nan")), (x[:1], tx[:1])):
        got, want = getattr(x, op)(o), getattr(tx, op)(to)
        assert got.dtype == ctorch.bool and tuple(got.shape) == tuple(want.shape)
        np.testing.assert_array_equal(got.numpy(), want.numpy())
    assert getattr(ctorch.tensor(1.0), op)(1.0).shape == ()
    i = ctorch.tensor([1, 2**62])
    np.testing.assert_array_equal(
        getattr(i, op)(i).numpy(),
        getattr(torch.tensor([1, 2**62]), op)(torch.tensor([1, 2**62])).numpy(),
    )


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_recorded_small_paths_give_torchs_gradients(dt):
    """gather/topk/sort (compiled forward, compiled scatter-add backward) and var/std/_mean
    (array backward) against torch, and against their own create_graph backward."""
    torch = _torch()
    a = _rng().standard_normal((5, 6)).astype(dt)
    a[0, :3] = 2.0  # a constant run: std's zero-gradient rule, ties in topk/sort
    idx = np.array([[0, 5, 5], [1, 1, 2], [0, 0, 0], [3, 4, 5], [5, 4, 3]])
    w = _rng().standard_normal((5, 3)).astype(dt)
    ramp = np.arange(30, dtype=dt).reshape(5, 6) * 1e-3
    cases = [
        lambda L, x: x.gather(1, L.from_numpy(idx)) * L.from_numpy(w),
        lambda L, x: (
            (x + L.from_numpy(ramp)).topk(3, 1)[0] * L.from_numpy(w)
        ),  # (torch's tie order is unspecified)
        lambda L, x: x.sort(0, descending=True)[0] * L.from_numpy(a),
        lambda L, x: x.var(1) * 1.5,
        lambda L, x: x.std(0, keepdim=True) * 2.0,
        lambda L, x: x.std() * 3.0,
        lambda L, x: L.stack(L.var_mean(x, 1)) * 1.5,
        lambda L, x: L.stack(L.std_mean(x, 0, keepdim=True)) * 1.5,
    ]
    for fn in cases:
        x = ctorch.tensor(a, requires_grad=True)
        tx = torch.from_numpy(a.copy()).requires_grad_()
        fn(ctorch, x).sum().backward()
        fn(torch, tx).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
        x2 = ctorch.tensor(a, requires_grad=True)
        (gg,) = ctorch.autograd.grad(fn(ctorch, x2).sum(), x2, create_graph=True)
        assert gg.requires_grad or gg.grad_fn is None
        np.testing.assert_allclose(gg.detach().numpy(), x.grad.numpy(), rtol=1e-6, atol=1e-7)


def test_gather_backward_small_is_np_add_at():
    rng = _rng()
    for dt in (np.float32, np.float64):
        x = rng.standard_normal((5, 6, 4)).astype(dt)
        for d in range(3):
            shape = [5, 7, 4] if d == 1 else [3 if i == d else s for i, s in enumerate(x.shape)]
            idx = rng.integers(0, x.shape[d], shape)
            g = rng.standard_normal(idx.shape).astype(dt)
            ref = np.zeros(x.shape, dt)
            grid = list(np.indices(idx.shape, sparse=True))
            grid[d] = idx
            np.add.at(ref, tuple(grid), g)
            np.testing.assert_array_equal(S.gather_backward_small(g, idx, d, x.shape), ref)
            np.testing.assert_array_equal(
                S.gather_backward_small(np.asfortranarray(g), idx, d, x.shape), ref
            )
    g = np.ones((2, 2), np.float32)
    assert S.gather_backward_small(g, np.array([[0, 9], [0, 0]]), 1, (2, 3)) is None
    assert (
        S.gather_backward_small(g.astype(np.int64), np.zeros((2, 2), np.int64), 1, (2, 3)) is None
    )


def test_view_reduce_compare_and_sampling_fast_paths_match_torch():
    torch = _torch()
    x = ctorch.randn(2, 3)
    assert x.squeeze(-1).shape == (2, 3) and ctorch.randn(1, 3).squeeze(-2).shape == (3,)
    assert ctorch.tensor(1.0).squeeze(0).shape == ()
    with pytest.raises(IndexError, match="Dimension out of range"):
        x.squeeze(2)
    for vals in ([True, False], [True], [], [[True, True], [True, True]]):
        t, tt = ctorch.tensor(vals, dtype=ctorch.bool), torch.tensor(vals, dtype=torch.bool)
        for name in ("all", "any"):
            got, want = getattr(t, name)(), getattr(tt, name)()
            assert got.dtype == ctorch.bool and got.shape == () and got.item() == want.item()
    assert ctorch.tensor([0, 3], dtype=ctorch.uint8).all().dtype == ctorch.uint8  # as torch
    v, tv = ctorch.tensor([2, -5, 2**62]), torch.tensor([2, -5, 2**62])
    for o in (0, 3, 2**62, -(2**63), 2**63):
        for op in ("__lt__", "__ge__", "__eq__", "__ne__"):
            np.testing.assert_array_equal(getattr(v, op)(o).numpy(), getattr(tv, op)(o).numpy())
    a = np.random.default_rng(0).standard_normal((3, 4, 5)).astype(np.float32)
    a[0, 0, 0], a[2, 2, 1] = np.inf, np.nan
    a[1, 1, :] = -np.inf
    for d in (0, -1, (0, 2)):
        fast = ctorch.logsumexp(ctorch.tensor(a), d)
        rec = ctorch.logsumexp(ctorch.tensor(a, requires_grad=True), d)
        np.testing.assert_array_equal(fast.numpy(), rec.detach().numpy())
        np.testing.assert_allclose(
            fast.numpy(), torch.logsumexp(torch.from_numpy(a), d).numpy(), rtol=1e-6
        )
    for dt in (np.float32, np.float64):  # one-sample multinomial: torch's draws, pick for pick
        p = np.random.default_rng(1).random((50, 7)).astype(dt)
        p[3] = 0
        p[3, 2] = 1
        for seed in range(3):
            ctorch.manual_seed(seed)
            torch.manual_seed(seed)
            np.testing.assert_array_equal(
                ctorch.multinomial(ctorch.tensor(p), 1).numpy(),
                torch.multinomial(torch.from_numpy(p), 1).numpy(),
            )
            np.testing.assert_array_equal(
                ctorch.multinomial(ctorch.tensor(p[0]), 1).numpy(),
                torch.multinomial(torch.from_numpy(p[0]), 1).numpy(),
            )
