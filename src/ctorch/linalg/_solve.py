"""Inverses, solves and determinants: ``inv(_ex)``, ``solve(_ex)``, ``solve_triangular``,
``det``, ``slogdet``, ``tensorinv``, ``tensorsolve``.

Forward: ``ctorch._core.lapack_batch``'s compiled loops over the batch (GIL released) for
``solve`` (getrf + getrs with blocked triangular solves), ``inv`` from n = 8 on (getrf +
getri) and ``solve_triangular`` (BLAS trsm, blocked with GEMM updates; torch's choice too: a
zero diagonal gives inf/NaN, not an error), ``det``/``slogdet`` (getrf); NumPy's batched
gufunc for small ``inv`` (a singular matrix there sends ``inv`` to the getri loop, which reports
LAPACK's ``info``). Backward: torch's formulas, written with differentiable tensor ops (so
double backward works)."""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..ops._util import check_same_device, sum_to_shape
from . import _common as C

_wrap = Tensor._make


# ------------------------------------------------------------------ inv
# from n = 8 on lapack_batch's getrf + getri loop beat np.linalg.inv (1.1-1.8x, 64 16x16 to
# 512x512); below, NumPy's gufunc (3x3: 6 us against 17 us)
GETRI_MIN_N = 8


def _getri_inv(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, info) by LAPACK getrf + getri per matrix; NaN where getrf finds U singular.
    NumPy's inv is gesv against the identity: its n-column triangular solves were ~2x slower
    than getri's triangular inverse with OpenBLAS on a 512x512 matrix (Xeon, AVX-512)."""
    n = a.shape[-1]
    # the result column-major per matrix (torch's strides (1, n)): A is copied into it once
    # and getrf/getri work there in place, in one compiled loop over the batch. (Factoring
    # the free view A^T instead would pivot differently: getrf's info, the first zero of U's
    # diagonal, is torch's only for A.)
    out = C.col_major_copy(a)
    info = np.zeros(a.shape[:-2], np.int32)
    nb = info.size
    if n and nb:
        C.batch_kernels().inv(
            C.type_code(a.dtype),
            out,
            C.batch_offsets(out, a.shape[:-2]),
            max(1, n),
            n,
            info.reshape(-1),
            C.batch_threads(nb, n),
        )
        bad = info > 0
        if bad.any():
            out[bad] = C.nan_of(a.dtype)
    return out, info


def _inv_array(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(inverse, info): getrf + getri in lapack_batch's loop from n = 8 on; below, NumPy's
    batched gufunc, or that loop when something is singular."""
    if a.shape[-1] >= GETRI_MIN_N and a.size:
        with np.errstate(all="ignore"):
            return _getri_inv(a)
    try:
        with np.errstate(all="ignore"):
            return np.linalg.inv(a), np.zeros(a.shape[:-2], np.int32)
    except np.linalg.LinAlgError:
        pass
    with np.errstate(all="ignore"):
        return _getri_inv(a)


class InvEx(Function):
    _node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, A, check_errors):
        a = C.check_square_float("linalg.inv", A)
        if C.is_meta(a):
            r = C.meta(a.shape, a.dtype, col_major=True)
            ctx.save_for_backward(r)
            return r, C.meta(a.shape[:-2], np.int32)
        inv, info = _inv_array(a)
        if check_errors:
            C.raise_first("linalg.inv", info, lambda i: C.SINGULAR_INV.format(i))
        r = _wrap(inv)
        ctx.save_for_backward(r)
        return r, C.int_tensor(info)

    @staticmethod
    def backward(ctx, g, _ginfo):
        (r,) = ctx.saved_tensors
        rt = C.mH(r)
        return -(rt @ g @ rt), None


def inv_ex(A: Tensor, *, check_errors: bool = False, out=None):
    """Inverse of square matrices with LAPACK's ``info`` (0: fine, i > 0: U[i, i] is zero)."""
    r = C.rt("linalg_inv_ex", ("inverse", "info"))(*InvEx.apply(A, check_errors))
    return C.copy_out(out, r)


def inv(A: Tensor, *, out=None) -> Tensor:
    """Inverse of (a batch of) square matrices; ``LinAlgError`` when one is singular."""
    return C.copy_out(out, InvEx.apply(A, True)[0])


# ------------------------------------------------------------------ solve
def _solve_arrays(op: str, a: np.ndarray, b: np.ndarray, left: bool):
    """Checks and broadcasting of ``solve``: returns (A, B as matrices, vector_case)."""
    C.check_matrix(op, a, square=True)
    C.check_float(op, a)
    C.check_float(op, b)
    C.check_same_dtype(op, a, b)
    vector = C.is_vector_rhs(a, b)
    bm = b[..., None] if vector else b
    if bm.ndim < 2:
        raise RuntimeError(f"{op}: The input tensor B must have at least 1 dimensions.")
    n = a.shape[-1]
    k = bm.shape[-2] if left else bm.shape[-1]
    if k != n:
        rows, cols = (bm.shape[-2], bm.shape[-1])
        raise RuntimeError(
            f"{op}: Incompatible shapes of A and B for the equation "
            f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {rows}x{cols})"
        )
    return vector


def _gesv(a: np.ndarray, b: np.ndarray, batch: tuple) -> tuple[np.ndarray, np.ndarray]:
    """(X, getrf's info) of A X = B over the broadcast batch by getrf + getrs in one compiled
    loop; NaN where A is singular."""
    n = a.shape[-1]
    lu = C.col_major_copy(a, batch + a.shape[-2:])
    x = C.col_major_copy(b, batch + b.shape[-2:], a.dtype)
    info = np.zeros(batch, np.int32)
    nb = info.size
    if n and nb:
        with np.errstate(all="ignore"):
            C.batch_kernels().solve(
                C.type_code(a.dtype),
                lu,
                C.batch_offsets(lu, batch),
                max(1, n),
                x,
                C.batch_offsets(x, batch),
                max(1, n),
                n,
                b.shape[-1],
                info.reshape(-1),
                C.batch_threads(nb, n),
                C.trsm_block(n),
            )
        bad = info > 0
        if bad.any():
            x[bad] = C.nan_of(a.dtype)
    return x, info


class SolveEx(Function):
    _node_name = "LinalgSolveExBackward0"

    @staticmethod
    def forward(ctx, A, B, left, check_errors):
        op = "linalg.solve"
        a, b = A._a, B._a
        vector = _solve_arrays(op, a, b, left)
        if C.is_meta(a, b):
            check_same_device(op, A, B)
            bm = b.shape + (1,) if vector else b.shape
            batch = np.broadcast_shapes(a.shape[:-2], bm[:-2])
            shape = batch + bm[-2:]
            # X column-major per matrix (left), row-major (right); for vectors the (batch, n)
            # result column-major as torch's
            X = C.meta(shape[:-1] if vector else shape, a.dtype, col_major=left)
            ctx.save_for_backward(A, X)
            ctx.left, ctx.vector = left, vector
            ctx.shapes = (a.shape, B._a.shape)
            return X, C.meta(batch, np.int32)
        bm = b[..., None] if vector else b
        if not left:  # X A = B  <=>  A^T X^T = B^T
            a = np.swapaxes(a, -1, -2)
            bm = np.swapaxes(bm, -1, -2)
        batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
        # getrf + getrs in one compiled loop, getrs's triangular solves blocked: 1.1-1.3x
        # faster than np.linalg.solve (OpenBLAS gesv) on 512x512 and on 64 64x64 matrices
        x, info = _gesv(a, bm, batch)
        if check_errors:
            C.raise_first(
                "torch.linalg.solve",
                info,
                lambda i: "The solver failed because the input matrix is singular.",
            )
        if not left:
            x = np.swapaxes(x, -1, -2)
        if vector:
            x = x[..., 0]
        # X column-major per matrix (torch's strides) for matrix B, contiguous otherwise
        X = _wrap(x if left and not vector else np.ascontiguousarray(x))
        ctx.save_for_backward(A, X)
        ctx.left, ctx.vector = left, vector
        ctx.shapes = (a.shape, B._a.shape)
        return X, C.int_tensor(info)

    @staticmethod
    def backward(ctx, gX, _ginfo):
        A, X = ctx.saved_tensors
        left, vector = ctx.left, ctx.vector
        At = C.mH(A)
        # gB = A^{-H} gX (left) / gX A^{-H} (right); gA = -gB X^H (left) / -X^H gB (right)
        gB = solve(At, gX, left=left)
        gA = None
        if ctx.needs_input_grad[0]:
            gBm = gB.unsqueeze(-1) if vector else gB
            Xm = X.unsqueeze(-1) if vector else X
            gA = -(gBm @ C.mH(Xm)) if left else -(C.mH(Xm) @ gBm)
            gA = sum_to_shape(gA, A.shape)
        gB = sum_to_shape(gB, ctx.shapes[1]) if ctx.needs_input_grad[1] else None
        return gA, gB, None, None


def solve_ex(A: Tensor, B: Tensor, *, left: bool = True, check_errors: bool = False, out=None):
    """``solve`` with LAPACK's ``info`` instead of an error for singular matrices."""
    r = C.rt("linalg_solve_ex", ("result", "info"))(*SolveEx.apply(A, B, left, check_errors))
    return C.copy_out(out, r)


def solve(A: Tensor, B: Tensor, *, left: bool = True, out=None) -> Tensor:
    """Solve ``A X = B`` (``X A = B`` with ``left=False``); B may be a (batch of) vector(s)."""
    return C.copy_out(out, SolveEx.apply(A, B, left, True)[0])


# ------------------------------------------------------------------ solve_triangular
def _trsm(
    a: np.ndarray, b: np.ndarray, upper: bool, left: bool, unit: bool, trans: int = 0
) -> np.ndarray:
    """X with op(A) X = B (left) or X op(A) = B (right), op(A) = A, A^T or A^H (``trans`` 0,
    1 or 2, BLAS's flag), by lapack_batch's blocked trsm over the (broadcast) batch; only A's
    ``upper`` (or lower) triangle is read. X is column-major per matrix for a column-major A
    (torch's strides), C-ordered otherwise: whichever BLAS reads without a transposed
    operand (a transposed triangle cost 1.3-1.5x on 512x512 and on 64 64x64 matrices)."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    n = a.shape[-1]
    it = a.itemsize
    s0, s1 = a.strides[-2:]
    if n == 1 or (s0 == it and s1 % it == 0 and s1 >= n * it):
        # column-major A (torch's layout of its factors): BLAS solves op(A) X = B (side L) or
        # X op(A) = B (side R) on a column-major X (torch's strides)
        m, ld, lower, tr, side_left = a, (s1 // it if n > 1 else 1), not upper, trans, left
        out = C.col_major_empty(batch + b.shape[-2:], b.dtype)
        r, c = b.shape[-2:]
    else:
        # row-major A is the column-major M = A^T (its other triangle); a C-ordered X is the
        # column-major X^T: op(A) X = B <=> X^T op(M) = B^T (side R), X op(A) = B <=>
        # op(M) X^T = B^T (side L), the same transpose flag (op(A)^T = op(A^T) for A^T and
        # A^H too), no copy of either
        if not (s1 == it and s0 % it == 0 and s0 >= n * it):
            a = np.ascontiguousarray(a)
            s0 = a.strides[-2]
        m, ld, lower, tr, side_left = a, s0 // it, upper, trans, not left
        out = np.empty(batch + b.shape[-2:], b.dtype)
        c, r = b.shape[-2:]
    out[...] = b
    if out.size == 0 or n == 0:
        return out
    nb = out.size // (r * c)
    C.batch_kernels().trsm(
        C.type_code(a.dtype),
        side_left,
        lower,
        int(tr),
        unit,
        r,
        c,
        m,
        C.batch_offsets(m, batch),
        ld,
        out,
        C.batch_offsets(out, batch),
        max(1, r),
        C.batch_threads(nb, n),
        C.trsm_block(n, side_left),
    )
    return out


class SolveTriangular(Function):
    _node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, A, B, upper, left, unitriangular):
        op = "linalg.solve_triangular"
        a, b = A._a, B._a
        C.check_matrix(op, a, square=True)
        C.check_float(op, a)
        C.check_float(op, b)
        C.check_same_dtype(op, a, b)
        C.check_matrix(op, b, "B")
        n = a.shape[-1]
        if (b.shape[-2] if left else b.shape[-1]) != n:
            raise RuntimeError(
                f"{op}: Incompatible shapes of A and B for the equation "
                f"{'AX = B' if left else 'XA = B'} ({n}x{n} and {b.shape[-2]}x{b.shape[-1]})"
            )
        if C.is_meta(a, b):
            check_same_device(op, A, B)
            shape = np.broadcast_shapes(a.shape[:-2], b.shape[:-2]) + b.shape[-2:]
            X = C.meta(shape, a.dtype, col_major=True)
        else:
            with np.errstate(all="ignore"):
                X = _wrap(_trsm(a, b, upper, left, unitriangular))
        ctx.save_for_backward(A, X)
        ctx.args = (upper, left, unitriangular, a.shape, b.shape)
        return X

    @staticmethod
    def backward(ctx, gX):
        A, X = ctx.saved_tensors
        upper, left, unit, ashape, bshape = ctx.args
        gB = solve_triangular(C.mH(A), gX, upper=not upper, left=left, unitriangular=unit)
        gA = None
        if ctx.needs_input_grad[0]:
            gA = -(gB @ C.mH(X)) if left else -(C.mH(X) @ gB)
            k = (1 if upper else -1) if unit else 0
            gA = gA.triu(k) if upper else gA.tril(k)
            gA = sum_to_shape(gA, ashape)
        gB = sum_to_shape(gB, bshape) if ctx.needs_input_grad[1] else None
        return gA, gB, None, None, None


def solve_triangular(
    A: Tensor, B: Tensor, *, upper: bool, left: bool = True, unitriangular: bool = False, out=None
) -> Tensor:
    """Solve a triangular system (only A's ``upper`` or lower triangle is read)."""
    return C.copy_out(out, SolveTriangular.apply(A, B, upper, left, unitriangular))


# ------------------------------------------------------------------ det / slogdet
def _lu_diag(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(U's diagonal, the permutation's sign) of A = P L U for the batch, by getrf in
    lapack_batch's loop on one column-major copy of A (np.linalg.det/slogdet make two copies
    and go through the log: torch multiplies the diagonal, as here)."""
    from ._factor import _getrf

    n = a.shape[-1]
    lu, piv, _ = _getrf(a, fortran=True)
    swaps = np.count_nonzero(piv != np.arange(1, n + 1, dtype=np.int32), axis=-1)
    return np.diagonal(lu, 0, -2, -1), 1 - 2 * (swaps % 2)


class Det(Function):
    _node_name = "LinalgDetBackward0"

    @staticmethod
    def forward(ctx, A):
        a = C.check_square_float("linalg.det", A)
        if C.is_meta(a):
            d = C.meta(a.shape[:-2], a.dtype)
            ctx.save_for_backward(A, d)
            return d
        diag, psign = _lu_diag(a)
        with np.errstate(all="ignore"):
            d = _wrap(np.asarray(np.prod(diag, -1) * psign, dtype=a.dtype))
        ctx.save_for_backward(A, d)
        return d

    @staticmethod
    def backward(ctx, g):
        A, d = ctx.saved_tensors
        if C.is_meta(A, g):  # (the formula's singular-case branches read values)
            return C.meta(A.shape, A._a.dtype)
        return _det_grad(A, d, g)


def _det_grad(A: Tensor, d: Tensor, g: Tensor) -> Tensor:
    """d det / dA = det(A) A^{-T} (cofactor matrix); for singular matrices torch's SVD form
    of the cofactor matrix, det(U) det(V) U diag(prod_{j != i} s_j) V^T. Complex: the
    conjugate cofactor matrix (det is holomorphic), conj(det) A^{-H}."""
    n = A.shape[-1]
    if n == 0:
        return A * 0.0
    da = d._a
    gd = (g * C.cj(d)).unsqueeze(-1).unsqueeze(-2)
    if np.all(da != 0) and np.all(np.isfinite(da)):
        return gd * C.mH(inv(A))
    U, S, Vh = _svd_mod().svd(A, full_matrices=False)
    # prod_{j != i} s_j without dividing by a zero s_i
    idx = np.arange(n)
    masks = np.ones((n, n), dtype=S._a.dtype)
    masks[idx, idx] = 0.0
    others = S.unsqueeze(-2) * _wrap(masks) + _wrap(np.eye(n, dtype=S._a.dtype))
    prods = others.prod(-1)
    sgn = C.cj(det(U) * det(Vh))
    cof = (U * prods.unsqueeze(-2)) @ Vh
    return (g * sgn).unsqueeze(-1).unsqueeze(-2) * cof


def _svd_mod():
    from . import _decomp

    return _decomp


def det(A: Tensor, *, out=None) -> Tensor:
    """Determinant of (a batch of) square matrices (LU)."""
    return C.copy_out(out, Det.apply(A))


class Slogdet(Function):
    _node_name = "LinalgSlogdetBackward0"

    @staticmethod
    def forward(ctx, A):
        a = C.check_square_float("linalg.slogdet", A)
        ctx.set_materialize_grads(False)  # (a loss of the sign alone: no gradient, as torch)
        if C.is_meta(a):
            sign = C.meta(a.shape[:-2], a.dtype)
            logabs = C.meta(a.shape[:-2], C.real_dtype(a.dtype))
            ctx.save_for_backward(A, sign)
            return sign, logabs
        diag, psign = _lu_diag(a)
        with np.errstate(all="ignore"):
            absd = np.abs(diag)
            l = np.sum(np.log(absd), -1)
            if a.dtype.kind == "c":
                phase = diag / absd
            else:  # torch's sign: 0 for NaN
                phase = (diag > 0).astype(a.dtype) - (diag < 0).astype(a.dtype)
            s = np.prod(phase, -1) * psign
            zero = (absd == 0).any(-1)
            if zero.any():
                s = np.where(zero, 0, s)
                l = np.where(zero, -np.inf, l)
        sign = _wrap(np.asarray(s, dtype=a.dtype))
        logabs = _wrap(np.asarray(l, dtype=C.real_dtype(a.dtype)))
        # the sign requires grad as torch's does (a real sign's gradient is ignored in
        # backward: a loss of the sign alone leaves A.grad None, as torch)
        ctx.save_for_backward(A, sign)
        return sign, logabs

    @staticmethod
    def backward(ctx, gs, gl):
        A, sign = ctx.saved_tensors
        # torch: gA = (g_logabs - i Im(conj(g_sign) sign)) A^{-H}
        g = gl
        if C.is_complex(A) and gs is not None and bool(np.any(gs._a)):
            gsign = (C.cj(gs) * sign).imag * -1j
            g = gsign if g is None else g + gsign
        if g is None:
            return None
        return g.unsqueeze(-1).unsqueeze(-2) * C.mH(inv(A))


def slogdet(A: Tensor, *, out=None):
    """(sign, log|det|) of square matrices; log|det| is -inf for singular ones."""
    r = C.rt("linalg_slogdet", ("sign", "logabsdet"))(*Slogdet.apply(A))
    return C.copy_out(out, r)


# ------------------------------------------------------------------ tensorinv / tensorsolve
def tensorinv(A: Tensor, ind: int = 2, *, out=None) -> Tensor:
    """Inverse of ``A`` seen as a linear map from its last dims to its first ``ind`` dims."""
    if ind <= 0:
        raise RuntimeError(f"Expected a strictly positive integer for 'ind', but got {ind}")
    shape = tuple(A.shape)
    rows = math.prod(shape[:ind])
    cols = math.prod(shape[ind:])
    if rows != cols:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[ind:]) == "
            f"prod(self.shape[:ind]), but got {cols} != {rows}"
        )
    r = inv(A.reshape(rows, cols)).reshape(shape[ind:] + shape[:ind])
    return C.copy_out(out, r)


def tensorsolve(A: Tensor, B: Tensor, dims=None, *, out=None) -> Tensor:
    """X with ``tensordot(A, X, X.ndim) == B``."""
    nd = A.ndim
    if dims is not None:
        dims = [d % nd for d in dims]
        rest = [i for i in range(nd) if i not in dims]
        A = A.permute(*(rest + dims))
    bshape = tuple(B.shape)
    rshape = tuple(A.shape)[B.ndim :]
    rows = math.prod(bshape)
    cols = math.prod(rshape)
    if rows != cols or tuple(A.shape)[: B.ndim] != bshape:
        raise RuntimeError(
            "Expected self to satisfy the requirement prod(self.shape[other.ndim:]) == "
            f"prod(self.shape[:other.ndim]), but got {cols} != {rows}"
        )
    r = solve(A.reshape(rows, cols), B.reshape(rows)).reshape(rshape)
    return C.copy_out(out, r)
