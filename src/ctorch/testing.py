"""ctorch.testing.assert_close (torch's default tolerances per dtype)."""

from __future__ import annotations

import numpy as np

__all__ = ["assert_close"]

_TOL = {np.float16: (1e-3, 1e-5), np.float32: (1.3e-6, 1e-5), np.float64: (1e-7, 1e-7)}
_TOL.update({np.complex64: _TOL[np.float32], np.complex128: _TOL[np.float64]})  # as torch


def assert_close(
    actual, expected, *, rtol=None, atol=None, equal_nan=False, check_dtype=True, msg=None
) -> None:
    from ._tensor import Tensor

    sparse = [
        isinstance(x, Tensor) and (x.is_sparse or x.is_sparse_csr) for x in (actual, expected)
    ]
    if any(sparse):  # sparse tensors (#13): same layout, then their dense views compared
        if not all(sparse) or actual.layout is not expected.layout:
            raise AssertionError(
                msg
                or f"The values for attribute 'layout' do not match: {actual.layout} != "
                f"{getattr(expected, 'layout', type(expected).__name__)}."
            )
        actual, expected = actual.detach().to_dense(), expected.detach().to_dense()

    def arr(x):
        if isinstance(x, Tensor):
            a = x.detach()._a
            return a if type(a) is np.ndarray else a.get()
        return np.asarray(x)

    a, e = arr(actual), arr(expected)
    if a.shape != e.shape:
        raise AssertionError(
            msg or f"The values for attribute 'shape' do not match: {a.shape} != {e.shape}."
        )
    if (
        check_dtype
        and isinstance(actual, Tensor)
        and isinstance(expected, Tensor)
        and a.dtype != e.dtype
    ):
        raise AssertionError(
            msg
            or f"The values for attribute 'dtype' do not match: {actual.dtype} != {expected.dtype}."
        )
    r, t = _TOL.get(a.dtype.type, (0.0, 0.0))
    rtol = r if rtol is None else rtol
    atol = t if atol is None else atol
    if a.dtype.kind in "biu":
        ok = np.array_equal(a, e)
    else:
        ok = np.allclose(a, e, rtol=rtol, atol=atol, equal_nan=equal_nan)
    if not ok:
        wide = np.complex128 if np.iscomplexobj(a) or np.iscomplexobj(e) else np.float64
        diff = np.abs(a.astype(wide) - e.astype(wide))
        raise AssertionError(
            msg
            or f"Tensor-likes are not close!\n\nGreatest absolute difference: {np.nanmax(diff)} "
            f"(up to {atol} allowed)\nMismatched elements: {int(np.sum(~np.isclose(a, e, rtol, atol, equal_nan)))} / {a.size}"
        )
