"""Compressed sparse layouts (CSR, CSC, BSR, BSC; batched and hybrid): construction,
conversions between every pair of layouts, accessors, printing, products, transpose,
arithmetic, gradients and torch.save interchange, each against torch (and float64
finite differences)."""

from __future__ import annotations

import copy
import io
import pickle
import warnings

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck

torch = pytest.importorskip("torch")
warnings.filterwarnings("ignore", message=".*(beta state|invariant checks).*")

LAYS = ("csr", "csc", "bsr", "bsc")
INDEX_NAMES = {
    "csr": ("crow_indices", "col_indices"),
    "bsr": ("crow_indices", "col_indices"),
    "csc": ("ccol_indices", "row_indices"),
    "bsc": ("ccol_indices", "row_indices"),
}


def npy(x):
    if isinstance(x, torch.Tensor):
        return x.detach().numpy()
    return x.detach().numpy()


def sparse_dense(seed=0, shape=(4, 6), density=0.5):
    r = np.random.default_rng(seed)
    a = r.standard_normal(shape)
    a[r.random(shape) > density] = 0
    return a


def batched_dense(seed, shape, nbatch):
    """Nonzero entries on one pattern shared by every batch (torch needs the same nnz)."""
    a = np.random.default_rng(seed).standard_normal(shape) + 5.0
    return a * (sparse_dense(seed + 1, shape[nbatch:]) != 0)


def same_compressed(c, t):
    """Same layout, size, dtype, metadata, indices and values as torch's tensor ``t``."""
    assert repr(c.layout).split(".")[-1] == str(t.layout).split(".")[-1]
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert c.sparse_dim() == t.sparse_dim() and c.dense_dim() == t.dense_dim()
    assert c._nnz() == t._nnz()
    assert c.is_sparse_csr == t.is_sparse_csr and c.is_sparse == t.is_sparse
    lay = str(t.layout).split("_")[-1]
    if lay in INDEX_NAMES:
        for name in INDEX_NAMES[lay]:
            np.testing.assert_array_equal(npy(getattr(c, name)()), npy(getattr(t, name)()))
        np.testing.assert_allclose(npy(c.values()), npy(t.values()), rtol=1e-12)
    else:
        assert c.is_coalesced() == t.is_coalesced()
        np.testing.assert_array_equal(npy(c._indices()), npy(t._indices()))
        np.testing.assert_allclose(npy(c._values()), npy(t._values()), rtol=1e-12)
    np.testing.assert_allclose(npy(c.to_dense()), npy(t.to_dense()), rtol=1e-12)


def convert(x, lay, blocksize=None, dense_dim=None):
    kw = {} if dense_dim is None else {"dense_dim": dense_dim}
    if lay in ("bsr", "bsc"):
        return getattr(x, "to_sparse_" + lay)(blocksize, **kw)
    if lay == "coo":
        return x.to_sparse()
    return getattr(x, "to_sparse_" + lay)(**kw)


def both(fn):
    return fn(ctorch), fn(torch)


def test_layout_objects_print_and_compare_like_torch():
    for lay in LAYS:
        c, t = both(lambda L, lay=lay: getattr(L, "sparse_" + lay))
        assert repr(c) == repr(t).replace("torch.", "ctorch.")
        assert c == getattr(ctorch, "sparse_" + lay) and c != ctorch.sparse_coo
        assert c is not ctorch.strided


# (shape, layout, blocksize, dense_dim, batch-shared mask)
DENSE_CASES = [
    ((4, 6), "csr", None, None),
    ((4, 6), "csc", None, None),
    ((4, 6), "bsr", (2, 3), None),  # non-square blocks
    ((4, 6), "bsc", (2, 2), None),
    ((4, 6), "bsr", 2, None),  # an int blocksize
    ((4, 6), "bsc", (4, 1), None),
    ((0, 3), "csr", None, None),  # empty
    ((0, 3), "csc", None, None),
    ((3, 0), "bsr", (1, 1), None),
    ((3, 5), "csr", None, None),  # rectangular
    ((2, 3, 4), "csr", None, None),  # batched
    ((2, 3, 4), "csc", None, None),
    ((2, 4, 4), "bsr", (2, 2), None),
    ((2, 4, 6), "bsc", (2, 3), None),
    ((3, 4, 2), "csr", None, 1),  # hybrid
    ((3, 4, 2), "csc", None, 1),
    ((2, 4, 4, 3), "bsr", (2, 2), 1),  # batched hybrid blocked
    ((2, 3, 4, 2), "csc", None, 1),
    ((0, 3, 2), "csr", None, 1),  # empty hybrid
    ((2, 0, 3), "csc", None, None),  # batched, empty
]


@pytest.mark.parametrize("shape, lay, blocksize, dense_dim", DENSE_CASES)
def test_dense_to_compressed_matches_torch(shape, lay, blocksize, dense_dim):
    nb = len(shape) - 2 - (dense_dim or 0)
    a = batched_dense(1, shape, nb) if nb else sparse_dense(1, shape)
    c, t = both(lambda L: convert(L.tensor(a), lay, blocksize, dense_dim))
    same_compressed(c, t)
    np.testing.assert_array_equal(npy(c.to_dense()), a)
    assert c.values().is_contiguous()


def test_all_zero_and_zero_nnz_tensors():
    for lay, bs in (("csr", None), ("csc", None), ("bsr", (1, 3)), ("bsc", (2, 1))):
        c, t = both(lambda L, lay=lay, bs=bs: convert(L.zeros(2, 3), lay, bs))
        same_compressed(c, t)
        assert c._nnz() == 0


def _sparse_case(L, lay, a):
    x = L.tensor(a)
    if lay == "strided":
        return x
    return convert(x, lay, (2, 2) if lay in ("bsr", "bsc") else None)


@pytest.mark.parametrize("src", ("strided", "coo", *LAYS))
@pytest.mark.parametrize("dst", ("strided", "coo", *LAYS))
def test_conversion_between_every_pair_of_layouts(src, dst):
    """Both libraries convert (to the same tensor) or both refuse with a RuntimeError."""
    a = sparse_dense(3, (4, 6))
    a[2:4, 0:2] = 0  # one empty block

    def go(L):
        x = _sparse_case(L, src, a)
        if dst == "strided":
            return x.to_dense()
        return convert(x, dst, (2, 2) if dst in ("bsr", "bsc") else None)

    try:
        t = go(torch)
    except RuntimeError as e:
        with pytest.raises(RuntimeError) as ce:
            go(ctorch)
        assert str(ce.value) == str(e).split("\n")[0]
        return
    c = go(ctorch)
    if dst == "strided":
        np.testing.assert_array_equal(npy(c), npy(t))
    else:
        same_compressed(c, t)
    # to_sparse(layout=...) gives the same tensor
    if dst in LAYS:
        bs = (2, 2) if dst in ("bsr", "bsc") else None
        c2 = _sparse_case(ctorch, src, a).to_sparse(
            layout=getattr(ctorch, "sparse_" + dst), blocksize=bs
        )
        same_compressed(c2, t)


def test_batched_and_hybrid_coo_round_trip():
    a = sparse_dense(4, (3, 4, 2))
    c, t = both(lambda L: L.tensor(a).to_sparse_csr(dense_dim=1).to_sparse_coo())
    np.testing.assert_array_equal(npy(c._indices()), npy(t._indices()))
    np.testing.assert_array_equal(npy(c._values()), npy(t._values()))
    b = batched_dense(5, (2, 3, 4), 1)
    c, t = both(lambda L: L.tensor(b).to_sparse_csc().to_sparse_coo())
    assert c.is_coalesced() == t.is_coalesced()
    np.testing.assert_array_equal(npy(c._indices()), npy(t._indices()))
    np.testing.assert_array_equal(npy(c._values()), npy(t._values()))


CTOR_CASES = [
    ("csr", [0, 1, 3], [2, 0, 2], [3.0, 4.0, 5.0], (2, 3)),
    ("csr", [0, 1, 3], [2, 0, 2], [3.0, 4.0, 5.0], None),
    ("csc", [0, 1, 2], [0, 1], [1.0, 2.0], None),
    ("csc", [0, 2, 2], [0, 2], [1.0, 2.0], (5, 2)),
    ("csc", [0], [], [], None),
    ("csr", [0, 0, 0], [], [], (2, 7)),
    ("bsr", [0, 1, 1], [0], np.ones((1, 2, 2)), (4, 4)),
    ("bsr", [0, 1, 1], [0], np.arange(6.0).reshape(1, 2, 3), None),
    ("bsc", [0, 1, 2], [0, 3], np.ones((2, 2, 3, 5)), None),  # hybrid, inferred size
    ("csc", [0, 1, 2], [0, 3], np.ones((2, 5)), None),
    ("csr", [[0, 1, 2], [0, 1, 2]], [[0, 1], [0, 3]], [[1.0, 2.0], [1, 2]], None),  # batched
    ("bsr", [[0, 1, 2], [0, 1, 2]], [[0, 1], [0, 3]], np.ones((2, 2, 2, 3)), None),
    ("csc", [[0, 1, 2], [0, 2, 2]], [[0, 1], [1, 2]], [[1.0, 2.0], [3, 4]], None),
]


@pytest.mark.parametrize("lay, ci, pi, vals, size", CTOR_CASES)
def test_constructors_match_torch(lay, ci, pi, vals, size):
    def make(L, fn):
        v = L.tensor(np.asarray(vals, dtype=np.float64))
        ci_t, pi_t = L.tensor(ci, dtype=L.int64), L.tensor(pi, dtype=L.int64)
        sz = () if size is None else (size,)
        if fn == "compressed":
            lay_obj = getattr(L, "sparse_" + lay)
            return L.sparse_compressed_tensor(ci_t, pi_t, v, *sz, layout=lay_obj)
        return getattr(L, f"sparse_{lay}_tensor")(ci_t, pi_t, v, *sz)

    for fn in ("compressed", "named"):
        c, t = both(lambda L, fn=fn: make(L, fn))
        same_compressed(c, t)
        assert repr(c) == repr(t).replace("torch.", "ctorch.")


def test_constructor_dtype_device_requires_grad():
    for L in (ctorch, torch):
        s = L.sparse_csc_tensor(
            [0, 1, 2], [0, 1], [1, 2], dtype=L.float64, device="cpu", requires_grad=True
        )
        assert s.dtype == L.float64 and s.requires_grad and s.is_leaf
        assert str(s.device) == "cpu"
    c, t = both(lambda L: L.sparse_bsr_tensor([0, 1], [0], [[[1, 2]]], dtype=L.float32))
    same_compressed(c, t)
    c, t = both(lambda L: L.sparse_csr_tensor([0, 1], [0], [3]))  # int64 values
    same_compressed(c, t)
    assert repr(c) == repr(t).replace("torch.", "ctorch.")


BAD = [
    dict(layout="csc", c=[1, 1, 2], p=[0, 1], v=[1.0, 2.0]),
    dict(layout="csc", c=[0, 2, 1], p=[0, 1], v=[1.0, 2.0]),
    dict(layout="csc", c=[0, 1, 2], p=[0, 5], v=[1.0, 2.0], size=(3, 2)),
    dict(layout="csc", c=[0, 1, 2], p=[0, 1], v=[1.0, 2.0], size=(3, 3)),
    dict(layout="csc", c=[0, 1, 2], p=[0, 1], v=[1.0, 2.0, 3.0], size=(3, 2)),
    dict(layout="csc", c=[0, 2, 2], p=[1, 1], v=[1.0, 2.0], size=(3, 2)),
    dict(layout="csc", c=[0, 2, 2], p=[1, 0], v=[1.0, 2.0], size=(3, 2)),
    dict(layout="csc", c=[0, 1, 2], p=[0, -1], v=[1.0, 2.0], size=(3, 2)),
    dict(layout="csr", c=[0, 2, 1, 3], p=[0, 1, 1], v=[1.0, 2.0, 3.0], size=(3, 2)),
    dict(layout="csr", c=[0, 1, 2], p=[0, 1], v=[1.0, 2.0], size=(2,)),
    dict(layout="csr", c=[0, 1, 2], p=[0, 1], v=[1.0, 2.0], size=(2, 2, 2)),
    dict(layout="csr", c=[[0, 1, 2]], p=[0, 1], v=[1.0, 2.0]),
    dict(layout="csr", c=[[0, 1, 2]], p=[[0, 1], [0, 1]], v=[[1.0, 2.0]]),
    dict(layout="csr", c=[[0, 1, 2]], p=[[0, 1]], v=[[1.0, 2.0]], size=(2, 2, 2)),
    dict(layout="bsr", c=[0, 1, 1], p=[0], v=np.ones((1, 2, 2)), size=(4, 5)),
    dict(layout="bsr", c=[0, 1, 1], p=[0], v=np.ones((1, 2, 2)), size=(4, 2, 2)),
    dict(layout="bsr", c=[0, 1, 1], p=[0], v=np.ones((1, 2))),
    dict(layout="bsc", c=[0, 1, 1], p=[1], v=np.ones((1, 2, 2)), size=(2, 4)),
    dict(layout="csr", c=[0, 1, 2], p=[0, 1, 1], v=[1.0, 2.0, 3.0], size=(2, 2)),
    dict(layout="coo", c=[0, 1], p=[0], v=[1.0]),
    dict(layout=None, c=[0, 1], p=[0], v=[1.0]),
    dict(layout="csr", c=[0.0, 1.0], p=[0], v=[1.0]),
]


@pytest.mark.parametrize("case", BAD)
def test_invalid_constructor_arguments_raise_like_torch(case):
    def make(L):
        lay = case["layout"]
        lay = None if lay is None else getattr(L, "sparse_" + lay)
        v = L.tensor(np.asarray(case["v"], dtype=np.float32))
        ci = L.tensor(case["c"])
        pi = L.tensor(case["p"], dtype=L.int64)
        sz = () if case.get("size") is None else (case["size"],)
        return L.sparse_compressed_tensor(ci, pi, v, *sz, layout=lay, check_invariants=True)

    with pytest.raises(RuntimeError) as te:
        make(torch)
    with pytest.raises(RuntimeError) as ce:
        make(ctorch)
    assert str(ce.value) == str(te.value).split("\n")[0]


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.ones(4, 4).to_sparse_bsr((3, 2)),
        lambda L: L.ones(4, 4).to_sparse_csr().to_sparse_bsr((0, 2)),
        lambda L: L.ones(4, 4).to_sparse_csr().to_sparse_bsr((3, 2)),
        lambda L: L.ones(4, 4).to_sparse_csc(dense_dim=1),
        lambda L: L.ones(4, 4).to_sparse(layout=L.sparse_coo, blocksize=(2, 2)),
        lambda L: L.ones(4, 4).to_sparse_csr().to_sparse_csr(dense_dim=1),
        lambda L: L.ones(4, 4).to_sparse_csr().to_sparse_csc(dense_dim=0),
        lambda L: L.ones(4, 4).to_sparse_bsr((2, 2)).to_sparse_bsr((1, 1)),
        lambda L: L.ones(4, 4).to_sparse_csr().to_sparse(layout=L.sparse_bsr),
        lambda L: L.tensor([[[1.0, 0], [0, 0]], [[1, 1], [0, 0]]]).to_sparse_csr(),
        lambda L: L.ones(2, 2).to_sparse_csr(dense_dim=2),
        lambda L: L.ones(0, 2, 3).to_sparse_csr(),  # no batches
        lambda L: L.ones(0, 2, 4).to_sparse_bsc((2, 2)),
        lambda L: L.eye(2).to_sparse_bsc((1, 1)).to_sparse_csr(),
        lambda L: L.eye(2).to_sparse_csc().crow_indices(),
        lambda L: L.eye(2).to_sparse_csc().col_indices(),
        lambda L: L.eye(2).to_sparse_csr().ccol_indices(),
        lambda L: L.eye(2).to_sparse_bsr((1, 1)).row_indices(),
        lambda L: L.ones(2, 4, 4).to_sparse_csr().transpose(0, 1),
        lambda L: L.ones(4, 4, 2).to_sparse_csr(dense_dim=1).transpose(0, 1),
    ],
)
def test_invalid_conversions_raise_like_torch(call):
    with pytest.raises(RuntimeError) as te:
        call(torch)
    with pytest.raises(RuntimeError) as ce:
        call(ctorch)
    assert str(ce.value) == str(te.value).split("\n")[0]


def test_coo_crow_indices_error_and_is_sparse_csr():
    c, t = both(lambda L: L.eye(3).to_sparse())
    for name in ("crow_indices", "ccol_indices", "row_indices"):
        with pytest.raises(RuntimeError) as te:
            getattr(t, name)()
        with pytest.raises(RuntimeError) as ce:
            getattr(c, name)()
        assert str(ce.value) == str(te.value)
    for lay, bs in (("csr", None), ("csc", None), ("bsr", (1, 1)), ("bsc", (1, 1))):
        c, t = both(lambda L, lay=lay, bs=bs: convert(L.eye(3), lay, bs))
        assert c.is_sparse_csr == t.is_sparse_csr == (lay == "csr")


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.tensor(sparse_dense(7, (4, 6))).to_sparse_bsc((2, 3)),
        lambda L: L.tensor(sparse_dense(7, (3, 4, 2))).to_sparse_csc(dense_dim=1),
        lambda L: L.zeros(0, 3).to_sparse_csc(),
        lambda L: L.zeros(2, 3).to_sparse_bsc((1, 3)),
        lambda L: L.sparse_csc_tensor([0, 1, 2], [0, 1], L.ones(2, 0)),
        lambda L: L.sparse_csc_tensor([0, 1, 2], [0, 1], [1.0, 2.0], dtype=L.float64),
        lambda L: L.sparse_bsr_tensor([0, 1], [0], L.ones(1, 2, 2), requires_grad=True),
    ],
)
def test_printing_matches_torch(make):
    c, t = both(make)
    assert repr(c) == repr(t).replace("torch.", "ctorch.")


# ------------------------------------------------------------------ products
def _mat(lay, L, seed=8):
    a = sparse_dense(seed, (4, 6))
    a[0:2, 3:6] = 0
    return convert(L.tensor(a), lay, (2, 2) if lay in ("bsr", "bsc") else None), a


@pytest.mark.parametrize("lay", LAYS)
def test_mm_matmul_addmm_mv_match_torch_and_numpy(lay):
    r = np.random.default_rng(9)
    d = r.standard_normal((6, 3))
    x = r.standard_normal(6)
    m = r.standard_normal((4, 3))
    left = r.standard_normal((2, 4))
    s, a = _mat(lay, ctorch)
    D, X, M = ctorch.tensor(d), ctorch.tensor(x), ctorch.tensor(m)
    ref = {
        "mm": a @ d,
        "matmul": a @ d,
        "matmul_vec": a @ x,
        "mv": a @ x,
        "addmm": 0.5 * m + 2.0 * (a @ d),
        "sparse_addmm": m + a @ d,
        "sparse_mm": a @ d,
        "left": left @ a,
    }
    got = {
        "mm": ctorch.mm(s, D),
        "matmul": s @ D,
        "matmul_vec": s @ X,
        "mv": ctorch.mv(s, X),
        "addmm": ctorch.addmm(M, s, D, beta=0.5, alpha=2.0),
        "sparse_addmm": ctorch.sparse.addmm(M, s, D),
        "sparse_mm": ctorch.sparse.mm(s, D),
        "left": ctorch.tensor(left) @ s,
    }
    for k in ref:
        np.testing.assert_allclose(npy(got[k]), ref[k], rtol=1e-12, atol=1e-12, err_msg=k)
    if lay != "bsc":  # torch has no CPU BSC products
        t, _ = _mat(lay, torch)
        np.testing.assert_allclose(npy(torch.mm(t, torch.tensor(d))), npy(got["mm"]), 1e-12)
        np.testing.assert_allclose(npy(torch.mv(t, torch.tensor(x))), npy(got["mv"]), 1e-12)


def test_mm_float32_and_shape_errors():
    s, a = _mat("bsr", ctorch)
    s32 = s.float()
    assert s32.layout is ctorch.sparse_bsr and s32.dtype == ctorch.float32
    out = s32 @ ctorch.ones(6, 2)
    assert out.dtype == ctorch.float32
    np.testing.assert_allclose(npy(out), a @ np.ones((6, 2)), rtol=1e-5)
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ctorch.mm(s, ctorch.ones(4, 2, dtype=ctorch.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        ctorch.mm(s, ctorch.ones(6, 2))


def test_mm_gradients_match_torch_for_csr():
    """torch differentiates mm w.r.t. the dense operand and the CSR values."""
    a = sparse_dense(10, (4, 6))
    d = np.random.default_rng(11).standard_normal((6, 3))
    grads = []
    for L in (ctorch, torch):
        s = L.tensor(a).to_sparse_csr()
        v = s.values().clone().requires_grad_(True)
        x = L.tensor(d, requires_grad=True)
        s2 = L.sparse_csr_tensor(s.crow_indices(), s.col_indices(), v, s.shape)
        out = L.mm(s2, x)
        assert type(out.grad_fn).__name__ == "MmBackward0" or out.grad_fn.name() == "MmBackward0"
        (out * out).sum().backward()
        grads.append((npy(v.grad), npy(x.grad)))
    for g_c, g_t in zip(grads[0], grads[1], strict=True):
        np.testing.assert_allclose(g_c, g_t, rtol=1e-10)


@pytest.mark.parametrize("lay", LAYS)
def test_gradcheck_through_compressed_values(lay):
    s, _ = _mat(lay, ctorch, seed=12)
    cn, pn = INDEX_NAMES[lay]
    ci, pi = getattr(s, cn)(), getattr(s, pn)()
    v = s.values().clone().requires_grad_(True)
    d = ctorch.tensor(np.random.default_rng(13).standard_normal((6, 2)), requires_grad=True)
    m = ctorch.tensor(np.random.default_rng(14).standard_normal((4, 2)), requires_grad=True)
    layout = getattr(ctorch, "sparse_" + lay)

    def S(v):
        return ctorch.sparse_compressed_tensor(ci, pi, v, (4, 6), layout=layout)

    assert gradcheck(lambda v, d: ctorch.mm(S(v), d), (v, d))
    assert gradcheck(lambda v, d: ctorch.sparse.mm(S(v), d), (v, d))
    assert gradcheck(lambda m, v, d: ctorch.addmm(m, S(v), d, beta=0.3, alpha=1.7), (m, v, d))
    assert gradcheck(lambda v: S(v).to_dense(), (v,))
    assert gradcheck(lambda v: (S(v) * 2.5).to_dense(), (v,))
    assert gradcheck(lambda v: S(v).t().to_dense(), (v,))
    assert gradcheck(lambda v: (S(v) + S(v * v)).to_dense(), (v,))
    assert gradcheck(lambda v: S(v).to_sparse().to_dense(), (v,))
    bs = (2, 2) if lay in ("bsr", "bsc") else None
    other = {"csr": "csc", "csc": "csr", "bsr": "bsc", "bsc": "bsr"}[lay]
    assert gradcheck(lambda v: convert(S(v), other, bs).to_dense(), (v,))
    # no zeros: the finite differences keep the pattern
    x = ctorch.tensor(np.abs(sparse_dense(15, (4, 6), 1.0)) + 1, requires_grad=True)
    assert gradcheck(lambda x: convert(x, lay, (2, 2)).to_dense(), (x,))


def test_to_dense_gradient_is_sparse_with_the_pattern():
    a = sparse_dense(16, (4, 6))
    for lay, bs in (("csr", None), ("csc", None), ("bsr", (2, 3)), ("bsc", (2, 2))):
        s = convert(ctorch.tensor(a), lay, bs).requires_grad_(True)
        (s.to_dense() * ctorch.tensor(a + 1)).sum().backward()
        g = s.grad
        assert g.layout is s.layout and tuple(g.shape) == (4, 6)
        cn, pn = INDEX_NAMES[lay]
        ones = ctorch.ones_like(s.values())
        ci, pi = getattr(s, cn)(), getattr(s, pn)()
        mask = ctorch.sparse_compressed_tensor(ci, pi, ones, (4, 6), layout=s.layout).to_dense()
        np.testing.assert_array_equal(npy(g.to_dense()), (a + 1) * npy(mask))
        np.testing.assert_array_equal(npy(getattr(g, cn)()), npy(getattr(s, cn)()))
    # torch agrees for CSR
    t = torch.tensor(a).to_sparse_csr().requires_grad_(True)
    (t.to_dense() * torch.tensor(a + 1)).sum().backward()
    c = ctorch.tensor(a).to_sparse_csr().requires_grad_(True)
    (c.to_dense() * ctorch.tensor(a + 1)).sum().backward()
    same_compressed(c.grad, t.grad)


def test_batched_hybrid_gradients():
    a = batched_dense(17, (2, 3, 4), 1)
    # no zeros: the finite differences keep the pattern (and the same nnz in every batch)
    x = ctorch.tensor(np.abs(sparse_dense(18, (2, 3, 4), 1.0)) + 1, requires_grad=True)
    assert gradcheck(lambda x: x.to_sparse_csc().values(), (x,))
    h = ctorch.tensor(np.abs(sparse_dense(19, (3, 4, 2), 1.0)) + 1, requires_grad=True)
    assert gradcheck(lambda h: h.to_sparse_csr(dense_dim=1).to_dense(), (h,))
    s = ctorch.tensor(a).to_sparse_csc()
    v = s.values().clone().requires_grad_(True)

    def S(v):
        return ctorch.sparse_csc_tensor(s.ccol_indices(), s.row_indices(), v, s.shape)

    assert gradcheck(lambda v: S(v).to_dense(), (v,))
    assert gradcheck(lambda v: S(v).transpose(1, 2).to_dense(), (v,))


# ------------------------------------------------------------------ transpose and arithmetic
@pytest.mark.parametrize("lay", LAYS)
def test_transpose_flips_compression_like_torch(lay):
    c, t = both(lambda L: _mat(lay, L)[0].t())
    same_compressed(c, t)
    c, t = both(lambda L: _mat(lay, L)[0].transpose(-1, 0))
    same_compressed(c, t)
    a = batched_dense(20, (2, 3, 4), 1)
    c, t = both(lambda L: convert(L.tensor(a), lay, (1, 2)).transpose(1, 2))
    same_compressed(c, t)


@pytest.mark.parametrize("lay", LAYS)
def test_scalar_multiplication_and_add_match_torch(lay):
    for fn in (
        lambda s: s * 2.5,
        lambda s: 3 * s,
        lambda s: -s,
        lambda s: s.neg(),
        lambda s: s + s,
        lambda s: s.clone(),
        lambda s: s.double(),
    ):
        c, t = both(lambda L, fn=fn: fn(_mat(lay, L)[0]))
        same_compressed(c, t)
    # add of two patterns: the union, in the operands' layout
    a = sparse_dense(22, (4, 6))
    b = sparse_dense(23, (4, 6))
    bs = (2, 3) if lay in ("bsr", "bsc") else None
    c = convert(ctorch.tensor(a), lay, bs) + convert(ctorch.tensor(b), lay, bs)
    assert c.layout is getattr(ctorch, "sparse_" + lay)
    np.testing.assert_allclose(npy(c.to_dense()), a + b, rtol=1e-12)
    if lay == "csr":  # torch adds two patterns in this layout only
        t = convert(torch.tensor(a), lay) + convert(torch.tensor(b), lay)
        same_compressed(c, t)
    h = convert(ctorch.tensor(a), lay, bs) / 2  # torch: "unsupported tensor layout"
    assert h.layout is c.layout
    np.testing.assert_allclose(npy(h.to_dense()), a / 2, rtol=1e-12)
    d = convert(ctorch.tensor(a), lay, bs) - 2 * convert(ctorch.tensor(b), lay, bs)
    assert d.layout is c.layout
    np.testing.assert_allclose(npy(d.to_dense()), a - 2 * b, rtol=1e-12)
    with pytest.raises(RuntimeError):
        c + convert(ctorch.tensor(b), "coo")


def test_sum_of_compressed():
    for lay, bs in (("csc", None), ("bsr", (2, 2))):
        c, t = both(lambda L, lay=lay, bs=bs: convert(L.tensor(sparse_dense(24)), lay, bs).sum())
        np.testing.assert_allclose(npy(c), npy(t), rtol=1e-12)


# ------------------------------------------------------------------ serialisation
SAVE_CASES = [
    lambda L: L.tensor(sparse_dense(25)).to_sparse_csc(),
    lambda L: L.tensor(sparse_dense(25)).to_sparse_bsr((2, 3)),
    lambda L: L.tensor(sparse_dense(25)).to_sparse_bsc((2, 2)),
    lambda L: L.tensor(sparse_dense(26, (3, 4, 2))).to_sparse_csr(dense_dim=1),
    lambda L: L.tensor(np.ones((2, 3, 4))).to_sparse_csc(),
]


@pytest.mark.parametrize("make", SAVE_CASES)
def test_save_load_interchange_with_torch(make):
    c, t = both(make)
    b = io.BytesIO()
    torch.save({"x": t}, b)
    same_compressed(ctorch.load(io.BytesIO(b.getvalue()))["x"], t)
    b = io.BytesIO()
    ctorch.save({"x": c}, b)
    same_compressed(c, torch.load(io.BytesIO(b.getvalue()))["x"])
    for r in (pickle.loads(pickle.dumps(c)), copy.deepcopy(c)):
        same_compressed(r, t)


# ------------------------------------------------------------------ factories, masks, in-place
@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.zeros(2, 3, layout=L.sparse_csc),
        lambda L: L.zeros(4, 2, 3, layout=L.sparse_csr, dtype=L.float64),
        lambda L: L.zeros_like(L.eye(2).to_sparse_csc()),
        lambda L: L.ones(4, 4).sparse_mask(L.eye(4).to_sparse_csc()),
        lambda L: (L.ones(4, 4) * 3).sparse_mask(L.eye(4).to_sparse_bsr((2, 2))),
        lambda L: L.eye(4).to_sparse_bsc((2, 2)).abs(),
        lambda L: L.eye(4).to_sparse_csc().to(L.float32),
    ],
)
def test_factories_masks_and_values_ops_match_torch(call):
    c, t = both(call)
    same_compressed(c, t)
    assert repr(c) == repr(t).replace("torch.", "ctorch.")


@pytest.mark.parametrize(
    "call",
    [
        lambda L: L.zeros(2, 3, layout=L.sparse_bsr),
        lambda L: L.zeros(2, layout=L.sparse_csr),
        lambda L: L.eye(2).to_sparse_csc().stride(),
        lambda L: L.eye(2).to_sparse_bsr((1, 1)).is_contiguous(),
    ],
)
def test_factory_and_metadata_errors_match_torch(call):
    with pytest.raises(RuntimeError) as te:
        call(torch)
    with pytest.raises(RuntimeError) as ce:
        call(ctorch)
    assert str(ce.value) == str(te.value).split("\n")[0]


def test_in_place_zero_copy_and_add_keep_the_layout():
    a = batched_dense(27, (2, 4, 4), 1)
    s = ctorch.tensor(a).to_sparse_bsr((2, 2))
    z = s.clone().zero_()
    assert z.layout is ctorch.sparse_bsr and z._nnz() == 0
    np.testing.assert_array_equal(npy(z.to_dense()), np.zeros((2, 4, 4)))
    z.copy_(s)
    same_compressed(z, torch.tensor(a).to_sparse_bsr((2, 2)))
    w = ctorch.tensor(a).to_sparse_bsr((2, 2))
    w.add_(s, alpha=2)
    np.testing.assert_allclose(npy(w.to_dense()), 3 * a, rtol=1e-12)
    d = ctorch.zeros(2, 4, 4, dtype=ctorch.float64)
    d.add_(s)
    np.testing.assert_array_equal(npy(d), a)


@pytest.mark.parametrize(
    "call",
    [
        lambda x: x.to_sparse_csr(),
        lambda x: x.to_sparse_csc(),
        lambda x: x.to_sparse_bsr((1, 1)),
        lambda x: x.to_sparse_bsc((1, 1)),
        lambda x: x.to_sparse(layout=x.to_sparse_csc().layout),
        lambda x: x.to_sparse_csr().to_sparse_csc(),
        lambda x: x.to_sparse_csr().to_sparse(),
        lambda x: x.to_sparse().to_sparse_csr(),
        lambda x: x.to_sparse_csr().values(),
        lambda x: x.to_sparse_csc() * 2,
    ],
)
def test_grad_fn_names_match_torch(call):
    c, t = both(lambda L: call(L.eye(3, requires_grad=True)))
    assert c.grad_fn.name() == t.grad_fn.name()


@pytest.mark.parametrize("name", ["indices", "_indices", "coalesce", "is_coalesced"])
def test_coo_only_methods_name_the_layout_like_torch(name):
    c, t = both(lambda L: L.eye(2).to_sparse_bsc((1, 1)))
    with pytest.raises(RuntimeError) as te:
        getattr(t, name)()
    with pytest.raises(Exception) as ce:
        getattr(c, name)()
    if name != "_indices":  # torch: a NotImplementedError of its dispatcher
        assert str(ce.value) == str(te.value)


def test_dense_to_csr_and_sparse_mm_gradients_match_torch():
    a = sparse_dense(28, (4, 6))
    d = np.random.default_rng(29).standard_normal((6, 2))
    res = []
    for L in (ctorch, torch):
        x = L.tensor(a, requires_grad=True)
        s = x.to_sparse_csr()
        y = L.tensor(d, requires_grad=True)
        out = L.sparse.mm(s, y)
        (out * out).sum().backward()
        res.append((npy(x.grad), npy(y.grad)))
    for g_c, g_t in zip(res[0], res[1], strict=True):
        np.testing.assert_allclose(g_c, g_t, rtol=1e-10)
    # a sparse CSR leaf: sparse.mm gives it a CSR gradient with its pattern
    grads = []
    for L in (ctorch, torch):
        s = L.tensor(a).to_sparse_csr().requires_grad_(True)
        L.sparse.mm(s, L.tensor(d)).sum().backward()
        grads.append(s.grad)
    same_compressed(grads[0], grads[1])
