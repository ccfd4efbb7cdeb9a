"""``lu_factor``'s LU (and ``ldl_factor``'s LD) is column-major per matrix, as torch's; ``lu_solve``
reads it with getrs directly, and a row-major LU (``.contiguous()``) through the trsm route
from n = 128 on: the same solutions either way."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("shape", [(5, 5), (3, 5, 4), (2, 4, 6), (130, 130)])
def test_lu_factor_strides_and_values_match_torch(shape):
    a = np.random.default_rng(0).standard_normal(shape)
    rc = ctorch.linalg.lu_factor(ctorch.from_numpy(a.copy()))
    rt = torch.linalg.lu_factor(torch.from_numpy(a.copy()))
    assert rc.LU.stride() == rt.LU.stride()
    np.testing.assert_allclose(rc.LU.numpy(), rt.LU.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(rc.pivots.numpy(), rt.pivots.numpy())
    ex = ctorch.linalg.lu_factor_ex(ctorch.from_numpy(a.copy()))
    assert ex.LU.stride() == torch.linalg.lu_factor_ex(torch.from_numpy(a.copy())).LU.stride()


@pytest.mark.parametrize("n", [8, 130])
@pytest.mark.parametrize("contiguous", [False, True])
@pytest.mark.parametrize(("left", "adjoint"), [(True, False), (True, True), (False, False)])
def test_lu_solve_on_either_layout_matches_torch(n, contiguous, left, adjoint):
    rng = np.random.default_rng(1)
    a = rng.standard_normal((2, n, n)) + 1j * rng.standard_normal((2, n, n)) + n * np.eye(n)
    b = rng.standard_normal((2, n, 3) if left else (2, 3, n)) + 0j
    LU, piv = ctorch.linalg.lu_factor(ctorch.from_numpy(a.copy()))
    if contiguous:
        LU = LU.contiguous()
        assert LU.is_contiguous()
    x = ctorch.linalg.lu_solve(LU, piv, ctorch.from_numpy(b.copy()), left=left, adjoint=adjoint)
    TLU, tpiv = torch.linalg.lu_factor(torch.from_numpy(a.copy()))
    t = torch.linalg.lu_solve(TLU, tpiv, torch.from_numpy(b.copy()), left=left, adjoint=adjoint)
    np.testing.assert_allclose(x.numpy(), t.resolve_conj().numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("hermitian", [False, True])
@pytest.mark.parametrize("shape", [(6, 6), (2, 5, 5), (70, 70)])
def test_ldl_factor_layout_and_solve_match_torch(shape, hermitian):
    """``ldl_factor``'s LD is column-major too (torch's strides), factored in place; its
    upper triangle is zero and ``ldl_solve`` on it gives torch's solution."""
    rng = np.random.default_rng(2)
    a = rng.standard_normal(shape) + 1j * rng.standard_normal(shape)
    a = a + (np.conj(np.swapaxes(a, -1, -2)) if hermitian else np.swapaxes(a, -1, -2))
    b = rng.standard_normal(shape[:-1] + (3,)) + 0j
    rc = ctorch.linalg.ldl_factor(ctorch.from_numpy(a.copy()), hermitian=hermitian)
    rt = torch.linalg.ldl_factor(torch.from_numpy(a.copy()), hermitian=hermitian)
    assert rc.LD.stride() == rt.LD.stride()
    np.testing.assert_allclose(rc.LD.numpy(), rt.LD.numpy(), rtol=1e-9, atol=1e-11)
    np.testing.assert_array_equal(rc.pivots.numpy(), rt.pivots.numpy())
    xc = ctorch.linalg.ldl_solve(*rc, ctorch.from_numpy(b.copy()), hermitian=hermitian)
    xt = torch.linalg.ldl_solve(*rt, torch.from_numpy(b.copy()), hermitian=hermitian)
    np.testing.assert_allclose(xc.numpy(), xt.numpy(), rtol=1e-8, atol=1e-10)


@pytest.mark.parametrize("cplx", [False, True])
@pytest.mark.parametrize("mode", ["reduced", "complete"])
@pytest.mark.parametrize("shape", [(6, 4), (4, 6), (5, 5), (2, 6, 4), (2, 3, 5)])
def test_qr_layout_and_values_match_torch(shape, mode, cplx):
    """Reduced QR (and complete for m <= n) runs geqrf + orgqr in place: Q and R column-major
    with torch's strides, values equal to torch's."""
    rng = np.random.default_rng(3)
    a = rng.standard_normal(shape) + (1j * rng.standard_normal(shape) if cplx else 0)
    qc, rc = ctorch.linalg.qr(ctorch.from_numpy(a.copy()), mode=mode)
    qt, rt = torch.linalg.qr(torch.from_numpy(a.copy()), mode=mode)
    if mode == "reduced" or shape[-2] <= shape[-1]:
        assert (qc.stride(), rc.stride()) == (qt.stride(), rt.stride())
    np.testing.assert_allclose(qc.numpy(), qt.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(rc.numpy(), rt.numpy(), rtol=1e-10, atol=1e-12)
