"""torch's top-level linear-algebra names from before ``torch.linalg`` (``torch.det``,
``inverse``, ``svd`` with ``some=``/``compute_uv=`` and V instead of Vh, ``cholesky_solve``,
``triangular_solve``, ``lu``...), and the ``Tensor`` methods of the same names.

Each is a thin wrapper over ``ctorch.linalg`` (so gradients come with them).
``attach(Tensor)`` installs the methods; ``ctorch/__init__.py`` calls it.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _warnings
from .._tensor import Tensor
from ..ops import join as J
from . import _common as C
from ._decomp import qr as _qr
from ._decomp import svd as _svd
from ._factor import cholesky as _cholesky
from ._factor import lu_factor_ex, lu_unpack
from ._factor import lu_solve as _lu_solve
from ._lstsq import householder_product, pinv
from ._misc import matrix_exp, matrix_norm, matrix_power, multi_dot
from ._solve import det, inv, solve_triangular
from ._solve import slogdet as _slogdet

_wrap = Tensor._make

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "cholesky_solve",
    "chain_matmul",
    "det",
    "frobenius_norm",
    "geqrf",
    "inverse",
    "logdet",
    "lu",
    "lu_solve",
    "lu_unpack",
    "matrix_exp",
    "matrix_power",
    "nuclear_norm",
    "orgqr",
    "ormqr",
    "pinverse",
    "qr",
    "slogdet",
    "svd",
    "triangular_solve",
]


def inverse(input: Tensor, *, out=None) -> Tensor:
    """``torch.inverse``: ``linalg.inv``."""
    return inv(input, out=out)


def logdet(input: Tensor) -> Tensor:
    """log(det(A)): NaN for a negative determinant, -inf for a singular matrix; complex:
    log|det| + i angle(det)."""
    sign, logabs = _slogdet(input)
    if C.is_meta(input):  # (no signs to read: the real log|det|, or its complex log)
        if C.is_complex(input):
            return logabs + _wrap(np.asarray(1j, input._a.dtype)) * sign.angle()
        return logabs
    if C.is_complex(input):
        r = logabs + _wrap(np.asarray(1j, input._a.dtype)) * sign.angle()
        zero = sign._a == 0  # torch: -inf + nan j for a singular matrix
        return r.masked_fill(_wrap(zero), complex(-math.inf, math.nan)) if zero.any() else r
    nan = _wrap(np.asarray(sign._a < 0))
    return logabs.masked_fill(nan, math.nan) if nan._a.any() else logabs


def slogdet(input: Tensor, *, out=None):
    r = _slogdet(input)
    return C.copy_out(out, C.rt("slogdet", ("sign", "logabsdet"))(*r))


def svd(input: Tensor, some: bool = True, compute_uv: bool = True, *, out=None):
    """``torch.svd``: (U, S, V) with V (not Vh); zero U and V when ``compute_uv`` is False."""
    U, S, Vh = _svd(input, full_matrices=not some)
    if not compute_uv:
        # on the input's device (meta: they were CPU zeros), V column-major as torch's
        m, n = input.shape[-2:]
        batch = tuple(input.shape[:-2])
        U = input.detach().new_zeros(batch + (m, m))
        V = C.mT(input.detach().new_zeros(batch + (n, n)))
        return C.copy_out(out, C.rt("svd", ("U", "S", "V"))(U, S.detach(), V))
    return C.copy_out(out, C.rt("svd", ("U", "S", "V"))(U, S, C.mT(Vh)))


def cholesky(input: Tensor, upper: bool = False, *, out=None) -> Tensor:
    return _cholesky(input, upper=upper, out=out)


def cholesky_solve(B: Tensor, L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Solve ``A X = B`` given the Cholesky factor of ``A`` (lower, or upper with ``upper``)."""
    C.check_matrix("cholesky_solve", B._a, "B")
    C.check_same_dtype("cholesky_solve", B._a, L._a, "B", "A")
    if upper:
        y = solve_triangular(C.mH(L), B, upper=False)
        x = solve_triangular(L, y, upper=True)
    else:
        y = solve_triangular(L, B, upper=False)
        x = solve_triangular(C.mH(L), y, upper=True)
    return C.copy_out(out, x)


def cholesky_inverse(L: Tensor, upper: bool = False, *, out=None) -> Tensor:
    """Inverse of ``A`` from its Cholesky factor."""
    a = C.check_square_float("cholesky_inverse", L, "input")
    d = np.diagonal(a, axis1=-2, axis2=-1)
    zero = d == 0
    if zero.any():
        info = np.where(zero.any(-1), zero.argmax(-1) + 1, 0).astype(np.int32)
        C.raise_first("cholesky_inverse", info, lambda i: C.SINGULAR_INV.format(i))
    if C.is_meta(a):
        eye = C.meta(a.shape, a.dtype)
    else:
        eye = _wrap(np.broadcast_to(np.eye(a.shape[-1], dtype=a.dtype), a.shape).copy())
    return C.copy_out(out, cholesky_solve(eye, L, upper))


def triangular_solve(
    b: Tensor,
    A: Tensor,
    upper: bool = True,
    transpose: bool = False,
    unitriangular: bool = False,
    *,
    out=None,
):
    """``torch.triangular_solve``: (solution of op(A) X = b, clone of A)."""
    op = "torch.triangular_solve"
    C.check_matrix(op, b._a, "b")
    C.check_matrix(op, A._a)
    if transpose:
        x = solve_triangular(C.mT(A), b, upper=not upper, unitriangular=unitriangular)
    else:
        x = solve_triangular(A, b, upper=upper, unitriangular=unitriangular)
    batch = np.broadcast_shapes(A._a.shape[:-2], b._a.shape[:-2])
    if C.is_meta(A):  # torch's meta clone: column-major, as LAPACK's operand
        Ab = C.mT(C.mT(A.expand(*batch, *A.shape[-2:])).contiguous())
    else:
        Ab = A.expand(*batch, *A.shape[-2:]).clone()
    return C.copy_out(out, C.rt("triangular_solve", ("solution", "cloned_coefficient"))(x, Ab))


def qr(input: Tensor, some: bool = True, *, out=None):
    """``torch.qr``: reduced (``some``) or complete QR."""
    Q, R = _qr(input, "reduced" if some else "complete")
    return C.copy_out(out, C.rt("qr", ("Q", "R"))(Q, R))


def lu(A: Tensor, pivot: bool = True, get_infos: bool = False, out=None):
    """``torch.lu`` / ``Tensor.lu`` (deprecated in torch: one warning per process for both):
    (LU, pivots[, infos])."""
    _warnings.warn_once(
        "lu",
        "torch.lu is deprecated in favor of torch.linalg.lu_factor / torch.linalg.lu_factor_ex "
        "and will be removed in a future PyTorch release.\nLU, pivots = torch.lu(A, "
        "compute_pivots)\nshould be replaced with\nLU, pivots = torch.linalg.lu_factor(A, "
        "compute_pivots)\nand\nLU, pivots, info = torch.lu(A, compute_pivots, get_infos=True)"
        "\nshould be replaced with\nLU, pivots, info = torch.linalg.lu_factor_ex(A, "
        "compute_pivots)",
    )
    LU, piv, info = lu_factor_ex(A, pivot=pivot)
    # a singular A is not an error for torch.lu (torch's _lu_with_info checks only LAPACK's
    # argument errors, which cannot happen here): its LU has a zero on U's diagonal
    return (LU, piv, info) if get_infos else (LU, piv)


def lu_solve(b: Tensor, LU_data: Tensor, LU_pivots: Tensor, *, out=None) -> Tensor:
    """``torch.lu_solve(b, LU, pivots)``: ``linalg.lu_solve(LU, pivots, b)``."""
    return _lu_solve(LU_data, LU_pivots, b, out=out)


def pinverse(input: Tensor, rcond: float = 1e-15, hermitian: bool = False) -> Tensor:
    return pinv(input, rtol=rcond, hermitian=hermitian)


def chain_matmul(*matrices: Tensor, out=None) -> Tensor:
    """``torch.chain_matmul`` (deprecated in torch): ``linalg.multi_dot``."""
    _warnings.warn_once(
        "chain_matmul",
        "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. Use "
        "torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather "
        "than multiple parameters.",
    )
    if len(matrices) == 1:
        return matrices[0].clone()
    return multi_dot(matrices, out=out)


def nuclear_norm(input: Tensor, dim: Any = None, keepdim: bool = False, *, out=None) -> Tensor:
    return matrix_norm(input, "nuc", (-2, -1) if dim is None else dim, keepdim, out=out)


def frobenius_norm(input: Tensor, dim: Any = (-2, -1), keepdim: bool = False, *, out=None):
    from ._misc import vector_norm

    if isinstance(dim, (tuple, list)) and len(dim) > 2:  # (torch's check; vector_norm takes any)
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dim)} dimensions instead.")

    return vector_norm(input, 2, dim, keepdim, out=out)


def geqrf(input: Tensor, *, out=None):
    """LAPACK geqrf: R above the diagonal, Householder vectors below, and tau."""
    op = "torch.geqrf"
    a = C.check_float_matrix(op, input)
    if C.is_meta(a):
        raise C.meta_refused(op)
    m, n = a.shape[-2:]
    k = min(m, n)
    # in place in a column-major copy (torch's strides), lapack_batch's loop over the batch
    res = C.col_major_copy(a)
    tau = np.zeros(a.shape[:-2] + (k,), a.dtype)
    if a.size:
        C.batch_kernels().geqrf(
            C.type_code(a.dtype),
            res,
            C.batch_offsets(res, a.shape[:-2]),
            m,
            n,
            max(1, m),
            tau,
            C.batch_offsets(tau, a.shape[:-2], core=1),
            C.batch_threads(tau.size // max(1, k), max(m, n)),
        )
    return C.copy_out(out, C.rt("geqrf", ("a", "tau"))(_wrap(res), _wrap(tau)))


def orgqr(input: Tensor, tau: Tensor, *, out=None) -> Tensor:
    return householder_product(input, tau, out=out)


def ormqr(
    input: Tensor,
    tau: Tensor,
    other: Tensor,
    left: bool = True,
    transpose: bool = False,
    *,
    out=None,
) -> Tensor:
    """``op(Q) @ other`` (or ``other @ op(Q)``) with Q the full Householder product."""
    m, n = input.shape[-2:]
    A = input
    if n < m:
        A = J.cat([input, input.new_zeros(tuple(input.shape[:-1]) + (m - n,))], -1)
    Q = householder_product(A, tau)
    if transpose:  # conjugate transpose for complex input (torch)
        Q = C.mH(Q)
    r = Q @ other if left else other @ Q
    if C.is_meta(r):  # (torch's ormqr result: column-major, in place in a copy of other)
        r = C.meta(r.shape, r._a.dtype, True)
    return C.copy_out(out, r)


_METHODS = (
    "det",
    "logdet",
    "slogdet",
    "inverse",
    "svd",
    "cholesky",
    "cholesky_solve",
    "cholesky_inverse",
    "triangular_solve",
    "qr",
    "pinverse",
    "matrix_exp",
    "matrix_power",
    "lu",
    "lu_solve",
    "geqrf",
    "orgqr",
    "ormqr",
)


def attach(T: type) -> None:
    """Install the Tensor methods torch has for these functions (``t.det()``...)."""
    g = globals()
    for name in _METHODS:
        setattr(T, name, g[name])
