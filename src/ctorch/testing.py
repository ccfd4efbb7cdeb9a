"""ctorch.testing: ``assert_close`` (torch's default tolerances per dtype), ``make_tensor``
(random test inputs in torch's default ranges) and the deprecated ``assert_allclose``."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["assert_allclose", "assert_close", "make_tensor"]

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


def assert_allclose(actual, expected, rtol=None, atol=None, equal_nan=True, msg="") -> None:
    """Deprecated (torch 1.12): ``assert_close`` without the dtype check, NaNs equal by
    default, non-tensor inputs converted first."""
    import warnings

    warnings.warn(
        "`torch.testing.assert_allclose()` is deprecated since 1.12 and will be removed in a "
        "future release. Please use `torch.testing.assert_close()` instead. You can find "
        "detailed upgrade instructions in https://github.com/pytorch/pytorch/issues/61844.",
        FutureWarning,
        stacklevel=2,
    )
    import ctorch

    if not isinstance(actual, ctorch.Tensor):
        actual = ctorch.tensor(actual)
    if not isinstance(expected, ctorch.Tensor):
        expected = ctorch.tensor(expected, dtype=actual.dtype)
    if rtol is None and atol is None:
        # torch's rule: the looser defaults of the two dtypes
        ra, ta = _TOL.get(np.dtype(actual.numpy().dtype).type, (0.0, 0.0))
        re_, te = _TOL.get(np.dtype(expected.numpy().dtype).type, (0.0, 0.0))
        rtol, atol = max(ra, re_), max(ta, te)
    assert_close(
        actual, expected, rtol=rtol, atol=atol, equal_nan=equal_nan, check_dtype=False,
        msg=msg or None,
    )  # fmt: skip


def make_tensor(
    *shape,
    dtype,
    device,
    low=None,
    high=None,
    requires_grad: bool = False,
    noncontiguous: bool = False,
    exclude_zero: bool = False,
    memory_format=None,
):
    """A tensor of ``shape`` filled with uniform random values in [low, high) (torch's
    defaults: [-9, 9] for floating and complex dtypes, [-9, 10) for signed integers,
    [0, 10) for unsigned ones, {False, True} for bool), drawn from ctorch's default
    generator, drawn as torch draws them (same values after the same seed).  ``noncontiguous``
    gives a view with a stride of 2 in the last dimension (offset by one);
    ``exclude_zero`` replaces zeros by the dtype's smallest step (1 for integers)."""
    import ctorch

    from . import _dtype as D

    if len(shape) == 1 and isinstance(shape[0], (list, tuple)):
        shape = tuple(shape[0])
    shape = tuple(int(n) for n in shape)
    if not isinstance(dtype, D.dtype):
        raise TypeError(f"make_tensor: dtype must be a ctorch.dtype, got {dtype!r}")
    nd = np.dtype(D.to_numpy_dtype(dtype))
    # torch's draws, in torch's order, from the default generator (a seeded program that
    # calls make_tensor, or gradgradcheck through it, then draws the same numbers after it)
    full = shape
    noncontiguous = noncontiguous and math.prod(shape) > 1
    if noncontiguous:
        full = shape[:-1] + (2 * shape[-1],)
    if nd.kind == "b":
        if low is not None or high is not None:
            raise ValueError("make_tensor: low and high are not supported for bool")
        t = ctorch.randint(0, 2, full, dtype=dtype)
    elif nd.kind in "iu":
        info = np.iinfo(nd)
        lo = (-9 if nd.kind == "i" else 0) if low is None else int(np.ceil(low))
        hi = 10 if high is None else int(np.ceil(high))
        lo, hi = max(lo, int(info.min)), min(hi, int(info.max) + (nd != np.int64))
        if lo >= hi:
            raise ValueError(f"make_tensor: low ({low}) must be less than high ({high})")
        t = ctorch.randint(lo, hi, full, dtype=dtype)
    else:
        lo = -9.0 if low is None else float(low)
        hi = 9.0 if high is None else float(high)
        if not lo <= hi:
            raise ValueError(f"make_tensor: low ({low}) must be less than high ({high})")
        t = ctorch.empty(full, dtype=dtype)
        fill = ctorch.view_as_real(t) if nd.kind == "c" else t
        if hi - lo >= float(ctorch.finfo(dtype).max):  # torch halves the range, then doubles
            fill.uniform_(lo / 2, hi / 2).mul_(2)
        else:
            fill.uniform_(lo, hi)
    if noncontiguous:
        t = t[..., 1::2]  # offset by one, as torch's
    if exclude_zero:
        t[t == 0] = 1 if nd.kind in "iub" else float(ctorch.finfo(dtype).tiny)
    if device is not None and str(device) != "cpu":
        t = t.to(device)
    if requires_grad:
        t.requires_grad_(True)
    return t
