"""Sparse COO/CSR tensors: construction, conversion, metadata, printing, errors, pickling and
torch.save interchange, each against torch."""

from __future__ import annotations

import copy
import io
import pickle

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

IND = [[0, 1, 1, 0], [2, 0, 2, 2]]  # (0, 2) twice: uncoalesced
VAL = [3.0, 4.0, 5.0, -1.0]


def both(fn):
    return fn(ctorch), fn(torch)


def dense_np(t):
    d = t.to_dense()
    return d.detach().numpy() if isinstance(d, torch.Tensor) else d.detach().numpy()


def same_sparse(c, t, check_pattern=True):
    """Same size, dtype, layout, nnz, coalesced flag, pattern and values as torch's."""
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    assert repr(c.layout).split(".")[-1] == str(t.layout).split(".")[-1]
    np.testing.assert_allclose(dense_np(c), dense_np(t), rtol=1e-6, atol=1e-6)
    if c.layout is ctorch.sparse_coo:
        assert c.is_coalesced() == t.is_coalesced()
        if check_pattern:
            np.testing.assert_array_equal(c._indices().numpy(), t._indices().numpy())
            np.testing.assert_allclose(c._values().numpy(), t._values().detach().numpy(), 1e-6)
    elif check_pattern:
        np.testing.assert_array_equal(c.crow_indices().numpy(), t.crow_indices().numpy())
        np.testing.assert_array_equal(c.col_indices().numpy(), t.col_indices().numpy())
        np.testing.assert_allclose(c.values().detach().numpy(), t.values().detach().numpy(), 1e-6)


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.sparse_coo_tensor(L.tensor(IND), L.tensor(VAL), (2, 3)),
        lambda L: L.sparse_coo_tensor(IND, VAL),  # size inferred, from lists
        lambda L: L.sparse_coo_tensor(IND, [1, 2, 3, 4], (3, 4)),  # int64 values
        lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3), dtype=L.float64),
        lambda L: L.sparse_coo_tensor([[0, 2]], L.ones(2, 3), (4, 3)),  # hybrid
        lambda L: L.sparse_coo_tensor(L.zeros(2, 0, dtype=L.int64), L.zeros(0), (3, 3)),
        lambda L: L.sparse_coo_tensor([[1]], [2.0], (3,)),  # nnz 1: coalesced
        lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3), is_coalesced=False),
    ],
)
def test_coo_construction_matches_torch(make):
    c, t = both(make)
    same_sparse(c, t)
    assert c.sparse_dim() == t.sparse_dim() and c.dense_dim() == t.dense_dim()
    assert c._nnz() == t._nnz() and c.numel() == t.numel() and c.ndim == t.ndim
    assert c.is_sparse and not c.is_sparse_csr and c.is_sparse == t.is_sparse


def test_metadata_never_touches_dense_storage():
    s = ctorch.sparse_coo_tensor(IND, VAL, (2, 3), requires_grad=True)
    assert type(s._a).__name__ == "_NoDense"
    assert s.dtype is ctorch.float32 and s.device == ctorch.device("cpu")
    assert tuple(s.shape) == (2, 3) and s.size(1) == 3 and s.size(-2) == 2
    assert s.requires_grad and s.is_leaf and s.layout is ctorch.sparse_coo
    assert not s.is_cuda and s.is_floating_point() and not s.is_complex()
    assert isinstance(s, ctorch.Tensor) and ctorch.is_tensor(s)
    assert s.element_size() == 4 and len(s) == 2
    assert ctorch.ones(2).layout is ctorch.strided and not ctorch.ones(2).is_sparse
    assert not ctorch.ones(2).is_sparse_csr


@pytest.mark.parametrize(
    "args, match",
    [
        (([0, 1], [1.0, 2.0], (3,)), "sparse_dim x nnz"),
        (([[0, 1]], [1.0, 2.0, 3.0], (3,)), "same nnz"),
        (([[0, 1]], [1.0, 2.0], (3, 4)), "len\\(size\\)"),
        (([[0, 5]], [1.0, 2.0], (3,)), "inconsistent with indices"),
        (([[0, -1]], [1.0, 2.0], (3,)), "negative index"),
        (([[0, 1]], [[1.0], [2.0]], (3, 2)), "values has incorrect size"),
    ],
)
def test_coo_construction_errors(args, match):
    with pytest.raises(RuntimeError, match=match):
        ctorch.sparse_coo_tensor(*args)


@pytest.mark.parametrize(
    "dense, sd",
    [
        ([[1.0, 0.0, 2.0], [0.0, 0.0, 3.0]], None),
        ([[1.0, 0.0], [0.0, 0.0], [0.0, 2.0]], 1),
        ([[0.0, 0.0], [0.0, 0.0]], None),
        ([[[1.0, 0.0], [0.0, 0.0]], [[0.0, 0.0], [5.0, 6.0]]], 2),
        ([], None),
        ([0.0, -2.0, 0.0, float("nan")], None),
    ],
)
def test_dense_to_sparse_matches_torch(dense, sd):
    c, t = both(
        lambda L: L.tensor(dense).to_sparse() if sd is None else L.tensor(dense).to_sparse(sd)
    )
    same_sparse(c, t)
    np.testing.assert_array_equal(c._indices().numpy(), t._indices().numpy())
    np.testing.assert_array_equal(c._values().numpy(), t._values().numpy())
    assert c.is_coalesced() and t.is_coalesced()


def test_coalesce_indices_values_match_torch():
    c, t = both(lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)))
    assert not c.is_coalesced()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        c.indices()
    with pytest.raises(RuntimeError, match="uncoalesced"):
        c.values()
    cc, tc = c.coalesce(), t.coalesce()
    same_sparse(cc, tc)
    assert cc.coalesce() is cc
    np.testing.assert_array_equal(cc.indices().numpy(), tc.indices().numpy())
    np.testing.assert_array_equal(cc.values().numpy(), tc.values().numpy())
    # hybrid duplicates
    c, t = both(lambda L: L.sparse_coo_tensor([[2, 0, 2]], L.arange(6.0).reshape(3, 2), (3, 2)))
    same_sparse(c.coalesce(), t.coalesce())


def test_transpose_and_t_match_torch():
    c, t = both(lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)))
    same_sparse(c.t(), t.t())
    same_sparse(ctorch.t(c), torch.t(t))
    same_sparse(c.transpose(0, 1), t.transpose(0, 1))
    same_sparse(ctorch.transpose(c, -1, 0), torch.transpose(t, -1, 0))
    c3, t3 = both(lambda L: L.sparse_coo_tensor([[0, 1], [1, 0], [2, 2]], [1.0, 2.0], (2, 2, 3)))
    same_sparse(c3.transpose(0, 2), t3.transpose(0, 2))


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.sparse_coo_tensor(L.tensor(IND), L.tensor(VAL), (2, 3)),
        lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3), dtype=L.float64, requires_grad=True),
        lambda L: L.sparse_coo_tensor([[0, 2]], L.ones(2, 3), (4, 3)),
        lambda L: L.zeros(2, 2).to_sparse(),
        lambda L: L.empty(0).to_sparse(),
        lambda L: L.tensor([[1.0, 0], [0, 2.5]]).to_sparse_csr(),
        lambda L: L.tensor([[1.0, 0], [0, 2]], dtype=L.float64).to_sparse_csr(),
        lambda L: L.sparse_coo_tensor([list(range(0, 40, 2))], L.arange(20.0) / 7, (40,)),
        lambda L: L.sparse_coo_tensor([[0, 1]], L.tensor([True, False]), (3,)),
        lambda L: L.sparse_coo_tensor([[0, 1]], L.tensor([1, 2]), (3,)),
        lambda L: L.sparse_coo_tensor([[0, 1]], L.tensor([1.5, 2.25], dtype=L.float16), (3,)),
        lambda L: L.sparse_coo_tensor([[0, 1]], L.tensor([1e-8, 2e5]), (3,)),
        lambda L: L.sparse_coo_tensor(
            L.tensor(np.stack([np.arange(1200), np.arange(1200)])), L.arange(1200.0), (1200, 1200)
        ),
    ],
)
def test_printing_matches_torch(make):
    c, t = both(make)
    assert repr(c) == repr(t).replace("torch.", "ctorch.")


def test_csr_matches_torch():
    dense = [[0.0, 2.0, 0.0], [1.0, 0.0, 3.0], [0.0, 0.0, 0.0]]
    c, t = both(lambda L: L.tensor(dense).to_sparse_csr())
    same_sparse(c, t)
    assert c.is_sparse_csr and not c.is_sparse and c.layout is ctorch.sparse_csr
    c2, t2 = both(lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)).to_sparse_csr())
    same_sparse(c2, t2)
    c3, t3 = both(lambda L: L.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [3.0, 4.0, 5.0], (2, 3)))
    same_sparse(c3, t3)
    c4, t4 = both(lambda L: L.sparse_csr_tensor([0, 1, 3], [2, 0, 2], [3.0, 4.0, 5.0]))
    same_sparse(c4, t4)
    same_sparse(c3.to_sparse(), t3.to_sparse())
    same_sparse(c3.to_sparse_coo(), t3.to_sparse_coo())
    with pytest.raises(RuntimeError, match="crow_indices expected"):
        ctorch.sparse_coo_tensor(IND, VAL).crow_indices()
    with pytest.raises(RuntimeError, match="crow_indices"):
        ctorch.sparse_csr_tensor([0, 1, 4], [2, 0, 2], [3.0, 4.0, 5.0], (2, 3))
    with pytest.raises(RuntimeError, match="col_indices"):
        ctorch.sparse_csr_tensor([0, 1, 3], [2, 0, 7], [3.0, 4.0, 5.0], (2, 3))


@pytest.mark.parametrize(
    "call, op",
    [
        (lambda s: ctorch.exp(s), "exp"),
        (lambda s: s.sigmoid(), "sigmoid"),
        (lambda s: s.view(3, 2), "view"),
        (lambda s: s[0], "index"),
        (lambda s: ctorch.nn.functional.gelu(s), "gelu"),
        (lambda s: ctorch.stack([s, s]), "stack"),
        (lambda s: ctorch.nn.functional.linear(s, ctorch.ones(3, 3)), "linear"),
        (lambda s: s.numpy(), "numpy"),
        (lambda s: s < 1, "lt"),
        (lambda s: s.item(), "item"),
    ],
)
def test_unsupported_ops_raise_naming_the_op(call, op):
    s = ctorch.sparse_coo_tensor(IND, VAL, (2, 3))
    with pytest.raises(NotImplementedError, match=f"'aten::{op}'.*Sparse"):
        call(s)
    with pytest.raises(TypeError, match="sparse"):
        np.asarray(s)
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\) is not supported"):
        s + ctorch.ones(2, 3)


def test_to_dtype_clone_detach():
    c, t = both(lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)))
    same_sparse(c.double(), t.double())
    same_sparse(c.to(ctorch.float64), t.to(torch.float64))
    same_sparse(c.clone(), t.clone())
    assert c.to(ctorch.float32) is c
    d = c.detach()
    assert d._val._a is c._val._a and not d.requires_grad
    cl = c.clone()
    assert cl._val._a is not c._val._a


def test_pickle_and_deepcopy_roundtrip():
    for s in (
        ctorch.sparse_coo_tensor(IND, VAL, (2, 3), requires_grad=True),
        ctorch.tensor([[1.0, 0], [0, 2]]).to_sparse_csr(),
    ):
        for r in (pickle.loads(pickle.dumps(s)), copy.deepcopy(s)):
            assert r.layout is s.layout and r.requires_grad == s.requires_grad
            np.testing.assert_array_equal(
                r.to_dense().detach().numpy(), s.to_dense().detach().numpy()
            )


@pytest.mark.parametrize(
    "make",
    [
        lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)),
        lambda L: L.sparse_coo_tensor(IND, VAL, (2, 3)).coalesce(),
        lambda L: L.sparse_coo_tensor([[0, 2]], L.ones(2, 3, dtype=L.float64), (4, 3)),
        lambda L: L.tensor([[1.0, 0], [0, 2]]).to_sparse_csr(),
    ],
)
def test_save_load_interchange_with_torch(make):
    c, t = both(make)
    b = io.BytesIO()
    torch.save({"x": t, "w": torch.ones(2)}, b)
    got = ctorch.load(io.BytesIO(b.getvalue()))
    same_sparse(got["x"], t)
    b = io.BytesIO()
    ctorch.save({"x": c, "w": ctorch.ones(2)}, b)
    got = torch.load(io.BytesIO(b.getvalue()))
    same_sparse(c, got["x"])
    assert torch.equal(got["w"], torch.ones(2))


def test_csr_elementwise_match_torch():
    dense = [[0.0, 2.0, 0.0], [1.0, 0.0, -3.0]]
    c, t = both(lambda L: L.tensor(dense).to_sparse_csr())
    for fn in (
        lambda L, x: x * 2,
        lambda L, x: L.neg(x),
        lambda L, x: x.abs(),
        lambda L, x: L.tanh(x),
        lambda L, x: x + x,
        lambda L, x: x * x,
    ):
        r, tr = fn(ctorch, c), fn(torch, t)
        assert r.layout is ctorch.sparse_csr and tr.layout is torch.sparse_csr
        np.testing.assert_allclose(dense_np(r), dense_np(tr), rtol=1e-6)
    np.testing.assert_allclose(c.sum().item(), t.sum().item())


def test_sparse_buffer_state_dict_and_module_moves():
    m = ctorch.nn.Module()
    m.register_buffer("adj", ctorch.tensor([[1.0, 0], [0, 2]]).to_sparse())
    m.double()
    assert m.adj.dtype is ctorch.float64 and m.adj.is_sparse
    sd = m.state_dict()
    b = io.BytesIO()
    ctorch.save(sd, b)
    t_sd = torch.load(io.BytesIO(b.getvalue()))
    assert t_sd["adj"].is_sparse and t_sd["adj"].dtype is torch.float64
    m2 = ctorch.nn.Module()
    m2.register_buffer("adj", ctorch.zeros(2, 2).to_sparse())
    m2.load_state_dict(ctorch.load(io.BytesIO(b.getvalue())))
    assert m2.adj.dtype is ctorch.float32  # copy_ keeps the destination's dtype, as torch
    np.testing.assert_array_equal(m2.adj.to_dense().numpy(), [[1.0, 0], [0, 2]])
    with pytest.raises(RuntimeError, match="copy_"):
        m2.adj.copy_(ctorch.ones(2, 2))


def test_sparse_parameter_is_refused_with_a_clear_error():
    with pytest.raises(NotImplementedError, match="'aten::Parameter'.*SparseCPU"):
        ctorch.nn.Parameter(ctorch.tensor([[1.0, 0], [0, 2]]).to_sparse())


def test_testing_assert_close_on_sparse():
    a = ctorch.sparse_coo_tensor(IND, VAL, (2, 3))
    ctorch.testing.assert_close(a, a.coalesce())
    with pytest.raises(AssertionError, match="layout"):
        ctorch.testing.assert_close(a, a.to_dense())
    with pytest.raises(AssertionError, match="not close"):
        ctorch.testing.assert_close(a, a * 2)


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, s: s.index_select(0, L.tensor([2, 0, 2])),
        lambda L, s: L.index_select(s, 1, L.tensor([1])),
        lambda L, s: s.index_select(1, L.tensor([], dtype=L.int64)),
        lambda L, s: L.cat([s, s], 0),
        lambda L, s: L.cat([s, s.coalesce(), s], 1),
    ],
)
def test_index_select_and_cat_match_torch(fn):
    mk = lambda L: L.sparse_coo_tensor([[0, 1, 1, 2], [2, 0, 2, 1]], [1.0, 2.0, 3.0, 4.0], (3, 3))  # noqa: E731
    c, t = fn(ctorch, mk(ctorch)), fn(torch, mk(torch))
    same_sparse(c, t)


def test_index_select_and_cat_gradients_and_hybrid():
    from ctorch.autograd import gradcheck

    # torch 2.13 cannot differentiate sparse index_select (no as_strided for SparseCPU):
    # finite differences instead
    v = ctorch.tensor(np.arange(1.0, 5.0), requires_grad=True)

    def f(v):
        s = ctorch.sparse_coo_tensor([[0, 1, 1, 2], [2, 0, 2, 1]], v, (3, 3))
        r = ctorch.cat([s.index_select(0, ctorch.tensor([2, 0, 2])), s * 2], 0)
        return r.to_dense() * ctorch.arange(18.0, dtype=ctorch.float64).reshape(6, 3)

    assert gradcheck(f, (v,))
    h, th = both(lambda L: L.sparse_coo_tensor([[0, 2]], L.arange(4.0).reshape(2, 2), (3, 2)))
    same_sparse(h.index_select(1, ctorch.tensor([1])), th.index_select(1, torch.tensor([1])))
    with pytest.raises(NotImplementedError, match="dense dimension"):
        ctorch.cat([h, h], 1)


def test_repeat_by_matches_numpy_repeat():
    from ctorch.sparse._arrays import repeat_by

    counts = np.array([2, 0, 3, 1])
    np.testing.assert_array_equal(
        repeat_by(np.arange(4) * 10, counts), np.repeat(np.arange(4) * 10, counts)
    )


@pytest.mark.cuda
def test_sparse_ops_on_gpu_match_cpu():
    s = ctorch.sparse_coo_tensor(IND, VAL, (2, 3), dtype=ctorch.float64)
    g = s.cuda()
    assert g.is_cuda and g.device.type == "cuda" and g.is_sparse
    for fn in (
        lambda x: x.coalesce(),
        lambda x: x.to_sparse_csr().to_dense(),
        lambda x: x.index_select(1, ctorch.tensor([2, 0], device=x.device)),
        lambda x: ctorch.sparse.softmax(x, 1),
        lambda x: x * 2 + x,
        lambda x: ctorch.sparse.sum(x, 0),
    ):
        r, rg = fn(s), fn(g)
        np.testing.assert_allclose(rg.cpu().to_dense().numpy(), r.to_dense().numpy(), 1e-12)
    assert "device='cuda:0'" in repr(g)


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, s: L.zeros(2, 3, layout=L.sparse_coo),
        lambda L, s: L.zeros((2, 3), layout=L.sparse_csr, dtype=L.float64),
        lambda L, s: L.empty(2, 3, layout=L.sparse_coo),
        lambda L, s: L.zeros_like(s),
        lambda L, s: L.empty_like(s, dtype=L.float64),
        lambda L, s: L.zeros_like(s, layout=L.strided),
        lambda L, s: L.zeros_like(s.to_dense(), layout=L.sparse_coo),
    ],
)
def test_sparse_layout_factories_match_torch(fn):
    c, t = fn(ctorch, ctorch.ones(2, 2).to_sparse()), fn(torch, torch.ones(2, 2).to_sparse())
    if t.layout is torch.strided:
        assert c.layout is ctorch.strided and tuple(c.shape) == tuple(t.shape)
        return
    same_sparse(c, t)
    assert c._nnz() == t._nnz() == 0


@pytest.mark.parametrize(
    "fn, exc",
    [
        (lambda L: L.ones(2, 2, layout=L.sparse_coo), RuntimeError),
        (lambda L: L.full((2, 2), 1.0, layout=L.sparse_coo), RuntimeError),
        (lambda L: L.rand(2, 2, layout=L.sparse_coo), NotImplementedError),
        (lambda L: L.ones_like(L.ones(2, 2).to_sparse()), NotImplementedError),
    ],
)
def test_sparse_layout_factories_refused_as_torch(fn, exc):
    with pytest.raises(exc):
        fn(torch)
    with pytest.raises(exc):
        fn(ctorch)
