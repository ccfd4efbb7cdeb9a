"""Helpers shared by ``ctorch.linalg``: input checks with torch's messages, LAPACK ``info``
per batch element, ``LinAlgError``, result tuples and ``out=``.

Everything here works on the NumPy arrays under the tensors; the LAPACK calls themselves are
NumPy's batched gufuncs (``np.linalg.*``) where NumPy has them and ``scipy.linalg.lapack``
otherwise (looped over the batch).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..ops._util import SCALAR_TYPE_NAMES, return_type
from ..ops._util import conj_if_complex as cj

_wrap = Tensor._make


class LinAlgError(RuntimeError):
    """Raised by ``ctorch.linalg`` when a matrix is singular, not positive-definite, or an
    algorithm does not converge (``torch.linalg.LinAlgError``; a ``RuntimeError``)."""


LinAlgError.__module__ = "ctorch.linalg"


def scalar_name(dt: Any) -> str:
    return SCALAR_TYPE_NAMES.get(np.dtype(dt).name, str(np.dtype(dt)))


def check_float(op: str, a: np.ndarray, what: str = "input") -> None:
    """torch refuses integer, bool and half inputs to its LAPACK-backed functions."""
    check_cpu(op, a)
    k = a.dtype.kind
    if k not in "fc":
        if a.dtype.name == "bfloat16":
            raise RuntimeError(f"{op}: Low precision dtypes not supported. Got BFloat16")
        raise RuntimeError(
            f"{op}: Expected a floating point or complex tensor as {what}. Got "
            f"{scalar_name(a.dtype)}"
        )
    if a.dtype.itemsize < 4 or (k == "c" and a.dtype.itemsize < 8):
        raise RuntimeError(f"{op}: Low precision dtypes not supported. Got {scalar_name(a.dtype)}")


def check_cpu(op: str, a: Any) -> None:
    if type(a) is not np.ndarray:
        raise RuntimeError(
            f"{op}: ctorch.linalg runs on the CPU (NumPy/SciPy LAPACK) only; got a tensor on "
            "another device: move it with .cpu() first"
        )


def check_matrix(op: str, a: np.ndarray, name: str = "A", square: bool = False) -> None:
    check_cpu(op, a)
    if a.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor {name} must have at least 2 dimensions.")
    if square and a.shape[-1] != a.shape[-2]:
        raise RuntimeError(
            f"{op}: {name} must be batches of square matrices, but they are "
            f"{a.shape[-2]} by {a.shape[-1]} matrices"
        )


def check_float_matrix(op: str, t: Tensor, name: str = "A", square: bool = False) -> np.ndarray:
    """``t``'s array, once it passed torch's checks of a LAPACK input: a batch of (square)
    matrices of a float or complex dtype."""
    a = t._a
    check_matrix(op, a, name, square)
    check_float(op, a)
    return a


def check_square_float(op: str, t: Tensor, name: str = "A") -> np.ndarray:
    return check_float_matrix(op, t, name, square=True)


def check_same_dtype(op: str, a: np.ndarray, b: np.ndarray, na: str = "A", nb: str = "B") -> None:
    if a.dtype != b.dtype:
        raise RuntimeError(
            f"{op}: Expected {na} and {nb} to have the same dtype, but found {na} of type "
            f"{scalar_name(a.dtype)} and {nb} of type {scalar_name(b.dtype)} instead"
        )


def batch_message(op: str, batch_shape: tuple, flat_index: int, msg: str) -> str:
    if batch_shape and int(np.prod(batch_shape)) > 0:
        return f"{op}: (Batch element {flat_index}): {msg}"
    return f"{op}: {msg}"


def raise_first(op: str, info: np.ndarray, make_msg) -> None:
    """Raise ``LinAlgError`` for the first batch element whose ``info`` is non-zero."""
    flat = info.reshape(-1)
    bad = np.flatnonzero(flat)
    if bad.size:
        i = int(bad[0])
        msg = make_msg(int(flat[i]))
        if info.ndim:
            raise LinAlgError(f"{op}: (Batch element {i}): {msg}")
        raise LinAlgError(f"{op}: {msg}")


_SCIPY = []


def scipy_linalg():
    """``scipy.linalg``, imported on first use. SciPy's wheels bring their own OpenBLAS
    (``libscipy_openblas``, apart from NumPy's): once it is loaded, ``ctorch._blas_threads``
    looks again for OpenBLAS libraries and gives SciPy's NumPy's thread count, so that
    ``ctorch.set_num_threads`` governs both (measured: lstsq and matrix_exp ran 2-6x slower on
    a loaded 2-core machine while SciPy's pool was left at its default)."""
    if not _SCIPY:
        import scipy.linalg
        import scipy.linalg.blas  # noqa: F401
        import scipy.linalg.lapack  # noqa: F401

        from .. import _blas_threads as B

        n = B.get_blas_threads()
        B._api = None  # rescan /proc/self/maps: SciPy's OpenBLAS is loaded now
        if n is not None:
            B.set_blas_threads(n)
        _SCIPY.append(scipy.linalg)
    return _SCIPY[0]


def lapack(name: str, dtype: np.dtype):
    """``scipy.linalg.lapack`` routine ``name`` (``getrf``...) for ``dtype``."""
    L = scipy_linalg().lapack

    prefix = {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}[dtype.name]
    return getattr(L, prefix + name)


def each_matrix(a: np.ndarray):
    """Yield ``(index, matrix)`` over the batch of ``a`` (shape ``(*batch, m, n)``)."""
    batch = a.shape[:-2]
    for idx in np.ndindex(*batch):
        yield idx, a[idx]


def getrf_info(a: np.ndarray) -> np.ndarray:
    """LAPACK ``getrf``'s ``info`` for every matrix of the batch (int32, batch shape)."""
    info = np.zeros(a.shape[:-2], dtype=np.int32)
    if a.shape[-1] == 0 or a.shape[-2] == 0:
        return info
    getrf = lapack("getrf", a.dtype)
    for idx, m in each_matrix(a):
        info[idx] = getrf(m)[2]
    return info


SINGULAR_INV = (
    "The diagonal element {} is zero, the inversion could not be completed because the input "
    "matrix is singular."
)


def rt(name: str, fields) -> type:
    """A torch.return_types-style namedtuple (``ctorch.return_types.<name>``)."""
    return return_type(name, tuple(fields))


def copy_out(out: Any, result: Any) -> Any:
    """Write ``result`` (a tensor or a tuple of tensors) into ``out`` (same structure), as
    torch's ``out=`` does (resizing as needed), and return ``out``."""
    if out is None:
        return result
    if isinstance(result, tuple):
        if not isinstance(out, (tuple, list)) or len(out) != len(result):
            raise TypeError(f"out= must be a tuple of {len(result)} tensors")
        for o, r in zip(out, result, strict=True):
            copy_out(o, r)
        return type(result)(*out) if hasattr(result, "_fields") else tuple(out)
    if out.dtype != result.dtype:
        raise RuntimeError(
            f"Expected out tensor to have dtype {result.dtype}, but got {out.dtype} instead"
        )
    if tuple(out.shape) != tuple(result.shape):
        out.resize_(tuple(result.shape))
    with _no_grad():
        out.copy_(result)
    return out


def _no_grad():
    from ..autograd.grad_mode import no_grad

    return no_grad()


def int_tensor(a: np.ndarray) -> Tensor:
    return _wrap(np.array(a, dtype=np.int32, order="C"))


def mT(t: Tensor) -> Tensor:
    return t.transpose(-2, -1)


def eye_like(n: int, ref: Tensor) -> Tensor:
    return _wrap(np.eye(n, dtype=ref._a.dtype))


def is_vector_rhs(a: np.ndarray, b: np.ndarray) -> bool:
    """torch's rule for ``solve``: B is a (batch of) vector(s) when it is 1-D or has A's batch
    shape without the last dimension."""
    return b.ndim == 1 or (b.ndim == a.ndim - 1 and b.shape == a.shape[:-1])


def mH(t: Tensor) -> Tensor:
    """Conjugate transpose (``Tensor.mH``): torch's backward formulas use it where the real
    derivation has the transpose."""
    return cj(t.transpose(-2, -1))


def is_complex(t: Tensor) -> bool:
    return t._a.dtype.kind == "c"


def real_dtype(dt: np.dtype) -> np.dtype:
    """The real dtype of the same precision (float64 for complex128...)."""
    dt = np.dtype(dt)
    return np.dtype(dt.char.lower()) if dt.kind == "c" else dt


def blas_prefix(dt: np.dtype) -> str:
    """BLAS/LAPACK's type letter: s, d, c or z."""
    return {"float32": "s", "float64": "d", "complex64": "c", "complex128": "z"}[np.dtype(dt).name]


def nan_of(dt: np.dtype):
    """NaN for ``dt``: nan + nan j for complex dtypes (what torch's LAPACK path leaves)."""
    return complex(np.nan, np.nan) if np.dtype(dt).kind == "c" else np.nan
