"""Convolution on arrays: conv2d and conv_transpose2d forward/backward as im2col + GEMM.

The array level under ``ops/conv.py`` (which holds the Tensor-level ops and autograd):
no Tensors here, only arrays, kernel choice, GEMM choice and scratch buffers.

Forward is im2col (our kernel, OpenMP) followed by one batched GEMM over the batch
(``matmul`` into a preallocated output: OpenBLAS on the CPU, cuBLAS on the GPU); backward is
two GEMMs (dW, dcols) and col2im for dx.  A 1x1, stride-1, unpadded convolution needs no
im2col at all: it is a plain GEMM over the (C, H*W) planes.

float32 on an AVX-512 CPU with groups 1 and at least 4 images goes instead through the
fused kernels (``gemm.conv2d_fused_forward/backward``): one image per thread at a time, its
columns in an L2-sized buffer, no whole-batch cols array (see ``_fused_kernel``).

Layout: ``cols`` is (N, C*kh*kw, oh*ow), row index (c*kh + ki)*kw + kj, so that with groups
it is viewed as (N, g, C/g*kh*kw, oh*ow) and the weight (OC, C/g, kh, kw) as (g, OC/g, K).

Memory against speed: the forward does not keep ``cols`` (N*C*kh*kw*oh*ow elements, 9x the
input for a 3x3 kernel); backward recomputes it when dW is needed.  Measured on the benchmark
layer (N=64, 32->64, 3x3, 32x32) the recomputation costs ~5% of forward+backward, while keeping
cols would hold 75 MB per layer for the life of the graph.

Kernels are used for float32/float64 when the backend has them (``k.has``); otherwise a
NumPy/CuPy fallback (a loop over the kh*kw taps with strided slices) gives the same result.
"""

from __future__ import annotations

import math
import threading

import numpy as np

from .._backend import contiguous, float_kernels, xp_of
from .._backend import sgemm_kernels as _sgemm_kernel
from .im2col import _out_size, col2im_array, im2col_array

_tls = threading.local()


def _scratch(slot: int, shape, dtype, like):
    """A reusable per-thread work buffer (im2col columns) for CPU arrays.

    The columns are 9x the input for a 3x3 kernel and die right after their GEMM; a fresh
    75 MB np.empty per call cost ~20 ms of page faults on the benchmark layer (a third of the
    forward).  Keeping the largest buffer per slot and dtype trades that memory for speed, as
    torch's own columns buffer does.  Only ever used for arrays that do not escape the op.
    """
    n = math.prod(shape)
    if type(like) is not np.ndarray:
        return xp_of(like).empty(shape, dtype)
    cache = getattr(_tls, "bufs", None)
    if cache is None:
        cache = _tls.bufs = {}
    key = (slot, np.dtype(dtype).str)
    buf = cache.get(key)
    if buf is None or buf.size < n:
        buf = np.empty(n, dtype)
        cache[key] = buf
    return buf[:n].reshape(shape)


def _dcols_fast(ga, K, L):
    """Whether the unfused backward's dcols = W^T @ gy goes through sgemm: always where the
    kernel runs (a shape-only choice, so the result does not depend on the thread count;
    at 1 thread OpenBLAS was ~20% faster alone on 288x64x1024, a wash end to end, and at 2
    threads its spinning workers before col2im's OpenMP region cost far more)."""
    return _sgemm_kernel(ga, ga) is not None


def _sgemm_pays(M, K, N, batch):
    """Where ctorch's sgemm beat OpenBLAS (tools/bench_gemm.py, 1 and 2 threads): conv
    shapes with at least 16 output rows and a K of 64+; tiny products stay with NumPy."""
    return M >= 16 and K >= 64 and N >= 16 and M * K * N * batch >= (1 << 22)


_FUSED_MIN_BATCH = 4


def _fused_kernel(xa, wa, g, N, OC, K, L):
    """The kernels when conv2d runs fused, one image per thread at a time (float32 CPU,
    groups 1, a product where sgemm pays, at least _FUSED_MIN_BATCH images: below that the
    unfused path splits one image's columns over the threads), else None.  The choice depends
    on shapes only, never on the thread count, so results stay bitwise identical for any
    thread count."""
    if g != 1 or N < _FUSED_MIN_BATCH or not _sgemm_pays(OC, K, L, N):
        return None
    k = _sgemm_kernel(xa, wa)
    if k is None or not k.has("conv2d_fused_forward"):
        return None
    return k


def _gemm(a, b, out=None, fast=False):
    """xp.matmul(a, b, out=out); with ``fast`` (a (M, K) weight or its transpose, b (B, K, N),
    out (B, M, N): conv's unfused forward and dcols) ctorch's sgemm
    where _sgemm_pays."""
    xp = xp_of(a)
    if out is None:
        return xp.matmul(a, b)
    if fast and out.ndim == 3 and b.ndim == 3 and a.ndim in (2, 3):
        k = _sgemm_kernel(a, b)
        M, K = a.shape[-2:]
        if k is not None and _sgemm_pays(M, K, b.shape[2], b.shape[0]):
            k.sgemm(a if a.ndim == 3 else a[None], b, out)
            return out
    return xp.matmul(a, b, out=out)


def _gemm_batch_sum(a, b):
    """sum_n a[n] @ b[n] for a (N, M, K), b (N, K, P) -> (M, P) (conv's dW), in one pass over
    the batch with the sgemm kernel where it pays, else a batched matmul and a sum."""
    k = _sgemm_kernel(a, b)
    N, M, K = a.shape
    P = b.shape[2]
    if k is not None and _sgemm_pays(M, K, P, N):
        out = np.empty((1, M, P), np.float32)
        k.sgemm(a, b, out, reduce_batch=True)
        return out[0]
    return xp_of(a).matmul(a, b).sum(0)


def _add_channel_bias(y, b, N, OC, L):
    """y (N, OC, L) += b[None, :, None] in place.

    Deliberately NumPy, not the OpenMP binary_bcast kernel: this runs right after the GEMM,
    while OpenBLAS's worker threads still spin, and an OpenMP region there was measured at
    2 threads at 10-600x its normal time (648 ms instead of 0.4 ms on the benchmark layer).
    Single-threaded NumPy costs ~3 ms here and never waits on a barrier.
    """
    y += b.reshape(1, OC, 1)


def _channel_sum(g, N, OC, L):
    """sum of g (N, OC, L) over N and L -> (OC,)."""
    g = contiguous(g)
    k = float_kernels(g, "sum_axis")
    if k is not None and g.size >= 4096:
        part = xp_of(g).empty((N * OC,), g.dtype)
        k.sum_axis(g.reshape(-1), part, N * OC, L, 1)
        return part.reshape(N, OC).sum(0)
    return g.reshape(N, OC, L).sum(axis=(0, 2))


def _is_1x1(kh, kw, sh, sw, ph, pw):
    return kh == 1 and kw == 1 and sh == 1 and sw == 1 and ph == 0 and pw == 0


def _columns(xa, wshape, stride, padding, dilation, g, oh, ow):
    """The GEMM's right operand (N, g, K, L): x itself for a 1x1/stride-1/no-pad kernel,
    else im2col into the per-thread scratch buffer (valid until the next conv call)."""
    N, C, H, W = xa.shape
    _, Cg, kh, kw = wshape
    (sh, sw), (ph, pw), (dh, dw) = stride, padding, dilation
    K, L = Cg * kh * kw, oh * ow
    if _is_1x1(kh, kw, sh, sw, ph, pw):
        return contiguous(xa).reshape(N, g, K, L)
    out = _scratch(0, (N, C * kh * kw, L), xa.dtype, xa)
    cols = im2col_array(xa, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=out)
    return cols.reshape(N, g, K, L)


def _conv2d_forward_arrays(xa, wa, ba, stride, padding, dilation, groups):
    N, C, H, W = xa.shape
    OC, Cg, kh, kw = wa.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    g = groups
    oh, ow = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    xp = xp_of(xa)
    K = Cg * kh * kw
    L = oh * ow
    OCg = OC // g
    k = _fused_kernel(xa, wa, g, N, OC, K, L)
    if k is not None:
        y = np.empty((N, OC, oh, ow), np.float32)
        bias = None if ba is None else contiguous(ba)
        k.conv2d_fused_forward(
            contiguous(xa).reshape(-1), contiguous(wa).reshape(-1), bias, y.reshape(-1),
            N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow,
        )  # fmt: skip
        return y
    cols = _columns(xa, wa.shape, stride, padding, dilation, g, oh, ow)
    y = xp.empty((N, g, OCg, L), xa.dtype)
    w3 = contiguous(wa).reshape(g, OCg, K)
    if g == 1:
        _gemm(w3[0], cols.reshape(N, K, L), out=y.reshape(N, OCg, L), fast=True)
    else:
        _gemm(w3, cols, out=y)
    y = y.reshape(N, OC, L)
    if ba is not None:
        _add_channel_bias(y, ba, N, OC, L)
    return y.reshape(N, OC, oh, ow)


def _conv2d_backward_arrays(ga, xa, wa, stride, padding, dilation, groups, need_x, need_w, need_b):
    N, C, H, W = xa.shape
    OC, Cg, kh, kw = wa.shape
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    g = groups
    oh, ow = ga.shape[2], ga.shape[3]
    xp = xp_of(ga)
    K = Cg * kh * kw
    L = oh * ow
    OCg = OC // g
    ga = contiguous(ga)
    g4 = ga.reshape(N, g, OCg, L)
    one = _is_1x1(kh, kw, sh, sw, ph, pw)
    gx = gw = gb = None
    if need_b:
        gb = _channel_sum(ga, N, OC, L)
    k = _fused_kernel(ga, ga, g, N, OC, K, L) if (need_x or need_w) else None
    if k is not None:
        gx = np.empty((N, C, H, W), np.float32) if need_x else None
        gw = np.empty((OC, Cg, kh, kw), np.float32) if need_w else None
        k.conv2d_fused_backward(
            ga.reshape(-1), contiguous(xa).reshape(-1) if need_w else None,
            contiguous(wa).reshape(-1) if need_x else None,
            None if gx is None else gx.reshape(-1), None if gw is None else gw.reshape(-1),
            N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow,
        )  # fmt: skip
        return gx, gw, gb
    if need_w:
        cols = _columns(xa, wa.shape, stride, padding, dilation, g, oh, ow)
        # dW[g] = sum_n gy[n, g] @ cols[n, g]^T : one batched GEMM then a sum over N
        if g == 1:
            gw = _gemm_batch_sum(g4.reshape(N, OCg, L), cols.reshape(N, K, L).swapaxes(-1, -2))
        else:
            part = xp.empty((N, g, OCg, K), ga.dtype)
            _gemm(g4, cols.swapaxes(-1, -2), out=part)
            gw = part.sum(0)
        del cols
        gw = gw.reshape(OC, Cg, kh, kw)
    if need_x:
        w3 = contiguous(wa).reshape(g, OCg, K)
        fast_dcols = _dcols_fast(ga, K, L)
        # dcols = W^T @ gy; for a 1x1 kernel it is gx itself, else col2im folds it into gx
        dcols = xp.empty((N, g, K, L), ga.dtype) if one else _scratch(1, (N, g, K, L), ga.dtype, ga)
        if g == 1:
            _gemm(w3[0].T, g4.reshape(N, OCg, L), out=dcols.reshape(N, K, L), fast=fast_dcols)
        else:
            _gemm(w3.swapaxes(-1, -2), g4, out=dcols)
        if one:
            gx = dcols.reshape(N, C, H, W)
        else:
            gx = col2im_array(dcols, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    return gx, gw, gb


def _convT_forward_arrays(xa, wa, ba, stride, padding, output_padding, groups, dilation):
    N, Cin, H, W = xa.shape
    _, OCg, kh, kw = wa.shape
    g = groups
    Cing = Cin // g
    OC = OCg * g
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    Ho = (H - 1) * sh - 2 * ph + dh * (kh - 1) + output_padding[0] + 1
    Wo = (W - 1) * sw - 2 * pw + dw * (kw - 1) + output_padding[1] + 1
    xp = xp_of(xa)
    K = OCg * kh * kw
    L = H * W
    x4 = contiguous(xa).reshape(N, g, Cing, L)
    w3 = contiguous(wa).reshape(g, Cing, K)
    cols = xp.empty((N, g, K, L), xa.dtype)
    if g == 1:
        _gemm(w3[0].T, x4.reshape(N, Cing, L), out=cols.reshape(N, K, L))
    else:
        _gemm(w3.swapaxes(-1, -2), x4, out=cols)
    if _is_1x1(kh, kw, sh, sw, ph, pw) and Ho == H and Wo == W:
        y = cols.reshape(N, OC, Ho, Wo)
    else:
        y = col2im_array(cols, N, OC, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw, H, W)
    if ba is not None:
        _add_channel_bias(y.reshape(N, OC, Ho * Wo), ba, N, OC, Ho * Wo)
    return y


def _convT_backward_arrays(ga, xa, wa, stride, padding, groups, dilation, need_x, need_w, need_b):
    N, Cin, H, W = xa.shape
    _, OCg, kh, kw = wa.shape
    g = groups
    Cing = Cin // g
    OC = OCg * g
    sh, sw = stride
    ph, pw = padding
    dh, dw = dilation
    Ho, Wo = ga.shape[2], ga.shape[3]
    xp = xp_of(ga)
    K = OCg * kh * kw
    L = H * W
    ga = contiguous(ga)
    gx = gw = gb = None
    if need_b:
        gb = _channel_sum(ga, N, OC, Ho * Wo)
    if not (need_x or need_w):
        return gx, gw, gb
    if _is_1x1(kh, kw, sh, sw, ph, pw) and Ho == H and Wo == W:
        cols = ga.reshape(N, g, K, L)
    else:
        cols = im2col_array(ga, N, OC, Ho, Wo, kh, kw, sh, sw, ph, pw, dh, dw, H, W).reshape(
            N, g, K, L
        )
    if need_x:
        w3 = contiguous(wa).reshape(g, Cing, K)
        gx = xp.empty((N, g, Cing, L), ga.dtype)
        if g == 1:
            _gemm(w3[0], cols.reshape(N, K, L), out=gx.reshape(N, Cing, L))
        else:
            _gemm(w3, cols, out=gx)
        gx = gx.reshape(N, Cin, H, W)
    if need_w:
        x4 = contiguous(xa).reshape(N, g, Cing, L)
        part = xp.empty((N, g, Cing, K), ga.dtype)
        _gemm(x4, cols.swapaxes(-1, -2), out=part)
        gw = part.sum(0).reshape(Cin, OCg, kh, kw)
    return gx, gw, gb
