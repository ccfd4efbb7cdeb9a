"""Helpers shared by ``ctorch.linalg``: input checks with torch's messages, LAPACK ``info``
per batch element, ``LinAlgError``, result tuples and ``out=``.

Everything here works on the NumPy arrays under the tensors; the LAPACK calls themselves are
NumPy's batched gufuncs (``np.linalg.*``) where NumPy has them, and otherwise
``ctorch._core.lapack_batch``: SciPy's LAPACK/BLAS function pointers called in one compiled
loop over the batch (GIL released, OpenMP over small matrices), with ``batch_offsets`` and
``col_major`` below preparing its operands.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._meta import MetaArray, NoMetaImpl
from .._tensor import Tensor
from ..ops._util import SCALAR_TYPE_NAMES, return_type
from ..ops._util import conj_if_complex as cj

_wrap = Tensor._make


class LinAlgError(RuntimeError):
    """Raised by ``ctorch.linalg`` when a matrix is singular, not positive-definite, or an
    algorithm does not converge (``torch.linalg.LinAlgError``; a ``RuntimeError``)."""


LinAlgError.__module__ = "ctorch.linalg"


def is_meta(*ts: Any) -> bool:
    """Whether any of the tensors (or arrays) ``ts`` is on the meta device: the functions then
    return ``meta`` results (torch 2.13's meta shapes, dtypes and strides) after their checks,
    and run no LAPACK."""
    return any(type(getattr(t, "_a", t)) is MetaArray for t in ts)


def meta(shape: tuple, dtype: Any, col_major: bool = False) -> Tensor:
    """A meta tensor of ``shape``/``dtype``: C-ordered, or with column-major matrices stored
    one after the other (``col_major``: LAPACK's outputs, torch's strides ``(..., 1, m)``)."""
    shape = tuple(int(n) for n in shape)
    dt = np.dtype(dtype)
    if not col_major or len(shape) < 2:
        return _wrap(MetaArray(shape, dt))
    st = [1] * len(shape)
    acc = 1
    for d in [len(shape) - 2, len(shape) - 1, *range(len(shape) - 3, -1, -1)]:
        st[d] = acc * dt.itemsize
        acc *= max(shape[d], 1)
    return _wrap(MetaArray(shape, dt, tuple(st)))


def meta_refused(op: str) -> NoMetaImpl:
    """torch 2.13 has no meta kernel for ``op`` (its NotImplementedError): neither has ctorch."""
    return NoMetaImpl(f"{op}: has no meta implementation (torch 2.13 has none either)")


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
        if type(a) is MetaArray:  # the meta device: the functions give meta() results
            return
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
    if type(info) is MetaArray:  # (the meta device: no values, nothing to report)
        return
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


_LB: list = []


def batch_kernels():
    """``ctorch._core.lapack_batch`` with its LAPACK/BLAS pointers loaded (SciPy imported, and
    its OpenBLAS given ctorch's thread count, by ``scipy_linalg`` first)."""
    if not _LB:
        scipy_linalg()
        from .._core import lapack_batch

        lapack_batch.load()
        _LB.append(lapack_batch)
    return _LB[0]


_TYPE_CODE = {"float32": 0, "float64": 1, "complex64": 2, "complex128": 3}


def type_code(dt) -> int:
    """lapack_batch's type code: 0 s, 1 d, 2 c, 3 z."""
    return _TYPE_CODE[np.dtype(dt).name]


def batch_offsets(arr: np.ndarray, batch: tuple, core: int = 2) -> np.ndarray:
    """Byte offset (int64, C order over ``batch``) of each matrix of ``arr`` (shape
    ``(*abatch, r, c)``, ``abatch`` broadcastable to ``batch``; ``core=1`` for a batch of
    vectors such as pivots) from its data pointer: broadcast dimensions repeat a matrix
    (offset step 0) without copying it."""
    nd = len(batch)
    lead = arr.ndim - core
    pad = nd - lead
    off = np.zeros((1,) * nd, np.int64)
    for d in range(nd):
        ad = d - pad
        if ad < 0 or arr.shape[ad] == 1 or batch[d] <= 1:
            continue
        step = np.arange(batch[d], dtype=np.int64) * arr.strides[ad]
        off = off + step.reshape((1,) * d + (batch[d],) + (1,) * (nd - d - 1))
    if off.shape == tuple(batch):
        return off.reshape(-1)
    return np.ascontiguousarray(np.broadcast_to(off, batch)).reshape(-1)


def col_major_ld(a: np.ndarray) -> int | None:
    """Leading dimension of ``a``'s matrices when they are column-major (LAPACK's layout),
    else None."""
    r, c = a.shape[-2:]
    it = a.itemsize
    s0, s1 = a.strides[-2:]
    if r <= 1:
        s0 = it
    if c <= 1:
        s1 = max(1, r) * it
    if s0 != it or s1 % it or s1 < max(1, r) * it:
        return None
    return s1 // it


def col_major_empty(shape: tuple, dtype) -> np.ndarray:
    """An empty array whose matrices are column-major (torch's LAPACK output strides (1, m))
    and stored one after the other."""
    return np.swapaxes(np.empty(tuple(shape[:-2]) + (shape[-1], shape[-2]), dtype), -1, -2)


def col_major_copy(a: np.ndarray, shape: tuple | None = None, dtype=None) -> np.ndarray:
    """A column-major copy of ``a`` (broadcast to ``shape``, cast to ``dtype`` when given):
    LAPACK's in-place operand or output, in torch's strides."""
    c = col_major_empty(a.shape if shape is None else shape, a.dtype if dtype is None else dtype)
    c[...] = a
    return c


def col_major(a: np.ndarray) -> tuple[np.ndarray, int]:
    """(``a`` or a column-major copy of it, leading dimension): a read-only LAPACK operand."""
    ld = col_major_ld(a)
    if ld is not None:
        return a, ld
    return col_major_copy(a), max(1, a.shape[-2])


def trsm_block(n: int, side_left: bool = True) -> int:
    """Diagonal block of lapack_batch's blocked triangular solves (small-kernel solves of the
    diagonal blocks, GEMM updates between them), by measurement on one core with 16
    right-hand sides: 1.3-2x faster than OpenBLAS's dtrsm from n = 64 to 512. The right-side
    small kernel is slower than the left one, so it gets smaller blocks."""
    if side_left:
        return 16 if n <= 64 else 32
    return 8 if n <= 64 else 16


def batch_threads(nb: int, n: int) -> int:
    """Threads for a batch kernel over ``nb`` matrices of order ``n``: one per matrix at a
    time when there are several small ones (OpenBLAS runs those single-threaded itself, so
    the two pools do not oversubscribe), else 1 (OpenBLAS threads a large matrix itself)."""
    if nb < 4 or n > 96:
        return 1
    from .._core._threads import get_num_threads

    return max(1, min(int(get_num_threads()), nb))


def pivots_array(op: str, piv: np.ndarray, n: int) -> np.ndarray:
    """LAPACK pivots (1-based int32, last axis contiguous) checked to lie in [1, n]: the batch
    kernels index rows with them."""
    p = np.asarray(piv)
    if p.dtype != np.int32:
        p = p.astype(np.int32)
    if p.ndim and p.strides[-1] != 4:
        p = np.ascontiguousarray(p)
    if p.size and (int(p.min()) < 1 or int(p.max()) > n):
        raise RuntimeError(f"{op}: pivots must be LAPACK's 1-based row indices in [1, {n}]")
    return p


def each_matrix(a: np.ndarray):
    """Yield ``(index, matrix)`` over the batch of ``a`` (shape ``(*batch, m, n)``)."""
    batch = a.shape[:-2]
    for idx in np.ndindex(*batch):
        yield idx, a[idx]


def getrf_info(a: np.ndarray) -> np.ndarray:
    """LAPACK ``getrf``'s ``info`` for every matrix of the batch (int32, batch shape)."""
    batch = a.shape[:-2]
    m, n = a.shape[-2:]
    info = np.zeros(batch, dtype=np.int32)
    if m == 0 or n == 0 or info.size == 0:
        return info
    lu = col_major_copy(a)
    nb = info.size
    piv = np.empty((nb, min(m, n)), np.int32)
    batch_kernels().getrf(
        type_code(a.dtype),
        lu,
        batch_offsets(lu, batch),
        m,
        n,
        max(1, m),
        piv,
        info.reshape(-1),
        batch_threads(nb, max(m, n)),
    )
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
    if out.is_meta != result.is_meta:  # (torch's check; a meta result has no data to copy)
        raise RuntimeError(
            f"Expected out tensor to have device {result.device}, but got {out.device} instead"
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
    if type(a) is MetaArray:
        return _wrap(MetaArray(a.shape, np.int32))
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
