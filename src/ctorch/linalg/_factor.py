"""Triangular factorizations: ``cholesky(_ex)``, ``lu_factor(_ex)``, ``lu``, ``lu_solve``,
``ldl_factor(_ex)``, ``ldl_solve`` (and the unpacking ``lu_unpack`` shares with the legacy API).

Cholesky, LU and LDL run LAPACK ``potrf``/``getrf``/``getrs``/``sytrf``/``sytrs`` in
``ctorch._core.lapack_batch``'s compiled loops over the batch. Pivots are LAPACK's
1-based ``int32`` ones, as torch returns them. Backward: torch's formulas (square LU).
"""

from __future__ import annotations

import numpy as np

from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops._util import check_same_device, sum_to_shape
from . import _common as C
from ._solve import solve_triangular

_wrap = Tensor._make

_NOT_PD = (
    "The factorization could not be completed because the input is not positive-definite "
    "(the leading minor of order {} is not positive-definite)."
)


# ------------------------------------------------------------------ cholesky
def _potrf_batch(a: np.ndarray, upper: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """(L, info) for the batch: L a column-major copy of A factored in place by potrf (reading
    A's lower triangle, or its upper one for ``upper``, as torch's LAPACK call), the other
    triangle zeroed (torch's strides (1, n))."""
    n = a.shape[-1]
    f = C.col_major_copy(a)
    info = np.zeros(a.shape[:-2], np.int32)
    if n == 0 or info.size == 0:
        return f, info
    nb = info.size
    C.batch_kernels().potrf(
        C.type_code(a.dtype),
        not upper,
        f,
        C.batch_offsets(f, a.shape[:-2]),
        max(1, n),
        n,
        info.reshape(-1),
        C.batch_threads(nb, n),
        True,
    )
    # OpenBLAS's potrf lets NaN through; reference LAPACK reports it
    d = np.diagonal(f, 0, -2, -1).real
    with np.errstate(invalid="ignore"):
        bad = ~(d > 0)
    flag = bad.any(-1) & (info == 0)
    if flag.any():
        info[flag] = (np.argmax(bad, -1) + 1)[flag]
    return f, info


def _potrf_info(a: np.ndarray) -> np.ndarray:
    return _potrf_batch(a)[1]


class CholeskyEx(Function):
    _node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, A, upper, check_errors):
        a = C.check_square_float("linalg.cholesky", A)
        if C.is_meta(a):
            out = C.meta(a.shape, a.dtype, True)
            ctx.save_for_backward(out)
            ctx.upper = upper
            return out, C.meta(a.shape[:-2], np.int32)
        # potrf in lapack_batch's loop, in place in the column-major result: 1.2-1.5x faster
        # than np.linalg.cholesky (its copies in and out, and a separate tril)
        L, info = _potrf_batch(a, upper)
        if check_errors:
            C.raise_first("linalg.cholesky", info, lambda i: _NOT_PD.format(i))
        out = _wrap(L)
        ctx.save_for_backward(out)
        ctx.upper = upper
        return out, C.int_tensor(info)

    @staticmethod
    def backward(ctx, gL, _ginfo):
        (L,) = ctx.saved_tensors
        if ctx.upper:
            L, gL = C.mH(L), C.mH(gL)
        # torch: gA = L^{-H} Phi(L^H gL) L^{-1}, Phi = tril with the diagonal halved, made
        # Hermitian
        gA = (C.mH(L) @ gL).tril()
        gA = 0.5 * (gA + C.mH(gA.tril(-1)))
        gA = solve_triangular(C.mH(L), gA, upper=True, left=True)
        gA = solve_triangular(L, gA, upper=False, left=False)
        return gA, None, None


def cholesky_ex(A: Tensor, *, upper: bool = False, check_errors: bool = False, out=None):
    """Cholesky factor and LAPACK ``info`` (i > 0: the leading minor of order i is not
    positive-definite)."""
    r = C.rt("linalg_cholesky_ex", ("L", "info"))(*CholeskyEx.apply(A, upper, check_errors))
    return C.copy_out(out, r)


def cholesky(A: Tensor, *, upper: bool = False, out=None) -> Tensor:
    """Cholesky factor of symmetric positive-definite matrices (reads the lower triangle)."""
    return C.copy_out(out, CholeskyEx.apply(A, upper, True)[0])


# ------------------------------------------------------------------ LU
def _getrf(a: np.ndarray, fortran: bool = False):
    """(LU, 1-based int32 pivots, info) for every matrix of the batch. ``fortran``: LU's
    matrices column-major (torch's ``lu_factor`` layout, strides (1, m)); getrf then factors
    in place in the result after one copy of A, instead of SciPy's copy into Fortran order
    and a second, transposing copy back."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    lu = C.col_major_copy(a)
    piv = np.empty(batch + (k,), np.int32)
    info = np.zeros(batch, np.int32)
    nb = info.size
    if k and nb:
        C.batch_kernels().getrf(
            C.type_code(a.dtype),
            lu,
            C.batch_offsets(lu, batch),
            m,
            n,
            max(1, m),
            piv.reshape(nb, k),
            info.reshape(-1),
            C.batch_threads(nb, max(m, n)),
        )
    if not fortran:
        lu = np.ascontiguousarray(lu)
    return lu, piv, info


def _perm_from_pivots(piv: np.ndarray, m: int) -> np.ndarray:
    """Row permutation ``perm`` (batch, m) with ``A[perm] = L U`` from LAPACK's pivots (the
    swaps are sequential: a compiled loop in lapack_batch)."""
    batch = piv.shape[:-1]
    nb = int(np.prod(batch))
    p = np.ascontiguousarray(piv, dtype=np.int32).reshape(nb, piv.shape[-1])
    out = np.empty((nb, m), np.int64)
    try:
        C.batch_kernels().perm_from_pivots(p, out)
    except IndexError:
        raise RuntimeError(
            f"lu_unpack: pivots must be LAPACK's 1-based row indices in [1, {m}]"
        ) from None
    return out.reshape(batch + (m,))


def unpack_arrays(lu: np.ndarray, piv: np.ndarray, unpack_data=True, unpack_pivots=True):
    m, n = lu.shape[-2:]
    k = min(m, n)
    P = L = U = None
    t = C.type_code(lu.dtype)
    K = C.batch_kernels()
    if unpack_pivots:
        perm = _perm_from_pivots(piv, m)
        # A[perm] = L U  =>  A = P L U with P[perm[i], i] = 1
        P = np.zeros(lu.shape[:-2] + (m, m), lu.dtype)
        nb = P.size // (m * m) if m else 0
        K.perm_matrix(t, np.ascontiguousarray(perm.reshape(nb, m)), P)
    if unpack_data:
        # C-ordered, as torch's; the triangles cleared in lapack_batch (np.tril/triu build a
        # mask and a third array: ~5x slower at 512x512)
        L = np.empty(lu.shape[:-2] + (m, k), lu.dtype)
        L[...] = lu[..., :, :k]
        U = np.empty(lu.shape[:-2] + (k, n), lu.dtype)
        U[...] = lu[..., :k, :]
        nb = L.size // (m * k) if m * k else 0
        K.tri_unpack(t, L, nb, m, k, True)
        K.tri_unpack(t, U, nb, k, n, False)
    return P, L, U


class LuFactorEx(Function):
    _node_name = "LinalgLuFactorExBackward0"

    @staticmethod
    def forward(ctx, A, pivot, check_errors):
        op = "torch.linalg.lu_factor_ex"
        a = C.check_float_matrix(op, A)
        if not pivot:
            raise RuntimeError(
                "linalg.lu_factor: LU without pivoting is not implemented on the CPU"
            )
        if C.is_meta(a):  # LU column-major, pivots (batch, min(m, n)) int32, info
            LU = C.meta(a.shape, a.dtype, True)
            ctx.save_for_backward(LU)
            b, k = a.shape[:-2], min(a.shape[-2:])
            ctx.piv = C.meta(b + (k,), np.int32)._a
            return LU, C.meta(b + (k,), np.int32), C.meta(b, np.int32)
        lu, piv, info = _getrf(a, fortran=True)
        if check_errors:
            C.raise_first(
                "torch.linalg.lu_factor_ex", info, lambda i: f"U[{i},{i}] is zero (singular)."
            )
        LU = _wrap(lu)
        ctx.save_for_backward(LU)
        ctx.piv = piv
        return LU, C.int_tensor(piv), C.int_tensor(info)

    @staticmethod
    def backward(ctx, gLU, _gp, _gi):
        (LU,) = ctx.saved_tensors
        P, L, U = lu_unpack(LU, C.int_tensor(ctx.piv))
        k = min(LU.shape[-2], LU.shape[-1])
        gL, gU = gLU[..., :, :k].tril(-1), gLU[..., :k, :].triu()
        return _lu_backward(P, L, U, gL, gU), None, None


def _lu_backward(P: Tensor, L: Tensor, U: Tensor, gL: Tensor, gU: Tensor) -> Tensor:
    """torch's linalg_lu_backward for A = P L U (square, wide and tall)."""
    m, n = L.shape[-2], U.shape[-1]
    k = min(m, n)
    if m == n:
        # gA = P L^{-H} [L^H gL o 1_L + gU U^H o 1_U] U^{-H}
        gA = (C.mH(L) @ gL).tril(-1) + (gU @ C.mH(U)).triu()
        gA = solve_triangular(C.mH(L), gA, upper=True, left=True, unitriangular=True)
        gA = solve_triangular(C.mH(U), gA, upper=False, left=False)
        return P @ gA
    from ..ops.join import cat

    if m < n:  # wide: U = [U1 U2], U1 k x k; U2 = L^{-1} P^T A2
        U1, U2 = U[..., :, :k], U[..., :, k:]
        gU1, gU2 = gU[..., :, :k], gU[..., :, k:]
        X = (C.mH(L) @ gL - gU2 @ C.mH(U2)).tril(-1) + (gU1 @ C.mH(U1)).triu()
        gA1 = solve_triangular(C.mH(L), X, upper=True, left=True, unitriangular=True)
        gA1 = solve_triangular(C.mH(U1), gA1, upper=False, left=False)
        gA2 = solve_triangular(C.mH(L), gU2, upper=True, left=True, unitriangular=True)
        return P @ cat([gA1, gA2], -1)
    # tall: L = [L1; L2], L1 k x k; L2 = B2 U^{-1} with B = P^T A
    L1, L2 = L[..., :k, :], L[..., k:, :]
    gL1, gL2 = gL[..., :k, :], gL[..., k:, :]
    X = (C.mH(L1) @ gL1).tril(-1) + (gU @ C.mH(U) - C.mH(L2) @ gL2).triu()
    gB1 = solve_triangular(C.mH(L1), X, upper=True, left=True, unitriangular=True)
    gB1 = solve_triangular(C.mH(U), gB1, upper=False, left=False)
    gB2 = solve_triangular(C.mH(U), gL2, upper=False, left=False)
    return P @ cat([gB1, gB2], -2)


def lu_factor_ex(A: Tensor, *, pivot: bool = True, check_errors: bool = False, out=None):
    """Compact LU factorization (LAPACK getrf) with pivots and ``info``."""
    r = C.rt("linalg_lu_factor_ex", ("LU", "pivots", "info"))(
        *LuFactorEx.apply(A, pivot, check_errors)
    )
    return C.copy_out(out, r)


def lu_factor(A: Tensor, *, pivot: bool = True, out=None):
    """Compact LU factorization; raises when U has a zero on its diagonal (as torch)."""
    LU, piv, info = LuFactorEx.apply(A, pivot, False)
    C.raise_first(
        "torch.linalg.lu_factor",
        info._a,
        lambda i: (
            f"U[{i},{i}] is zero and using it on lu_solve would result in a division by zero. "
            "If you still want to perform the factorization, consider calling "
            "linalg.lu(A, pivot) or linalg.lu_factor_ex(A, pivot)"
        ),
    )
    return C.copy_out(out, C.rt("linalg_lu_factor", ("LU", "pivots"))(LU, piv))


class Lu(Function):
    _node_name = "LinalgLuBackward0"

    @staticmethod
    def forward(ctx, A, pivot):
        op = "linalg.lu"
        a = C.check_float_matrix(op, A)
        if not pivot:
            raise RuntimeError("linalg.lu: LU without pivoting is not implemented on the CPU")
        if C.is_meta(a):  # P (m, m), L (m, k), U (k, n), row-major
            m, n = a.shape[-2:]
            k, b = min(m, n), a.shape[:-2]
            P, L, U = (C.meta(b + s, a.dtype) for s in ((m, m), (m, k), (k, n)))
        else:
            lu, piv, _ = _getrf(a, fortran=True)
            P, L, U = (_wrap(x) for x in unpack_arrays(lu, piv))
        ctx.save_for_backward(P, L, U)
        ctx.mark_non_differentiable(P)
        return P, L, U

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        P, L, U = ctx.saved_tensors
        return _lu_backward(P, L, U, gL, gU), None


def lu(A: Tensor, *, pivot: bool = True, out=None):
    """``A = P L U`` (partial pivoting)."""
    return C.copy_out(out, C.rt("linalg_lu", ("P", "L", "U"))(*Lu.apply(A, pivot)))


class LuUnpack(Function):
    _node_name = "LuUnpackBackward0"

    @staticmethod
    def forward(ctx, LU, pivots, unpack_data, unpack_pivots):
        lu, piv = LU._a, pivots._a
        if piv.dtype != np.int32:
            raise RuntimeError(
                "torch.lu_unpack: LU_pivots is expected to be a contiguous tensor of torch.int32 "
                f"dtype. Note: this function is intended to be used with the output produced by "
                f"torch.linalg.lu_factor. Got {C.scalar_name(piv.dtype)}"
            )
        if C.is_meta(lu, piv):
            m, n = lu.shape[-2:]
            k, b = min(m, n), lu.shape[:-2]
            P, L, U = (
                MetaArray(b + s, lu.dtype) if on else None
                for s, on in (((m, m), unpack_pivots), ((m, k), unpack_data), ((k, n), unpack_data))
            )
        else:
            P, L, U = unpack_arrays(lu, piv, unpack_data, unpack_pivots)
        empty = MetaArray((0,), lu.dtype) if C.is_meta(lu, piv) else np.empty((0,), lu.dtype)
        outs = tuple(_wrap(x if x is not None else empty) for x in (P, L, U))
        ctx.mark_non_differentiable(outs[0])
        ctx.mn = lu.shape[-2:]
        return outs

    @staticmethod
    def backward(ctx, _gP, gL, gU):
        m, n = ctx.mn
        k = min(m, n)
        from ..ops.join import cat

        gLU = None
        if gL.numel() and gU.numel():
            gLs = gL.tril(-1)
            gUs = gU.triu()
            if m >= n:
                top = gLs[..., :k, :] + gUs
                gLU = cat([top, gLs[..., k:, :]], -2) if m > k else top
            else:
                left = gLs + gUs[..., :, :k]
                gLU = cat([left, gUs[..., :, k:]], -1)
        return gLU, None, None, None


def lu_unpack(LU_data: Tensor, LU_pivots: Tensor, unpack_data: bool = True, unpack_pivots=True):
    """(P, L, U) from ``lu_factor``'s compact form."""
    return C.rt("lu_unpack", ("P", "L", "U"))(
        *LuUnpack.apply(LU_data, LU_pivots, unpack_data, unpack_pivots)
    )


def _getrs(lu, piv, b, trans):
    """getrs over the (broadcast) batch in one compiled loop: X column-major per matrix."""
    n = lu.shape[-1]
    piv = C.pivots_array("linalg.lu_solve", piv, n)
    batch = np.broadcast_shapes(lu.shape[:-2], piv.shape[:-1], b.shape[:-2])
    out = C.col_major_copy(b, batch + b.shape[-2:], lu.dtype)
    if out.size == 0 or n == 0:
        return out
    luc, ld = C.col_major(lu)
    nb = out.size // (n * b.shape[-1])
    C.batch_kernels().getrs(
        C.type_code(lu.dtype),
        trans,
        luc,
        C.batch_offsets(luc, batch),
        ld,
        piv,
        C.batch_offsets(piv, batch, core=1),
        out,
        C.batch_offsets(out, batch),
        max(1, n),
        n,
        b.shape[-1],
        C.batch_threads(nb, n),
        C.trsm_block(n),
    )
    return out


def _trsm_lu_solve(lu, piv, b, trans):
    """getrs by hand for large matrices: a row gather and two trsm on the C-ordered LU (no
    transposed copy of LU, which getrs through SciPy would make)."""
    from ._solve import _trsm

    n = lu.shape[-1]
    batch = np.broadcast_shapes(lu.shape[:-2], piv.shape[:-1], b.shape[:-2])
    perm = _perm_from_pivots(np.broadcast_to(piv, batch + piv.shape[-1:]), n)
    bb = np.broadcast_to(b, batch + b.shape[-2:])
    lub = np.broadcast_to(lu, batch + lu.shape[-2:])
    idx = perm[..., :, None]
    if not trans:  # A = P L U: X = U^{-1} L^{-1} P^T B
        y = _trsm(lub, np.take_along_axis(bb, idx, -2), upper=False, left=True, unit=True)
        return _trsm(lub, y, upper=True, left=True, unit=False)
    # A^T X = B: X = P L^{-T} U^{-T} B (A^H: trans 2)
    y = _trsm(lub, bb, upper=True, left=True, unit=False, trans=trans)
    z = _trsm(lub, y, upper=False, left=True, unit=True, trans=trans)
    x = np.empty_like(z)
    np.put_along_axis(x, np.broadcast_to(idx, z.shape), z, -2)
    return x


class LuSolve(Function):
    _node_name = "LinalgLuSolveBackward0"

    @staticmethod
    def forward(ctx, LU, pivots, B, left, adjoint):
        op = "linalg.lu_solve"
        lu, piv, b = LU._a, pivots._a, B._a
        C.check_matrix(op, lu, "LU", square=True)
        C.check_matrix(op, b, "B")
        C.check_same_dtype(op, lu, b, "LU", "B")
        n = lu.shape[-1]
        # torch's pivot checks (the batch kernels read n pivots per matrix: a shorter or
        # unbroadcast pivots array was read past its end, corrupting the heap)
        if piv.dtype != np.int32:
            raise RuntimeError(f"{op}: pivots should be a Tensor of scalar type torch.int32")
        if piv.ndim == 0 or piv.shape[-1] != n:
            raise RuntimeError(
                f"{op}: Number of pivots per batch should be same as the dimension of the matrix"
            )
        if tuple(piv.shape) != tuple(lu.shape[:-1]):
            raise RuntimeError(
                f"{op}: Expected LU.shape[:-1] and pivots.shape to be the same, but got pivots "
                f"with shape {list(piv.shape)} instead"
            )
        if (b.shape[-2] if left else b.shape[-1]) != n:
            raise RuntimeError(
                f"{op}: Incompatible shapes of A and B for the equation "
                f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})"
            )
        # left: op(A) X = B; right: X op(A) = B  <=>  op(A)^T X^T = B^T, op(A) = A or A^H
        # (LAPACK's trans 2 for complex, 1 for real); the right adjoint case is
        # conj(A) X^T = B^T  <=>  A conj(X^T) = conj(B^T)
        # getrs reads a column-major LU (lu_factor's layout, as torch's) without a copy; a
        # row-major one it would transpose-copy, which the trsm route avoids from n = 128
        if C.is_meta(lu, piv, b):  # X column-major (left), row-major (right)
            check_same_device(op, LU, pivots, B)
            batch = np.broadcast_shapes(lu.shape[:-2], piv.shape[:-1], b.shape[:-2])
            X = C.meta(batch + b.shape[-2:], lu.dtype, col_major=left)
            ctx.save_for_backward(LU, pivots, X)
            ctx.args = (left, adjoint, lu.shape, b.shape)
            return X
        fortran = lu.ndim >= 2 and lu.strides[-2] == lu.itemsize
        solver = _trsm_lu_solve if n >= 128 and not fortran else _getrs
        cplx = lu.dtype.kind == "c"
        if left:
            x = solver(lu, piv, b, (2 if cplx else 1) if adjoint else 0)
        elif adjoint and cplx:
            x = np.conj(np.swapaxes(solver(lu, piv, np.conj(np.swapaxes(b, -1, -2)), 0), -1, -2))
        else:
            x = np.swapaxes(solver(lu, piv, np.swapaxes(b, -1, -2), 0 if adjoint else 1), -1, -2)
        # left: X column-major per matrix, as torch's (no copy)
        X = _wrap(x if left else np.ascontiguousarray(x))
        ctx.save_for_backward(LU, pivots, X)
        ctx.args = (left, adjoint, lu.shape, b.shape)
        return X

    @staticmethod
    def backward(ctx, gX):
        LU, piv, X = ctx.saved_tensors
        left, adjoint, lshape, bshape = ctx.args
        # with A = P L U: X = op(A)^{-1} B (left) or B op(A)^{-1} (right)
        gB = lu_solve(LU, piv, gX, left=left, adjoint=not adjoint)
        gLU = None
        if ctx.needs_input_grad[0]:
            if left:
                gA = -(gB @ C.mH(X)) if not adjoint else -(X @ C.mH(gB))
            else:
                gA = -(C.mH(X) @ gB) if not adjoint else -(C.mH(gB) @ X)
            P, L, U = lu_unpack(LU, piv)
            # A = P L U: gL = (P^T gA U^T) strictly lower, gU = (L^T P^T gA) upper
            PtgA = C.mT(P) @ gA
            gLU = (PtgA @ C.mH(U)).tril(-1) + (C.mH(L) @ PtgA).triu()
            gLU = sum_to_shape(gLU, lshape)
        gB = sum_to_shape(gB, bshape) if ctx.needs_input_grad[2] else None
        return gLU, None, gB, None, None


def lu_solve(
    LU: Tensor, pivots: Tensor, B: Tensor, *, left: bool = True, adjoint: bool = False, out=None
) -> Tensor:
    """Solve with ``lu_factor``'s output (LAPACK getrs)."""
    return C.copy_out(out, LuSolve.apply(LU, pivots, B, left, adjoint))


# ------------------------------------------------------------------ LDL
def _ldl_routine(dt: np.dtype, hermitian: bool) -> str:
    """LAPACK's he* routines for complex Hermitian input, sy* otherwise (complex symmetric
    without ``hermitian``, as torch)."""
    return "he" if hermitian and dt.kind == "c" else "sy"


def ldl_factor_ex(A: Tensor, *, hermitian: bool = False, check_errors: bool = False, out=None):
    """Bunch-Kaufman LDL^T factorization (LAPACK sytrf, lower): compact LD, pivots, info.
    Complex input with ``hermitian=True``: LDL^H (hetrf)."""
    op = "torch.linalg.ldl_factor_ex"
    a = C.check_square_float(op, A)
    herm = _ldl_routine(a.dtype, hermitian) == "he"
    if C.is_meta(a):  # LD column-major, pivots (batch, n), info (batch)
        r = C.rt("linalg_ldl_factor_ex", ("LD", "pivots", "info"))(
            C.meta(a.shape, a.dtype, True),
            C.meta(a.shape[:-1], np.int32),
            C.meta(a.shape[:-2], np.int32),
        )
        return C.copy_out(out, r)
    # LD column-major per matrix (torch's strides (1, n)): A is copied once into the result
    # and sytrf factors it there in place; ldl_solve's sytrs then reads it without a copy
    ld = C.col_major_copy(a)
    n = a.shape[-1]
    piv = np.zeros(a.shape[:-1], np.int32)
    info = np.zeros(a.shape[:-2], np.int32)
    nb = info.size
    if n and nb:
        C.batch_kernels().sytrf(
            C.type_code(a.dtype),
            herm,
            ld,
            C.batch_offsets(ld, a.shape[:-2]),
            n,
            n,
            piv.reshape(nb, n),
            info.reshape(-1),
            C.batch_threads(nb, n),
        )
    if check_errors:
        C.raise_first(op, info, lambda i: f"LDL factorization failed (info = {i}).")
    r = C.rt("linalg_ldl_factor_ex", ("LD", "pivots", "info"))(
        _wrap(ld), C.int_tensor(piv), C.int_tensor(info)
    )
    return C.copy_out(out, r)


def ldl_factor(A: Tensor, *, hermitian: bool = False, out=None):
    """Compact LDL^T factorization; raises ``LinAlgError`` when D is singular."""
    LD, piv, info = ldl_factor_ex(A, hermitian=hermitian)
    if not C.is_meta(info):
        C.raise_first(
            "torch.linalg.ldl_factor",
            info._a,
            lambda i: (
                f"The factorization could not be completed because the input matrix is singular "
                f"(D[{i},{i}] is exactly zero)."
            ),
        )
    return C.copy_out(out, C.rt("linalg_ldl_factor", ("LD", "pivots"))(LD, piv))


def ldl_solve(LD: Tensor, pivots: Tensor, B: Tensor, *, hermitian: bool = False, out=None):
    """Solve ``A X = B`` with ``ldl_factor``'s output (LAPACK sytrs)."""
    op = "torch.linalg.ldl_solve"
    ld, piv, b = LD._a, pivots._a, B._a
    C.check_matrix(op, ld, "LD", square=True)
    C.check_matrix(op, b, "B")
    C.check_same_dtype(op, ld, b, "LD", "B")
    # torch's pivot checks (sytrs reads n pivots per matrix: fewer were read past their end)
    if piv.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: Expected pivots to be integers. Got {C.scalar_name(piv.dtype)}")
    if tuple(piv.shape) != tuple(ld.shape[:-1]):
        raise RuntimeError(
            f"{op}: Expected LD.shape[:-1] and pivots.shape to be the same, but got pivots with "
            f"shape {list(piv.shape)} instead"
        )
    herm = _ldl_routine(ld.dtype, hermitian) == "he"
    n = ld.shape[-1]
    if b.shape[-2] != n:
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation AX = B "
            f"({n}x{n} and {b.shape[-2]}x{b.shape[-1]})"
        )
    if C.is_meta(ld, piv, b):  # X column-major
        check_same_device(op, LD, pivots, B)
        batch = np.broadcast_shapes(ld.shape[:-2], piv.shape[:-1], b.shape[:-2])
        return C.copy_out(out, C.meta(batch + b.shape[-2:], ld.dtype, True))
    p = np.asarray(piv)
    if p.dtype != np.int32 or (p.ndim and p.strides[-1] != 4):
        p = np.ascontiguousarray(p, dtype=np.int32)
    if p.size and (int(np.abs(p).min()) < 1 or int(np.abs(p).max()) > n):
        raise RuntimeError(f"{op}: pivots must be LAPACK's (sytrf's) pivots in [-{n}, {n}]")
    batch = np.broadcast_shapes(ld.shape[:-2], p.shape[:-1], b.shape[:-2])
    x = C.col_major_copy(b, batch + b.shape[-2:], ld.dtype)
    if x.size and n:
        ldc, lda = C.col_major(ld)
        nb = x.size // (n * b.shape[-1])
        C.batch_kernels().sytrs(
            C.type_code(ld.dtype),
            herm,
            ldc,
            C.batch_offsets(ldc, batch),
            lda,
            p,
            C.batch_offsets(p, batch, core=1),
            x,
            C.batch_offsets(x, batch),
            max(1, n),
            n,
            b.shape[-1],
            C.batch_threads(nb, n),
        )
    x = np.ascontiguousarray(x)
    return C.copy_out(out, _wrap(x))
