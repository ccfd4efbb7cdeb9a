"""ctorch.linalg against torch.linalg: values and dtypes (float32/float64, batched, empty),
gradients (float64 finite differences and torch's gradients for the same upstream gradient).

Decompositions are unique only up to signs (QR, SVD, eigenvectors): their cases compare
sign-free quantities (|Q|, |U|, reconstructions, gauge-invariant losses).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(1234)


def _make(kind, shape, dtype):
    a = RNG.standard_normal(shape)
    n = shape[-1]
    if kind == "spd":
        a = a @ np.swapaxes(a, -1, -2) + n * np.eye(n)
    elif kind == "sym":
        a = (a + np.swapaxes(a, -1, -2)) / 2
    elif kind == "tri":
        a = np.triu(a) + 3 * np.eye(n)
    elif kind == "well":
        a = a + 3 * np.eye(n) if shape[-1] == shape[-2] else a
    return a.astype(dtype)


def _tensors(lib, arrays, rg=False):
    out = []
    for a in arrays:
        t = lib.from_numpy(np.array(a, copy=True))
        if rg and a.dtype.kind == "f":
            t.requires_grad_(True)
        out.append(t)
    return out


def _flat(r):
    if isinstance(r, (tuple, list)):
        out = []
        for x in r:
            out.extend(_flat(x))
        return out
    return [r]


def _np(t):
    return t.detach().numpy() if hasattr(t, "detach") else np.asarray(t)


def _compare(c, t, atol, rtol, signfree):
    cs, ts = _flat(c), _flat(t)
    assert len(cs) == len(ts)
    for x, y in zip(cs, ts, strict=True):
        if not hasattr(y, "dtype"):
            assert x == y
            continue
        assert tuple(x.shape) == tuple(y.shape), (x.shape, y.shape)
        assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1], (x.dtype, y.dtype)
        xa, ya = _np(x), _np(y)
        if signfree:
            xa, ya = np.abs(xa), np.abs(ya)
        if xa.dtype.kind in "fc":
            np.testing.assert_allclose(xa, ya, atol=atol, rtol=rtol)
        else:
            np.testing.assert_array_equal(xa, ya)


L = "linalg"


def _lf(name, **kw):
    return lambda lib, *xs: getattr(lib.linalg, name)(*xs, **kw)


# name, fn, input kinds+shapes, sign-free comparison
FORWARD = [
    ("inv", _lf("inv"), [("well", (3, 3))], False),
    ("inv_ex", _lf("inv_ex"), [("well", (2, 3, 3))], False),
    ("det", _lf("det"), [("gen", (2, 4, 4))], False),
    ("slogdet", _lf("slogdet"), [("gen", (2, 4, 4))], False),
    ("solve", _lf("solve"), [("well", (2, 3, 3)), ("gen", (2, 3, 2))], False),
    ("solve_vec", _lf("solve"), [("well", (2, 3, 3)), ("gen", (2, 3))], False),
    ("solve_bcast", _lf("solve"), [("well", (3, 3)), ("gen", (4, 3, 2))], False),
    ("solve_left", _lf("solve", left=False), [("well", (2, 3, 3)), ("gen", (2, 4, 3))], False),
    ("solve_ex", _lf("solve_ex"), [("well", (3, 3)), ("gen", (3, 2))], False),
    (
        "solve_triangular",
        _lf("solve_triangular", upper=True),
        [("tri", (2, 3, 3)), ("gen", (2, 3, 4))],
        False,
    ),
    (
        "solve_triangular_lower_right_unit",
        lambda lib, a, b: lib.linalg.solve_triangular(
            a.mT, b, upper=False, left=False, unitriangular=True
        ),
        [("tri", (3, 3)), ("gen", (2, 3))],
        False,
    ),
    ("cholesky", _lf("cholesky"), [("spd", (2, 4, 4))], False),
    ("cholesky_upper", _lf("cholesky", upper=True), [("spd", (4, 4))], False),
    ("cholesky_ex", _lf("cholesky_ex"), [("spd", (2, 4, 4))], False),
    ("qr", _lf("qr"), [("gen", (2, 5, 3))], True),
    ("qr_wide", _lf("qr"), [("gen", (3, 5))], True),
    ("qr_complete", _lf("qr", mode="complete"), [("gen", (5, 3))], True),
    ("qr_r", lambda lib, a: lib.linalg.qr(a, mode="r")[1], [("gen", (5, 3))], True),
    ("svd_S", lambda lib, a: lib.linalg.svd(a)[1], [("gen", (2, 5, 3))], False),
    ("svd_abs", lambda lib, a: lib.linalg.svd(a, full_matrices=False), [("gen", (4, 3))], True),
    ("svdvals", _lf("svdvals"), [("gen", (2, 3, 5))], False),
    ("eigvalsh", _lf("eigvalsh"), [("sym", (2, 4, 4))], False),
    ("eigvalsh_U", _lf("eigvalsh", UPLO="U"), [("gen", (4, 4))], False),
    ("eigh_abs", _lf("eigh"), [("sym", (2, 4, 4))], True),
    ("eigvals", lambda lib, a: lib.linalg.eigvals(a)._a if lib is ctorch else None, [], False),
    ("pinv", _lf("pinv"), [("gen", (2, 5, 3))], False),
    ("pinv_herm", _lf("pinv", hermitian=True), [("sym", (4, 4))], False),
    ("matrix_rank", _lf("matrix_rank"), [("gen", (2, 5, 3))], False),
    ("matrix_exp", _lf("matrix_exp"), [("gen", (2, 4, 4))], False),
    ("matrix_power3", _lf("matrix_power", n=3), [("gen", (2, 3, 3))], False),
    ("matrix_power_neg", _lf("matrix_power", n=-2), [("well", (3, 3))], False),
    ("matrix_power0", _lf("matrix_power", n=0), [("gen", (2, 3, 3))], False),
    ("lu_factor", _lf("lu_factor"), [("gen", (2, 4, 4))], False),
    ("lu_factor_wide", _lf("lu_factor"), [("gen", (3, 5))], False),
    ("lu_factor_ex", _lf("lu_factor_ex"), [("gen", (5, 3))], False),
    ("lu", _lf("lu"), [("gen", (2, 4, 4))], False),
    ("lu_tall", _lf("lu"), [("gen", (5, 3))], False),
    ("householder", _lf("householder_product"), [("gen", (5, 3)), ("gen", (2,))], False),
    (
        "lstsq",
        lambda lib, a, b: lib.linalg.lstsq(a, b)[0],
        [("gen", (2, 5, 3)), ("gen", (2, 5, 2))],
        False,
    ),
    (
        "lstsq_gelsd",
        lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd")[:2],
        [("gen", (5, 3)), ("gen", (5, 2))],
        False,
    ),
    ("vector_norm", _lf("vector_norm"), [("gen", (2, 3, 4))], False),
    (
        "vector_norm_ord",
        _lf("vector_norm", ord=3.0, dim=(0, 2), keepdim=True),
        [("gen", (2, 3, 4))],
        False,
    ),
    ("vector_norm_inf", _lf("vector_norm", ord=math.inf, dim=-1), [("gen", (2, 3, 4))], False),
    ("vector_norm_0", _lf("vector_norm", ord=0), [("gen", (2, 3, 4))], False),
    ("vector_norm_neginf", _lf("vector_norm", ord=-math.inf), [("gen", (2, 3, 4))], False),
    ("matrix_norm_fro", _lf("matrix_norm"), [("gen", (2, 3, 4))], False),
    ("matrix_norm_nuc", _lf("matrix_norm", ord="nuc"), [("gen", (2, 3, 4))], False),
    ("matrix_norm_2", _lf("matrix_norm", ord=2), [("gen", (2, 3, 4))], False),
    ("matrix_norm_-2", _lf("matrix_norm", ord=-2, keepdim=True), [("gen", (2, 3, 4))], False),
    ("matrix_norm_1", _lf("matrix_norm", ord=1, dim=(0, 2)), [("gen", (2, 3, 4))], False),
    ("matrix_norm_inf", _lf("matrix_norm", ord=-math.inf), [("gen", (2, 3, 4))], False),
    ("norm", _lf("norm"), [("gen", (2, 3, 4))], False),
    ("norm_mat", _lf("norm", ord="nuc"), [("gen", (3, 4))], False),
    ("norm_dim", _lf("norm", ord=1, dim=1), [("gen", (3, 4))], False),
    ("cond", _lf("cond"), [("gen", (2, 3, 3))], False),
    ("cond_fro", _lf("cond", p="fro"), [("gen", (2, 3, 3))], False),
    ("cond_inf", _lf("cond", p=math.inf), [("gen", (3, 3))], False),
    ("cross", _lf("cross"), [("gen", (4, 3)), ("gen", (4, 3))], False),
    (
        "multi_dot",
        lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
        [("gen", (3,)), ("gen", (3, 5)), ("gen", (5, 2))],
        False,
    ),
    ("vander", _lf("vander"), [("gen", (2, 4))], False),
    ("vander_N", _lf("vander", N=2), [("gen", (3,))], False),
    ("vecdot", _lf("vecdot"), [("gen", (2, 4)), ("gen", (4,))], False),
    ("diagonal", _lf("diagonal", offset=1), [("gen", (2, 3, 4))], False),
    ("matmul", _lf("matmul"), [("gen", (2, 3, 4)), ("gen", (4, 2))], False),
    ("tensorinv", _lf("tensorinv", ind=1), [("well", (4, 2, 2))], False),
    ("tensorsolve", _lf("tensorsolve"), [("gen", (2, 3, 6)), ("gen", (2, 3))], False),
    ("ldl_factor", _lf("ldl_factor"), [("spd", (2, 4, 4))], False),
    ("ldl_factor_ex", _lf("ldl_factor_ex"), [("sym", (4, 4))], False),
]
FORWARD = [c for c in FORWARD if c[2]]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("case", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_matches_torch(case, dtype):
    _name, fn, specs, signfree = case
    arrays = [_make(k, s, dtype) for k, s in specs]
    got = fn(ctorch, *_tensors(ctorch, arrays))
    exp = fn(torch, *_tensors(torch, arrays))
    tol = 1e-4 if dtype == np.float32 else 1e-9
    _compare(got, exp, tol, tol * 10, signfree)


def test_eigvals_and_eig_match_torch():
    a = _make("gen", (2, 4, 4), np.float64)
    w = ctorch.linalg.eigvals(ctorch.from_numpy(a))._a
    wt = torch.linalg.eigvals(torch.from_numpy(a)).numpy()
    assert w.dtype == np.complex128
    np.testing.assert_allclose(np.sort_complex(w.reshape(-1)), np.sort_complex(wt.reshape(-1)))
    W, V = ctorch.linalg.eig(ctorch.from_numpy(a.astype(np.float32)))
    assert W._a.dtype == np.complex64 and V._a.dtype == np.complex64
    av = a.astype(np.float32) @ V._a
    np.testing.assert_allclose(av, V._a * W._a[..., None, :], atol=1e-4)


def test_ldl_solve_and_lu_solve_match_torch():
    a = _make("spd", (2, 4, 4), np.float64)
    b = _make("gen", (2, 4, 3), np.float64)
    LD, piv = ctorch.linalg.ldl_factor(ctorch.from_numpy(a))
    x = ctorch.linalg.ldl_solve(LD, piv, ctorch.from_numpy(b))
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), atol=1e-10)
    LU, p = ctorch.linalg.lu_factor(ctorch.from_numpy(a))
    LUt, pt = torch.linalg.lu_factor(torch.from_numpy(a))
    for kw in ({}, {"adjoint": True}, {"left": False}):
        bb = b if kw.get("left", True) else np.swapaxes(b, -1, -2)
        xc = ctorch.linalg.lu_solve(LU, p, ctorch.from_numpy(bb), **kw)
        xt = torch.linalg.lu_solve(LUt, pt, torch.from_numpy(bb), **kw)
        np.testing.assert_allclose(xc.numpy(), xt.numpy(), atol=1e-10)


# ------------------------------------------------------------------ gradients
def _sym(lib, a):
    return (a + a.mT) / 2


def _spd(lib, a):
    return a @ a.mT + a.shape[-1] * lib.eye(a.shape[-1], dtype=a.dtype)


GRAD = [
    ("inv", lambda lib, a: lib.linalg.inv(a), [("well", (2, 3, 3))]),
    ("det", lambda lib, a: lib.linalg.det(a), [("gen", (2, 3, 3))]),
    ("slogdet", lambda lib, a: lib.linalg.slogdet(a)[1], [("gen", (2, 3, 3))]),
    ("solve", lambda lib, a, b: lib.linalg.solve(a, b), [("well", (2, 3, 3)), ("gen", (3, 2))]),
    (
        "solve_vec_right",
        lambda lib, a, b: lib.linalg.solve(a, b, left=False),
        [("well", (3, 3)), ("gen", (2, 3))],
    ),
    (
        "solve_triangular",
        lambda lib, a, b: lib.linalg.solve_triangular(a, b, upper=True),
        [("tri", (2, 3, 3)), ("gen", (2, 3, 2))],
    ),
    (
        "solve_triangular_unit_right",
        lambda lib, a, b: lib.linalg.solve_triangular(
            a, b, upper=False, left=False, unitriangular=True
        ),
        [("gen", (3, 3)), ("gen", (2, 3))],
    ),
    ("cholesky", lambda lib, a: lib.linalg.cholesky(_spd(lib, a)), [("gen", (2, 3, 3))]),
    (
        "cholesky_upper",
        lambda lib, a: lib.linalg.cholesky(_spd(lib, a), upper=True),
        [("gen", (3, 3))],
    ),
    ("qr", lambda lib, a: lib.linalg.qr(a), [("gen", (2, 4, 3))]),
    ("qr_wide", lambda lib, a: lib.linalg.qr(a), [("gen", (3, 5))]),
    ("svdvals", lambda lib, a: lib.linalg.svdvals(a), [("gen", (2, 4, 3))]),
    (
        "svd_invariant",
        lambda lib, a: (lambda u, s, v: (u @ v, s))(*lib.linalg.svd(a, full_matrices=False)),
        [("gen", (2, 4, 3))],
    ),
    (
        "svd_wide",
        lambda lib, a: (lambda u, s, v: u @ v)(*lib.linalg.svd(a, full_matrices=False)),
        [("gen", (3, 5))],
    ),
    (
        "svd_full",
        lambda lib, a: (lambda u, s, v: u[..., :, :3] @ v[..., :3, :])(*lib.linalg.svd(a)),
        [("gen", (4, 3))],
    ),
    (
        "eigh",
        lambda lib, a: (lambda w, v: (w, v * v))(*lib.linalg.eigh(_sym(lib, a))),
        [("gen", (2, 3, 3))],
    ),
    ("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(_sym(lib, a)), [("gen", (2, 3, 3))]),
    ("pinv", lambda lib, a: lib.linalg.pinv(a), [("gen", (2, 4, 3))]),
    ("pinv_wide", lambda lib, a: lib.linalg.pinv(a), [("gen", (3, 5))]),
    ("pinv_herm", lambda lib, a: lib.linalg.pinv(_sym(lib, a), hermitian=True), [("gen", (3, 3))]),
    ("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), [("gen", (2, 3, 3))]),
    ("matrix_power", lambda lib, a: lib.linalg.matrix_power(a, -3), [("well", (2, 3, 3))]),
    ("lu_factor", lambda lib, a: lib.linalg.lu_factor(a)[0], [("gen", (2, 3, 3))]),
    ("lu_wide", lambda lib, a: lib.linalg.lu(a)[1:], [("gen", (3, 5))]),
    ("lu_tall", lambda lib, a: lib.linalg.lu(a)[1:], [("gen", (2, 5, 3))]),
    (
        "lu_solve",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
        [("well", (2, 3, 3)), ("gen", (2, 3, 2))],
    ),
    (
        "lu_solve_adj_right",
        lambda lib, a, b: lib.linalg.lu_solve(
            *lib.linalg.lu_factor(a), b, adjoint=True, left=False
        ),
        [("well", (3, 3)), ("gen", (2, 3))],
    ),
    (
        "lstsq",
        lambda lib, a, b: lib.linalg.lstsq(a, b).solution,
        [("gen", (2, 5, 3)), ("gen", (2, 5, 2))],
    ),
    (
        "householder",
        lambda lib, a, t: lib.linalg.householder_product(a, t),
        [("gen", (4, 3)), ("gen", (2,))],
    ),
    (
        "vector_norm",
        lambda lib, a: (
            lib.linalg.vector_norm(a),
            lib.linalg.vector_norm(a, 3.5, dim=-1),
            lib.linalg.vector_norm(a, 1, dim=0),
        ),
        [("gen", (2, 3))],
    ),
    (
        "vector_norm_inf",
        lambda lib, a: lib.linalg.vector_norm(a, math.inf, dim=-1),
        [("gen", (2, 3))],
    ),
    (
        "matrix_norm",
        lambda lib, a: tuple(
            lib.linalg.matrix_norm(a, o) for o in ("fro", "nuc", 2, -2, 1, -math.inf)
        ),
        [("gen", (2, 3, 3))],
    ),
    ("cond", lambda lib, a: (lib.linalg.cond(a), lib.linalg.cond(a, "nuc")), [("well", (2, 3, 3))]),
    (
        "multi_dot",
        lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
        [("gen", (3,)), ("gen", (3, 4)), ("gen", (4, 2))],
    ),
    ("vander", lambda lib, a: lib.linalg.vander(a, N=4), [("gen", (2, 3))]),
    ("vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), [("gen", (2, 3)), ("gen", (3,))]),
    ("tensorinv", lambda lib, a: lib.linalg.tensorinv(a, ind=1), [("well", (4, 2, 2))]),
    (
        "tensorsolve",
        lambda lib, a, b: lib.linalg.tensorsolve(a, b),
        [("gen", (2, 3, 6)), ("gen", (2, 3))],
    ),
]


def _grad_arrays(specs):
    arrays = [_make(k, s, np.float64) for k, s in specs]
    if specs[0][0] == "well" and specs[0][1][-1] == specs[0][1][-2]:
        arrays[0] = arrays[0] + 2 * np.eye(specs[0][1][-1])
    return arrays


@pytest.mark.parametrize("case", GRAD, ids=[c[0] for c in GRAD])
def test_gradients(case):
    _name, fn, specs = case
    arrays = _grad_arrays(specs)
    xs = _tensors(ctorch, arrays, rg=True)

    def f(*args):
        return tuple(o for o in _flat(fn(ctorch, *args)) if o.is_floating_point())

    assert ctorch.autograd.gradcheck(f, tuple(xs), eps=1e-6, atol=1e-5, rtol=1e-3)
    # the same upstream gradient through torch
    xc = _tensors(ctorch, arrays, rg=True)
    xt = _tensors(torch, arrays, rg=True)
    oc = [o for o in _flat(fn(ctorch, *xc)) if o.is_floating_point()]
    ot = [o for o in _flat(fn(torch, *xt)) if o.is_floating_point()]
    gys = [RNG.standard_normal(tuple(o.shape)) for o in oc]
    sum((o * ctorch.from_numpy(g)).sum() for o, g in zip(oc, gys, strict=True)).backward()
    sum((o * torch.from_numpy(g)).sum() for o, g in zip(ot, gys, strict=True)).backward()
    for a, b in zip(xc, xt, strict=True):
        np.testing.assert_allclose(a.grad.numpy(), b.grad.numpy(), atol=1e-7, rtol=1e-6)


def test_grad_fn_names_match_torch():
    a = ctorch.randn(3, 3, dtype=ctorch.float64, requires_grad=True)
    at = torch.from_numpy(a.detach().numpy()).requires_grad_()
    for f in (
        lambda lib, x: lib.linalg.inv(x),
        lambda lib, x: lib.linalg.det(x),
        lambda lib, x: lib.linalg.svdvals(x),
        lambda lib, x: lib.linalg.qr(x)[0],
        lambda lib, x: lib.linalg.matrix_exp(x),
        lambda lib, x: lib.linalg.pinv(x),
        lambda lib, x: lib.linalg.solve(x, x),
    ):
        assert f(ctorch, a).grad_fn.name() == type(f(torch, at).grad_fn).__name__


@pytest.mark.parametrize(
    "kw", [{}, {"adjoint": True}, {"left": False}, {"adjoint": True, "left": False}]
)
def test_lu_solve_large_matrices_match_torch(kw):
    # n >= 128 takes the trsm path (two triangular solves on the C-ordered LU)
    a = _make("well", (2, 130, 130), np.float64) + 10 * np.eye(130)
    b = _make("gen", (2, 130, 3) if kw.get("left", True) else (2, 3, 130), np.float64)
    LU, p = ctorch.linalg.lu_factor(ctorch.from_numpy(a))
    LUt, pt = torch.linalg.lu_factor(torch.from_numpy(a))
    xc = ctorch.linalg.lu_solve(LU, p, ctorch.from_numpy(b), **kw)
    xt = torch.linalg.lu_solve(LUt, pt, torch.from_numpy(b), **kw)
    np.testing.assert_allclose(xc.numpy(), xt.numpy(), atol=1e-10)


DOUBLE = [
    ("det", lambda L, x: L.linalg.det(x)),
    ("slogdet", lambda L, x: L.linalg.slogdet(x)[1]),
    ("inv", lambda L, x: L.linalg.inv(x).sum()),
    ("solve", lambda L, x: L.linalg.solve(x, x[..., :1] * 2).sum()),
    ("cholesky", lambda L, x: L.linalg.cholesky(x @ x.mT).sum()),
    ("eigvalsh", lambda L, x: (L.linalg.eigvalsh(x + x.mT) ** 2).sum()),
    ("svdvals", lambda L, x: (L.linalg.svdvals(x) ** 3).sum()),
    ("qr", lambda L, x: L.linalg.qr(x)[1].sum()),
    ("matrix_exp", lambda L, x: L.linalg.matrix_exp(x).sum()),
    ("pinv", lambda L, x: L.linalg.pinv(x).sum()),
]


@pytest.mark.parametrize("case", DOUBLE, ids=[c[0] for c in DOUBLE])
def test_double_backward_matches_torch(case):
    # the backward formulas are differentiable tensor ops: second derivatives as torch's
    _name, f = case
    a = _make("well", (3, 3), np.float64)
    res = []
    for lib in (ctorch, torch):
        x = lib.from_numpy(a.copy()).requires_grad_()
        (g,) = lib.autograd.grad(f(lib, x), x, create_graph=True)
        (gg,) = lib.autograd.grad((g * g).sum(), x)
        res.append(gg.detach().numpy())
    np.testing.assert_allclose(res[0], res[1], rtol=1e-7, atol=1e-9)
