"""``lu_factor``'s LU is column-major per matrix, as torch's (strides (1, m)); ``lu_solve``
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
