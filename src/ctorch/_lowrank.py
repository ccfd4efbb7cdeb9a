"""Randomized low-rank SVD and PCA (``torch.svd_lowrank``, ``torch.pca_lowrank``; Halko,
Martinsson and Tropp 2009), written on ctorch's matmul, QR and SVD. The random test matrix is
drawn with ``randn(n, q)`` as torch draws it, so the same seed gives torch's basis. A sparse
input is densified first (same result; torch keeps it sparse)."""

from __future__ import annotations

__all__ = ["svd_lowrank", "pca_lowrank"]


def _floating_dtype(A):
    import ctorch

    floating = (ctorch.float16, ctorch.bfloat16, ctorch.float32, ctorch.float64)
    return A.dtype if A.dtype in floating else ctorch.float32


def get_approximate_basis(A, q, niter=2, M=None):
    """An orthonormal ``(m, q)`` basis approximating the range of ``A - M``."""
    import ctorch

    niter = 2 if niter is None else niter
    dtype = _floating_dtype(A) if not A.is_complex() else A.dtype
    R = ctorch.randn(A.shape[-1], q, dtype=dtype, device=A.device)
    X = ctorch.matmul(A, R)
    if M is not None:
        X = X - ctorch.matmul(M, R)
    Q = ctorch.linalg.qr(X).Q
    for _ in range(niter):
        X = ctorch.matmul(A.mH, Q)
        if M is not None:
            X = X - ctorch.matmul(M.mH, Q)
        Q = ctorch.linalg.qr(X).Q
        X = ctorch.matmul(A, Q)
        if M is not None:
            X = X - ctorch.matmul(M, Q)
        Q = ctorch.linalg.qr(X).Q
    return Q


def svd_lowrank(A, q=6, niter=2, M=None):
    """``(U, S, V)`` of rank ``q`` approximating ``A - M`` (``A ≈ U diag(S) V^H``)."""
    import ctorch

    if A.is_sparse:
        A = A.to_dense()
    q = 6 if q is None else q
    m, n = A.shape[-2:]
    if M is not None:
        M = M.broadcast_to(A.size())
    if m < n:
        A = A.mH
        if M is not None:
            M = M.mH
    Q = get_approximate_basis(A, q, niter=niter, M=M)
    B = ctorch.matmul(Q.mH, A)
    if M is not None:
        B = B - ctorch.matmul(Q.mH, M)
    U, S, Vh = ctorch.linalg.svd(B, full_matrices=False)
    V = Vh.mH
    U = Q.matmul(U)
    if m < n:
        U, V = V, U
    return U, S, V


def pca_lowrank(A, q=None, center=True, niter=2):
    """Principal components of ``A`` (columns centred unless ``center=False``) as ``(U, S, V)``
    of rank ``q`` (``min(6, m, n)`` by default)."""
    m, n = A.shape[-2:]
    if q is None:
        q = min(6, m, n)
    elif not (q >= 0 and q <= min(m, n)):
        raise ValueError(
            f"q(={q}) must be non-negative integer and not greater than min(m, n)={min(m, n)}"
        )
    if not niter >= 0:
        raise ValueError(f"niter(={niter}) must be non-negative integer")
    if A.is_sparse:
        A = A.to_dense()
    if not center:
        return svd_lowrank(A, q, niter=niter, M=None)
    C = A.mean(dim=(-2,), keepdim=True)
    return svd_lowrank(A - C, q, niter=niter, M=None)
