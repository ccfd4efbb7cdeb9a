"""Rank-revealing functions: ``pinv``, ``matrix_rank``, ``lstsq``, and ``householder_product``.

``pinv`` and ``lstsq`` carry torch's own backward (``pinv_backward``: correct for
rank-deficient matrices where differentiating through the SVD is not); ``lstsq`` runs
``scipy.linalg.lstsq`` with torch's default driver (``gelsy`` on the CPU).
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..ops import join as J
from ..ops._util import check_same_device, sum_to_shape
from . import _common as C
from ._decomp import _check_finite, _eigh_arrays

_wrap = Tensor._make


def _tol_arrays(a: np.ndarray, atol: Any, rtol: Any, smax: np.ndarray) -> np.ndarray:
    """torch's threshold: max(atol, rtol * smax); rtol defaults to eps * max(m, n) unless a
    positive atol is given."""
    rdt = C.real_dtype(a.dtype)
    eps = np.finfo(rdt).eps
    m, n = a.shape[-2:]

    def arr(x):
        return x._a if isinstance(x, Tensor) else np.asarray(x, dtype=rdt)

    at = 0.0 if atol is None else arr(atol)
    if rtol is None:
        rt = eps * max(m, n) if atol is None or np.all(np.asarray(at) <= 0) else 0.0
    else:
        rt = arr(rtol)
    return np.maximum(at, rt * smax)


def _pinv_array(a: np.ndarray, atol, rtol, hermitian: bool) -> np.ndarray:
    m, n = a.shape[-2:]
    if a.size == 0:
        return np.zeros(a.shape[:-2] + (n, m), a.dtype)
    if hermitian:
        w, v = _eigh_arrays("linalg.eigh", a, "L")  # torch's error on non-finite input
        aw = np.abs(w)
        tol = _tol_arrays(a, atol, rtol, aw.max(-1))
        with np.errstate(all="ignore"):
            inv_w = np.where(aw > tol[..., None], 1.0 / w, 0.0).astype(a.dtype)
        return (v * inv_w[..., None, :]) @ _ah(v)
    _check_finite("linalg.svd", a)  # torch's error (NumPy: "SVD did not converge")
    u, s, vh = np.linalg.svd(a, full_matrices=False)
    tol = _tol_arrays(a, atol, rtol, s[..., 0] if s.shape[-1] else np.zeros(s.shape[:-1]))
    with np.errstate(all="ignore"):
        inv_s = np.where(s > tol[..., None], 1.0 / s, 0.0).astype(a.dtype)
    return (_ah(vh) * inv_s[..., None, :]) @ _ah(u)


def _ah(x: np.ndarray) -> np.ndarray:
    """Conjugate transpose of the last two axes (a view for real arrays)."""
    xt = np.swapaxes(x, -1, -2)
    return np.conj(xt) if x.dtype.kind == "c" else xt


class Pinv(Function):
    _node_name = "LinalgPinvBackward0"

    @staticmethod
    def forward(ctx, A, atol, rtol, hermitian):
        op = "linalg.pinv"
        a = C.check_float_matrix(op, A)
        if C.is_meta(a):  # (n, m), row-major
            P = C.meta(a.shape[:-2] + a.shape[-2:][::-1], a.dtype)
        else:
            P = _wrap(np.ascontiguousarray(_pinv_array(a, atol, rtol, hermitian)))
        ctx.save_for_backward(A, P)
        return P

    @staticmethod
    def backward(ctx, g):
        A, P = ctx.saved_tensors
        return pinv_backward(g, P, A), None, None, None


def pinv_backward(g: Tensor, pinvA: Tensor, A: Tensor) -> Tensor:
    """torch's pinv_backward (valid at rank-deficient A, where the rank is locally constant)."""
    m, n = A.shape[-2], A.shape[-1]
    pinvAh = C.mH(pinvA)
    gh = C.mH(g)
    if m <= n:
        K = gh @ pinvA
        KpinvAh = K @ pinvAh
        return -C.mH(pinvA @ K) + KpinvAh - (A @ pinvA) @ KpinvAh + (pinvAh @ pinvA) @ (gh - K @ A)
    K = pinvA @ gh
    pinvAhK = pinvAh @ K
    return -C.mH(K @ pinvA) + (gh - A @ K) @ pinvA @ pinvAh + pinvAhK - pinvAhK @ pinvA @ A


def pinv(
    A: Tensor,
    rcond: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
    out=None,
) -> Tensor:
    """Moore-Penrose pseudo-inverse (SVD, or eigh with ``hermitian``); singular values below
    ``max(atol, rtol * s_max)`` are dropped. ``rcond`` is the old name of ``rtol``."""
    if rcond is not None:
        rtol = rcond
    return C.copy_out(out, Pinv.apply(A, atol, rtol, hermitian))


def matrix_rank(
    A: Tensor,
    tol: Any = None,
    hermitian: bool = False,
    *,
    atol: Any = None,
    rtol: Any = None,
    out=None,
) -> Tensor:
    """Number of singular values above ``max(atol, rtol * s_max)`` (int64)."""
    op = "linalg.matrix_rank"
    a = C.check_float_matrix(op, A)
    if tol is not None:
        atol, rtol = tol, 0.0
    if C.is_meta(a):
        return C.copy_out(out, C.meta(a.shape[:-2], np.int64))
    if a.size == 0:
        return C.copy_out(out, _wrap(np.zeros(a.shape[:-2], np.int64)))
    if hermitian:
        s = np.abs(_eigh_arrays("linalg.eigh", a, "L", vectors=False))
    else:
        _check_finite("linalg.svd", a)
        s = np.linalg.svd(a, compute_uv=False)
    tol_ = _tol_arrays(a, atol, rtol, s.max(-1))
    return C.copy_out(out, _wrap(np.asarray((s > tol_[..., None]).sum(-1), dtype=np.int64)))


# ------------------------------------------------------------------ lstsq
_DRIVERS = ("gels", "gelsy", "gelsd", "gelss")


def _lstsq_qr(ab, bb, rcond, x, rank) -> np.ndarray:
    """Fast path for tall/square matrices that are clearly of full rank: Householder QR
    (blocked geqrf, no column pivoting), Q^T B (ormqr) and a triangular solve. A matrix counts
    as full rank only when LAPACK trcon's estimate of R's reciprocal condition number exceeds
    ``1000 * n * rcond`` -- far from where gelsy's pivoted rank decision could differ; the
    others are left to gelsy. All in lapack_batch's compiled loop over the batch (geqrf,
    trcon, ormqr, blocked trsm). Returns the mask of the matrices solved here."""
    m, n = ab.shape[-2:]
    k = bb.shape[-1]
    batch = ab.shape[:-2]
    a = C.col_major_copy(ab)
    b = C.col_major_copy(bb)
    tau = np.empty(batch + (n,), ab.dtype)
    rc = np.zeros(batch, np.float64)
    nb = rc.size
    C.batch_kernels().qr_lstsq(
        C.type_code(ab.dtype),
        a,
        C.batch_offsets(a, batch),
        m,
        n,
        max(1, m),
        b,
        C.batch_offsets(b, batch),
        max(1, m),
        k,
        tau,
        C.batch_offsets(tau, batch, core=1),
        1000.0 * n * rcond,
        rc.reshape(-1),
        C.batch_threads(nb, max(m, n)),
        C.trsm_block(n),
    )
    with np.errstate(invalid="ignore"):
        done = rc > 1000.0 * n * rcond
    x[done] = b[done][..., :n, :]
    rank[done] = n
    return done


def _gelsy(ab, bb, rcond, x, rank, skip=None) -> None:
    """LAPACK gelsy (torch's CPU default; also used for torch's full-rank ``gels``) called
    directly: one workspace query for the batch instead of scipy.linalg.lstsq's checks and
    query per matrix (1.4-1.9x faster on 512x512 and on 64 64x64 matrices)."""
    m, n = ab.shape[-2:]
    k = bb.shape[-1]
    gelsy = C.lapack("gelsy", ab.dtype)
    lwork_q = C.lapack("gelsy_lwork", ab.dtype)
    work, _ = lwork_q(m, n, k, rcond)
    lwork = max(1, int(np.real(work)))
    mx = max(m, n)
    jptv = np.zeros(n, np.int32)
    for idx in np.ndindex(*ab.shape[:-2]):
        if skip is not None and skip[idx]:
            continue
        b = np.zeros((mx, k), ab.dtype, order="F")
        b[:m] = bb[idx]
        a = np.asfortranarray(ab[idx])
        jptv[:] = 0
        _v, sol, _j, rk, _info = gelsy(a, b, jptv, rcond, lwork, overwrite_a=1, overwrite_b=1)
        x[idx] = sol[:n]
        rank[idx] = rk


class Lstsq(Function):
    _node_name = "LinalgLstsqBackward0"

    @staticmethod
    def forward(ctx, A, B, rcond, driver):
        sl = C.scipy_linalg()
        op = "torch.linalg.lstsq"
        a, b = A._a, B._a
        if C.is_meta(a, b):
            raise C.meta_refused("linalg.lstsq")
        C.check_float("linalg.lstsq", a)
        C.check_float("linalg.lstsq", b)
        C.check_same_dtype("linalg.lstsq", a, b, "input", "other")
        if a.ndim < 2:
            raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
        if not (a.ndim >= b.ndim and a.ndim - b.ndim <= 1):
            raise RuntimeError(
                f"{op}: input.dim() must be greater or equal to other.dim() and "
                "(input.dim() - other.dim()) <= 1"
            )
        driver = driver or "gelsy"
        if driver not in _DRIVERS:
            raise RuntimeError(
                f"{op}: parameter `driver` should be one of (gels, gelsy, gelsd, gelss)"
            )
        vector = b.ndim == a.ndim - 1
        bm = b[..., None] if vector else b
        if bm.shape[-2] != a.shape[-2]:
            raise RuntimeError(
                f"{op}: input.size(-2) should match other.size(-2)"
                if not vector
                else f"{op}: input.size(-2) should match other.size(-1)"
            )
        m, n = a.shape[-2:]
        k = bm.shape[-1]
        batch = np.broadcast_shapes(a.shape[:-2], bm.shape[:-2])
        ab = np.broadcast_to(a, batch + (m, n))
        bb = np.broadcast_to(bm, batch + (m, k))
        rdt = C.real_dtype(a.dtype)
        eps = np.finfo(rdt).eps
        rc = eps * max(m, n) if rcond is None else rcond
        x = np.zeros(batch + (n, k), a.dtype)
        rank = np.zeros(batch, np.int64)
        sv = np.zeros(batch + (min(m, n),), rdt)
        if x.size and m and n and driver in ("gels", "gelsy"):
            done = _lstsq_qr(ab, bb, rc, x, rank) if m >= n else None
            _gelsy(ab, bb, rc, x, rank, skip=done)
        elif x.size and m and n:
            for idx in np.ndindex(*batch):
                sol, _res, rk, s = sl.lstsq(
                    ab[idx], bb[idx], cond=rc, lapack_driver=driver, check_finite=False
                )
                x[idx] = sol
                rank[idx] = rk
                sv[idx] = s
        full_rank = driver == "gels" or bool(np.all(rank == n))
        if m > n and driver != "gelsy" and full_rank:
            r = bb - ab @ x
            res = (
                (r.real * r.real + r.imag * r.imag).sum(-2)
                if r.dtype.kind == "c"
                else (r * r).sum(-2)
            )
            residuals = _wrap(res[..., 0] if vector else res)
        else:
            residuals = _wrap(np.zeros((0,), rdt))
        rank_t = _wrap(rank) if driver != "gels" else _wrap(np.zeros((0,), np.int64))
        sv_t = _wrap(sv) if driver in ("gelsd", "gelss") else _wrap(np.zeros((0,), rdt))
        X = _wrap(x[..., 0] if vector else x)
        ctx.save_for_backward(A, B)
        ctx.vector = vector
        ctx.mark_non_differentiable(residuals, sv_t)
        return X, residuals, rank_t, sv_t

    @staticmethod
    def backward(ctx, gX, _gr, _grank, _gs):
        A, B = ctx.saved_tensors
        vector = ctx.vector
        gXm = gX.unsqueeze(-1) if vector else gX
        Bm = B.unsqueeze(-1) if vector else B
        pinvA = pinv(A)
        gA = gB = None
        if ctx.needs_input_grad[0]:
            gA = sum_to_shape(pinv_backward(gXm @ C.mH(Bm), pinvA, A), A.shape)
        if ctx.needs_input_grad[1]:
            gB = C.mH(pinvA) @ gXm
            gB = sum_to_shape(gB[..., 0] if vector else gB, B.shape)
        return gA, gB, None, None


def lstsq(A: Tensor, B: Tensor, rcond: float | None = None, *, driver: str | None = None):
    """Least-squares solution of ``A X = B`` (solution, residuals, rank, singular_values)."""
    return C.rt("linalg_lstsq", ("solution", "residuals", "rank", "singular_values"))(
        *Lstsq.apply(A, B, rcond, driver)
    )


# ------------------------------------------------------------------ householder_product
def _orgqr_array(a: np.ndarray, tau: np.ndarray) -> np.ndarray:
    """Q column-major per matrix (torch's strides (1, m)): A is copied once into the result
    and orgqr/ungqr runs there in place, in lapack_batch's compiled loop over the batch."""
    m, n = a.shape[-2:]
    k = tau.shape[-1]
    out = np.swapaxes(np.empty(a.shape[:-2] + (n, m), a.dtype), -1, -2)
    if a.size == 0:
        return out
    if k == 0:
        out[...] = np.eye(m, n, dtype=a.dtype)
        return out
    out[...] = a
    batch = a.shape[:-2]
    tau = np.asarray(tau, a.dtype)
    if tau.strides[-1] != tau.itemsize:
        tau = np.ascontiguousarray(tau)
    nb = out.size // (m * n)
    # lwork 64 n inside: SciPy's default (3n) makes LAPACK fall back to the unblocked dorg2r
    C.batch_kernels().orgqr(
        C.type_code(a.dtype),
        out,
        C.batch_offsets(out, batch),
        m,
        n,
        k,
        max(1, m),
        tau,
        C.batch_offsets(tau, batch, core=1),
        C.batch_threads(nb, m),
    )
    return out


class HouseholderProduct(Function):
    """``householder_product`` as one node: LAPACK orgqr/ungqr forward, torch's closed-form
    backward (``householder_product_backward``)."""

    _node_name = "LinalgHouseholderProductBackward0"

    @staticmethod
    def forward(ctx, A, tau):
        if C.is_meta(A, tau):  # column-major, A's shape
            check_same_device("linalg.householder_product", A, tau)
            Q = C.meta(A.shape, A._a.dtype, True)
        else:
            Q = _wrap(_orgqr_array(A._a, tau._a))
        ctx.save_for_backward(A, tau, Q)
        return Q

    @staticmethod
    def backward(ctx, g):
        A, tau, Q = ctx.saved_tensors
        from ..autograd.grad_mode import state

        if C.is_meta(A, g):  # (the formula reflects column by column on values)
            return C.meta(A.shape, A._a.dtype), C.meta(tau.shape, tau._a.dtype)
        if state.enabled:  # create_graph: differentiable tensor ops
            return householder_product_backward(g, Q, A, tau)
        # first order: the same steps on the arrays, K updated in place
        gA, gtau = householder_product_backward(g._a, Q._a, A._a, tau._a)
        return (None, None) if gA is None else (_wrap(gA), _wrap(gtau))


def _mH(x):
    return C.mH(x) if isinstance(x, Tensor) else _ah(x)


def _cj(x):
    return C.cj(x) if isinstance(x, Tensor) else (np.conj(x) if x.dtype.kind == "c" else x)


def _reflect(K, i: int, v, t, left: bool):
    """``(I - t v v^H) K`` (``left``) or ``K (I - t v v^H)``; v (..., m, 1) is zero above row
    ``i``, t (..., 1). Arrays are updated in place on rows/columns ``i:`` only; tensors (for
    double backward) out of place."""
    tv = t[..., None] * v
    if isinstance(K, Tensor):
        if left:
            return K - tv @ (_mH(v) @ K)
        return K - (K @ tv) @ _mH(v)
    # rank-one updates as broadcast products: NumPy's matmul of an (m, 1) by a (1, m) is slower
    if left:
        K[..., i:, :] -= tv[..., i:, :] * (_mH(v[..., i:, :]) @ K[..., i:, :])
    else:
        K[..., :, i:] -= (K[..., :, i:] @ tv[..., i:, :]) * _mH(v[..., i:, :])
    return K


def householder_product_backward(g, Q, A, tau):
    """Gradients of ``Q = (H_1 ... H_k)[:, :n]``, ``H_i = I - tau_i v_i v_i^H`` for the
    cotangent ``g`` (torch's derivation, conjugate-Wirtinger convention for complex inputs).
    Takes tensors (differentiable ops, for double backward) or their arrays (first order:
    in-place updates that skip the zero head of each ``v_i``).

    With ``K_i = H_{i+1} ... H_k g^H H_1 ... H_{i-1}`` (``g`` padded to m columns), the trace
    ``Tr(g^H dQ)`` gives ``v_i``'s gradient ``-conj(tau_i) (v_i^H K_i)^H - tau_i K_i v_i`` and
    ``tau_i``'s ``-conj(v_i^H K_i v_i)``. ``K_1 = H_1^{-1} Q g^H`` and ``K_{i+1} =
    H_{i+1}^{-1} K_i H_i``, where ``H(tau)^{-1} = H(sigma)``, ``sigma = tau / (tau ||v||^2 -
    1)``: k rank-one updates of an m x m matrix instead of k products of reflectors. (It
    assumes every ``H_i`` is invertible, ``tau_i ||v_i||^2 != 1``, which holds for geqrf's
    output; elsewhere the gradients are NaN, as torch's.)"""
    m, n = A.shape[-2], A.shape[-1]
    k = tau.shape[-1]
    if 0 in tuple(A.shape) or 0 in tuple(tau.shape):
        return None, None
    tensors = isinstance(A, Tensor)
    dt = A._a.dtype if tensors else A.dtype
    eye = np.eye(m, n, dtype=dt)
    V = A.tril(-1) + _wrap(eye) if tensors else np.tril(A, -1) + eye  # column i: v_i
    Vk = V[..., :k]
    norm2 = (Vk * _cj(Vk)).sum(-2)
    sigma = tau / (tau * norm2 - 1.0)
    K = Q @ _mH(g)
    K = _reflect(K, 0, V[..., 0:1], sigma[..., 0:1], True)
    gv, gt = [], []
    for i in range(k):
        v = V[..., i : i + 1]
        t = tau[..., i : i + 1]
        if tensors:
            vHK = _mH(v) @ K  # (..., 1, m)
            Kv = K @ v  # (..., m, 1)
        else:  # v is zero above row i
            vHK = _mH(v[..., i:, :]) @ K[..., i:, :]
            Kv = K[..., :, i:] @ v[..., i:, :]
        ts = t[..., None]
        gv.append(_cj(-ts * vHK)[..., 0, :] - (ts * Kv)[..., 0])
        gt.append(-_cj(vHK[..., i:] @ v[..., i:, :])[..., 0, 0])
        if i + 1 < k:
            K = _reflect(K, i + 1, V[..., i + 1 : i + 2], sigma[..., i + 1 : i + 2], True)
            K = _reflect(K, i, v, t, False)
    if not tensors:
        gA = np.zeros(A.shape, dt)
        gA[..., :k] = np.stack(gv, -1)
        return np.tril(gA, -1), np.stack(gt, -1)
    gA = J.stack(gv, -1)
    if k < n:
        gA = J.cat([gA, _wrap(np.zeros(gA.shape[:-1] + (n - k,), dt))], -1)
    return gA.tril(-1), J.stack(gt, -1)


def householder_product(A: Tensor, tau: Tensor, *, out=None) -> Tensor:
    """First n columns of H_1 ... H_k, H_i = I - tau_i v_i v_i^H (LAPACK orgqr/ungqr), one
    autograd node (``LinalgHouseholderProductBackward0``)."""
    op = "torch.linalg.householder_product"
    a, t = A._a, tau._a
    if a.ndim < 2:
        raise RuntimeError(f"{op}: input must have at least 2 dimensions.")
    m, n = a.shape[-2:]
    if m < n:
        raise RuntimeError(
            f"{op}: input.shape[-2] must be greater than or equal to input.shape[-1]"
        )
    if t.shape[-1] > n:
        raise RuntimeError(f"{op}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if t.ndim != a.ndim - 1 or t.shape[:-1] != a.shape[:-2]:
        raise RuntimeError(
            f"{op}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
            f"{tuple(t.shape[:-1])}"
        )
    C.check_float(op, a)
    C.check_same_dtype(op, a, t, "input", "tau")
    return C.copy_out(out, HouseholderProduct.apply(A, tau))
