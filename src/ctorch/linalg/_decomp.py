"""Orthogonal and spectral decompositions: ``qr``, ``svd``, ``svdvals``, ``eigh``,
``eigvalsh``, ``eig``, ``eigvals``, and what is built on them: ``pinv``, ``matrix_rank``,
``lstsq``, ``householder_product``.

Forward: NumPy's batched LAPACK gufuncs (``np.linalg.qr/svd/eigh/eig``: geqrf/gesdd/syevd/geev,
the routines torch calls). Backward: torch's formulas with differentiable tensor ops; like
torch, the eigenvector/singular-vector gradients divide by eigenvalue gaps, so they are inf/NaN
for repeated eigenvalues (torch documents this), while eigenvalue-only losses stay finite.
"""

from __future__ import annotations

import functools

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
@functools.lru_cache(maxsize=16)
def _strict_lower(k: int, n: int) -> np.ndarray:
    return np.tril(np.ones((k, n), bool), -1)


def _qr_inplace(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Reduced QR by geqrf + orgqr/ungqr (lapack_batch's compiled loops over the batch), both
    in place in one column-major copy of A (torch's layout for Q and R, strides (1, m)). np.linalg.qr copies A into its own
    buffer and Q and R out of it again: measured 1.2-1.4x slower at 512x512 and on 64 64x64
    matrices, with bitwise the same results."""
    m, n = a.shape[-2:]
    k = min(m, n)
    batch = a.shape[:-2]
    buf = C.col_major_copy(a)
    tau = np.empty(batch + (k,), a.dtype)
    t = C.type_code(a.dtype)
    LB = C.batch_kernels()
    off = C.batch_offsets(buf, batch)
    toff = C.batch_offsets(tau, batch, core=1)
    nb = tau.size // k if k else 0
    nt = C.batch_threads(nb, max(m, n))
    LB.geqrf(t, buf, off, m, n, max(1, m), tau, toff, nt)
    r = C.col_major_copy(buf[..., :k, :])
    np.copyto(r, 0, where=_strict_lower(k, n))  # np.triu made two more full copies
    LB.orgqr(t, buf, off, m, k, k, max(1, m), tau, toff, nt)
    if k == n:
        return buf, r
    q = C.col_major_copy(buf[..., :k], batch + (m, k), a.dtype)  # wide: Q is m x m
    return q, r


class Qr(Function):
    _node_name = "LinalgQrBackward0"

    @staticmethod
    def forward(ctx, A, mode):
        op = "linalg.qr"
        a = C.check_float_matrix(op, A)
        if mode not in ("reduced", "complete", "r"):
            raise RuntimeError(
                f"qr received unrecognized mode '{mode}' but expected one of 'reduced' "
                "(default), 'r', or 'complete'"
            )
        m, n = a.shape[-2:]
        if C.is_meta(a):  # Q and R column-major (LAPACK's), Q empty for mode 'r'
            k = min(m, n)
            qc = m if mode == "complete" else k
            Q = C.meta((0,) if mode == "r" else a.shape[:-2] + (m, qc), a.dtype, True)
            R = C.meta(a.shape[:-2] + (qc, n), a.dtype, True)
        elif a.size == 0:
            k = min(m, n)
            qc = m if mode == "complete" else k
            q = np.zeros(a.shape[:-2] + ((m, qc) if mode != "r" else (0,)), a.dtype)
            if mode != "r" and qc:
                q[...] = np.eye(m, qc, dtype=a.dtype)
            r = np.zeros(a.shape[:-2] + ((qc if mode == "complete" else k), n), a.dtype)
            Q, R = _wrap(q), _wrap(r)
        elif mode == "r":
            Q, R = _wrap(np.empty((0,), a.dtype)), _wrap(np.linalg.qr(a, mode="r"))
        elif mode == "reduced" or m <= n:  # complete is reduced for m <= n
            q, r = _qr_inplace(a)
            Q, R = _wrap(q), _wrap(r)
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
        gQ2 = gQ + Y @ C.mH(gV) if gV is not None else gQ
        gX = _qr_square_grad(Q, U, gQ2, gU)
        gY = Q @ gV
        return cat([gX, gY], -1), None


def _qr_square_grad(Q, R, gQ, gR):
    if C.is_complex(R):
        # torch: gA = (gQ + Q syminvadj(triu(gR R^H - Q^H gQ))) R^{-H}, syminvadj(X) =
        # X + X^H with the real part of the diagonal halved
        X = (gR @ C.mH(R) - C.mH(Q) @ gQ).triu()
        up = X.triu(1)
        sym = up + C.mH(up) + X.diagonal(dim1=-2, dim2=-1).real.diag_embed().to(X.dtype)
        return solve_triangular(C.mH(R), gQ + Q @ sym, upper=False, left=False)
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
        s = np.zeros(batch + (k,), C.real_dtype(a.dtype))
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
        a = C.check_float_matrix(op, A)
        if C.is_meta(a):  # U column-major, S real, Vh row-major (torch's)
            m, n = a.shape[-2:]
            k = min(m, n)
            um, vn = (m, n) if full_matrices else (k, k)
            b = a.shape[:-2]
            u = C.meta(b + (m, um), a.dtype, True)
            s = C.meta(b + (k,), C.real_dtype(a.dtype))
            vh = C.meta(b + (vn, n), a.dtype)
            ctx.save_for_backward(u, s, vh)
            return u, s, vh
        _check_finite(op, a)
        u, s, vh = (_wrap(x) for x in _svd_arrays(a, full_matrices))
        ctx.save_for_backward(u, s, vh)
        return u, s, vh

    @staticmethod
    def backward(ctx, gU, gS, gVh):
        U, S, Vh = ctx.saved_tensors
        return _svd_backward(U, S, Vh, gU, gS, gVh), None


def _svd_backward(U, S, Vh, gU, gS, gVh):
    """torch's linalg_svd_backward (the real case; complex in ``_svd_backward_complex``)."""
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
    if C.is_complex(U):
        return _svd_backward_complex(U, S, Vh, gU, gS, gVh)
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
    return _svd_backward_outer(gA, U, V, Vh, gU, gV, Su, Sl, C.mT)


def _svd_backward_complex(U, S, Vh, gU, gS, gVh):
    """torch's linalg_svd_backward for complex U, Vh (k = min(m, n) vectors each): U and V
    are defined up to a common phase per singular triplet, so the loss must not depend on it
    (Im diag(U^H gU) = -Im diag(V^H gV)); torch raises otherwise, and so does this."""
    k = S.shape[-1]
    V = C.mH(Vh)
    gV = C.mH(gVh) if gVh is not None else None
    UhgU = C.mH(U) @ gU if gU is not None else None
    VhgV = C.mH(V) @ gV if gV is not None else None
    zero = np.zeros(S.shape, S._a.dtype)
    du = np.imag(np.diagonal(UhgU._a, axis1=-2, axis2=-1)) if UhgU is not None else zero
    dv = np.imag(np.diagonal(VhgV._a, axis1=-2, axis2=-1)) if VhgV is not None else zero
    if not np.allclose(du, -dv, rtol=1e-2, atol=1e-2):
        raise RuntimeError(
            "svd_backward: The singular vectors in the complex case are specified up to "
            "multiplication by e^{i phi}. The specified loss function depends on this phase "
            "term, making it ill-defined."
        )
    S2 = S * S
    E = S2.unsqueeze(-2) - S2.unsqueeze(-1) + _wrap(np.eye(k, dtype=S._a.dtype))
    Su, Sl = S.unsqueeze(-2), S.unsqueeze(-1)
    sU = UhgU - C.mH(UhgU) if UhgU is not None else None
    sV = VhgV - C.mH(VhgV) if VhgV is not None else None
    if sU is not None and sV is not None:
        gA = (sU * Su + Sl * sV) / E
    elif sU is not None:
        gA = (sU / E) * Su
    else:
        gA = Sl * (sV / E)
    if gS is not None:
        gA = gA + gS.diag_embed()
    if sU is not None:  # i Im(diag(U^H gU)) / S
        gA = gA + (sU.diagonal(dim1=-2, dim2=-1) / (2 * S)).diag_embed()
    return _svd_backward_outer(gA, U, V, Vh, gU, gV, Su, Sl, C.mH)


def _svd_backward_outer(gA, U, V, Vh, gU, gV, Su, Sl, adj):
    """The last step of linalg_svd_backward: ``U gA Vh``, plus the part of ``gU`` outside
    U's span (m > k) or of ``gV`` outside V's (n > k); ``adj`` is ``mT`` (real) or ``mH``."""
    m, n, k = U.shape[-2], Vh.shape[-1], Su.shape[-1]
    if m > k and gU is not None:
        gA = U @ gA
        gUSinv = gU / Su
        gA = gA + gUSinv - U @ (adj(U) @ gUSinv)
        gA = gA @ Vh
    elif n > k and gV is not None:
        gA = gA @ Vh
        SinvgVh = adj(gV) / Sl
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
        a = C.check_float_matrix(op, A)
        if C.is_meta(a):
            if _wants_grad(ctx):
                u, _, vh = Svd.forward(ctx, A, False)
                ctx.save_for_backward(u, vh, A)
            return C.meta(a.shape[:-2] + (min(a.shape[-2:]),), C.real_dtype(a.dtype))
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
        w = np.zeros(a.shape[:-1], C.real_dtype(a.dtype))
        return (w, np.zeros(a.shape, a.dtype)) if vectors else w
    if not np.isfinite(a).all():
        # torch (MKL's syevd) reports info n - 1 with vectors and n - 2 without; matrices of
        # order 1 and 2 come back as NaN instead (a 1x1 keeps the eigenvector 1)
        n = a.shape[-1]
        if n <= 2:
            w = np.full(a.shape[:-1], np.nan, C.real_dtype(a.dtype))
            v = np.ones(a.shape, a.dtype) if n == 1 else np.full(a.shape, np.nan, a.dtype)
            return (w, v) if vectors else w
        raise C.LinAlgError(
            f"{op}: The algorithm failed to converge because the input matrix is "
            f"ill-conditioned or has too many repeated eigenvalues (error code: "
            f"{n - 1 if vectors else n - 2})."
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
        op = "linalg.eigh"  # torch's convergence error names eigh for eigvalsh too
        if C.is_meta(a):  # real eigenvalues, column-major eigenvectors
            if uplo not in ("L", "U"):
                _eigh_arrays(op, a, uplo)
            W = C.meta(a.shape[:-1], C.real_dtype(a.dtype))
            V = C.meta(a.shape, a.dtype, True)
            ctx.save_for_backward(W, V, A)
            ctx.vectors_out, ctx.uplo = vectors_out, uplo
            return (W, V) if vectors_out else W
        if vectors_out or _wants_grad(ctx):
            w, v = _eigh_arrays(op, a, uplo)
            W, V = _wrap(w), _wrap(v)
            ctx.save_for_backward(W, V, A)
        else:
            W, V = _wrap(_eigh_arrays(op, a, uplo, vectors=False)), None
        ctx.vectors_out = vectors_out
        ctx.uplo = uplo
        return (W, V) if vectors_out else W

    @staticmethod
    def backward(ctx, gL, gV=None):
        L, V, A = ctx.saved_tensors
        if not ctx.vectors_out and grad_state.enabled:
            # create_graph through eigvalsh: V (not an output) as a differentiable function
            L, V = Eigh.apply(A, ctx.uplo, True)
        if gV is None or not bool(np.any(gV._a)):
            return (V * gL.unsqueeze(-2)) @ C.mH(V), None, None
        if C.is_complex(V):
            return _eigh_backward_complex(L, V, gL, gV), None, None
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


def _check_phase_invariant(op: str, VhgV: Tensor) -> None:
    """torch's gauge check: complex eigenvectors are defined up to e^{i phi} each, so the
    loss must not depend on that phase (Im diag(V^H gV) = 0)."""
    im = np.imag(np.diagonal(VhgV._a, axis1=-2, axis2=-1))
    if not np.allclose(im, 0.0, rtol=1e-2, atol=1e-2):
        raise RuntimeError(
            f"{op}: The eigenvectors in the complex case are specified up to multiplication "
            "by e^{i phi}. The specified loss function depends on this quantity, so it is "
            "ill-defined."
        )


def _eigh_backward_complex(L, V, gL, gV):
    """torch: gA = V ((skew_H(V^H gV) / E) with the diagonal gL) V^H, E_ij = L_j - L_i."""
    VhgV = C.mH(V) @ gV
    _check_phase_invariant("linalg_eigh_backward", VhgV)
    VhgV = 0.5 * (VhgV - C.mH(VhgV))
    n = L.shape[-1]
    eye = _wrap(np.eye(n, dtype=L._a.dtype))
    E = L.unsqueeze(-2) - L.unsqueeze(-1) + eye
    inner = (VhgV / E) * (1 - eye)
    if gL is not None:
        inner = inner + gL.diag_embed()
    return V @ inner @ C.mH(V)


def eigh(A: Tensor, UPLO: str = "L", *, out=None):
    """Eigenvalues (ascending) and orthonormal eigenvectors of symmetric matrices (syevd)."""
    r = C.rt("linalg_eigh", ("eigenvalues", "eigenvectors"))(*Eigh.apply(A, UPLO, True))
    return C.copy_out(out, r)


def eigvalsh(A: Tensor, UPLO: str = "L", *, out=None) -> Tensor:
    """Eigenvalues (ascending) of symmetric matrices."""
    return C.copy_out(out, Eigh.apply(A, UPLO, False))


# ------------------------------------------------------------------ eig
def _complex_of(dt: np.dtype) -> np.dtype:
    return np.dtype(np.complex64 if dt in (np.float32, np.complex64) else np.complex128)


class Eig(Function):
    _node_name = "LinalgEigBackward0"

    @staticmethod
    def forward(ctx, A, vectors_out):
        op = "linalg.eig" if vectors_out else "linalg.eigvals"
        a = C.check_square_float(op, A)
        cd = _complex_of(a.dtype)
        if C.is_meta(a):  # complex eigenvalues and (row-major) eigenvectors
            W, V = C.meta(a.shape[:-1], cd), C.meta(a.shape, cd)
            ctx.save_for_backward(W, V, A)
            ctx.vectors_out, ctx.real = vectors_out, a.dtype.kind == "f"
            return (W, V) if vectors_out else W
        if not np.isfinite(a).all():
            raise RuntimeError("torch.linalg.eig: input tensor should not contain infs or NaNs.")
        if a.size == 0:
            w, v = np.zeros(a.shape[:-1], cd), np.zeros(a.shape, cd)
        elif vectors_out or _wants_grad(ctx):
            w, v = np.linalg.eig(a)
        else:
            w, v = np.linalg.eigvals(a), None
        W = _wrap(np.asarray(w, dtype=cd))
        V = _wrap(np.asarray(v, dtype=cd)) if v is not None else None
        if V is not None:
            ctx.save_for_backward(W, V, A)
        ctx.vectors_out = vectors_out
        ctx.real = a.dtype.kind == "f"
        return (W, V) if vectors_out else W

    @staticmethod
    def backward(ctx, gL, gV=None):
        # torch's linalg_eig_backward, on arrays (tensor ops under create_graph)
        W, V, A = ctx.saved_tensors
        if C.is_meta(A):  # (A's shape and dtype: real for a real A)
            return C.meta(A.shape, A._a.dtype), None
        if grad_state.enabled:
            if not ctx.vectors_out:  # V is not an output: a differentiable function of A
                W, V = Eig.apply(A, True)
            return _eig_backward_tensors(W, V, gL, gV, ctx.real), None
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


def _eig_backward_tensors(W, V, gL, gV, real: bool):
    """torch's linalg_eig_backward with differentiable ops (for double backward):
    gA = V^{-H} (diag(gL) + (V^H gV - V^H V Re(diag(V^H gV))) / conj(E)) V^H."""
    from ._solve import solve

    Vh = C.mH(V)
    if gV is None or not bool(np.any(gV._a)):
        ga = solve(Vh, gL.unsqueeze(-1) * Vh)
    else:
        VhgV = Vh @ gV
        _check_phase_invariant("linalg_eig_backward", VhgV)
        VhgV = VhgV - Vh @ (V * VhgV.diagonal(dim1=-2, dim2=-1).real.unsqueeze(-2))
        n = W.shape[-1]
        eye = _wrap(np.eye(n, dtype=W._a.dtype))
        Wc = C.cj(W)
        E = Wc.unsqueeze(-2) - Wc.unsqueeze(-1) + eye
        inner = (VhgV / E) * (1 - eye)
        if gL is not None:
            inner = inner + gL.diag_embed()
        ga = solve(Vh, inner @ Vh)
    return ga.real if real else ga


def eig(A: Tensor, *, out=None):
    """Eigenvalues and eigenvectors of general square matrices (complex results, geev)."""
    r = C.rt("linalg_eig", ("eigenvalues", "eigenvectors"))(*Eig.apply(A, True))
    return C.copy_out(out, r)


def eigvals(A: Tensor, *, out=None) -> Tensor:
    """Eigenvalues of general square matrices (complex)."""
    return C.copy_out(out, Eig.apply(A, False))
