"""Array-level matrix products: which kernel multiplies two arrays. float32 CPU products go
to ctorch's own sgemm (``_sgemm_2d``/``_bmm_sgemm``) where it beats OpenBLAS, small ones to the
compiled small-matrix kernels, 16-bit ones to the half kernels (float32 accumulation), the
rest to NumPy's matmul (OpenBLAS) or CuPy's (cuBLAS). ``linalg.py`` (the autograd side)
re-exports these names for the modules that import them from there."""

from __future__ import annotations

import numpy as np

from .._backend import sgemm_kernels, xp_of
from .._core._smallops import mm_small as _mm_small
from .._half import BF16, convert, half_kernels, is_half
from .._tensor import Tensor
from ._util import check_same_device

_wrap = Tensor._make


def _mm_dtype(a, b, op):
    if a._a.dtype != b._a.dtype:
        raise RuntimeError(
            f"{op}: expected m1 and m2 to have the same dtype, but got: {a.dtype} != {b.dtype}"
        )
    check_same_device(op, a, b)


_LINEAR_SGEMM_MIN_MACS = 1 << 18
_LINEAR_SGEMM = True  # False: nn.Linear's products on NumPy (tools/bench_steps.py's A/B)


def _half_mm(x, y):
    """x @ y for two float16/bfloat16 CPU matrices (same dtype), else None: bfloat16 on the
    AVX-512 BF16 GEMM (ctorch._core.half.bgemm), else widened to float32 (SIMD conversion),
    multiplied there and rounded once."""
    if type(x) is not np.ndarray or x.dtype != y.dtype or not is_half(x.dtype):
        return None
    if x.ndim == 2 and y.ndim == 2:
        k = half_kernels()
        if x.dtype == BF16 and k is not None and k.HAVE_BF16_DOT:
            out = np.empty((x.shape[0], y.shape[1]), BF16)
            k.bgemm(x.view(np.uint16), y.view(np.uint16), out.view(np.uint16))
            return out
        return convert(_linear_mm(convert(x, np.float32), convert(y, np.float32)), x.dtype)
    return convert(np.matmul(convert(x, np.float32), convert(y, np.float32)), x.dtype)


def _half_bias_grad(g2):
    """Column sums of a 2-D 16-bit CPU gradient (nn.Linear's bias gradient), float64 sums
    rounded once, with no float32 copy of the whole gradient (the generic sum widens it: at
    batch 2048 that copy was the autocast MLP step's peak); None where it does not apply."""
    a = g2._a
    if type(a) is not np.ndarray or not is_half(a.dtype) or not a.flags.c_contiguous:
        return None
    k = half_kernels()
    if k is None or not hasattr(k, "h_sum_cols"):
        return None
    out = np.empty(a.shape[1], np.float32)
    k.h_sum_cols(1 if a.dtype == BF16 else 0, a.view(np.uint16), out)
    return _wrap(convert(out, a.dtype))


def _linear_mm(x, y):
    """x @ y for nn.Linear's three 2-D products (forward, dX, dW): ``_matmul_arr``, whose
    float32 CPU matrices go to ctorch's sgemm by ``_sgemm_2d``'s rule."""
    return _matmul_arr(x, y)


def _sgemm_2d(x, y, bias=None, threads=0):
    """x @ y on ctorch's sgemm for two 2-D float32 CPU arrays, else None.

    On Linear's and matmul's shapes sgemm matches or beats OpenBLAS at 1 thread, and at 2+
    threads it shares the OpenMP pool with the elementwise/loss/optimizer kernels around it,
    where OpenBLAS's worker threads keep spinning (~0.1 s after every call) and take a core
    from them (MLP step at 2 threads: as slow as at 1 thread).  Products below 2**18
    multiply-adds (where OpenBLAS stays single-threaded) and those with fewer than 8 rows or
    columns (small-batch inference: OpenBLAS's GEMV paths; sgemm computes 8-row tiles) stay
    with NumPy (None here).  The choice depends on shapes, dtype and device only, and sgemm's
    result does not depend on the thread count.  ``bias`` (N,) float32 C-contiguous, when
    given, is added to each row in the product's tiles (nn.Linear's bias: no pass over the
    output after it; the same bits).  ``threads`` > 0 caps the call's threads."""
    k = sgemm_kernels(x, y) if _LINEAR_SGEMM and x.ndim == 2 and y.ndim == 2 else None
    if k is not None:
        M, K = x.shape
        N = y.shape[1]
        if M >= 8 and N >= 8 and M * N * K >= _LINEAR_SGEMM_MIN_MACS:
            out = np.empty((M, N), np.float32)
            k.sgemm(x[None], y[None], out[None], bias=bias, threads=threads)
            return out
    return None


def _bmm_sgemm(x, y):
    """Batched float32 CPU products (bmm, attention's (B, H, T, T) products) on ctorch's
    sgemm: one OpenMP region over (batch, column block) items instead of NumPy's loop of
    OpenBLAS calls (1 thread: (48, 64, 64)^2 190 vs 230 us, (12, 128, 128)^2 355 vs 490 us),
    any strides (the backward's transposed views need no copy), bitwise identical for any
    thread count.  None where it does not apply (other dtypes/devices, broadcast batches,
    small products: NumPy is faster below 32 rows/columns, an inner size of 16 or 2**18
    multiply-adds; negative strides)."""
    bs = x.shape[:-2]
    if bs != y.shape[:-2]:
        return None
    M, K = x.shape[-2:]
    N = y.shape[-1]
    nb = x.size // (M * K) if M * K else 0
    if min(M, N) < 32 or K < 16 or nb * M * N * K < (1 << 18):
        return None
    if min(x.strides) < 0 or min(y.strides) < 0:
        return None
    k = sgemm_kernels(x, y)
    if k is None:
        return None
    out = np.empty(bs + (M, N), np.float32)
    k.sgemm(x.reshape(nb, M, K), y.reshape(nb, K, N), out.reshape(nb, M, N))
    return out


def _matmul_arr(x, y):
    if x.ndim == y.ndim and 2 <= x.ndim <= 3:  # small float32/float64 CPU products: compiled
        r = _mm_small(x, y)
        if r is not None:
            return r
    if x.dtype.itemsize == 2:
        r = _half_mm(x, y)
        if r is not None:
            return r
    xp = xp_of(x)
    if x.ndim >= 3 and y.ndim == x.ndim and xp is np and x.dtype == np.float32:
        r = _bmm_sgemm(x, y)
        if r is not None:
            return r
    if xp is np and y.ndim == 2 and x.ndim >= 2:
        # torch.mm/matmul/@ on float32 CPU matrices: the sgemm nn.Linear uses (on this
        # project's machines 200+ GFLOP/s at 1 thread against OpenBLAS's ~145), and an
        # (..., K) @ (K, N) product as ONE (rows, K) @ (K, N) product
        x2 = x if x.ndim == 2 else (x.reshape(-1, x.shape[-1]) if x.flags.c_contiguous else None)
        if x2 is not None:
            r = _sgemm_2d(x2, y)
            if r is not None:
                return r if x.ndim == 2 else r.reshape(x.shape[:-1] + (y.shape[1],))
    if x.ndim == 2 and y.ndim == 2 and xp is np:
        out = np.empty((x.shape[0], y.shape[1]), np.result_type(x, y))
        return np.matmul(x, y, out=out)
    return xp.matmul(x, y)
