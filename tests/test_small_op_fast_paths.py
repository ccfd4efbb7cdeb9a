"""The no-record fast paths of the commonest small ops (issue #15's per-op overhead):
``view``/``reshape`` with plain int sizes, ``x[i]``, small ``sum``/``mean`` and the unary
rows on small arrays. Each must give what the general path gives: values, views sharing
storage and version counter, errors, and torch's semantics."""

from __future__ import annotations

import warnings

import numpy as np
import pytest

import ctorch
from ctorch.ops import shape as S

torch = pytest.importorskip("torch")


@pytest.mark.parametrize(
    "src,args",
    [
        ((4, 4), (16,)),
        ((4, 4), ((2, 8),)),
        ((4, 4), ([2, -1],)),
        ((2, 3, 4), (-1, 4)),
        ((2, 3, 4), (ctorch.Size([6, 4]),)),
        ((0, 3), (3, 0)),
        ((5,), (5,)),
        ((), (1, 1)),
        ((1,), ((),)),
        ((0,), (-1,)),
    ],
)
@pytest.mark.parametrize("op", ["view", "reshape"])
def test_view_fast_path_is_a_view_with_torchs_shape(src, args, op):
    a = np.arange(int(np.prod(src)), dtype=np.float32).reshape(src)
    x = ctorch.from_numpy(a)
    targs = tuple(torch.Size(s) if isinstance(s, ctorch.Size) else s for s in args)
    y = getattr(x, op)(*args)
    ref = getattr(torch.from_numpy(a.copy()), op)(*targs)
    assert tuple(y.shape) == tuple(ref.shape)
    np.testing.assert_array_equal(y.numpy(), ref.numpy())
    assert y._base is x and y._vref is x._vref  # a view: storage and version counter shared
    if y.numel():
        y.view(-1)[0] = 42.0
        assert a.reshape(-1)[0] == 42.0
        assert x._version == 1


@pytest.mark.parametrize(
    "src,args",
    [
        ((4, 4), (15,)),
        ((4, 4), (-1, -1)),
        ((4, 4), (-2, 8)),
        ((0, 3), (-1, 0)),
        ((4,), (2.0, 2)),
        ((1,), ()),
    ],
)
@pytest.mark.parametrize("op", ["view", "reshape"])
def test_view_fast_path_errors_match_torch(src, args, op):
    x = ctorch.zeros(src)
    t = torch.zeros(src)
    with pytest.raises(Exception) as want:
        getattr(t, op)(*args)
    with pytest.raises(type(want.value)):
        getattr(x, op)(*args)


def test_view_shape_helper_declines_what_it_cannot_resolve():
    vs = S._view_shape
    assert vs((2, 8), 16) == (2, 8)
    assert vs(((2, -1),), 16) == (2, 8)
    assert vs(([4, 4],), 16) == (4, 4)
    assert vs((-1,), 0) == (0,)
    assert vs((-1, 0), 0) is None  # torch's "cannot infer" error comes from the general path
    assert vs((), 1) is None  # x.view(): torch's argument error
    assert vs((True, 16), 16) is None  # bools are not sizes here
    assert vs((np.int64(16),), 16) is None
    assert vs((ctorch.tensor(16),), 16) is None
    assert vs((3,), 16) is None


def test_view_of_noncontiguous_and_under_grad_take_the_general_path():
    x = ctorch.arange(12.0).reshape(3, 4).t()
    with pytest.raises(RuntimeError, match="view size is not compatible"):
        x.view(12)
    r = x.reshape(12)  # a copy
    assert r._base is None
    np.testing.assert_array_equal(r.numpy(), np.arange(12.0).reshape(3, 4).T.reshape(12))
    w = ctorch.ones(2, 3, requires_grad=True)
    v = w.view(6)
    assert type(v.grad_fn).__name__ == "ViewBackward0"
    (v * ctorch.arange(6.0)).sum().backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.arange(6.0).reshape(2, 3))


@pytest.mark.parametrize("lib", ["ctorch", "torch"])
def test_int_index_is_a_zero_d_view(lib):
    L = ctorch if lib == "ctorch" else torch
    x = L.zeros(3)
    y = x[0]
    y += 1  # writes through: torch's x[0] is a view, not a copy
    x[-1].fill_(5)
    m = L.zeros(2, 2)
    m[1, 1] += 3  # setitem
    v = m[0][1]
    v += 2
    w = m[1, 0]
    w.add_(7)
    assert x.tolist() == [1.0, 0.0, 5.0]
    assert m.tolist() == [[0.0, 2.0], [7.0, 3.0]]
    assert y.dim() == 0


def test_int_index_errors_match_torch():
    for idx in (3, -4):
        with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
            ctorch.zeros(3)[idx]
        with pytest.raises(IndexError, match="out of bounds for dimension 0 with size 3"):
            torch.zeros(3)[idx]
    with pytest.raises(IndexError):
        ctorch.tensor(1.0)[0]


def test_int_index_under_grad_records_select():
    a = ctorch.arange(3.0, requires_grad=True)
    b = a[1]
    assert type(b.grad_fn).__name__ == "SelectBackward0"
    b.backward()
    assert a.grad.tolist() == [0.0, 1.0, 0.0]


@pytest.mark.parametrize("dt", [np.float32, np.float64, np.int32, np.bool_])
@pytest.mark.parametrize("shape", [(16,), (3, 5), (2, 3, 4), (), (0,)])
def test_small_sum_and_mean_equal_numpys_bits(dt, shape):
    rng = np.random.default_rng(0)
    a = np.asarray(rng.standard_normal(shape) * 10).astype(dt)
    x = ctorch.from_numpy(a)
    want = np.sum(a, dtype=np.int64 if a.dtype.kind in "biu" else a.dtype)
    got = x.sum()
    assert got.dim() == 0
    assert got.numpy().tobytes() == np.asarray(want).tobytes()
    if a.ndim >= 2:
        got = x.sum(1, keepdim=True).numpy()
        np.testing.assert_array_equal(got, a.sum(1, keepdims=True, dtype=got.dtype))
    if a.dtype.kind == "f" and a.size:
        m = x.mean().numpy()
        assert m.tobytes() == np.asarray(np.sum(a, dtype=a.dtype) / a.dtype.type(a.size)).tobytes()


@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_sum_and_dot_fast_paths_equal_the_recorded_ops(dt):
    """The no-record fast paths of a whole-array sum and of a 1-D @ 1-D product give the
    bits, dtype and 0-d shape of the ops they skip (run here under grad, with a graph)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal(37).astype(dt)
    b = rng.standard_normal(37).astype(dt)
    x, y = ctorch.from_numpy(a), ctorch.from_numpy(b)
    xg, yg = x.clone().requires_grad_(), y.clone().requires_grad_()
    for fast, slow in ((x.sum(), xg.sum()), (x @ y, xg @ yg), (ctorch.matmul(x, y), xg @ yg)):
        assert fast.grad_fn is None and slow.grad_fn is not None
        assert fast.dtype == slow.dtype and fast.shape == slow.shape == ()
        assert fast.numpy().tobytes() == slow.detach().numpy().tobytes()
    assert x.sum(keepdim=True).shape == xg.sum(keepdim=True).shape
    m = ctorch.from_numpy(rng.standard_normal((64, 300)).astype(dt))  # the kernel path too
    mg = m.clone().requires_grad_()
    for d, k in ((0, False), (1, True), ((0, 1), False), (-1, False)):
        for op in ("sum", "mean"):
            fast, slow = getattr(m, op)(d, keepdim=k), getattr(mg, op)(d, keepdim=k)
            assert fast.grad_fn is None and slow.grad_fn is not None
            assert fast.dtype == slow.dtype and fast.shape == slow.shape
            assert fast.numpy().tobytes() == slow.detach().numpy().tobytes()
    assert m.mean().numpy().tobytes() == mg.mean().detach().numpy().tobytes()
    with ctorch.autocast("cpu", dtype=ctorch.bfloat16):  # autocast casts matmul's inputs
        assert (x.float() @ y.float()).dtype == ctorch.bfloat16
    with pytest.raises(RuntimeError, match="inconsistent tensor size"):
        x @ ctorch.from_numpy(b[:5])
    with pytest.raises(RuntimeError, match="expected m1 and m2 to have the same dtype"):
        x @ y.double() if dt == np.float32 else x @ y.float()


@pytest.mark.parametrize("name", ["exp", "log", "tanh", "sin", "sqrt", "expm1", "relu"])
@pytest.mark.parametrize("dt", [np.float32, np.float64])
def test_small_unary_gives_the_large_kernels_bits(name, dt):
    """Small arrays run the same SIMD loop as large ones (they no longer go to NumPy's ufunc
    for the rows NumPy has), so a value's result does not depend on the array's size."""
    rng = np.random.default_rng(1)
    big = np.abs(rng.standard_normal(70000)).astype(dt) + dt(0.01)
    small = big[:37].copy()
    fb = getattr(ctorch.from_numpy(big), name)().numpy()[:37]
    fs = getattr(ctorch.from_numpy(small), name)().numpy()
    assert fs.tobytes() == fb.tobytes()
    ref = getattr(torch, name)(torch.from_numpy(small.astype(np.float64))).numpy()
    np.testing.assert_allclose(fs, ref, rtol=4 * np.finfo(dt).eps, atol=0)


@pytest.mark.parametrize("dt", ["float32", "float64", "bfloat16", "float16"])
@pytest.mark.parametrize("name", ["relu", "exp", "sigmoid", "neg", "tanh", "sqrt"])
def test_unary_inplace_writes_through_the_kernel(name, dt):
    """x.<op>_() without a graph: the kernel writes x's memory (no temporary), with the
    out-of-place op's bits, the version counter moved, and views writing through."""
    import tracemalloc

    rng = np.random.default_rng(2)
    a = np.abs(rng.standard_normal(40_000)).astype(np.float32) + 0.01
    a[:4] = [np.nan, -0.0, np.inf, -1.0]
    x = ctorch.from_numpy(a).to(getattr(ctorch, dt))
    want = getattr(x, name)()
    y = x.clone()
    v = y[100:]
    tracemalloc.start()
    base = tracemalloc.get_traced_memory()[0]
    r = getattr(v, name + "_")()
    peak = tracemalloc.get_traced_memory()[1] - base
    tracemalloc.stop()
    assert r is v and y._version == 1
    assert peak < v.numel() * v.element_size() // 2  # no temporary of the view's size
    got = y.float().numpy()
    ref = torch.from_numpy(x.float().numpy()).to(getattr(torch, dt))
    getattr(ref[100:], name + "_")()
    np.testing.assert_array_equal(got[:100], x.float().numpy()[:100])
    np.testing.assert_array_equal(got[100:], want.float().numpy()[100:])
    np.testing.assert_allclose(
        got[100:], ref.float().numpy()[100:], rtol=2 * ctorch.finfo(x.dtype).eps
    )


def test_unary_inplace_keeps_torchs_errors_and_graph():
    w = ctorch.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match="leaf Variable that requires grad"):
        w.exp_()
    with ctorch.no_grad():
        w.exp_()  # allowed without grad mode, as torch
    assert w._version == 1
    with pytest.raises(RuntimeError, match="more than one element"):
        ctorch.zeros(3).expand(2, 3).exp_()
    ro = np.ones(4, np.float32)
    ro.flags.writeable = False
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch's not-writable warning (once per process)
        t = ctorch.from_numpy(ro)
    # torch writes through the read-only array here; ctorch refuses (better than torch)
    with pytest.raises(RuntimeError, match="read-only"):
        t.relu_()
    h = ctorch.ones(3, requires_grad=True) * 2
    h.exp_()  # recorded: the general path, torch's node
    assert type(h.grad_fn).__name__ == "ExpBackward0"
    h.sum().backward()


@pytest.mark.parametrize(
    "dt", [np.float32, np.float64, np.int64, np.bool_, np.complex64, np.float16]
)
@pytest.mark.parametrize(
    "shapes, ax",
    [
        ([(4, 5, 6), (4, 3, 6), (4, 0, 6)], 1),
        ([(40, 50, 6), (40, 50, 2)], 2),
        ([(2, 3, 4, 5)] * 3, -1),
        ([(64, 64), (64, 1)], 1),
        ([(64, 64), (1, 64)], 0),
    ],
)
def test_cat_row_copies_equal_numpys_concatenate(dt, shapes, ax):
    """cat inside the rows of contiguous arrays runs as row copies (nnmisc.cat_rows), with
    and without a graph to record: the values and dtype of NumPy's concatenate."""
    rng = np.random.default_rng(3)
    arrs = [(rng.standard_normal(s) * 5).astype(dt) for s in shapes]
    want = np.concatenate(arrs, ax)
    got = ctorch.cat([ctorch.from_numpy(a) for a in arrs], ax)
    assert got.dtype == ctorch.from_numpy(want).dtype
    np.testing.assert_array_equal(got.numpy(), want)
    if dt in (np.float32, np.float64):
        ts = [ctorch.from_numpy(a).requires_grad_() for a in arrs]
        y = ctorch.cat(ts, ax)
        assert type(y.grad_fn).__name__ == "CatBackward0"
        np.testing.assert_array_equal(y.detach().numpy(), want)
        (y * ctorch.arange(y.numel(), dtype=y.dtype).reshape(y.shape)).sum().backward()
        idx = np.split(
            np.arange(want.size).reshape(want.shape), np.cumsum([s[ax] for s in shapes])[:-1], ax
        )
        for t, i in zip(ts, idx, strict=True):
            np.testing.assert_array_equal(t.grad.numpy(), i.astype(dt))


def test_cat_fast_path_keeps_torchs_checks():
    x = ctorch.ones(2, 3)
    with pytest.raises(RuntimeError, match="Sizes of tensors must match except in dimension 1"):
        ctorch.cat([x, ctorch.ones(3, 3)], 1)
    with pytest.raises(RuntimeError, match="same number of dimensions"):
        ctorch.cat([x, ctorch.ones(3)], 0)
    assert ctorch.cat([x, ctorch.ones(2, 3, dtype=ctorch.float64)], 1).dtype == ctorch.float64
    assert ctorch.cat([x, ctorch.tensor([])], 0).shape == (2, 3)  # legacy: 1-D empty skipped
    t = x.t()  # not contiguous: NumPy's concatenate
    np.testing.assert_array_equal(ctorch.cat([t, t], 1).numpy(), np.ones((3, 4)))


@pytest.mark.parametrize("shape", [(4, 4), (5, 3, 7), (1, 6), (6,)])
@pytest.mark.parametrize(
    "call",
    [
        ("chunk", (2,), {}),
        ("chunk", (3, -1), {}),
        ("chunk", (4,), {"dim": 1}),
        ("chunk", (10, 0), {}),
        ("split", (2,), {}),
        ("split", (3, -1), {}),
        ("split", (4,), {"dim": 1}),
        ("split", (100, 0), {}),
        ("chunk", (2, 1.0), {}),
        ("chunk", (0,), {}),
        ("split", (2, 5), {}),
    ],
)
def test_split_chunk_fast_path_views_as_torch(shape, call):
    """split/chunk's lean no-record path: pieces are views of the input's storage sharing its
    version counter, with torch's count, shapes and values; what it does not take (float
    dims, chunks <= 0, dims out of range) still raises torch's error type."""
    name, args, kw = call
    a = np.arange(int(np.prod(shape)), dtype=np.float32).reshape(shape)
    x = ctorch.from_numpy(a.copy())
    tx = torch.from_numpy(a.copy())
    try:
        want = getattr(tx, name)(*args, **kw)
    except Exception as e:  # noqa: BLE001 - the same type must come from ctorch
        with pytest.raises(type(e)):
            getattr(x, name)(*args, **kw)
        return
    got = getattr(x, name)(*args, **kw)
    assert isinstance(got, tuple) and len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert tuple(g.shape) == tuple(w.shape) and g.stride() == w.stride()
        np.testing.assert_array_equal(g.numpy(), w.numpy())
        assert g._base is x and g._version == x._version
    if got[0].numel():
        got[0][(0,) * got[0].dim()] = -1.0  # written through to the input
        assert x[(0,) * x.dim()].item() == -1.0


def test_split_fast_path_views_rebase_after_recorded_inplace():
    """A piece taken (grad mode on) from a tensor that needs no grad yet is rebased when an
    in-place op recorded by autograd later changes its base (torch: the view's grad_fn)."""
    x = ctorch.zeros(4, 3)
    p0, p1 = x.chunk(2)
    w = ctorch.ones(4, 3, requires_grad=True)
    x.add_(w)
    assert p0.requires_grad and p0.grad_fn is not None
    (p0.sum() * 2 + p1.sum()).backward()
    np.testing.assert_array_equal(w.grad.numpy(), np.array([[2.0] * 3] * 2 + [[1.0] * 3] * 2))


def test_clone_fast_path_copies_with_torchs_strides():
    for a in (
        np.arange(12, dtype=np.float32).reshape(3, 4),
        np.arange(12, dtype=np.float64).reshape(3, 4).T,
        np.arange(4, dtype=np.int64).reshape(1, 4),
        np.zeros((0, 3), np.float32),
    ):
        x, tx = ctorch.from_numpy(a), torch.from_numpy(a)
        c, tc = x.clone(), tx.clone()
        assert c.stride() == tc.stride() and c.dtype == x.dtype
        np.testing.assert_array_equal(c.numpy(), a)
        if a.size:
            assert not np.shares_memory(c.numpy(), a)
            assert c.grad_fn is None and not c.requires_grad


@pytest.mark.parametrize("dt", ["float32", "float16", "float64", "int64", "int8", "uint8", "bool"])
@pytest.mark.parametrize("value", [0, 1.5, True, -3, 127, float("nan"), float("inf"), -1e30])
@pytest.mark.parametrize("mshape", [(3, 4), (1, 4)])
def test_masked_fill_scalar_values_as_torch(dt, value, mshape):
    """masked_fill with a Python number (the no-record path: copy, then set where the mask
    is): torch's values and dtype, and torch's error type where the number does not fit."""
    rng = np.random.default_rng(0)
    a = (rng.random((3, 4)) * 10).astype(dt)
    m = rng.random(mshape) > 0.5
    try:
        want = torch.from_numpy(a.copy()).masked_fill(torch.from_numpy(m), value)
    except Exception as e:  # noqa: BLE001 - the same type must come from ctorch
        with pytest.raises(type(e)):
            ctorch.from_numpy(a.copy()).masked_fill(ctorch.from_numpy(m), value)
        return
    got = ctorch.from_numpy(a.copy()).masked_fill(ctorch.from_numpy(m), value)
    assert str(got.dtype).split(".")[-1] == str(want.dtype).split(".")[-1]
    np.testing.assert_array_equal(got.numpy(), want.numpy())


_CLAMP_VALUES = [-0.0, 0.0, float("nan"), float("inf"), -float("inf"), 0.5, -1.0, 2.0]


@pytest.mark.parametrize("dt", ["float32", "float64", "float16"])
@pytest.mark.parametrize(
    "lo,hi",
    [
        (lo, hi)
        for lo in (None, -0.0, 0.0, float("nan"), 0.5, -float("inf"), 1)
        for hi in (None, -0.0, 0.0, float("nan"), 1.0)
        if lo is not None or hi is not None  # (no bound: an error, tested elsewhere)
    ],
)
@pytest.mark.parametrize("rg", [False, True])
def test_clamp_signed_zeros_and_nan_as_torch(dt, lo, hi, rg):
    """clamp keeps x unless a bound lies strictly beyond it (clamp(0.0, max=-0.0) is 0.0,
    clamp(-0.0, min=0.0) is -0.0) and NaN in x or a bound gives NaN, as torch, on the
    no-record path and the recorded one (np.minimum/np.maximum gave the other zero)."""
    a = np.array(_CLAMP_VALUES, dt)
    want = torch.from_numpy(a.copy()).clamp(lo, hi).numpy()
    x = ctorch.tensor(a.copy(), requires_grad=True) if rg else ctorch.from_numpy(a.copy())
    got = x.clamp(lo, hi).detach().numpy()
    assert got.dtype == want.dtype
    np.testing.assert_array_equal(got, want)
    np.testing.assert_array_equal(np.signbit(got), np.signbit(want))
