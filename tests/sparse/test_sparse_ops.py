"""Sparse arithmetic, matrix products, reductions and softmax: values, dtypes and gradients
against torch, and float64 finite differences (gradcheck through the sparse values)."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.autograd import gradcheck

torch = pytest.importorskip("torch")

IND = [[0, 1, 1, 0, 2], [2, 0, 2, 2, 1]]  # (0, 2) twice: uncoalesced


def _vals(n=5, seed=0, dtype=np.float64):
    return np.random.default_rng(seed).standard_normal(n).astype(dtype)


def pair(vals, size=(3, 3), ind=IND, rg=False, dtype=None):
    c = ctorch.sparse_coo_tensor(ind, ctorch.tensor(vals, dtype=dtype), size)
    t = torch.sparse_coo_tensor(
        ind,
        torch.tensor(vals, dtype=getattr(torch, str(dtype).split(".")[-1]) if dtype else None),
        size,
    )
    if rg:
        c.requires_grad_(True)
        t.requires_grad_(True)
    return c, t


def npy(x):
    if x.layout not in (ctorch.strided, torch.strided):
        x = x.to_dense()
    return x.detach().numpy()


def close(c, t, tol=1e-6):
    assert tuple(c.shape) == tuple(t.shape)
    assert str(c.dtype).split(".")[-1] == str(t.dtype).split(".")[-1]
    np.testing.assert_allclose(npy(c), npy(t), rtol=tol, atol=tol)


def sparse_grad_like_torch(c, t, tol=1e-6):
    """The sparse gradient has torch's layout and pattern and values."""
    assert c.grad.layout is ctorch.sparse_coo and t.grad.layout is torch.sparse_coo
    close(c.grad, t.grad, tol)
    np.testing.assert_array_equal(c.grad._indices().numpy(), t.grad._indices().numpy())


# ---------------------------------------------------------------- elementwise
def test_add_sub_match_torch():
    (a, ta), (b, tb) = pair(_vals(5, 0)), pair(_vals(5, 1), ind=[[2, 1, 0, 0, 1], [0, 0, 1, 1, 2]])
    close(a + b, ta + tb)
    close(a - b, ta - tb)
    close(ctorch.add(a, b, alpha=2), torch.add(ta, tb, alpha=2))
    close(a.sub(b), ta.sub(tb))
    r, tr = a.coalesce() + b.coalesce(), ta.coalesce() + tb.coalesce()
    assert r.is_coalesced() == tr.is_coalesced() is True
    d = ctorch.tensor(_vals(9, 2).reshape(3, 3))
    td = torch.tensor(_vals(9, 2).reshape(3, 3))
    close(d + a, td + ta)
    close(d - a, td - ta)
    close(ctorch.add(d, a), torch.add(td, ta))
    assert (d + a).layout is ctorch.strided
    with pytest.raises(RuntimeError, match="add\\(sparse, dense\\)"):
        ctorch.add(a, d)
    with pytest.raises(RuntimeError, match="same size"):
        a + ctorch.sparse_coo_tensor([[0]], [1.0], (4,))


def test_mul_div_match_torch():
    a, ta = pair(_vals())
    close(a * 2.5, ta * 2.5)
    close(3 * a, 3 * ta)
    close(a / 4, ta / 4)
    close(-a, -ta)
    close(a * ctorch.tensor(2.0, dtype=ctorch.float64), ta * torch.tensor(2.0, dtype=torch.float64))
    d = _vals(9, 3).reshape(3, 3)
    close(a * ctorch.tensor(d), ta * torch.tensor(d))
    close(ctorch.tensor(d) * a, torch.tensor(d) * ta)
    assert (a * ctorch.tensor(d)).layout is ctorch.sparse_coo
    b, tb = pair(_vals(5, 1), ind=[[2, 1, 0, 0, 1], [0, 0, 1, 2, 2]])
    close(a * b, ta * tb)
    close(ctorch.mul(a, b), torch.mul(ta, tb))


@pytest.mark.parametrize(
    "name",
    [
        "abs",
        "neg",
        "sin",
        "sinh",
        "tan",
        "tanh",
        "asin",
        "asinh",
        "atan",
        "sqrt",
        "square",
        "expm1",
        "log1p",
        "sign",
        "floor",
        "ceil",
        "round",
        "trunc",
        "frac",
        "relu",
        "erf",
        "isnan",
    ],
)
def test_zero_preserving_unary_match_torch(name):
    v = np.abs(_vals()) * 0.5 if name in ("sqrt", "log1p", "asin") else _vals() * 0.5
    a, ta = pair(v)
    close(getattr(ctorch, name)(a), getattr(torch, name)(ta))
    close(getattr(a, name)(), getattr(ta, name)())
    assert getattr(a, name)().layout is ctorch.sparse_coo


def test_pow_and_elementwise_gradients_match_torch():
    a, ta = pair(_vals(), rg=True)
    d = _vals(9, 4).reshape(3, 3)
    cd = ctorch.tensor(d, requires_grad=True)
    td = torch.tensor(d, requires_grad=True)
    ((a.pow(2) * cd) * 3).to_dense().pow(2).sum().backward()
    ((ta.pow(2) * td) * 3).to_dense().pow(2).sum().backward()
    close(a.grad, ta.grad)
    close(cd.grad, td.grad)
    assert cd.grad.layout is ctorch.strided


# ---------------------------------------------------------------- products
@pytest.mark.parametrize("csr", [False, True])
def test_sparse_mm_values_and_grads_match_torch(csr):
    a, ta = pair(_vals(), size=(3, 4))
    if csr:
        a, ta = a.to_sparse_csr(), ta.to_sparse_csr()
    a.requires_grad_(True)
    ta.requires_grad_(True)
    d = _vals(8, 5).reshape(4, 2)
    cd = ctorch.tensor(d, requires_grad=True)
    td = torch.tensor(d, requires_grad=True)
    out, tout = ctorch.sparse.mm(a, cd), torch.sparse.mm(ta, td)
    close(out, tout)
    assert out.grad_fn.name() == tout.grad_fn.name()
    w = _vals(6, 6).reshape(3, 2)
    (out * ctorch.tensor(w)).sum().backward()
    (tout * torch.tensor(w)).sum().backward()
    close(cd.grad, td.grad)
    close(a.grad, ta.grad)
    assert a.grad.layout is a.layout
    if not csr:
        np.testing.assert_array_equal(a.grad._indices().numpy(), ta.grad._indices().numpy())


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, s, d: L.mm(s, d),
        lambda L, s, d: L.matmul(s, d),
        lambda L, s, d: s @ d,
        lambda L, s, d: L.spmm(s, d),
        lambda L, s, d: s.mm(d),
        lambda L, s, d: s.matmul(d[:, 0]),
        lambda L, s, d: d.t() @ s.t(),
        lambda L, s, d: L.mm(d.t(), s.t()),
        lambda L, s, d: L.addmm(L.ones(3, 2, dtype=L.float64), s, d),
        lambda L, s, d: L.sparse.addmm(L.ones(3, 2, dtype=L.float64), s, d, beta=0.5, alpha=2.0),
    ],
)
def test_mm_family_matches_torch(fn):
    a, ta = pair(_vals(), size=(3, 4), rg=True)
    d = _vals(8, 7).reshape(4, 2)
    cd = ctorch.tensor(d, requires_grad=True)
    td = torch.tensor(d, requires_grad=True)
    out, tout = fn(ctorch, a, cd), fn(torch, ta, td)
    close(out, tout)
    out.sum().backward()
    tout.sum().backward()
    close(cd.grad, td.grad)
    close(a.grad, ta.grad)
    # torch.mm & co. give the sparse operand a dense gradient, torch.sparse.* a sparse one
    assert repr(a.grad.layout).split(".")[-1] == str(ta.grad.layout).split(".")[-1]


def test_mm_errors():
    a = ctorch.sparse_coo_tensor(IND, _vals(), (3, 3))
    with pytest.raises(RuntimeError, match="cannot be multiplied"):
        ctorch.sparse.mm(a, ctorch.ones(4, 2, dtype=ctorch.float64))
    with pytest.raises(RuntimeError, match="same dtype"):
        ctorch.mm(a, ctorch.ones(3, 2))


def test_gradcheck_through_sparse_values():
    ind = ctorch.tensor(IND)
    v = ctorch.tensor(_vals(), requires_grad=True)
    d = ctorch.tensor(_vals(6, 8).reshape(3, 2), requires_grad=True)
    mat = ctorch.tensor(_vals(6, 9).reshape(3, 2), requires_grad=True)

    def S(v):
        return ctorch.sparse_coo_tensor(ind, v, (3, 3))

    assert gradcheck(lambda v, d: ctorch.sparse.mm(S(v), d), (v, d))
    assert gradcheck(lambda v, d: ctorch.sparse.mm(S(v).to_sparse_csr(), d), (v, d))
    assert gradcheck(lambda v, d: d.t() @ S(v), (v, d))
    assert gradcheck(
        lambda m, v, d: ctorch.sparse.addmm(m, S(v), d, beta=0.3, alpha=1.7), (mat, v, d)
    )
    assert gradcheck(lambda v: S(v).to_dense(), (v,))
    assert gradcheck(lambda v: S(v).coalesce().values(), (v,))
    assert gradcheck(lambda v: ctorch.sparse.sum(S(v), 1).to_dense(), (v,))
    assert gradcheck(lambda v: ctorch.sparse.softmax(S(v), 1).to_dense(), (v,))
    assert gradcheck(lambda v: ctorch.sparse.log_softmax(S(v), 0).to_dense(), (v,))
    assert gradcheck(lambda v: (S(v) * ctorch.tensor(_vals(9).reshape(3, 3))).to_dense(), (v,))
    assert gradcheck(lambda v: (S(v) + S(v * 2).t()).to_dense(), (v,))
    a = ctorch.tensor(_vals(6, 10).reshape(3, 2), requires_grad=True)
    b = ctorch.tensor(_vals(6, 11).reshape(2, 3), requires_grad=True)
    assert gradcheck(
        lambda v, a, b: ctorch.sparse.sampled_addmm(
            S(v).to_sparse_csr(), a, b, beta=0.5
        ).to_dense(),
        (v, a, b),
    )


# ---------------------------------------------------------------- reductions and softmax
@pytest.mark.parametrize("dim", [None, 0, 1, (0, 1), -1])
def test_sparse_sum_matches_torch(dim):
    a, ta = pair(_vals(), rg=True)
    r = ctorch.sparse.sum(a) if dim is None else ctorch.sparse.sum(a, dim)
    tr = torch.sparse.sum(ta) if dim is None else torch.sparse.sum(ta, dim)
    close(r, tr)
    assert r.layout is (ctorch.strided if tr.layout is torch.strided else ctorch.sparse_coo)
    (r.to_dense() if r.layout is not ctorch.strided else r).pow(2).sum().backward()
    (tr.to_dense() if tr.layout is not torch.strided else tr).pow(2).sum().backward()
    close(a.grad, ta.grad)


def test_sparse_sum_hybrid_and_method():
    v = _vals(6).reshape(3, 2)
    c = ctorch.sparse_coo_tensor([[0, 2, 0]], ctorch.tensor(v), (3, 2))
    t = torch.sparse_coo_tensor([[0, 2, 0]], torch.tensor(v), (3, 2))
    for dim in (0, 1, None):
        close(
            ctorch.sparse.sum(c, dim) if dim is not None else ctorch.sparse.sum(c),
            torch.sparse.sum(t, dim) if dim is not None else torch.sparse.sum(t),
        )
    close(c.sum(), t.sum())
    close(c.sum(0), t.sum(0))
    close(ctorch.sum(c), torch.sum(t))


@pytest.mark.parametrize("log", [False, True])
@pytest.mark.parametrize("dim", [0, 1, -1])
def test_sparse_softmax_matches_torch(log, dim):
    a, ta = pair(_vals(), rg=True)
    f = "log_softmax" if log else "softmax"
    r, tr = getattr(ctorch.sparse, f)(a, dim), getattr(torch.sparse, f)(ta, dim)
    close(r, tr)
    np.testing.assert_array_equal(r._indices().numpy(), tr._indices().numpy())
    w = _vals(9, 3).reshape(3, 3)
    (r.to_dense() * ctorch.tensor(w)).sum().backward()
    if dim < 0:
        # torch 2.13's sparse softmax backward does not wrap a negative dim (its gradient of
        # a row does not even sum to zero); ctorch's is checked by finite differences
        v = ctorch.tensor(_vals(), requires_grad=True)
        fn = getattr(ctorch.sparse, f)
        assert gradcheck(
            lambda v: fn(ctorch.sparse_coo_tensor(IND, v, (3, 3)), dim).to_dense(), (v,)
        )
        return
    (tr.to_dense() * torch.tensor(w)).sum().backward()
    close(a.grad, ta.grad)


def test_sampled_addmm_matches_torch():
    m1, m2 = _vals(6, 1).reshape(3, 2), _vals(6, 2).reshape(2, 3)
    c, t = pair(_vals())
    c, t = c.to_sparse_csr(), t.to_sparse_csr()
    r = ctorch.sparse.sampled_addmm(c, ctorch.tensor(m1), ctorch.tensor(m2), beta=0.5, alpha=2.0)
    tr = torch.sparse.sampled_addmm(t, torch.tensor(m1), torch.tensor(m2), beta=0.5, alpha=2.0)
    close(r, tr)
    assert r.layout is ctorch.sparse_csr


# ---------------------------------------------------------------- autograd plumbing
def test_values_to_dense_coalesce_grad_fns_and_accumulation():
    v, tv = ctorch.tensor(_vals(), requires_grad=True), torch.tensor(_vals(), requires_grad=True)
    s = ctorch.sparse_coo_tensor(IND, v, (3, 3))
    ts = torch.sparse_coo_tensor(IND, tv, (3, 3))
    assert s.grad_fn.name() == ts.grad_fn.name()
    # built again per backward: ctorch frees every node of a graph after backward
    assert s.coalesce().grad_fn.name() == ts.coalesce().grad_fn.name()
    assert s.to_dense().grad_fn.name() == ts.to_dense().grad_fn.name()
    assert s.coalesce().values().grad_fn.name() == ts.coalesce().values().grad_fn.name()
    w = _vals(9, 5).reshape(3, 3)
    for _ in range(2):  # accumulates into v.grad
        S = lambda: ctorch.sparse_coo_tensor(IND, v, (3, 3))  # noqa: E731
        TS = lambda: torch.sparse_coo_tensor(IND, tv, (3, 3))  # noqa: E731
        (S().coalesce().values() * 2).sum().backward()
        (TS().coalesce().values() * 2).sum().backward()
        (S().to_dense() * ctorch.tensor(w)).sum().backward()
        (TS().to_dense() * torch.tensor(w)).sum().backward()
    close(v.grad, tv.grad)


def test_sparse_leaf_gradient_accumulates_like_torch():
    a, ta = pair(_vals(), size=(3, 4), rg=True)
    d = _vals(8, 5).reshape(4, 2)
    for _ in range(2):
        ctorch.sparse.mm(a, ctorch.tensor(d)).sum().backward()
        torch.sparse.mm(ta, torch.tensor(d)).sum().backward()
    close(a.grad, ta.grad)
    assert a.grad.layout is ctorch.sparse_coo
    # a dense gradient makes the accumulated .grad dense, as torch's
    a.to_dense().sum().backward()
    ta.to_dense().sum().backward()
    close(a.grad, ta.grad)


def test_dense_to_sparse_gradient():
    x = _vals(9, 3).reshape(3, 3)
    cx, tx = ctorch.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    d = _vals(6, 4).reshape(3, 2)
    ctorch.sparse.mm(cx.to_sparse(), ctorch.tensor(d)).sum().backward()
    torch.sparse.mm(tx.to_sparse(), torch.tensor(d)).sum().backward()
    close(cx.grad, tx.grad)
    assert gradcheck(lambda x: x.to_sparse().to_dense() * 2, (cx.detach().requires_grad_(),))


@pytest.mark.cuda
def test_sparse_mm_on_gpu_matches_cpu():
    a = ctorch.sparse_coo_tensor(IND, _vals(), (3, 4))
    d = ctorch.tensor(_vals(8, 5).reshape(4, 2))
    ga, gd = a.cuda(), d.cuda().requires_grad_()
    ga.requires_grad_(True)
    out = ctorch.sparse.mm(ga, gd)
    np.testing.assert_allclose(out.cpu().detach().numpy(), ctorch.sparse.mm(a, d).numpy(), 1e-10)
    out.sum().backward()
    assert ga.grad.is_cuda and gd.grad.is_cuda
    np.testing.assert_allclose(
        ga.grad.cpu().to_dense().numpy(),
        (ctorch.ones(3, 2, dtype=ctorch.float64) @ d.t()).numpy() * (a.to_dense().numpy() != 0),
        1e-10,
    )


@pytest.mark.parametrize("fn", ["sparse.mm", "mm", "matmul"])
def test_sparse_times_sparse_matches_torch(fn):
    def call(L, a, b):
        return L.sparse.mm(a, b) if fn == "sparse.mm" else getattr(L, fn)(a, b)

    a, ta = pair(_vals(), size=(3, 4), rg=True)
    b, tb = pair(_vals(5, 2), size=(4, 3), ind=[[0, 2, 2, 3, 1], [1, 0, 1, 2, 2]], rg=True)
    r, tr = call(ctorch, a, b), call(torch, ta, tb)
    close(r, tr)
    assert r.layout is ctorch.sparse_coo and r.is_coalesced() == tr.is_coalesced()
    np.testing.assert_array_equal(r._indices().numpy(), tr._indices().numpy())
    ctorch.sparse.sum(r * r).backward()
    torch.sparse.sum(tr * tr).backward()
    close(a.grad, ta.grad)
    close(b.grad, tb.grad)
    assert a.grad.layout is ctorch.sparse_coo and b.grad.layout is ctorch.sparse_coo


def test_dense_sparse_mask_matches_torch():
    d = _vals(9, 3).reshape(3, 3)
    m = [[0, 1, 0], [2, 0, 2]]
    r = ctorch.tensor(d).sparse_mask(ctorch.sparse_coo_tensor(m, [1.0, 2.0, 3.0], (3, 3)))
    tr = torch.tensor(d).sparse_mask(torch.sparse_coo_tensor(m, [1.0, 2.0, 3.0], (3, 3)))
    close(r, tr)
    np.testing.assert_array_equal(r._values().numpy(), tr._values().numpy())
    with pytest.raises(RuntimeError, match="incompatible sizes"):
        ctorch.ones(2, 2).sparse_mask(ctorch.sparse_coo_tensor(m, [1.0, 2.0, 3.0], (3, 3)))


@pytest.mark.parametrize("dt", ["float16", "float32", "int64", "complex64"])
def test_sparse_mm_dtypes_match_torch(dt):
    v = (np.arange(1, 6) * 0.5).astype(np.float64)
    d = (np.arange(8).reshape(4, 2) % 3).astype(np.float64)
    if dt == "int64":
        v = v.round()
    a = ctorch.sparse_coo_tensor(IND, ctorch.tensor(v).to(getattr(ctorch, dt)), (3, 4))
    ta = torch.sparse_coo_tensor(IND, torch.tensor(v).to(getattr(torch, dt)), (3, 4))
    cd = ctorch.tensor(d).to(getattr(ctorch, dt))
    td = torch.tensor(d).to(getattr(torch, dt))
    close(ctorch.sparse.mm(a, cd), torch.sparse.mm(ta, td), 1e-3)
    close(a @ cd, ta @ td, 1e-3)
    if dt == "float16":  # half gradients through the float32 products, rounded back
        a.requires_grad_(True)
        cd.requires_grad_(True)
        ctorch.sparse.mm(a, cd).sum().backward()
        assert a.grad.dtype is ctorch.float16 and cd.grad.dtype is ctorch.float16


def test_dense_inplace_add_of_sparse_matches_torch():
    a, ta = pair(_vals())
    d, td = ctorch.zeros(3, 3, dtype=ctorch.float64), torch.zeros(3, 3, dtype=torch.float64)
    d += a
    td += ta
    d -= a * 3
    td -= ta * 3
    d.add_(a, alpha=0.5)
    td.add_(ta, alpha=0.5)
    close(d, td)
    x = ctorch.zeros(3, 3, dtype=ctorch.float64, requires_grad=True)
    y = x.clone()
    y += a  # recorded by autograd: the sparse operand is densified
    y.sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.ones((3, 3)))


def test_autograd_grad_hooks_and_sparse_backward_gradient_match_torch():
    res = []
    for L in (ctorch, torch):
        a = L.sparse_coo_tensor([[0, 1], [1, 0]], [1.0, 2.0], (2, 2), requires_grad=True)
        d = L.ones(2, 2, requires_grad=True)
        out = L.sparse.mm(a, d).sum()
        ga, gd = L.autograd.grad(out, (a, d), retain_graph=True)
        a.register_hook(lambda g: g * 2)
        out.backward()
        v = L.tensor([1.0, 2.0], requires_grad=True)
        s = L.sparse_coo_tensor([[0, 1], [1, 0]], v, (2, 2))
        s.backward(L.sparse_coo_tensor([[0, 1], [1, 1]], [5.0, 7.0], (2, 2)))
        res.append((ga, gd, a.grad, v.grad))
    for c, t in zip(*res, strict=True):
        close(c, t)
        assert repr(c.layout).split(".")[-1] == str(t.layout).split(".")[-1]


def test_gradcheck_accepts_sparse_inputs_and_outputs():
    a = ctorch.sparse_coo_tensor(IND, _vals(), (3, 3)).coalesce().requires_grad_()
    c = ctorch.sparse_coo_tensor(IND, _vals(), (3, 3)).to_sparse_csr().requires_grad_()
    d = ctorch.tensor(_vals(6, 1).reshape(3, 2), requires_grad=True)
    assert gradcheck(lambda a, d: ctorch.sparse.mm(a, d), (a, d))
    assert gradcheck(lambda c, d: ctorch.sparse.mm(c, d), (c, d))
    assert gradcheck(lambda a: ctorch.sparse.softmax(a, 1), (a,))
    assert gradcheck(lambda a: (a * 3).t(), (a,))
    assert gradcheck(lambda a, b: a + b, (a, a.detach().clone().requires_grad_()))
    # torch's masked gradcheck agrees on the same functions
    ta = torch.sparse_coo_tensor(IND, _vals(), (3, 3)).coalesce().requires_grad_()
    td = torch.tensor(_vals(6, 1).reshape(3, 2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda a, d: torch.sparse.mm(a, d), (ta, td), masked=True)


def test_sparse_and_dense_gradients_to_one_tensor_accumulate_like_torch():
    res = []
    for L in (ctorch, torch):
        a = L.sparse_coo_tensor(IND, L.tensor(_vals()), (3, 3)).coalesce().requires_grad_()
        d = L.tensor(_vals(6, 2).reshape(3, 2))
        b = a * 2  # a non-leaf: the engine adds its two gradients (sparse, then dense)
        out = L.sparse.mm(b, d).sum() + L.mm(b, d).pow(2).sum()
        out.backward()
        res.append(a.grad)
    close(res[0], res[1])


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, a, b: a * 2,
        lambda L, a, b: 3 * a / 2,
        lambda L, a, b: -a,
        lambda L, a, b: L.neg(a),
        lambda L, a, b: a + b,
        lambda L, a, b: a - b * 0.5,
        lambda L, a, b: (a + b).coalesce(),
    ],
)
def test_linear_sparse_ops_pass_dense_gradients_like_torch(fn):
    """torch.mm gives its sparse operand a dense gradient; linear ops before it keep it dense."""
    res = []
    for L in (ctorch, torch):
        a = L.sparse_coo_tensor(IND, L.tensor(_vals()), (3, 3)).requires_grad_()
        b = L.sparse_coo_tensor([[2, 0], [0, 1]], L.tensor(_vals(2, 3)), (3, 3)).requires_grad_()
        y = fn(L, a, b)
        res.append(y.grad_fn.name())
        L.mm(y, L.tensor(_vals(6, 2).reshape(3, 2))).pow(2).sum().backward()
        res.append((a.grad, b.grad))
    assert res[0] == res[2]  # grad_fn names
    for c, t in zip(res[1], res[3], strict=True):
        if t is None:
            assert c is None
            continue
        close(c, t)
        assert repr(c.layout).split(".")[-1] == str(t.layout).split(".")[-1]
