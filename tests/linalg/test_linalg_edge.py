"""ctorch.linalg edge cases against torch: singular and non-positive-definite input (errors,
``_ex`` info), empty batches and 0x0 matrices, NaN input, bad dtypes and shapes, and the
legacy top-level names and Tensor methods."""

from __future__ import annotations

import math

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


def _run(lib, f):
    try:
        r = f(lib)
    except RuntimeError as e:  # LinAlgError is a RuntimeError in both libraries
        return ("error", str(e))
    rs = []
    for x in r if isinstance(r, tuple) else (r,):
        rs.extend(x if isinstance(x, tuple) else (x,))
    return ("ok", [(tuple(x.shape), str(x.dtype).split(".")[-1], x.detach().numpy()) for x in rs])


def _same(a, b):
    assert a[0] == b[0], (a, b)
    if a[0] == "error":
        assert a[1] == b[1]
        return
    assert len(a[1]) == len(b[1])
    for (sa, da, va), (sb, db, vb) in zip(a[1], b[1], strict=True):
        assert sa == sb and da == db, (sa, sb, da, db)
        np.testing.assert_allclose(va, vb, atol=1e-5, rtol=1e-5, equal_nan=True)


def _full(lib):
    """A well-conditioned 4x3 matrix (unique SVD/QR up to signs)."""
    return lib.tensor([[4.0, 1.0, 0.5], [1.0, 3.0, -1.0], [0.0, 2.0, 5.0], [1.0, -1.0, 2.0]])


def _eye2(lib):
    z = lib.zeros(3, 3, dtype=lib.float64)
    return lib.stack([lib.eye(3, dtype=lib.float64), z])


CASES = {
    # singular / not positive-definite: torch's LinAlgError messages and _ex info
    "inv_singular": lambda L: L.linalg.inv(L.zeros(3, 3, dtype=L.float64)),
    "inv_singular_batch": lambda L: L.linalg.inv(_eye2(L)),
    "inv_ex_info": lambda L: L.linalg.inv_ex(_eye2(L)).info,
    "solve_singular": lambda L: L.linalg.solve(_eye2(L), L.ones(2, 3, dtype=L.float64)),
    "solve_ex_info": lambda L: L.linalg.solve_ex(_eye2(L), L.ones(2, 3, dtype=L.float64)).info,
    "cholesky_not_pd": lambda L: L.linalg.cholesky(-L.eye(3, dtype=L.float64)),
    "cholesky_ex_info": lambda L: (
        L.linalg.cholesky_ex(L.stack([L.eye(3, dtype=L.float64), -L.eye(3, dtype=L.float64)])).info
    ),
    "cholesky_nan": lambda L: L.linalg.cholesky(L.full((3, 3), math.nan)),
    "lu_factor_singular": lambda L: L.linalg.lu_factor(L.zeros(3, 3, dtype=L.float64)),
    "lu_factor_ex_info": lambda L: L.linalg.lu_factor_ex(L.zeros(3, 3, dtype=L.float64)),
    "cholesky_inverse_singular": lambda L: L.cholesky_inverse(L.zeros(2, 3, 3)),
    "det_singular": lambda L: L.linalg.det(L.ones(3, 3, dtype=L.float64)),
    "slogdet_singular": lambda L: L.linalg.slogdet(L.zeros(2, 3, 3, dtype=L.float64)),
    "logdet_negative": lambda L: L.logdet(-L.eye(3, dtype=L.float64)),
    "matrix_rank_deficient": lambda L: L.linalg.matrix_rank(L.ones(4, 3)),
    "pinv_rank_deficient": lambda L: L.linalg.pinv(L.ones(4, 3, dtype=L.float64)),
    "cond_singular": lambda L: L.linalg.cond(L.zeros(3, 3)),
    "cond_singular_fro": lambda L: L.linalg.cond(L.zeros(3, 3), "fro"),
    "solve_triangular_zero_diag": lambda L: L.linalg.solve_triangular(
        L.zeros(3, 3), L.ones(3, 2), upper=True
    ),
    "svd_nan": lambda L: L.linalg.svd(L.full((3, 3), math.nan)),
    "eigh_nan": lambda L: L.linalg.eigh(L.full((3, 3), math.nan)),
    "eig_nan": lambda L: L.linalg.eig(L.full((3, 3), math.nan)),
    "det_nan": lambda L: L.linalg.det(L.full((3, 3), math.nan)),
    "inv_nan": lambda L: L.linalg.inv(L.full((3, 3), math.nan)),
    # the SVD/eigh behind these: torch's convergence errors (names and codes), not NumPy's
    "eigvalsh_nan": lambda L: L.linalg.eigvalsh(L.full((4, 4), math.nan).double()),
    "eigh_nan_2x2": lambda L: L.linalg.eigh(L.full((2, 2), math.nan)),
    "eigh_nan_1x1": lambda L: L.linalg.eigh(L.full((1, 1), math.nan)),
    "eigvalsh_nan_2x2": lambda L: L.linalg.eigvalsh(L.full((2, 2), math.nan)),
    "pinv_nan": lambda L: L.linalg.pinv(L.full((3, 3), math.nan)),
    "pinv_nan_hermitian": lambda L: L.linalg.pinv(L.full((3, 3), math.nan), hermitian=True),
    "matrix_rank_nan": lambda L: L.linalg.matrix_rank(L.full((3, 3), math.nan)),
    # (torch.linalg.eigvals of a NaN matrix crashes torch 2.13's MKL in SGEBAL: not compared)
    # empty batches and 0x0 matrices
    "inv_empty_batch": lambda L: L.linalg.inv(L.zeros(0, 3, 3)),
    "inv_0x0": lambda L: L.linalg.inv(L.zeros(2, 0, 0)),
    "det_0x0": lambda L: L.linalg.det(L.zeros(2, 0, 0)),
    "slogdet_empty": lambda L: L.linalg.slogdet(L.zeros(0, 3, 3)),
    "svd_empty": lambda L: L.linalg.svd(L.zeros(0, 3, 2)),
    "svd_0cols": lambda L: L.linalg.svd(L.zeros(3, 0)),
    "svdvals_0cols": lambda L: L.linalg.svdvals(L.zeros(3, 0)),
    "qr_empty": lambda L: L.linalg.qr(L.zeros(0, 3, 2)),
    "qr_0cols": lambda L: L.linalg.qr(L.zeros(3, 0)),
    "qr_0cols_complete": lambda L: L.linalg.qr(L.zeros(3, 0), mode="complete"),
    "eigh_empty": lambda L: L.linalg.eigh(L.zeros(0, 3, 3)),
    "cholesky_empty": lambda L: L.linalg.cholesky(L.zeros(0, 3, 3)),
    "solve_empty": lambda L: L.linalg.solve(L.zeros(0, 3, 3), L.zeros(0, 3, 2)),
    "lu_factor_empty": lambda L: L.linalg.lu_factor(L.zeros(0, 3, 3)),
    "lu_empty": lambda L: L.linalg.lu(L.zeros(0, 3, 4)),
    "pinv_empty": lambda L: L.linalg.pinv(L.zeros(0, 3, 4)),
    "pinv_0cols": lambda L: L.linalg.pinv(L.zeros(3, 0)),
    "matrix_rank_empty": lambda L: L.linalg.matrix_rank(L.zeros(0, 3, 4)),
    "matrix_exp_empty": lambda L: L.linalg.matrix_exp(L.zeros(0, 3, 3)),
    "lstsq_empty": lambda L: L.linalg.lstsq(L.zeros(0, 3, 2), L.zeros(0, 3, 1)).solution,
    "vector_norm_empty": lambda L: L.linalg.vector_norm(L.zeros(0)),
    "vector_norm_empty_inf": lambda L: L.linalg.vector_norm(L.zeros(0), math.inf),
    "matrix_norm_empty": lambda L: L.linalg.matrix_norm(L.zeros(0, 3, 3), 2),
    "cond_empty": lambda L: L.linalg.cond(L.zeros(0, 3, 3)),
    "householder_empty": lambda L: L.linalg.householder_product(L.zeros(0, 3, 2), L.zeros(0, 2)),
    # dtype and shape errors
    "det_int": lambda L: L.linalg.det(L.ones(3, 3, dtype=L.int64)),
    "inv_half": lambda L: L.linalg.inv(L.ones(3, 3, dtype=L.float16)),
    "inv_not_square": lambda L: L.linalg.inv(L.ones(2, 3)),
    "inv_1d": lambda L: L.linalg.inv(L.ones(3)),
    "solve_bad_shape": lambda L: L.linalg.solve(L.eye(3), L.ones(4)),
    "solve_dtype_mismatch": lambda L: L.linalg.solve(L.eye(3), L.ones(3, dtype=L.float64)),
    "lstsq_bad_shape": lambda L: L.linalg.lstsq(L.eye(3), L.ones(4, 2)),
    "matrix_exp_not_square": lambda L: L.linalg.matrix_exp(L.ones(2, 3)),
    "multi_dot_one": lambda L: L.linalg.multi_dot([L.ones(3)]),
    "tensorinv_bad": lambda L: L.linalg.tensorinv(L.ones(2, 3)),
    "norm_3d_ord": lambda L: L.linalg.norm(L.ones(2, 3, 3), 2),
    "matrix_power_int": lambda L: L.linalg.matrix_power(L.ones(2, 2, dtype=L.int64), 3),
    "vander_int": lambda L: L.linalg.vander(L.tensor([1, 2, 3])),
    "vector_norm_int": lambda L: L.linalg.vector_norm(L.tensor([1, 2, 3])),
    "vector_norm_dtype": lambda L: L.linalg.vector_norm(L.ones(3), dtype=L.float64),
    # legacy names
    "legacy_svd": lambda L: tuple(x.abs() for x in L.svd(_full(L))),
    "legacy_svd_no_uv": lambda L: L.svd(_full(L), compute_uv=False),
    "legacy_svd_some_false": lambda L: L.svd(_full(L), some=False)[1],
    "legacy_qr": lambda L: tuple(x.abs() for x in L.qr(_full(L))),
    "legacy_det_inverse": lambda L: (L.det(L.eye(3) * 2), L.inverse(L.eye(3) * 2)),
    "legacy_slogdet": lambda L: L.slogdet(-L.eye(3) * 2),
    "legacy_cholesky_solve": lambda L: L.cholesky_solve(L.ones(3, 2), L.eye(3) * 2),
    "legacy_cholesky_solve_upper": lambda L: L.cholesky_solve(
        L.ones(2, 3, 2), L.eye(3).triu() + L.ones(3, 3).triu(), upper=True
    ),
    "legacy_cholesky_inverse": lambda L: L.cholesky_inverse(L.eye(3) * 2 + L.ones(3, 3).tril()),
    "legacy_triangular_solve": lambda L: L.triangular_solve(
        L.ones(3, 2), L.ones(3, 3).triu() + L.eye(3)
    ),
    "legacy_triangular_solve_t": lambda L: L.triangular_solve(
        L.ones(2, 3, 2), L.ones(3, 3).triu() + L.eye(3), transpose=True, unitriangular=True
    ),
    "legacy_lu_unpack": lambda L: L.lu_unpack(*L.linalg.lu_factor(L.arange(9.0).reshape(3, 3))),
    "legacy_lu_unpack_wide": lambda L: L.lu_unpack(
        *L.linalg.lu_factor(L.arange(15.0).reshape(3, 5) ** 2)
    ),
    "legacy_lu_solve": lambda L: L.lu_solve(
        L.ones(3, 1), *L.linalg.lu_factor(L.eye(3) + L.ones(3, 3))
    ),
    "legacy_pinverse": lambda L: L.pinverse(_full(L)),
    "legacy_matrix_exp": lambda L: L.matrix_exp(L.eye(2)),
    "legacy_chain_matmul": lambda L: L.chain_matmul(L.eye(2), L.ones(2, 3), L.ones(3, 1)),
    "legacy_geqrf": lambda L: tuple(x.abs() for x in L.geqrf(_full(L))),
    "legacy_orgqr": lambda L: L.orgqr(*L.geqrf(_full(L))).abs(),
    "legacy_ormqr": lambda L: L.ormqr(*L.geqrf(_full(L)), L.ones(4, 2), transpose=True).abs(),
    "legacy_nuclear_norm": lambda L: L.nuclear_norm(_full(L)),
    "method_det": lambda L: L.arange(9.0).reshape(3, 3).det(),
    "method_inverse": lambda L: (L.eye(3) * 2).inverse(),
    "method_logdet_slogdet": lambda L: ((L.eye(3) * 2).logdet(), (L.eye(3) * 2).slogdet()),
    "method_matrix_power": lambda L: L.ones(2, 2).matrix_power(3),
    # pivots checked as torch checks them (a short or unbroadcast pivots array was read past
    # its end by the batch kernels: heap corruption)
    "lu_solve pivots int64": lambda L: L.linalg.lu_solve(
        L.eye(3), L.ones(3, dtype=L.int64), L.ones(3, 2)
    ),
    "lu_solve too few pivots": lambda L: L.linalg.lu_solve(
        L.eye(3), L.ones(2, dtype=L.int32), L.ones(3, 2)
    ),
    "lu_solve pivots of another batch": lambda L: L.linalg.lu_solve(
        L.eye(3).expand(2, 3, 3), L.ones(3, dtype=L.int32), L.ones(3, 2)
    ),
    "lu_solve pivots with a batch": lambda L: L.linalg.lu_solve(
        L.eye(3), L.ones(2, 3, dtype=L.int32), L.ones(3, 2)
    ),
    "ldl_solve too few pivots": lambda L: L.linalg.ldl_solve(
        L.eye(3), L.ones(2, dtype=L.int32), L.ones(3, 2)
    ),
    "ldl_solve pivots of another batch": lambda L: L.linalg.ldl_solve(
        L.eye(3).expand(2, 3, 3), L.ones(3, dtype=L.int32), L.ones(2, 3, 2)
    ),
    "ldl_solve float pivots": lambda L: L.linalg.ldl_solve(L.eye(3), L.ones(3), L.ones(3, 2)),
    "ldl_solve int64 pivots": lambda L: L.linalg.ldl_solve(L.eye(3), L.arange(1, 4), L.ones(3, 2)),
    "method_pinverse_cholesky": lambda L: ((L.eye(2) * 4).pinverse(), (L.eye(2) * 4).cholesky()),
}


@pytest.mark.parametrize("name", list(CASES))
def test_edge_case_matches_torch(name):
    f = CASES[name]
    _same(_run(ctorch, f), _run(torch, f))


def test_linalg_error_is_runtime_error():
    assert issubclass(ctorch.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ctorch.linalg.LinAlgError, match=r"Batch element 1"):
        ctorch.linalg.inv(_eye2(ctorch))


def test_every_torch_linalg_name_exists():
    names = {n for n in dir(torch.linalg) if not n.startswith("_") and n != "common_notes"}
    assert names <= set(dir(ctorch.linalg))


def test_out_argument():
    a = ctorch.eye(3) * 2
    out = ctorch.empty(0)
    r = ctorch.linalg.inv(a, out=out)
    assert r is out and np.allclose(out.numpy(), np.eye(3) / 2)


def test_degenerate_eigenvalues_gradient_as_torch():
    # eigenvalue-only losses stay finite at repeated eigenvalues; eigenvector losses do not
    a = np.eye(3)
    for lib in (ctorch, torch):
        x = lib.from_numpy(a.copy()).requires_grad_()
        lib.linalg.eigvalsh(x).sum().backward()
        np.testing.assert_allclose(x.grad.numpy(), np.eye(3))
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    ctorch.linalg.eigh(xc)[1].sum().backward()
    torch.linalg.eigh(xt)[1].sum().backward()
    assert not np.isfinite(xc.grad.numpy()).all()
    assert not np.isfinite(xt.grad.numpy()).all()


def test_det_gradient_at_singular_matrix_is_the_cofactor_matrix():
    # rank 2: d det/dA is the (non-zero) cofactor matrix; ctorch takes the SVD path there.
    # torch 2.13 returns zeros for this exactly singular input (its LU path multiplies by
    # det = 0); finite differences agree with the cofactors, so ctorch follows the maths.
    a = np.array([[1.0, 2.0, 3.0], [2.0, 4.0, 6.0], [0.5, 1.0, 7.0]])
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    ctorch.linalg.det(xc).backward()
    minor = [[np.delete(np.delete(a, i, 0), j, 1) for j in range(3)] for i in range(3)]
    cof = np.array(
        [[np.linalg.det(minor[i][j]) * (-1) ** (i + j) for j in range(3)] for i in range(3)]
    )
    np.testing.assert_allclose(xc.grad.numpy(), cof, atol=1e-10)
    x = ctorch.from_numpy(a.copy()).requires_grad_()
    assert ctorch.autograd.gradcheck(ctorch.linalg.det, (x,), eps=1e-6, atol=1e-5)


def test_pinv_gradient_rank_deficient_matches_torch():
    a = np.outer([1.0, 2.0, 3.0, 4.0], [1.0, -1.0, 0.5])
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    g = np.random.default_rng(0).standard_normal((3, 4))
    (ctorch.linalg.pinv(xc) * ctorch.from_numpy(g)).sum().backward()
    (torch.linalg.pinv(xt) * torch.from_numpy(g)).sum().backward()
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-10)


def test_eig_gradient_matches_torch():
    a = np.random.default_rng(3).standard_normal((3, 3))
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    w, v = ctorch.linalg.eig(xc)
    wt, vt = torch.linalg.eig(xt)
    gw = np.random.default_rng(1).standard_normal(3) + 0j
    # a gauge-invariant loss: sum Re(gw * w) + |v|^2-weighted terms
    ctorch.autograd.backward([w], [ctorch.from_numpy(gw)])
    torch.autograd.backward([wt], [torch.from_numpy(gw)])
    np.testing.assert_allclose(xc.grad.numpy(), xt.grad.numpy(), atol=1e-10)


def _hilbert(n):
    i = np.arange(n)
    return 1.0 / (i[:, None] + i[None, :] + 1.0)


def test_ill_conditioned_matches_torch():
    # Hilbert(9): cond ~ 5e11; results agree with torch to the accuracy the condition allows
    h = _hilbert(9)
    c, t = ctorch.from_numpy(h.copy()), torch.from_numpy(h.copy())
    np.testing.assert_allclose(ctorch.linalg.cond(c).item(), torch.linalg.cond(t).item(), rtol=1e-4)
    np.testing.assert_allclose(ctorch.linalg.det(c).item(), torch.linalg.det(t).item(), rtol=1e-5)
    np.testing.assert_allclose(
        ctorch.linalg.svdvals(c).numpy(), torch.linalg.svdvals(t).numpy(), rtol=1e-4, atol=1e-15
    )
    b = np.ones((9, 2))
    x = ctorch.linalg.solve(c, ctorch.from_numpy(b)).numpy()
    assert np.abs(h @ x - b).max() < 1e-6  # a backward-stable solve: small residual
    assert ctorch.linalg.matrix_rank(c).item() == torch.linalg.matrix_rank(t).item()
    L = ctorch.linalg.cholesky(c).numpy()
    np.testing.assert_allclose(L @ L.T, h, atol=1e-14)


def test_gpu_tensors_are_refused_with_a_clear_error():
    class Fake:  # an array of another device (what a cupy array looks like to linalg)
        ndim, shape = 2, (2, 2)

    t = ctorch.eye(2)
    t._a = Fake()
    with pytest.raises(RuntimeError, match="CPU"):
        ctorch.linalg.inv(t)


@pytest.mark.parametrize("shape", [(5, 3), (3, 5), (2, 4, 4)])
def test_lstsq_rank_deficient_is_the_minimum_norm_solution(shape):
    # gelsy's answer for rank-deficient A is the minimum-norm least-squares solution (NumPy's
    # gelsd agrees); torch 2.13's CPU gelsy reports rank 1 and another solution for these
    rng = np.random.default_rng(5)
    a = rng.standard_normal(shape)
    a[..., 0] = a[..., 1]
    b = rng.standard_normal(shape[:-1] + (2,))
    r = ctorch.linalg.lstsq(ctorch.from_numpy(a), ctorch.from_numpy(b))
    ref = np.linalg.pinv(a) @ b
    np.testing.assert_allclose(r.solution.numpy(), ref, atol=1e-10)
    assert (r.rank.numpy() == min(shape[-2], shape[-1] - 1)).all()
    gelsd = torch.linalg.lstsq(torch.from_numpy(a), torch.from_numpy(b), driver="gelsd")
    np.testing.assert_allclose(r.solution.numpy(), gelsd.solution.numpy(), atol=1e-10)


def test_eig_vector_loss_depending_on_phase_raises_as_torch():
    a = np.array([[0.0, -2.0, 0.3], [1.0, 0.0, 0.1], [0.2, 0.1, 0.5]])  # complex pair
    g = np.zeros((3, 3), np.complex128)
    g[0, 0] = 1j  # d/d Im(V[0, 0]): not invariant under V -> V e^{i phi}
    xc = ctorch.from_numpy(a.copy()).requires_grad_()
    xt = torch.from_numpy(a.copy()).requires_grad_()
    _, v = ctorch.linalg.eig(xc)
    _, vt = torch.linalg.eig(xt)
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        torch.autograd.backward([vt], [torch.from_numpy(g)])
    with pytest.raises(RuntimeError, match="e\\^\\{i phi\\}"):
        ctorch.autograd.backward([v], [ctorch.from_numpy(g)])


def test_lstsq_batch_mixing_full_rank_and_rank_deficient():
    # full-rank tall matrices take the QR fast path, the rank-deficient one gelsy
    rng = np.random.default_rng(6)
    a = rng.standard_normal((3, 6, 4))
    a[1, :, 0] = a[1, :, 2]
    b = rng.standard_normal((3, 6, 2))
    r = ctorch.linalg.lstsq(ctorch.from_numpy(a), ctorch.from_numpy(b))
    np.testing.assert_allclose(r.solution.numpy(), np.linalg.pinv(a) @ b, atol=1e-10)
    assert r.rank.numpy().tolist() == [4, 3, 4]
    rt = torch.linalg.lstsq(torch.from_numpy(a[[0, 2]]), torch.from_numpy(b[[0, 2]]))
    np.testing.assert_allclose(r.solution.numpy()[[0, 2]], rt.solution.numpy(), atol=1e-12)
