"""Orthogonal and spectral decompositions: ``qr``, ``svd``, ``svdvals``, ``eigh``,
``eigvalsh``, ``eig``, ``eigvals``, and what is built on them: ``pinv``, ``matrix_rank``,
``lstsq``, ``householder_product``.

Forward: NumPy's batched LAPACK gufuncs (``np.linalg.qr/svd/eigh/eig``: geqrf/gesdd/syevd/geev,
the routines torch calls). Backward: torch's formulas with differentiable tensor ops; like
torch, the eigenvector/singular-vector gradients divide by eigenvalue gaps, so they are inf/NaN
for repeated eigenvalues (torch documents this), while eigenvalue-only losses stay finite.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ..ops.join import cat
from . import _common as C
from ._solve import solve_triangular

_wrap = Tensor._make


def _wants_grad(ctx) -> bool:
    return any(getattr(ctx, "needs_input_grad", (False,)))


# ------------------------------------------------------------------ qr
class Qr(Function):
    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        op = "linalg.qr"
        a = A._a
        C.check_matrix(op, a)
        C.check_float(op, a)
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(
                f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                "(default), 'r', or 'complete'"
            )
        m, n = a.shape[-2:]
        if a.size == 0:
            k = min(m, n)
            qc = m if mode == "complete" else k
            q = np.zeros(a.shape[:-2] + ((m, qc) if mode != "r" else (0,)), a.dtype)
            if mode != "r" and qc:
                q[...] = np.eye(m, qc, dtype=a.dtype)
            r = np.zeros(a.shape[:-2] + ((qc if mode == "complete" else k), n), a.dtype)
            Q, R = _wrap(q), _wrap(r)
        elif mode == "r":
            Q, R = _wrap(np.empty((0,), a.dtype)), _wrap(np.linalg.qr(a, mode="r"))
        else:
            q, r = np.linalg.qr(a, mode=mode)
            Q, R = _wrap(q), _wrap(r)
        ctx.save_for_backward(Q, R)
        ctx.mode = mode
        return Q, R

    @staticmethod
    def backward(ctx, gQ, gR):
        Q, R = ctx.saved_tensors
        mode = ctx.mode
        if mode == "r":
            raise RuntimeError(
                "The derivative of linalg.qr depends on Q, which is not computed when mode='r'. "
                "Please use linalg.qr(A, mode='reduced') if you are going to differentiate "
                "through linalg.qr."
            )
        m, n = Q.shape[-2], R.shape[-1]
        if mode == "complete" and m > n:
            raise RuntimeError(
                "The QR decomposition is not differentiable when mode='complete' and nrows > ncols."
            )
        if m >= n:
            return _qr_square_grad(Q, R, gQ, gR), None
        # wide: A = [X | Y], R = [U | V], X = Q U
        U, V = R[..., :, :m], R[..., :, m:]
        gU, gV = gR[..., :, :m], gR[..., :, m:]
        Y = Q @ V
        gQ2 = gQ + Y @ C.mT(gV) if gV is not None else gQ
        gX = _qr_square_grad(Q, U, gQ2, gU)
        gY = Q @ gV
        return cat([gX, gY], -1), None


def _qr_square_grad(Q, R, gQ, gR):
    # gA = (gQ + Q copyltu(M)) R^{-T},  M = R gR^T - gQ^T Q
    M = R @ C.mT(gR) - C.mT(gQ) @ Q
    Ml = M.tril(-1)
    sym = Ml + C.mT(Ml) + M.diagonal(dim1=-2, dim2=-1).diag_embed()
    b = gQ + Q @ sym
    return solve_triangular(C.mT(R), b, upper=False, left=False)


def qr(A: Tensor, mode: str = "reduced", *, out=None):
    """QR decomposition (Householder, LAPACK geqrf): ``mode`` reduced / complete / r."""
    return C.copy_out(out, C.rt("linalg_qr", ("Q", "R"))(*Qr.apply(A, mode)))


# ------------------------------------------------------------------ svd
def _check_finite(op: str, a: np.ndarray) -> None:
    if not np.isfinite(a).all():
        raise C.LinAlgError(
            f"{op}: The algorithm failed to converge because the input matrix contained "
            "non-finite values."
        )


def _svd_arrays(a: np.ndarray, full: bool, uv: bool = True):
    m, n = a.shape[-2:]
    k = min(m, n)
    if a.size == 0:
        batch = a.shape[:-2]
        s = np.zeros(batch + (k,), a.dtype)
        if not uv:
            return s
        um, vn = (m, n) if full else (k, k)
        u = np.broadcast_to(np.eye(m, um, dtype=a.dtype), batch + (m, um)).copy()
        vh = np.broadcast_to(np.eye(vn, n, dtype=a.dtype), batch + (vn, n)).copy()
        return u, s, vh
    if not uv:
        return np.linalg.svd(a, compute_uv=False)
    return np.linalg.svd(a, full_matrices=full)


class Svd(Function):
    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A, full_matrices):
        op = "linalg.svd"
        a = A._a
        C.check_matrix(op, a)
        C.check_float(op, a)
        _check_finite(op, a)
        u, s, vh = (_wrap(x) for x in _svd_arrays(a, full_matrices))
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        return _svd_backward(U, S, Vh, gU, gS, gVh), None


def _svd_backward(U, S, Vh, gU, gS, gVh):
    """torch's linalg_svd_backward (real case)."""
    m, n = U.shape[-2], Vh.shape[-1]
    k = S.shape[-1]
    if U.shape[-1] != k:  # full_matrices: only the first k vectors matter
        U = U[..., :, :k]
        gU = gU[..., :, :k] if gU is not None else None
    if Vh.shape[-2] != k:
        Vh = Vh[..., :k, :]
        gVh = gVh[..., :k, :] if gVh is not None else None
    gU = gU if gU is not None and bool(np.any(gU._a)) else None
    gVh = gVh if gVh is not None and bool(np.any(gVh._a)) else None
    if gU is None and gVh is None:
        if gS is None:
            return None
        return (U * gS.unsqueeze(-2)) @ Vh
    V = C.mT(Vh)
    gV = C.mT(gVh) if gVh is not None else None
    UhgU = C.mT(U) @ gU if gU is not None else None
    VhgV = C.mT(V) @ gV if gV is not None else None
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1)
    E = E + _wrap(np.eye(k, dtype=S._a.dtype))
    Su, Sl = S.unsqueeze(-2), S.unsqueeze(-1)
    if UhgU is not None and VhgV is not None:
        gA = ((UhgU - C.mT(UhgU)) * Su + Sl * (VhgV - C.mT(VhgV))) / E
    elif UhgU is not None:
        gA = (UhgU - C.mT(UhgU)) * Su / E
    else:
        gA = Sl * (VhgV - C.mT(VhgV)) / E
    if gS is not None:
        gA = gA + gS.diag_embed()
    if m > k and gU is not None:
        gA = U @ gA
        gUSinv = gU / Su
        gA = gA + gUSinv - U @ (C.mT(U) @ gUSinv)
        gA = gA @ Vh
    elif n > k and gV is not None:
        gA = gA @ Vh
        SinvgVh = C.mT(gV) / Sl
        gA = gA + SinvgVh - (SinvgVh @ V) @ Vh
        gA = U @ gA
    else:
        gA = U @ (gA @ Vh)
    return gA


def svd(A: Tensor, full_matrices: bool = True, *, driver=None, out=None):
    """``A = U diag(S) Vh`` (LAPACK gesdd); S descending."""
    return C.copy_out(out, C.rt("linalg_svd", ("U", "S", "Vh"))(*Svd.apply(A, full_matrices)))


class Svdvals(Function):
    _node_name = "LinalgSvdBackward0"

    @staticmethod
    def forward(ctx, A):
        op = "linalg.svd"
        a = A._a
        C.check_matrix(op, a)
        C.check_float(op, a)
        _check_finite(op, a)
        if _wants_grad(ctx):
            u, s, vh = _svd_arrays(a, False)
            ctx.save_for_backward(_wrap(u), _wrap(vh), A)
        else:
            s = _svd_arrays(a, False, uv=False)
        return _wrap(s)

    @staticmethod
    def backward(ctx, gS):
        U, Vh, A = ctx.saved_tensors
        if grad_state.enabled:  # create_graph: U and Vh as functions of A
            U, _, Vh = Svd.apply(A, False)
        return (U * gS.unsqueeze(-2)) @ Vh


def svdvals(A: Tensor, *, driver=None, out=None) -> Tensor:
    """Singular values, descending."""
    return C.copy_out(out, Svdvals.apply(A))


# ------------------------------------------------------------------ eigh
def _eigh_arrays(op: str, a: np.ndarray, uplo: str, vectors: bool = True):
    if uplo not in ("L", "U"):
        raise RuntimeError(f"{op}: Expected UPLO argument to be 'L' or 'U', but got {uplo}")
    if a.size == 0:
        w = np.zeros(a.shape[:-1], a.dtype)
        return (w, np.zeros(a.shape, a.dtype)) if vectors else w
    if not np.isfinite(a).all():
        raise C.LinAlgError(
            f"{op}: The algorithm failed to converge because the input matrix is "
            "ill-conditioned or has too many repeated eigenvalues (error code: "
            f"{a.shape[-1] - 1})."
        )
    if vectors:
        return np.linalg.eigh(a, UPLO=uplo)
    return np.linalg.eigvalsh(a, UPLO=uplo)


class Eigh(Function):
    _node_name = "LinalgEighBackward0"

    @staticmethod
    def forward(ctx, A, uplo, vectors_out):
        op = "linalg.eigh" if vectors_out else "linalg.eigvalsh"
        a = C.check_square_float(op, A)
        if vectors_out or _wants_grad(ctx):
            w, v = _eigh_arrays(op, a, uplo)
            W, V = _wrap(w), _wrap(v)
            ctx.save_for_backward(W, V)
        else:
            W, V = _wrap(_eigh_arrays(op, a, uplo, vectors=False)), None
        ctx.vectors_out = vectors_out
        return (W, V) if vectors_out else W

    @staticmethod
    def backward(ctx, gL, gV=None):
        L, V = ctx.saved_tensors
        if gV is None or not bool(np.any(gV._a)):
            return (V * gL.unsqueeze(-2)) @ C.mT(V), None, None
        # torch: gA = V (diag(gL) + skew(V^T gV) / E) V^T, E_ij = L_j - L_i
        VhgV = C.mT(V) @ gV
        VhgV = 0.5 * (VhgV - C.mT(VhgV))
        n = L.shape[-1]
        E = L.unsqueeze(-2) - L.unsqueeze(-1)
        E = E + _wrap(np.eye(n, dtype=L._a.dtype))
        inner = VhgV / E
        eye = _wrap(np.eye(n, dtype=L._a.dtype))
        inner = inner * (1 - eye) + gL.diag_embed()
        return V @ inner @ C.mT(V), None, None


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices (syevd)."""
    r = C.rt("linalg_eigh", ("eigenvalues", "eigenvectors"))(*Eigh.apply(A, UPLO, True))
    return C.copy_out(out, r)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices."""
    return C.copy_out(out, Eigh.apply(A, UPLO, False))


# ------------------------------------------------------------------ eig
def _complex_of(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex64 if dt == np.float32 else np.complex128)


class Eig(Function):
    _node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, A, vectors_out):
        op = "linalg.eig" if vectors_out else "linalg.eigvals"
        a = C.check_square_float(op, A)
        if not np.isfinite(a).all():
            raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
        cd = _complex_of(a.dtype)
        if a.size == 0:
            w, v = np.zeros(a.shape[:-1], cd), np.zeros(a.shape, cd)
        elif vectors_out or _wants_grad(ctx):
            w, v = np.linalg.eig(a)
        else:
            w, v = np.linalg.eigvals(a), None
        W = _wrap(np.asarray(w, dtype=cd))
        V = _wrap(np.asarray(v, dtype=cd)) if v is not None else None
        if V is not None:
            ctx.save_for_backward(W, V)
        ctx.vectors_out = vectors_out
        ctx.real = a.dtype.kind == "f"
        return (W, V) if vectors_out else W

    @staticmethod
    def backward(ctx, gL, gV=None):
        # torch's linalg_eig_backward, on arrays (first order only)
        W, V = ctx.saved_tensors
        w, v = W._a, V._a
        n = w.shape[-1]
        vh = np.conj(np.swapaxes(v, -1, -2))
        gl = np.zeros_like(w) if gL is None else gL._a
        if gV is None or not np.any(gV._a):
            ga = np.linalg.solve(vh, gl[..., :, None] * vh)
        else:
            gv = gV._a
            vhgv = vh @ gv
            if np.abs(np.imag(np.diagonal(vhgv, axis1=-2, axis2=-1))).max(initial=0) > 1e-2:
                raise RuntimeError(
                    "linalg_eig_backward: The eigenvectors in the complex case are specified up "
                    "to multiplication by e^{i phi}. The specified loss function depends on this "
                    "quantity, so it is ill-defined."
                )
            diag_re = np.real(np.diagonal(vhgv, axis1=-2, axis2=-1))
            ga = vhgv - vh @ (v * diag_re[..., None, :])
            E = np.conj(w)[..., None, :] - np.conj(w)[..., :, None]
            E[..., np.arange(n), np.arange(n)] = 1.0
            with np.errstate(all="ignore"):
                ga = ga / E
            ga[..., np.arange(n), np.arange(n)] = gl
            ga = np.linalg.solve(vh, ga @ vh)
        if ctx.real:
            ga = np.ascontiguousarray(np.real(ga))
        return _wrap(ga), None


def eig(A: Tensor, *, out=None):
    """Eigenvalues and eigenvectors of general square matrices (complex results, geev)."""
    r = C.rt("linalg_eig", ("eigenvalues", "eigenvectors"))(*Eig.apply(A, True))
    return C.copy_out(out, r)


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """Eigenvalues of general square matrices (complex)."""
    return C.copy_out(out, Eig.apply(A, False))
