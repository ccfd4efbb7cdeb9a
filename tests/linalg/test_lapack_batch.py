"""The compiled batch loops over LAPACK (``ctorch._core.lapack_batch``) behind lu_factor,
lu_solve, solve, inv, cholesky, ldl_factor/ldl_solve and solve_triangular: batched inputs with
singular elements, broadcast and non-contiguous operands, empty batches and 0x0 matrices,
against NumPy and torch; and bitwise equal results for 1 and 2 threads."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")

DTYPES = [np.float32, np.float64, np.complex64, np.complex128]


def _rand(rng, shape, dt):
    a = rng.standard_normal(shape)
    if np.dtype(dt).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a.astype(dt)


def _well(rng, shape, dt):
    n = shape[-1]
    return (_rand(rng, shape, dt) + 2 * np.sqrt(max(n, 1)) * np.eye(n)).astype(dt)


def _tol(dt):
    single = np.dtype(dt) in (np.float32, np.complex64)
    return dict(rtol=2e-4, atol=2e-4) if single else dict(rtol=1e-9, atol=1e-10)


def _c(a):
    return ctorch.from_numpy(np.array(a))


def _t(a):
    return torch.from_numpy(np.array(a))


@pytest.mark.parametrize("dt", DTYPES)
def test_lu_factor_ex_batch_with_a_singular_element_matches_torch(dt):
    rng = np.random.default_rng(0)
    a = _rand(rng, (5, 6, 6), dt)
    a[2, :, 3] = 0  # singular: U has a zero on its diagonal
    rc = ctorch.linalg.lu_factor_ex(_c(a))
    rt = torch.linalg.lu_factor_ex(_t(a))
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    assert rc.info.numpy()[2] > 0 and (rc.info.numpy()[[0, 1, 3, 4]] == 0).all()
    np.testing.assert_array_equal(rc.pivots.numpy(), rt.pivots.numpy())
    np.testing.assert_allclose(rc.LU.numpy(), rt.LU.numpy(), **_tol(dt))
    assert rc.LU.stride() == rt.LU.stride()
    with pytest.raises(ctorch.linalg.LinAlgError, match=r"\(Batch element 2\): U\[4,4\]"):
        ctorch.linalg.lu_factor(_c(a))
    with pytest.raises(RuntimeError, match=r"\(Batch element 2\): U\[4,4\]"):
        torch.linalg.lu_factor(_t(a))


@pytest.mark.parametrize("shape", [(0, 4, 4), (3, 0, 0), (2, 3, 5), (2, 5, 3), (0, 0)])
def test_lu_factor_empty_and_rectangular(shape):
    a = np.random.default_rng(1).standard_normal(shape)
    rc = ctorch.linalg.lu_factor_ex(_c(a))
    rt = torch.linalg.lu_factor_ex(_t(a))
    assert tuple(rc.LU.shape) == tuple(rt.LU.shape)
    assert tuple(rc.pivots.shape) == tuple(rt.pivots.shape)
    assert tuple(rc.info.shape) == tuple(rt.info.shape)
    np.testing.assert_allclose(rc.LU.numpy(), rt.LU.numpy(), rtol=1e-12, atol=1e-12)
    np.testing.assert_array_equal(rc.pivots.numpy(), rt.pivots.numpy())
    P, L, U = ctorch.linalg.lu(_c(a))
    Pt, Lt, Ut = torch.linalg.lu(_t(a))
    for x, y in ((P, Pt), (L, Lt), (U, Ut)):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(x.numpy(), y.numpy(), rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize(
    ("left", "adjoint"), [(True, False), (True, True), (False, False), (False, True)]
)
def test_lu_solve_broadcast_and_noncontiguous_b(dt, left, adjoint):
    rng = np.random.default_rng(2)
    n = 7
    a = _well(rng, (1, n, n), dt)  # broadcast against B's batch of 3
    b = _rand(rng, (3, n, 4) if left else (3, 4, n), dt)
    b = np.swapaxes(np.ascontiguousarray(np.swapaxes(b, -1, -2)), -1, -2)  # column-major B
    assert not b.flags.c_contiguous
    LU, piv = ctorch.linalg.lu_factor(_c(a))
    TLU, tpiv = torch.linalg.lu_factor(_t(a))
    bc = ctorch.from_numpy(b)
    x = ctorch.linalg.lu_solve(LU, piv, bc, left=left, adjoint=adjoint)
    t = torch.linalg.lu_solve(TLU, tpiv, _t(b), left=left, adjoint=adjoint)
    assert tuple(x.shape) == tuple(t.shape)
    np.testing.assert_allclose(x.numpy(), t.resolve_conj().numpy(), **_tol(dt))
    # against NumPy
    A = np.broadcast_to(a, (3, n, n))
    opA = np.conj(np.swapaxes(A, -1, -2)) if adjoint else A
    r = b - (opA @ x.numpy() if left else x.numpy() @ opA)
    assert np.abs(r).max() < (1e-3 if dt in (np.float32, np.complex64) else 1e-9)


def test_lu_solve_empty_batch_zero_size_and_bad_pivots():
    LU = _c(np.zeros((0, 3, 3)))
    piv = ctorch.from_numpy(np.ones((0, 3), np.int32))
    x = ctorch.linalg.lu_solve(LU, piv, _c(np.zeros((0, 3, 2))))
    assert tuple(x.shape) == (0, 3, 2)
    x = ctorch.linalg.lu_solve(
        _c(np.zeros((2, 0, 0))),
        ctorch.from_numpy(np.ones((2, 0), np.int32)),
        _c(np.zeros((2, 0, 4))),
    )
    assert tuple(x.shape) == (2, 0, 4)
    LU, piv = ctorch.linalg.lu_factor(_c(np.eye(3)))
    bad = ctorch.from_numpy(np.array([1, 2, 9], np.int32))
    with pytest.raises(RuntimeError, match="pivots"):
        ctorch.linalg.lu_solve(LU, bad, _c(np.ones((3, 1))))
    with pytest.raises(RuntimeError, match="pivots"):
        ctorch.lu_unpack(LU, bad)


@pytest.mark.parametrize("dt", DTYPES)
def test_solve_ex_singular_element_info_and_nan(dt):
    rng = np.random.default_rng(3)
    a = _well(rng, (4, 5, 5), dt)
    a[1] = 0
    a[1, 0, 0] = 1  # rank 1: getrf's info 2
    b = _rand(rng, (4, 5, 2), dt)
    rc = ctorch.linalg.solve_ex(_c(a), _c(b))
    rt = torch.linalg.solve_ex(_t(a), _t(b))
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    xc, xt = rc.result.numpy(), rt.result.numpy()
    assert np.isnan(xc[1]).all()
    ok = [0, 2, 3]
    np.testing.assert_allclose(xc[ok], xt[ok], **_tol(dt))
    with pytest.raises(ctorch.linalg.LinAlgError, match=r"\(Batch element 1\): The solver failed"):
        ctorch.linalg.solve(_c(a), _c(b))
    # broadcast: one singular A against a batch of B
    x = ctorch.linalg.solve_ex(_c(a[1]), _c(b)).result.numpy()
    assert x.shape == (4, 5, 2) and np.isnan(x).all()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("n", [5, 40])
def test_inv_ex_singular_element_matches_torch(dt, n):
    rng = np.random.default_rng(4)
    a = _well(rng, (3, n, n), dt)
    a[2, :, 1] = 0  # singular: an exact zero pivot
    rc = ctorch.linalg.inv_ex(_c(a))
    rt = torch.linalg.inv_ex(_t(a))
    np.testing.assert_array_equal(rc.info.numpy() > 0, rt.info.numpy() > 0)
    assert rc.info.numpy()[2] > 0
    assert np.isnan(rc.inverse.numpy()[2]).all()
    np.testing.assert_allclose(rc.inverse.numpy()[:2], rt.inverse.numpy()[:2], **_tol(dt))
    with pytest.raises(ctorch.linalg.LinAlgError, match=r"\(Batch element 2\)"):
        ctorch.linalg.inv(_c(a))


@pytest.mark.parametrize("shape", [(0, 3, 3), (2, 0, 0), (0, 0)])
def test_inv_solve_det_empty(shape):
    a = np.zeros(shape)
    for f in (torch.linalg.inv, ctorch.linalg.inv):
        lib = torch if f is torch.linalg.inv else ctorch
        r = f(lib.from_numpy(a.copy()))
        assert tuple(r.shape) == shape
    b = np.zeros(shape[:-1] + (2,))
    xc = ctorch.linalg.solve(_c(a), _c(b))
    xt = torch.linalg.solve(_t(a), _t(b))
    assert tuple(xc.shape) == tuple(xt.shape)


@pytest.mark.parametrize("dt", DTYPES)
def test_cholesky_ex_batch_not_pd_and_nan_elements_match_torch(dt):
    rng = np.random.default_rng(5)
    g = _rand(rng, (4, 6, 6), dt)
    a = (g @ np.conj(np.swapaxes(g, -1, -2)) + 6 * np.eye(6)).astype(dt)
    a[1, 3, 3] = -100  # leading minor of order 4 not PD
    a[3, 2, 2] = np.nan
    rc = ctorch.linalg.cholesky_ex(_c(a))
    rt = torch.linalg.cholesky_ex(_t(a))
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    assert list(rc.info.numpy()) == [0, 4, 0, 3]
    np.testing.assert_allclose(rc.L.numpy()[[0, 2]], rt.L.numpy()[[0, 2]], **_tol(dt))
    with pytest.raises(ctorch.linalg.LinAlgError, match=r"\(Batch element 1\).*order 4"):
        ctorch.linalg.cholesky(_c(a))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("unit", [False, True])
@pytest.mark.parametrize("layout", ["C", "F", "strided"])
def test_solve_triangular_batched_layouts(dt, upper, left, unit, layout):
    rng = np.random.default_rng(6)
    n = 6
    a = _well(rng, (2, 1, n, n), dt)
    if layout == "F":
        a = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    elif layout == "strided":
        big = _well(rng, (2, 1, 2 * n, 2 * n), dt)
        a = big[..., ::2, ::2]
    b = _rand(rng, (2, 3, n, 4) if left else (2, 3, 4, n), dt)
    kw = dict(upper=upper, left=left, unitriangular=unit)
    x = ctorch.linalg.solve_triangular(ctorch.from_numpy(a), _c(b), **kw)
    t = torch.linalg.solve_triangular(torch.from_numpy(a), _t(b), **kw)
    np.testing.assert_allclose(x.numpy(), t.numpy(), **_tol(dt))
    # NumPy: the triangle actually read
    T = np.triu(a) if upper else np.tril(a)
    if unit:
        idx = np.arange(n)
        T[..., idx, idx] = 1
    ref = (
        np.linalg.solve(T, b)
        if left
        else np.swapaxes(np.linalg.solve(np.swapaxes(T, -1, -2), np.swapaxes(b, -1, -2)), -1, -2)
    )
    np.testing.assert_allclose(x.numpy(), ref, **_tol(dt))


@pytest.mark.parametrize("dt", [np.float64, np.complex128])
@pytest.mark.parametrize("upper", [True, False])
@pytest.mark.parametrize("left", [True, False])
@pytest.mark.parametrize("transposed", [False, True])
def test_solve_triangular_large_blocked_path(dt, upper, left, transposed):
    """From n = 256 the trsm runs blocked (GEMM updates); every side/triangle/transpose
    combination against NumPy's float64 solve and torch."""
    rng = np.random.default_rng(7)
    n = 300
    a = _rand(rng, (n, n), dt) + 4 * np.sqrt(n) * np.eye(n)
    if transposed:  # column-major A: BLAS sees it with the other flag
        a = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    b = _rand(rng, (n, 5) if left else (5, n), dt)
    kw = dict(upper=upper, left=left)
    x = ctorch.linalg.solve_triangular(ctorch.from_numpy(a), _c(b), **kw).numpy()
    T = np.triu(a) if upper else np.tril(a)
    ref = np.linalg.solve(T, b) if left else np.linalg.solve(T.T, b.T).T
    np.testing.assert_allclose(x, ref, rtol=1e-10, atol=1e-12)
    t = torch.linalg.solve_triangular(torch.from_numpy(np.array(a)), _t(b), **kw).numpy()
    np.testing.assert_allclose(x, t, rtol=1e-10, atol=1e-12)


def test_lu_solve_large_row_major_lu_adjoint_uses_blocked_trsm():
    """A row-major LU from n = 128 goes through the trsm route, A^H included."""
    rng = np.random.default_rng(8)
    n = 300
    a = _rand(rng, (n, n), np.complex128) + 3 * np.sqrt(n) * np.eye(n)
    b = _rand(rng, (n, 3), np.complex128)
    LU, piv = ctorch.linalg.lu_factor(_c(a))
    for adj in (False, True):
        x = ctorch.linalg.lu_solve(LU.contiguous(), piv, _c(b), adjoint=adj).numpy()
        opA = np.conj(a.T) if adj else a
        np.testing.assert_allclose(x, np.linalg.solve(opA, b), rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dt", DTYPES)
def test_ldl_batch_broadcast_solve(dt):
    rng = np.random.default_rng(9)
    g = _rand(rng, (3, 5, 5), dt)
    a = (g + np.swapaxes(g, -1, -2)).astype(dt)
    rc = ctorch.linalg.ldl_factor_ex(_c(a))
    rt = torch.linalg.ldl_factor_ex(_t(a))
    np.testing.assert_array_equal(rc.pivots.numpy(), rt.pivots.numpy())
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    np.testing.assert_allclose(rc.LD.numpy(), rt.LD.numpy(), **_tol(dt))
    b = _rand(rng, (3, 5, 2), dt)
    xc = ctorch.linalg.ldl_solve(rc.LD, rc.pivots, _c(b))
    xt = torch.linalg.ldl_solve(rt.LD, rt.pivots, _t(b))
    np.testing.assert_allclose(xc.numpy(), xt.numpy(), **_tol(dt))
    # B's extra batch dimension broadcasts LD (torch 2.13 crashes on this: NumPy instead)
    b2 = _rand(rng, (2, 3, 5, 2), dt)
    x2 = ctorch.linalg.ldl_solve(rc.LD, rc.pivots, _c(b2)).numpy()
    np.testing.assert_allclose(x2, np.linalg.solve(a, b2), **_tol(dt))


@pytest.mark.parametrize(
    "fn",
    [
        lambda L, a, b: L.linalg.lu_factor_ex(a),
        lambda L, a, b: L.linalg.inv_ex(a),
        lambda L, a, b: L.linalg.solve_ex(a, b),
        lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
        lambda L, a, b: L.linalg.lu_solve(*L.linalg.lu_factor_ex(a)[:2], b),
        lambda L, a, b: L.linalg.cholesky_ex(a @ a.mT),
        lambda L, a, b: L.linalg.ldl_factor_ex(a + a.mT),
        lambda L, a, b: L.linalg.qr(a),
        lambda L, a, b: L.linalg.householder_product(a, a[..., 0, :6]),
    ],
)
def test_batch_kernels_bitwise_equal_for_1_and_2_threads(fn):
    rng = np.random.default_rng(10)
    a = rng.standard_normal((16, 12, 12)) + 5 * np.eye(12)
    a[3] = 0  # a singular element among them
    b = rng.standard_normal((16, 12, 3))
    old = ctorch.get_num_threads()
    try:
        ctorch.set_num_threads(1)
        r1 = fn(ctorch, _c(a), _c(b))
        ctorch.set_num_threads(2)
        r2 = fn(ctorch, _c(a), _c(b))
    finally:
        ctorch.set_num_threads(old)
    r1 = r1 if isinstance(r1, tuple) else (r1,)
    r2 = r2 if isinstance(r2, tuple) else (r2,)
    for x, y in zip(r1, r2, strict=True):
        np.testing.assert_array_equal(x.numpy(), y.numpy())


@pytest.mark.parametrize("n", [6, 70, 300])
@pytest.mark.parametrize("layout", ["C", "F"])
def test_solve_triangular_zero_diagonal_nonfinite_like_torch(n, layout):
    """A zero on the diagonal gives inf/NaN (no error), in the same places as torch's: the
    small kernels do not skip zeros of A (inf * 0 is NaN there as in BLAS)."""
    rng = np.random.default_rng(11)
    a = np.triu(rng.standard_normal((2, n, n))) + 2 * np.eye(n)
    a[1, n // 2, n // 2] = 0
    if layout == "F":
        a = np.swapaxes(np.ascontiguousarray(np.swapaxes(a, -1, -2)), -1, -2)
    b = rng.standard_normal((2, n, 3))
    x = ctorch.linalg.solve_triangular(ctorch.from_numpy(a), _c(b), upper=True).numpy()
    t = torch.linalg.solve_triangular(torch.from_numpy(np.array(a)), _t(b), upper=True).numpy()
    np.testing.assert_array_equal(np.isfinite(x), np.isfinite(t))
    assert np.isfinite(x[0]).all() and not np.isfinite(x[1, : n // 2 + 1]).any()
    np.testing.assert_allclose(x[0], t[0], rtol=1e-9, atol=1e-11)


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(3, 6, 4), (2, 4, 6), (0, 3, 3), (2, 0, 3), (2, 3, 0)])
def test_qr_and_householder_product_batched_match_torch(dt, shape):
    rng = np.random.default_rng(12)
    a = _rand(rng, shape, dt)
    Qc, Rc = ctorch.linalg.qr(_c(a))
    Qt, Rt = torch.linalg.qr(_t(a))
    assert (tuple(Qc.shape), tuple(Rc.shape)) == (tuple(Qt.shape), tuple(Rt.shape))
    if a.size:
        assert (Qc.stride(), Rc.stride()) == (Qt.stride(), Rt.stride())
    np.testing.assert_allclose(Qc.numpy(), Qt.numpy(), **_tol(dt))
    np.testing.assert_allclose(Rc.numpy(), Rt.numpy(), **_tol(dt))
    m, n = shape[-2:]
    if m >= n:
        tau = _rand(rng, shape[:-2] + (min(m, n),), dt) * 0.5
        hc = ctorch.linalg.householder_product(_c(a), _c(tau))
        ht = torch.linalg.householder_product(_t(a), _t(tau))
        np.testing.assert_allclose(hc.numpy(), ht.numpy(), **_tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("upper", [False, True])
@pytest.mark.parametrize("shape", [(4, 5, 5), (70, 70), (0, 3, 3), (2, 0, 0)])
def test_cholesky_reads_torchs_triangle_and_strides(dt, upper, shape):
    """potrf reads A's lower triangle, or its upper one with ``upper=True`` (torch's LAPACK
    call): on a non-Hermitian input the two differ. The factor is column-major, as torch's."""
    rng = np.random.default_rng(13)
    n = shape[-1]
    g = _rand(rng, shape, dt)
    a = (g @ np.conj(np.swapaxes(g, -1, -2)) + (n + 1) * np.eye(n)).astype(dt)
    a = a + np.triu(_rand(rng, shape, dt), 1)  # not Hermitian: the other triangle is off
    rc = ctorch.linalg.cholesky_ex(_c(a), upper=upper)
    rt = torch.linalg.cholesky_ex(_t(a), upper=upper)
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    np.testing.assert_allclose(rc.L.numpy(), rt.L.numpy(), **_tol(dt))
    if a.size:
        assert rc.L.stride() == rt.L.stride()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(5, 6, 6), (40, 40), (0, 3, 3), (2, 0, 0)])
def test_det_slogdet_from_getrf_match_torch(dt, shape):
    """det = prod(diag U) * sign(P) and slogdet from the same getrf, with singular and NaN
    elements: torch's values (0 / (0, -inf) for an exact zero pivot, NaN for NaN input)."""
    rng = np.random.default_rng(14)
    a = _rand(rng, shape, dt)
    if len(shape) == 3 and shape[0] >= 3 and shape[-1]:
        a[1, :, 2] = 0  # exactly singular
        a[2, 0, 0] = np.nan
    dc = ctorch.linalg.det(_c(a)).numpy()
    dtt = torch.linalg.det(_t(a)).numpy()
    np.testing.assert_allclose(dc, dtt, equal_nan=True, **_tol(dt))
    sc, lc = ctorch.linalg.slogdet(_c(a))
    st, lt = torch.linalg.slogdet(_t(a))
    np.testing.assert_allclose(sc.numpy(), st.numpy(), equal_nan=True, **_tol(dt))
    np.testing.assert_allclose(lc.numpy(), lt.numpy(), equal_nan=True, **_tol(dt))
    assert sc.numpy().dtype == st.numpy().dtype and lc.numpy().dtype == lt.numpy().dtype


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5, 4), (3, 4, 5), (2, 6, 6), (1, 1)])
def test_lu_and_lu_unpack_match_torch(dt, shape):
    """P, L, U (C-ordered, as torch's) from the compiled unpacking."""
    a = _rand(np.random.default_rng(15), shape, dt)
    for fc, ft in (
        (lambda x: ctorch.linalg.lu(x), lambda x: torch.linalg.lu(x)),
        (
            lambda x: ctorch.lu_unpack(*ctorch.linalg.lu_factor(x)),
            lambda x: torch.lu_unpack(*torch.linalg.lu_factor(x)),
        ),
    ):
        rc, rt = fc(_c(a)), ft(_t(a))
        for x, y in zip(rc, rt, strict=True):
            assert x.stride() == y.stride()
            np.testing.assert_allclose(x.numpy(), y.numpy(), **_tol(dt))
        P, L, U = (x.numpy() for x in rc)
        np.testing.assert_allclose(P @ L @ U, a, **_tol(dt))


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(3, 5, 4), (2, 3, 6), (0, 3, 3), (4, 0)])
def test_legacy_geqrf_batched_matches_torch(dt, shape):
    a = _rand(np.random.default_rng(16), shape, dt)
    rc, rt = ctorch.geqrf(_c(a)), torch.geqrf(_t(a))
    for x, y in zip(rc, rt, strict=True):
        assert tuple(x.shape) == tuple(y.shape)
        np.testing.assert_allclose(x.numpy(), y.numpy(), **_tol(dt))
    if a.size:
        assert rc[0].stride() == rt[0].stride()


@pytest.mark.parametrize("dt", DTYPES)
@pytest.mark.parametrize("shape", [(3, 7, 4), (3, 5, 5), (0, 4, 3)])
def test_lstsq_qr_batch_with_a_rank_deficient_element_matches_torch(dt, shape):
    """Full-rank matrices go through the compiled QR loop, the rank-deficient one to gelsy:
    solutions and ranks as torch's (gelsy)."""
    rng = np.random.default_rng(17)
    a = _rand(rng, shape, dt)
    if shape[0]:
        a[1, :, -1] = a[1, :, 0]  # rank n - 1
    b = _rand(rng, shape[:-1] + (2,), dt)
    rc = ctorch.linalg.lstsq(_c(a), _c(b))
    rt = torch.linalg.lstsq(_t(a), _t(b))
    np.testing.assert_allclose(rc.solution.numpy(), rt.solution.numpy(), rtol=1e-3, atol=1e-3)
    np.testing.assert_array_equal(rc.rank.numpy(), rt.rank.numpy())
    if shape[0] and dt in (np.float64, np.complex128):
        np.testing.assert_allclose(rc.solution.numpy(), rt.solution.numpy(), rtol=1e-8, atol=1e-9)


def test_reversed_and_expanded_batches():
    """Negative and zero batch strides (flip, expand) reach the kernels as byte offsets
    without copies of the batch: the same results as on contiguous copies."""
    rng = np.random.default_rng(18)
    a = rng.standard_normal((4, 2, 6, 6)) + 4 * np.eye(6)
    b = rng.standard_normal((4, 2, 6, 3))
    A = ctorch.from_numpy(a).flip(0)
    B = ctorch.from_numpy(b)[:1].expand(4, 2, 6, 3)
    Ac, Bc = A.contiguous(), B.contiguous()
    for f in (
        lambda A, B: ctorch.linalg.solve(A, B),
        lambda A, B: ctorch.linalg.solve_triangular(A, B, upper=False),
        lambda A, B: ctorch.linalg.lu_solve(*ctorch.linalg.lu_factor(A), B),
        lambda A, B: ctorch.linalg.inv(A),
    ):
        np.testing.assert_allclose(f(A, B).numpy(), f(Ac, Bc).numpy(), rtol=1e-12, atol=1e-12)
    LU, piv = ctorch.linalg.lu_factor(Ac[:, :1])
    x = ctorch.linalg.lu_solve(LU.expand(4, 2, 6, 6), piv.expand(4, 2, 6), Bc)
    ref = np.linalg.solve(np.broadcast_to(Ac[:, :1].numpy(), (4, 2, 6, 6)), Bc.numpy())
    np.testing.assert_allclose(x.numpy(), ref, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (3, 3), (7, 7), (33, 33), (64, 64), (40, 25), (25, 40)])
def test_small_real_lu_kernel_against_lapack(dt, shape):
    """Real matrices of order <= 64 factor on ctorch's own getrf (``_lapack_small.h``), 65+ on
    LAPACK's: the same pivots as LAPACK's getrf (scipy) on random input, P L U = A, getrf's
    info on singular elements, and tiny (subnormal) pivots divided rather than inverted."""
    import scipy.linalg as sl

    rng = np.random.default_rng(sum(shape))
    a = _rand(rng, (4,) + shape, dt)
    a[1, :, min(shape) // 2] = 0  # an exactly singular element
    a[2] *= np.finfo(dt).tiny * 4  # pivots just above the smallest normal number
    a[3, :, 0] = 0  # a zero first column
    r = ctorch.linalg.lu_factor_ex(_c(a))
    lu, piv, info = r.LU.numpy(), r.pivots.numpy(), r.info.numpy()
    for i in range(4):
        ref_lu, ref_piv, ref_info = sl.lapack.get_lapack_funcs("getrf", (a[i],))(a[i])
        if i != 2:  # with subnormal entries rounding may pick a different row on a tie
            np.testing.assert_array_equal(piv[i] - 1, ref_piv)
            assert info[i] == ref_info
        m, n = shape
        k = min(m, n)
        L = np.tril(lu[i][:, :k], -1) + np.eye(m, k)
        U = np.triu(lu[i][:k, :])
        perm = np.arange(m)
        for j, p in enumerate(piv[i] - 1):
            perm[[j, p]] = perm[[p, j]]
        scale = max(np.abs(a[i]).max(), np.finfo(dt).tiny)
        err = np.abs((L @ U) - a[i][perm]).max() / scale
        assert err < (1e-5 if dt == np.float32 else 1e-13), err
    assert info[1] > 0 and info[3] == 1 and info[0] == 0


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 1), (5, 5), (33, 17), (17, 33), (64, 64)])
def test_small_real_qr_kernels_against_lapack(dt, shape):
    """Real matrices of order <= 64 take ctorch's own geqr2/org2r (``_lapack_small.h``):
    the reflectors and tau as LAPACK's geqrf gives them (scipy), a zero column (tau 0), a
    column of tiny values (dlarfg's rescaling), and Q from householder_product orthonormal
    with Q R = A."""
    import scipy.linalg as sl

    rng = np.random.default_rng(sum(shape) + 1)
    a = _rand(rng, (3,) + shape, dt)
    a[1, :, 0] = 0
    a[2, :, -1] *= np.finfo(dt).tiny  # below dlarfg's safe minimum: rescaled
    geq, tau = (x.numpy() for x in ctorch.geqrf(_c(a)))
    tol = 2e-5 if dt == np.float32 else 1e-12
    for i in range(3):
        ref, ref_tau = sl.lapack.get_lapack_funcs("geqrf", (a[i],))(a[i])[:2]
        scale = np.abs(ref).max()
        np.testing.assert_allclose(geq[i], ref, atol=tol * scale, rtol=tol)
        np.testing.assert_allclose(tau[i], ref_tau, atol=tol, rtol=tol)
    assert tau[1][0] == 0
    q, r = (x.numpy() for x in ctorch.linalg.qr(_c(a)))
    k = min(shape)
    for i in range(3):
        np.testing.assert_allclose(q[i].T @ q[i], np.eye(k), atol=10 * tol)
        np.testing.assert_allclose(q[i] @ r[i], a[i], atol=10 * tol * np.abs(a[i]).max())
    h = ctorch.linalg.householder_product(_c(geq[..., :k]), _c(tau)).numpy()
    np.testing.assert_allclose(h, q, atol=10 * tol)


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("n", [1, 5, 33, 64, 65])
def test_small_real_cholesky_kernel(dt, n):
    """Orders <= 64 (real, lower) take ctorch's own potrf: L as LAPACK's (scipy), the first
    order whose leading minor is not positive definite as info (also for a NaN), and
    cholesky_ex's upper triangle zeroed."""
    import scipy.linalg as sl

    rng = np.random.default_rng(n)
    g = rng.standard_normal((3, n, n))
    a = (g @ np.swapaxes(g, -1, -2) + n * np.eye(n)).astype(dt)
    k = n // 2
    a[1, k, k] = -1.0  # leading minor of order k + 1 not positive definite
    a[2, k, k] = np.nan
    r = ctorch.linalg.cholesky_ex(_c(a))
    L, info = r.L.numpy(), r.info.numpy()
    ref = sl.cholesky(a[0].astype(np.float64), lower=True)
    tol = 1e-4 if dt == np.float32 else 1e-12
    np.testing.assert_allclose(L[0], ref, atol=tol * np.abs(ref).max(), rtol=tol)
    assert list(info) == [0, k + 1, k + 1]
    assert (np.triu(L[0], 1) == 0).all()


@pytest.mark.parametrize("dt", [np.float32, np.float64])
@pytest.mark.parametrize("m", [1, 7, 8, 9, 16, 17, 33, 64, 70])
def test_left_triangular_solves_every_block_shape(dt, m):
    """Left-side solves without transpose (solve_triangular, lu_solve's two solves) on the
    AVX-512 register-block kernel where the CPU has it: partial vector blocks (m not a
    multiple of 8 / 16), 1-9 right-hand sides (the four-column groups and their remainder),
    lower / upper, unit / non-unit diagonal, against a float64 NumPy solve."""
    rng = np.random.default_rng(m)
    a = (rng.standard_normal((2, m, m)) + 2 * np.sqrt(m) * np.eye(m)).astype(dt)
    tol = 1e-4 if dt == np.float32 else 1e-11
    for nrhs in (1, 4, 5, 9):
        b = rng.standard_normal((2, m, nrhs)).astype(dt)
        for upper in (False, True):
            for unit in (False, True):
                t = np.triu(a) if upper else np.tril(a)
                if unit:
                    t = t.copy()
                    t[:, np.arange(m), np.arange(m)] = 1
                x = ctorch.linalg.solve_triangular(
                    _c(a), _c(b), upper=upper, unitriangular=unit
                ).numpy()
                # unit triangles of random entries are badly conditioned: the residual
                # relative to |T| |x|, not x itself, is what a stable solve bounds
                t64, x64 = t.astype(np.float64), x.astype(np.float64)
                res = np.abs(t64 @ x64 - b).max(axis=-2)
                bound = (np.abs(t64) @ np.abs(x64)).max(axis=-2) + np.abs(b).max(axis=-2)
                assert (res <= tol * bound).all(), (upper, unit, nrhs)
