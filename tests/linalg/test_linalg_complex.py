"""ctorch.linalg with complex64/complex128 inputs against torch.linalg (issue #13): values and
dtypes (real-valued outputs such as svdvals, eigvalsh, slogdet's logabsdet and the norms
included), complex128 finite differences (``ctorch.autograd.gradcheck`` perturbs real and
imaginary parts) and torch's gradients (conjugate-Wirtinger convention) for the same upstream
gradient and for the real loss ``sum(|f(A)|^2)``.

Decompositions are unique only up to a phase per vector (QR is not: LAPACK's R has a real
diagonal... of either sign; SVD, eigenvectors): those cases compare phase-free quantities
(|Q|, |U|, reconstructions, gauge-invariant losses).
"""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

RNG = np.random.default_rng(4321)


def _make(kind, shape, dtype):
    a = RNG.standard_normal(shape) + 1j * RNG.standard_normal(shape)
    n = shape[-1]
    if kind == "hpd":
        a = a @ np.conj(np.swapaxes(a, -1, -2)) + n * np.eye(n)
    elif kind == "herm":
        a = (a + np.conj(np.swapaxes(a, -1, -2))) / 2
    elif kind == "tri":
        a = np.triu(a) + 3 * np.eye(n)
    elif kind == "well":
        a = a + 3 * np.eye(n) if shape[-1] == shape[-2] else a
    elif kind == "real":
        a = a.real
        dtype = np.float32 if np.dtype(dtype) == np.complex64 else np.float64
    return a.astype(dtype)


def _tensors(lib, arrays, rg=False):
    out = []
    for a in arrays:
        t = lib.from_numpy(np.array(a, copy=True))
        if rg and a.dtype.kind in "fc":
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
    return t.detach().resolve_conj().numpy() if isinstance(t, torch.Tensor) else t.detach().numpy()


def _compare(c, t, atol, rtol, phasefree):
    cs, ts = _flat(c), _flat(t)
    assert len(cs) == len(ts)
    for x, y in zip(cs, ts, strict=True):
        if not hasattr(y, "dtype"):
            assert x == y
            continue
        assert tuple(x.shape) == tuple(y.shape), (x.shape, y.shape)
        assert str(x.dtype).split(".")[-1] == str(y.dtype).split(".")[-1], (x.dtype, y.dtype)
        xa, ya = _np(x), _np(y)
        if phasefree:
            xa, ya = np.abs(xa), np.abs(ya)
        if xa.dtype.kind in "fc":
            np.testing.assert_allclose(xa, ya, atol=atol, rtol=rtol)
        else:
            np.testing.assert_array_equal(xa, ya)


def _lf(name, **kw):
    return lambda lib, *xs: getattr(lib.linalg, name)(*xs, **kw)


def _herm(lib, a):
    return (a + a.mH) / 2


def _hpd(lib, a):
    return a @ a.mH + a.shape[-1] * lib.eye(a.shape[-1], dtype=a.dtype)


# name, fn, input kinds+shapes, phase-free comparison
FORWARD = [
    ("inv", _lf("inv"), [("well", (2, 3, 3))], False),
    ("inv_ex", _lf("inv_ex"), [("well", (2, 3, 3))], False),
    ("det", _lf("det"), [("gen", (2, 4, 4))], False),
    ("slogdet", _lf("slogdet"), [("gen", (2, 4, 4))], False),
    ("solve", _lf("solve"), [("well", (2, 3, 3)), ("gen", (2, 3, 2))], False),
    ("solve_vec", _lf("solve"), [("well", (2, 3, 3)), ("gen", (2, 3))], False),
    ("solve_right", _lf("solve", left=False), [("well", (2, 3, 3)), ("gen", (2, 4, 3))], False),
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
    ("cholesky", _lf("cholesky"), [("hpd", (2, 4, 4))], False),
    ("cholesky_upper", _lf("cholesky", upper=True), [("hpd", (4, 4))], False),
    ("cholesky_ex", _lf("cholesky_ex"), [("hpd", (2, 4, 4))], False),
    ("qr", _lf("qr"), [("gen", (2, 5, 3))], False),
    ("qr_wide", _lf("qr"), [("gen", (3, 5))], False),
    ("qr_complete", _lf("qr", mode="complete"), [("gen", (5, 3))], False),
    ("qr_r", lambda lib, a: lib.linalg.qr(a, mode="r")[1], [("gen", (5, 3))], False),
    ("svd_S", lambda lib, a: lib.linalg.svd(a)[1], [("gen", (2, 5, 3))], False),
    ("svd_abs", lambda lib, a: lib.linalg.svd(a, full_matrices=False), [("gen", (4, 3))], True),
    ("svdvals", _lf("svdvals"), [("gen", (2, 3, 5))], False),
    ("eigvalsh", _lf("eigvalsh"), [("herm", (2, 4, 4))], False),
    ("eigvalsh_U", _lf("eigvalsh", UPLO="U"), [("gen", (4, 4))], False),
    ("eigh_abs", _lf("eigh"), [("herm", (2, 4, 4))], True),
    ("pinv", _lf("pinv"), [("gen", (2, 5, 3))], False),
    ("pinv_herm", _lf("pinv", hermitian=True), [("herm", (4, 4))], False),
    ("matrix_rank", _lf("matrix_rank"), [("gen", (2, 5, 3))], False),
    ("matrix_rank_herm", _lf("matrix_rank", hermitian=True), [("herm", (4, 4))], False),
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
        lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gelsd"),
        [("gen", (5, 3)), ("gen", (5, 2))],
        False,
    ),
    (
        "lstsq_gels",
        lambda lib, a, b: lib.linalg.lstsq(a, b, driver="gels")[:2],
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
    ("vector_norm_1", _lf("vector_norm", ord=1), [("gen", (2, 3, 4))], False),
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
    ("vecdot", _lf("vecdot"), [("gen", (2, 4)), ("gen", (4,))], False),
    ("diagonal", _lf("diagonal", offset=1), [("gen", (2, 3, 4))], False),
    ("matmul", _lf("matmul"), [("gen", (2, 3, 4)), ("gen", (4, 2))], False),
    ("tensorinv", _lf("tensorinv", ind=1), [("well", (4, 2, 2))], False),
    ("tensorsolve", _lf("tensorsolve"), [("gen", (2, 3, 6)), ("gen", (2, 3))], False),
    ("ldl_factor_herm", _lf("ldl_factor", hermitian=True), [("hpd", (2, 4, 4))], False),
    ("ldl_factor_sym", _lf("ldl_factor_ex"), [("gen", (4, 4))], False),
    ("eigvals_real_input", lambda lib, a: lib.linalg.eigvals(a).abs(), [("real", (3, 3))], False),
    # legacy names and Tensor methods
    ("t_det", lambda lib, a: a.det(), [("gen", (2, 3, 3))], False),
    ("t_logdet", lambda lib, a: a.logdet(), [("gen", (2, 3, 3))], False),
    ("t_slogdet", lambda lib, a: lib.slogdet(a), [("gen", (2, 3, 3))], False),
    ("t_inverse", lambda lib, a: a.inverse(), [("well", (3, 3))], False),
    ("t_svd", lambda lib, a: lib.svd(a), [("gen", (4, 3))], True),
    ("t_svd_novu", lambda lib, a: lib.svd(a, compute_uv=False), [("gen", (4, 3))], False),
    ("t_cholesky", lambda lib, a: a.cholesky(), [("hpd", (3, 3))], False),
    (
        "t_cholesky_solve",
        lambda lib, a, b: lib.cholesky_solve(b, lib.linalg.cholesky(a)),
        [("hpd", (2, 3, 3)), ("gen", (2, 3, 2))],
        False,
    ),
    (
        "t_cholesky_solve_upper",
        lambda lib, a, b: lib.cholesky_solve(b, lib.linalg.cholesky(a, upper=True), upper=True),
        [("hpd", (3, 3)), ("gen", (3, 2))],
        False,
    ),
    (
        "t_cholesky_inverse",
        lambda lib, a: lib.cholesky_inverse(lib.linalg.cholesky(a)),
        [("hpd", (3, 3))],
        False,
    ),
    (
        "t_triangular_solve_T",
        lambda lib, b, a: lib.triangular_solve(b, a, transpose=True),
        [("gen", (3, 2)), ("tri", (3, 3))],
        False,
    ),
    ("t_qr", lambda lib, a: a.qr(), [("gen", (4, 3))], False),
    ("t_pinverse", lambda lib, a: a.pinverse(), [("gen", (4, 3))], False),
    ("t_matrix_exp", lambda lib, a: a.matrix_exp(), [("gen", (3, 3))], False),
    ("t_geqrf", lambda lib, a: lib.geqrf(a), [("gen", (4, 3))], False),
    (
        "t_orgqr",
        lambda lib, a: lib.orgqr(*lib.geqrf(a)),
        [("gen", (4, 3))],
        False,
    ),
    (
        "t_ormqr",
        lambda lib, a, c: lib.ormqr(*lib.geqrf(a), c, transpose=True),
        [("gen", (4, 3)), ("gen", (4, 2))],
        False,
    ),
    (
        "t_ormqr_right",
        lambda lib, a, c: lib.ormqr(*lib.geqrf(a), c, left=False),
        [("gen", (4, 3)), ("gen", (2, 4))],
        False,
    ),
    (
        "t_lu_solve",
        lambda lib, a, b: lib.lu_solve(b, *lib.linalg.lu_factor(a)),
        [("well", (2, 3, 3)), ("gen", (2, 3, 2))],
        False,
    ),
    (
        "lu_solve_adjoint",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, adjoint=True),
        [("well", (2, 3, 3)), ("gen", (2, 3, 2))],
        False,
    ),
    (
        "lu_solve_adjoint_right",
        lambda lib, a, b: lib.linalg.lu_solve(
            *lib.linalg.lu_factor(a), b, adjoint=True, left=False
        ),
        [("well", (3, 3)), ("gen", (2, 3))],
        False,
    ),
    (
        "lu_solve_right",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False),
        [("well", (3, 3)), ("gen", (2, 3))],
        False,
    ),
    ("t_nuclear_norm", lambda lib, a: lib.nuclear_norm(a), [("gen", (3, 4))], False),
    ("t_matrix_power", lambda lib, a: a.matrix_power(-2), [("well", (3, 3))], False),
]


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("case", FORWARD, ids=[c[0] for c in FORWARD])
def test_forward_matches_torch(case, dtype):
    _name, fn, specs, phasefree = case
    arrays = [_make(k, s, dtype) for k, s in specs]
    got = fn(ctorch, *_tensors(ctorch, arrays))
    exp = fn(torch, *_tensors(torch, arrays))
    tol = 1e-4 if dtype == np.complex64 else 1e-9
    _compare(got, exp, tol, tol * 10, phasefree)


# ------------------------------------------------------------------ gradients
def _phase_free_svd(lib, a):
    U, S, Vh = lib.linalg.svd(a, full_matrices=False)
    return U @ Vh, S


GRAD = [
    ("inv", lambda lib, a: lib.linalg.inv(a), [("well", (2, 3, 3))]),
    ("inv_ex", lambda lib, a: lib.linalg.inv_ex(a)[0], [("well", (3, 3))]),
    ("det", lambda lib, a: lib.linalg.det(a), [("gen", (2, 3, 3))]),
    ("slogdet", lambda lib, a: lib.linalg.slogdet(a), [("gen", (2, 3, 3))]),
    ("logdet", lambda lib, a: lib.logdet(a), [("well", (3, 3))]),
    ("solve", lambda lib, a, b: lib.linalg.solve(a, b), [("well", (2, 3, 3)), ("gen", (3, 2))]),
    (
        "solve_bcast",
        lambda lib, a, b: lib.linalg.solve(a, b),
        [("well", (3, 3)), ("gen", (2, 3, 2))],
    ),
    (
        "solve_ex_vec",
        lambda lib, a, b: lib.linalg.solve_ex(a, b)[0],
        [("well", (2, 3, 3)), ("gen", (2, 3))],
    ),
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
    ("cholesky", lambda lib, a: lib.linalg.cholesky(_hpd(lib, a)), [("gen", (2, 3, 3))]),
    (
        "cholesky_upper",
        lambda lib, a: lib.linalg.cholesky(_hpd(lib, a), upper=True),
        [("gen", (3, 3))],
    ),
    (
        "cholesky_solve",
        lambda lib, a, b: lib.cholesky_solve(b, lib.linalg.cholesky(_hpd(lib, a))),
        [("gen", (3, 3)), ("gen", (3, 2))],
    ),
    ("qr", lambda lib, a: lib.linalg.qr(a), [("gen", (2, 4, 3))]),
    ("qr_wide", lambda lib, a: lib.linalg.qr(a), [("gen", (3, 5))]),
    ("svdvals", lambda lib, a: lib.linalg.svdvals(a), [("gen", (2, 4, 3))]),
    ("svd_invariant", _phase_free_svd, [("gen", (2, 4, 3))]),
    ("svd_wide", _phase_free_svd, [("gen", (3, 5))]),
    (
        "svd_full",
        lambda lib, a: (lambda u, s, v: u[..., :, :3] @ v[..., :3, :])(*lib.linalg.svd(a)),
        [("gen", (4, 3))],
    ),
    (
        "svd_U_abs",
        lambda lib, a: lib.linalg.svd(a, full_matrices=False)[0].abs(),
        [("gen", (4, 3))],
    ),
    (
        "eigh",
        lambda lib, a: (lambda w, v: (w, v.abs()))(*lib.linalg.eigh(_herm(lib, a))),
        [("gen", (2, 3, 3))],
    ),
    (
        "eigh_projector",
        lambda lib, a: (lambda w, v: v[..., :, :1] @ v[..., :, :1].mH)(
            *lib.linalg.eigh(_herm(lib, a))
        ),
        [("gen", (3, 3))],
    ),
    ("eigvalsh", lambda lib, a: lib.linalg.eigvalsh(_herm(lib, a)), [("gen", (2, 3, 3))]),
    ("eigvals", lambda lib, a: lib.linalg.eigvals(a), [("gen", (2, 3, 3))]),
    (
        "eig_abs",
        lambda lib, a: (lambda w, v: (w, v.abs()))(*lib.linalg.eig(a)),
        [("gen", (3, 3))],
    ),
    ("pinv", lambda lib, a: lib.linalg.pinv(a), [("gen", (2, 4, 3))]),
    ("pinv_wide", lambda lib, a: lib.linalg.pinv(a), [("gen", (3, 5))]),
    (
        "pinv_herm",
        lambda lib, a: lib.linalg.pinv(_herm(lib, a), hermitian=True),
        [("gen", (3, 3))],
    ),
    ("matrix_exp", lambda lib, a: lib.linalg.matrix_exp(a), [("gen", (2, 3, 3))]),
    ("matrix_power", lambda lib, a: lib.linalg.matrix_power(a, -3), [("well", (2, 3, 3))]),
    ("lu_factor", lambda lib, a: lib.linalg.lu_factor(a)[0], [("gen", (2, 3, 3))]),
    ("lu_square", lambda lib, a: lib.linalg.lu(a)[1:], [("gen", (3, 3))]),
    ("lu_wide", lambda lib, a: lib.linalg.lu(a)[1:], [("gen", (3, 5))]),
    ("lu_tall", lambda lib, a: lib.linalg.lu(a)[1:], [("gen", (2, 5, 3))]),
    (
        "lu_solve",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
        [("well", (2, 3, 3)), ("gen", (2, 3, 2))],
    ),
    (
        "lu_solve_bcast",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b),
        [("well", (3, 3)), ("gen", (2, 3, 2))],
    ),
    (
        "lu_solve_adj",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, adjoint=True),
        [("well", (3, 3)), ("gen", (3, 2))],
    ),
    (
        "lu_solve_adj_right",
        lambda lib, a, b: lib.linalg.lu_solve(
            *lib.linalg.lu_factor(a), b, adjoint=True, left=False
        ),
        [("well", (3, 3)), ("gen", (2, 3))],
    ),
    (
        "lu_solve_right",
        lambda lib, a, b: lib.linalg.lu_solve(*lib.linalg.lu_factor(a), b, left=False),
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
            lib.linalg.vector_norm(a, 1.5, dim=0),
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
    ("norm", lambda lib, a: lib.linalg.norm(a), [("gen", (2, 3, 3))]),
    ("cond", lambda lib, a: (lib.linalg.cond(a), lib.linalg.cond(a, "nuc")), [("well", (2, 3, 3))]),
    (
        "multi_dot",
        lambda lib, a, b, c: lib.linalg.multi_dot([a, b, c]),
        [("gen", (3,)), ("gen", (3, 4)), ("gen", (4, 2))],
    ),
    ("vander", lambda lib, a: lib.linalg.vander(a, N=4), [("gen", (2, 3))]),
    ("vecdot", lambda lib, a, b: lib.linalg.vecdot(a, b), [("gen", (2, 3)), ("gen", (3,))]),
    ("cross", lambda lib, a, b: lib.linalg.cross(a, b), [("gen", (2, 3)), ("gen", (2, 3))]),
    ("tensorinv", lambda lib, a: lib.linalg.tensorinv(a, ind=1), [("well", (4, 2, 2))]),
    (
        "tensorsolve",
        lambda lib, a, b: lib.linalg.tensorsolve(a, b),
        [("gen", (2, 3, 6)), ("gen", (2, 3))],
    ),
    (
        "matmul_diagonal",
        lambda lib, a, b: lib.linalg.diagonal(lib.linalg.matmul(a, b)),
        [("gen", (2, 3, 4)), ("gen", (4, 3))],
    ),
    ("t_det", lambda lib, a: a.det(), [("gen", (3, 3))]),
    ("t_norm_nuc", lambda lib, a: lib.norm(a, p="nuc", dim=(0, 2)), [("gen", (2, 3, 4))]),
    ("t_norm_fro", lambda lib, a: a.norm(p="fro", dim=(0, 1)), [("gen", (2, 3))]),
    ("t_inverse", lambda lib, a: a.inverse(), [("well", (3, 3))]),
    ("t_pinverse", lambda lib, a: a.pinverse(), [("gen", (4, 3))]),
    ("t_matrix_exp", lambda lib, a: a.matrix_exp(), [("gen", (3, 3))]),
    (
        "t_triangular_solve",
        lambda lib, b, a: lib.triangular_solve(b, a, transpose=True)[0],
        [("gen", (3, 2)), ("tri", (3, 3))],
    ),
    (
        "t_orgqr",
        lambda lib, a, t: lib.orgqr(a, t),
        [("gen", (4, 3)), ("gen", (3,))],
    ),
]


def _grad_arrays(specs):
    arrays = [_make(k, s, np.complex128) for k, s in specs]
    if specs[0][0] == "well" and specs[0][1][-1] == specs[0][1][-2]:
        arrays[0] = arrays[0] + 2 * np.eye(specs[0][1][-1])
    return arrays


def _outputs(fn, lib, xs):
    return [o for o in _flat(fn(lib, *xs)) if o.is_floating_point() or o.is_complex()]


@pytest.mark.parametrize("case", GRAD, ids=[c[0] for c in GRAD])
def test_gradcheck_complex128(case):
    _name, fn, specs = case
    xs = _tensors(ctorch, _grad_arrays(specs), rg=True)
    assert ctorch.autograd.gradcheck(
        lambda *a: tuple(_outputs(fn, ctorch, a)), tuple(xs), eps=1e-6, atol=1e-5, rtol=1e-3
    )


@pytest.mark.parametrize("loss", ["upstream", "abs2"])
@pytest.mark.parametrize("case", GRAD, ids=[c[0] for c in GRAD])
def test_gradient_matches_torch(case, loss):
    """The same upstream gradient (complex where the output is) through ctorch and torch; or
    the real loss sum(|f(A)|^2) of the issue."""
    _name, fn, specs = case
    arrays = _grad_arrays(specs)
    xc = _tensors(ctorch, arrays, rg=True)
    xt = _tensors(torch, arrays, rg=True)
    oc, ot = _outputs(fn, ctorch, xc), _outputs(fn, torch, xt)
    if loss == "abs2":
        sum((o.abs() ** 2).sum() for o in oc).backward()
        sum((o.abs() ** 2).sum() for o in ot).backward()
    else:
        gys = []
        for o in ot:
            g = RNG.standard_normal(tuple(o.shape))
            if o.is_complex():
                g = g + 1j * RNG.standard_normal(tuple(o.shape))
            gys.append(np.asarray(g))
        ctorch.autograd.backward(oc, [ctorch.from_numpy(g.copy()) for g in gys])
        torch.autograd.backward(ot, [torch.from_numpy(g.copy()) for g in gys])
    for a, b in zip(xc, xt, strict=True):
        assert a.grad.dtype == getattr(ctorch, str(b.grad.dtype).split(".")[-1])
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.resolve_conj().numpy(), atol=1e-7, rtol=1e-6
        )


C64_GRAD = [
    "inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "qr", "svdvals",
    "svd_invariant", "eigh", "eigvals", "pinv", "lstsq", "matrix_exp", "lu_solve",
    "householder", "vector_norm", "matrix_norm", "vecdot", "cross",
]  # fmt: skip


@pytest.mark.parametrize("name", C64_GRAD)
def test_gradient_complex64_matches_torch(name):
    """complex64: torch's gradients within single-precision tolerance, complex64 grads."""
    _name, fn, specs = next(c for c in GRAD if c[0] == name)
    arrays = [a.astype(np.complex64) for a in _grad_arrays(specs)]
    xc = _tensors(ctorch, arrays, rg=True)
    xt = _tensors(torch, arrays, rg=True)
    sum((o.abs() ** 2).sum() for o in _outputs(fn, ctorch, xc)).backward()
    sum((o.abs() ** 2).sum() for o in _outputs(fn, torch, xt)).backward()
    for a, b in zip(xc, xt, strict=True):
        assert a.grad.dtype == ctorch.complex64
        np.testing.assert_allclose(
            a.grad.numpy(), b.grad.resolve_conj().numpy(), atol=2e-3, rtol=2e-3
        )


# ------------------------------------------------------------------ gauge invariance
PHASE_DEPENDENT = [
    ("eigh", lambda lib, a: lib.linalg.eigh(_herm(lib, a))[1].real.sum()),
    ("eig", lambda lib, a: lib.linalg.eig(a)[1].real.sum()),
    ("svd_U", lambda lib, a: lib.linalg.svd(a)[0].real.sum()),
    ("svd_Vh", lambda lib, a: lib.linalg.svd(a, full_matrices=False)[2].imag.sum()),
]


@pytest.mark.parametrize("case", PHASE_DEPENDENT, ids=[c[0] for c in PHASE_DEPENDENT])
def test_phase_dependent_loss_raises_like_torch(case):
    """Complex eigen/singular vectors are defined up to e^{i phi}: a loss that depends on the
    phase has no gradient, and torch (and ctorch) say so."""
    _name, fn = case
    a = _make("gen", (3, 3), np.complex128)
    (xt,) = _tensors(torch, [a], rg=True)
    with pytest.raises(RuntimeError) as et:
        fn(torch, xt).backward()
    (xc,) = _tensors(ctorch, [a], rg=True)
    with pytest.raises(RuntimeError) as ec:
        fn(ctorch, xc).backward()
    assert str(ec.value).split(":")[0] == str(et.value).split(":")[0]
    assert "e^{i phi}" in str(ec.value)


# ------------------------------------------------------------------ edge cases
EMPTY = [
    ("inv", _lf("inv")),
    ("det", _lf("det")),
    ("slogdet", _lf("slogdet")),
    ("svdvals", _lf("svdvals")),
    ("svd", _lf("svd")),
    ("eigvalsh", _lf("eigvalsh")),
    ("eigh", _lf("eigh")),
    ("eigvals", _lf("eigvals")),
    ("qr", _lf("qr")),
    ("cholesky", _lf("cholesky")),
    ("pinv", _lf("pinv")),
    ("matrix_exp", _lf("matrix_exp")),
    ("matrix_rank", _lf("matrix_rank")),
    ("matrix_norm", _lf("matrix_norm")),
    ("matrix_norm_nuc", _lf("matrix_norm", ord="nuc")),
    ("vector_norm", _lf("vector_norm")),
    ("cond", _lf("cond")),
    ("lu_factor_ex", _lf("lu_factor_ex")),
]


@pytest.mark.parametrize("shape", [(0, 0), (2, 0, 0), (0, 3, 3)])
@pytest.mark.parametrize("case", EMPTY, ids=[c[0] for c in EMPTY])
def test_empty_complex(case, shape):
    _name, fn = case
    a = np.zeros(shape, np.complex64)
    _compare(fn(ctorch, ctorch.from_numpy(a.copy())), fn(torch, torch.from_numpy(a)), 0, 0, False)


def _singular(dtype=np.complex128):
    a = _make("gen", (2, 3, 3), dtype)
    a[1, 2] = 0  # batch element 1 is exactly singular (rank 2)
    return a


def test_singular_errors_and_infos():
    a = _singular()
    for f in ("inv", "solve", "cholesky", "lu_factor"):
        args = (lambda lib, x: (x, x)) if f == "solve" else (lambda lib, x: (x,))
        with pytest.raises(RuntimeError) as et:
            getattr(torch.linalg, f)(*args(torch, torch.from_numpy(a)))
        with pytest.raises(RuntimeError) as ec:
            getattr(ctorch.linalg, f)(*args(ctorch, ctorch.from_numpy(a.copy())))
        assert "Batch element 1" in str(et.value) or f == "cholesky"
        assert str(ec.value).split(":")[1:2] == str(et.value).split(":")[1:2], f
    Xc, ic = ctorch.linalg.inv_ex(ctorch.from_numpy(a.copy()))
    Xt, it = torch.linalg.inv_ex(torch.from_numpy(a))
    np.testing.assert_array_equal(ic.numpy(), it.numpy())
    np.testing.assert_allclose(Xc.numpy()[0], Xt.numpy()[0], rtol=1e-10)
    for f in ("det", "slogdet", "matrix_rank"):
        _compare(
            getattr(ctorch.linalg, f)(ctorch.from_numpy(a.copy())),
            getattr(torch.linalg, f)(torch.from_numpy(a)),
            1e-9,
            1e-6,
            False,
        )
    _compare(ctorch.logdet(ctorch.from_numpy(a)), torch.logdet(torch.from_numpy(a)), 1e-9, 0, False)


def test_det_gradient_at_singular_matrix():
    """At det = 0 (rank n-1) the gradient is still the conjugate cofactor matrix times g (the
    SVD form, as ctorch's real path; torch 2.13 returns zeros there, so the reference is the
    cofactors from NumPy minors and finite differences)."""
    a = _singular()[1]
    n = a.shape[-1]
    cof = np.empty_like(a)
    for i in range(n):
        for j in range(n):
            minor = np.delete(np.delete(a, i, 0), j, 1)
            cof[i, j] = (-1) ** (i + j) * np.linalg.det(minor)
    assert np.abs(cof).max() > 0.1
    (xc,) = _tensors(ctorch, [a], rg=True)
    g = 0.3 - 0.7j
    ctorch.linalg.det(xc).backward(ctorch.from_numpy(np.array(g)))
    np.testing.assert_allclose(xc.grad.numpy(), g * np.conj(cof), atol=1e-10)
    (xc,) = _tensors(ctorch, [a], rg=True)
    assert ctorch.autograd.gradcheck(ctorch.linalg.det, (xc,))


def test_complex_dtype_rules_like_torch():
    a = _make("gen", (3, 3), np.complex64)
    for fn in (
        lambda lib, x: lib.linalg.vector_norm(x, dtype=lib.float64),
        lambda lib, x: lib.linalg.matrix_norm(x, dtype=lib.float64),
        lambda lib, x: lib.linalg.vecdot(x, x.real),
        lambda lib, x: lib.linalg.solve(x, x.to(lib.complex128)),
    ):
        with pytest.raises(RuntimeError):
            fn(torch, torch.from_numpy(a))
        with pytest.raises(RuntimeError):
            fn(ctorch, ctorch.from_numpy(a.copy()))
    # a complex dtype= for a complex input gives the real norm of that precision
    for lib in (ctorch, torch):
        r = lib.linalg.vector_norm(lib.from_numpy(a.copy()), dtype=lib.complex128)
        assert str(r.dtype).split(".")[-1] == "float64"


@pytest.mark.parametrize("n", [3, 130])
def test_lu_solve_adjoint_large_uses_conjugate_transpose(n):
    """n >= 128 takes the trsm path: A^H X = B and X A^H = B there too."""
    a = _make("well", (n, n), np.complex128) + n * np.eye(n)
    b = _make("gen", (n, 2), np.complex128)
    LU, piv = ctorch.linalg.lu_factor(ctorch.from_numpy(a.copy()))
    x = ctorch.linalg.lu_solve(LU, piv, ctorch.from_numpy(b.copy()), adjoint=True)
    np.testing.assert_allclose(np.conj(a.T) @ x.numpy(), b, atol=1e-9)
    bt = np.ascontiguousarray(b.T)
    x = ctorch.linalg.lu_solve(LU, piv, ctorch.from_numpy(bt.copy()), adjoint=True, left=False)
    np.testing.assert_allclose(x.numpy() @ np.conj(a.T), bt, atol=1e-9)


def test_ldl_hermitian_solve():
    a = _make("hpd", (2, 4, 4), np.complex128)
    b = _make("gen", (2, 4, 3), np.complex128)
    LD, piv = ctorch.linalg.ldl_factor(ctorch.from_numpy(a.copy()), hermitian=True)
    LDt, pivt = torch.linalg.ldl_factor(torch.from_numpy(a), hermitian=True)
    np.testing.assert_allclose(LD.numpy(), LDt.numpy(), atol=1e-10)
    np.testing.assert_array_equal(piv.numpy(), pivt.numpy())
    x = ctorch.linalg.ldl_solve(LD, piv, ctorch.from_numpy(b.copy()), hermitian=True)
    np.testing.assert_allclose(x.numpy(), np.linalg.solve(a, b), atol=1e-10)


@pytest.mark.parametrize("dtype", [np.float64, np.complex128])
def test_legacy_norm_nuc(dtype):
    """torch.norm(p='nuc'): the nuclear norm over a 2-tuple dim (or a 2-D input)."""
    a = _make("gen", (2, 3, 4), np.complex128)
    a = a.real.copy() if dtype == np.float64 else a
    for kw in ({"dim": (1, 2)}, {"dim": (-1, 0), "keepdim": True}):
        _compare(
            ctorch.norm(ctorch.from_numpy(a.copy()), p="nuc", **kw),
            torch.norm(torch.from_numpy(a), p="nuc", **kw),
            1e-10,
            1e-10,
            False,
        )
    _compare(
        ctorch.norm(ctorch.from_numpy(a[0].copy()), p="nuc"),
        torch.norm(torch.from_numpy(a[0]), p="nuc"),
        1e-10,
        1e-10,
        False,
    )
    for lib in (ctorch, torch):
        with pytest.raises(RuntimeError, match="dim must be a 2-tuple"):
            lib.norm(lib.from_numpy(a.copy()), p="nuc")


GRADGRAD = [
    "inv", "det", "slogdet", "solve", "solve_triangular", "cholesky", "qr", "svd_invariant",
    "eigh", "pinv", "matrix_exp", "lu_solve", "lstsq", "householder", "vecdot", "cross",
    "svdvals", "eigvalsh", "vector_norm", "vector_norm_inf", "matrix_norm", "norm", "cond",
    "eigvals", "eig_abs", "vander",
]  # fmt: skip


@pytest.mark.parametrize("name", GRADGRAD)
def test_gradgradcheck_complex128(name):
    """The backward formulas are differentiable tensor ops (or recompute their saved factors
    differentiably under create_graph), so double backward works for complex input too."""
    _name, fn, specs = next(c for c in GRAD if c[0] == name)
    xs = _tensors(ctorch, _grad_arrays(specs), rg=True)
    assert ctorch.autograd.gradgradcheck(
        lambda *a: tuple(_outputs(fn, ctorch, a)), tuple(xs), atol=1e-4, rtol=1e-3
    )


@pytest.mark.parametrize(
    "fn",
    [
        lambda x: ctorch.linalg.svdvals(x),
        lambda x: ctorch.linalg.eigvalsh(x + x.mT, UPLO="U"),
        lambda x: ctorch.linalg.vector_norm(x, 3.0, dim=-1),
        lambda x: ctorch.linalg.matrix_norm(x, "nuc"),
        lambda x: ctorch.linalg.eigvals(x),
        lambda x: ctorch.linalg.vander(x[0], N=4),
    ],
    ids=["svdvals", "eigvalsh", "vector_norm", "matrix_norm_nuc", "eigvals", "vander"],
)
def test_gradgradcheck_real_norms_and_spectra(fn):
    """Under create_graph the backward of svdvals/eigvalsh/vector_norm/eig recomputes its
    saved factors differentiably (first-order results are unchanged)."""
    a = _make("gen", (2, 3, 3), np.complex128).real.copy()
    x = ctorch.from_numpy(a).requires_grad_()
    assert ctorch.autograd.gradgradcheck(fn, (x,), atol=1e-4, rtol=1e-3)
