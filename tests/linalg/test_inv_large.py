"""``linalg.inv``/``inv_ex`` from n = GETRI_MIN_N (8) on run getrf + getri (lapack_batch) (not NumPy's gesv
against the identity): values, dtypes, info and errors still torch's."""

from __future__ import annotations

import numpy as np
import pytest

import ctorch
from ctorch.linalg._solve import GETRI_MIN_N

torch = pytest.importorskip("torch")


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.complex64, np.complex128])
@pytest.mark.parametrize("shape", [(GETRI_MIN_N, GETRI_MIN_N), (3, 40, 40)])
def test_inv_matches_torch(shape, dtype):
    rng = np.random.default_rng(0)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    a = a.astype(dtype)
    r = ctorch.linalg.inv(ctorch.from_numpy(a.copy()))
    t = torch.linalg.inv(torch.from_numpy(a.copy())).numpy()
    assert r.numpy().dtype == t.dtype
    assert r.stride() == torch.linalg.inv(torch.from_numpy(a.copy())).stride()
    tol = 1e-4 if np.dtype(dtype).itemsize <= 8 and np.dtype(dtype) != np.complex128 else 1e-10
    np.testing.assert_allclose(r.numpy(), t, rtol=tol, atol=tol * np.abs(t).max())


def test_inv_ex_info_and_error_on_a_singular_batch_element():
    a = np.random.default_rng(1).standard_normal((3, 40, 40))
    a[1, :, 3] = 0.0
    a[2, 7] = 0.0
    rc = ctorch.linalg.inv_ex(ctorch.from_numpy(a.copy()))
    rt = torch.linalg.inv_ex(torch.from_numpy(a.copy()))
    np.testing.assert_array_equal(rc.info.numpy(), rt.info.numpy())
    np.testing.assert_allclose(rc.inverse.numpy()[0], rt.inverse.numpy()[0], rtol=1e-10)
    with pytest.raises(RuntimeError) as et:
        torch.linalg.inv(torch.from_numpy(a.copy()))
    with pytest.raises(ctorch.linalg.LinAlgError) as ec:
        ctorch.linalg.inv(ctorch.from_numpy(a.copy()))
    assert str(ec.value) == str(et.value)


def test_inv_of_a_transposed_view_and_grad():
    a = np.random.default_rng(2).standard_normal((40, 40)) + 8 * np.eye(40)
    A = ctorch.from_numpy(a.copy()).requires_grad_()
    At = torch.from_numpy(a.copy()).requires_grad_()
    r, t = ctorch.linalg.inv(A.mT), torch.linalg.inv(At.mT)
    np.testing.assert_allclose(r.detach().numpy(), t.detach().numpy(), rtol=1e-10, atol=1e-13)
    r.sum().backward()
    t.sum().backward()
    np.testing.assert_allclose(A.grad.numpy(), At.grad.numpy(), rtol=1e-10, atol=1e-13)
