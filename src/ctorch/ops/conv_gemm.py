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

Beside this module: ``conv_wide`` (the whole batch as one GEMM, for small outputs, groups and
float64 on the CPU), ``conv_trim`` (dropping taps that only read padding), ``conv_scratch``
(the per-thread buffers).
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, float_kernels, xp_of
from .._backend import sgemm_kernels as _sgemm_kernel
from .._geometry import Window2d
from .conv_direct import direct_backward, direct_forward
from .conv_full import full_backward, full_forward, full_window
from .conv_half import half_backward, half_forward, is_half_cpu
from .conv_scratch import _scratch
from .conv_trim import _ShapeOnly, _trimmed, _trimmed_weight, _untrimmed_weight_grad
from .conv_wide import (
    _FUSED_MIN_BATCH,
    _convT_wide_backward,
    _convT_wide_forward,
    _sgemm_serves,
    _use_wide,
    _wide_backward,
    _wide_forward,
)
from .conv_winograd import (
    winograd_applies,
    winograd_forward,
    winograd_input_grad,
    winograd_weight_grad,
)
from .im2col import _is_1x1, _out_size, _window, col2im_array, im2col_array


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
    where it serves (conv_wide._sgemm_serves)."""
    xp = xp_of(a)
    if out is None:
        return xp.matmul(a, b)
    if fast and out.ndim == 3 and b.ndim == 3 and a.ndim in (2, 3):
        k = _sgemm_kernel(a, b)
        M, K = a.shape[-2:]
        if k is not None and _sgemm_serves(M, K, b.shape[2], b.shape[0]):
            k.sgemm(a if a.ndim == 3 else a[None], b, out)
            return out
    return xp.matmul(a, b, out=out)


def _grouped_gemm(a, b, out, fast=False):
    """out[n, j] = a[j] @ b[n, j] for a (g, M, K), b (N, g, K, L), out (N, g, M, L); with one
    group a plain batched (N, K, L) product, which ``fast`` may send to ctorch's sgemm."""
    if a.shape[0] == 1:
        N, _, K, L = b.shape
        _gemm(a[0], b.reshape(N, K, L), out=out.reshape(N, a.shape[1], L), fast=fast)
    else:
        _gemm(a, b, out=out)


def _gemm_batch_sum(a, b):
    """sum_n a[n] @ b[n] for a (N, M, K), b (N, K, P) -> (M, P) (conv's dW), in one pass over
    the batch with the sgemm kernel where it serves (conv_wide._sgemm_serves), else a
    batched matmul and a sum."""
    k = _sgemm_kernel(a, b)
    N, M, K = a.shape
    P = b.shape[2]
    if k is not None and _sgemm_serves(M, K, P, N):
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


def _columns(xa, geo: Window2d, Cg, g):
    """The GEMM's right operand (N, g, K, L) (K = Cg*kh*kw per group): x itself for a
    1x1/stride-1/no-pad kernel, else im2col into the per-thread scratch buffer (valid until
    the next conv call)."""
    N, _, _, _, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    K, L = Cg * kh * kw, oh * ow
    if _is_1x1(kh, kw, sh, sw, ph, pw):
        return contiguous(xa).reshape(N, g, K, L)
    cols = im2col_array(xa, geo, out=_scratch(0, geo.cols_shape, xa.dtype, xa))
    return cols.reshape(N, g, K, L)


def _depthwise_kernel(xa, g, C, Cg):
    """The CPU kernels for a depthwise conv2d (groups == in channels), else None."""
    if g == 1 or Cg != 1 or g != C or type(xa) is not np.ndarray:
        return None
    return float_kernels(xa, "depthwise_conv2d_forward")


def _conv2d_forward_arrays(xa, wa, ba, stride, padding, dilation, groups):
    if is_half_cpu(xa):  # float16/bfloat16: the float32 code a batch chunk at a time
        oh = _out_size(xa.shape[2], wa.shape[2], stride[0], padding[0], dilation[0])
        ow = _out_size(xa.shape[3], wa.shape[3], stride[1], padding[1], dilation[1])
        return half_forward(
            _conv2d_forward_arrays, xa, wa, ba, (wa.shape[0], oh, ow),
            stride, padding, dilation, groups,
        )  # fmt: skip
    if type(xa) is np.ndarray:
        oh = _out_size(xa.shape[2], wa.shape[2], stride[0], padding[0], dilation[0])
        ow = _out_size(xa.shape[3], wa.shape[3], stride[1], padding[1], dilation[1])
        t = _trimmed(xa.shape, wa.shape, stride, padding, dilation, oh, ow)
        if t is not None:
            (a, b, c, d), (ch, cw), pad = t
            xc = xa[:, :, ch:, cw:]
            wc = _trimmed_weight(wa, a, b, c, d)
            return _conv2d_forward_arrays(xc, wc, ba, stride, pad, dilation, groups)
    if full_window(xa.shape, xa, wa, padding, dilation, groups):
        return full_forward(xa, wa, ba)
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
    geo = _window(xa.shape, wa.shape, stride, padding, dilation, (oh, ow))
    y = direct_forward(xa, wa, ba, geo, g)
    if y is not None:
        return y
    kd = _depthwise_kernel(xa, g, C, Cg)
    if kd is not None and wa.dtype == xa.dtype:
        y = np.empty((N, OC, oh, ow), xa.dtype)
        kd.depthwise_conv2d_forward(
            contiguous(xa).reshape(-1), contiguous(wa).reshape(-1),
            None if ba is None else contiguous(ba), y.reshape(-1),
            geo, OCg,
        )  # fmt: skip
        return y
    if (y := winograd_forward(xa, wa, ba, geo, g)) is not None:
        return y
    if _use_wide(xa, g, N, OC, K, L, kh == kw == 1, weight_grad=False):
        return _wide_forward(xa, wa, ba, geo, g)
    k = _fused_kernel(xa, wa, g, N, OC, K, L)
    if k is not None:
        y = np.empty((N, OC, oh, ow), np.float32)
        bias = None if ba is None else contiguous(ba)
        k.conv2d_fused_forward(
            contiguous(xa).reshape(-1), contiguous(wa).reshape(-1), bias, y.reshape(-1), geo, OC,
        )  # fmt: skip
        return y
    cols = _columns(xa, geo, Cg, g)
    y = xp.empty((N, g, OCg, L), xa.dtype)
    w3 = contiguous(wa).reshape(g, OCg, K)
    _grouped_gemm(w3, cols, y, fast=True)
    y = y.reshape(N, OC, L)
    if ba is not None:
        _add_channel_bias(y, ba, N, OC, L)
    return y.reshape(N, OC, oh, ow)


def _conv2d_backward_arrays(
    ga, xa, wa, stride, padding, dilation, groups, need_x, need_w, need_b, use_direct=True
):
    if is_half_cpu(ga):
        return half_backward(
            _conv2d_backward_arrays, ga, xa, wa, (stride, padding, dilation, groups),
            need_x, need_w, need_b,
        )  # fmt: skip
    if type(ga) is np.ndarray:
        t = _trimmed(xa.shape, wa.shape, stride, padding, dilation, ga.shape[2], ga.shape[3])
        if t is not None:
            (a, b, c, d), (ch, cw), pad = t
            N, C, H, W = xa.shape
            xs = xa[:, :, ch:, cw:] if need_w else _ShapeOnly((N, C, H - ch, W - cw))
            ws = (
                _trimmed_weight(wa, a, b, c, d)
                if need_x
                else _ShapeOnly(wa.shape[:2] + (b - a, d - c))
            )
            gx, gw, gb = _conv2d_backward_arrays(
                ga, xs, ws, stride, pad, dilation, groups, need_x, need_w, need_b
            )
            if gx is not None:
                full = np.zeros(xa.shape, gx.dtype)
                full[:, :, ch:, cw:] = gx
                gx = full
            if gw is not None:
                gw = _untrimmed_weight_grad(gw, wa.shape, a, b, c, d)
            return gx, gw, gb
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
    geo = _window(xa.shape, wa.shape, stride, padding, dilation, (oh, ow))
    ga = contiguous(ga)
    g4 = ga.reshape(N, g, OCg, L)
    one = _is_1x1(kh, kw, sh, sw, ph, pw)
    gx = gw = gb = None
    if need_b:
        gb = _channel_sum(ga, N, OC, L)
    if (need_x or need_w) and full_window(xa.shape, ga, wa, padding, dilation, groups):
        gx, gw = full_backward(ga, xa, wa, need_x, need_w)
        return gx, gw, gb
    direct = direct_backward(ga, xa, wa, geo, g, need_x, need_w) if use_direct else None
    if direct is not None:
        gx, gw, x_left = direct
        if x_left:  # a padding or weight the direct grad x does not take: the other paths
            gx = _conv2d_backward_arrays(
                ga, _ShapeOnly(xa.shape), wa, stride, padding, dilation, groups,
                True, False, False, use_direct=False,
            )[0]  # fmt: skip
        return gx, gw, gb
    if (need_x or need_w) and winograd_applies(ga, wa, geo, g):
        gx = winograd_input_grad(ga, wa, geo, g) if need_x else None
        gw = winograd_weight_grad(ga, xa, wa, geo, g) if need_w else None
        return gx, gw, gb
    kd = _depthwise_kernel(ga, g, C, Cg)
    if kd is not None:
        geom = (geo, OCg)
        if need_x:
            gx = np.empty((N, C, H, W), ga.dtype)
            kd.depthwise_conv2d_backward_input(
                ga.reshape(-1), contiguous(wa).reshape(-1), gx.reshape(-1), *geom
            )
        if need_w:
            gw = np.empty((OC, 1, kh, kw), ga.dtype)
            kd.depthwise_conv2d_backward_weight(
                ga.reshape(-1), contiguous(xa).reshape(-1), gw.reshape(-1), *geom
            )
        return gx, gw, gb
    if (
        need_x
        and need_w
        and _use_wide(ga, g, N, OC, K, L, kh == kw == 1)
        and not _use_wide(ga, g, N, OC, K, L, kh == kw == 1, weight_grad=False)
    ):
        # between the two limits: the weight gradient on the wide path (one product over the
        # batch), the input gradient on the per-image kernels (as where it is wanted alone)
        gw = _wide_backward(ga, xa, wa, geo, g, False, True)[1]
        gx = _conv2d_backward_arrays(
            ga, xa, wa, stride, padding, dilation, groups, True, False, False, use_direct
        )[0]  # fmt: skip
        return gx, gw, gb
    if (need_x or need_w) and _use_wide(ga, g, N, OC, K, L, kh == kw == 1, weight_grad=need_w):
        gx, gw = _wide_backward(ga, xa, wa, geo, g, need_x, need_w)
        return gx, gw, gb
    k = _fused_kernel(ga, ga, g, N, OC, K, L) if (need_x or need_w) else None
    if k is not None:
        gx = np.empty((N, C, H, W), np.float32) if need_x else None
        gw = np.empty((OC, Cg, kh, kw), np.float32) if need_w else None
        k.conv2d_fused_backward(
            ga.reshape(-1), contiguous(xa).reshape(-1) if need_w else None,
            contiguous(wa).reshape(-1) if need_x else None,
            None if gx is None else gx.reshape(-1), None if gw is None else gw.reshape(-1),
            geo, OC,
        )  # fmt: skip
        return gx, gw, gb
    if need_w:
        cols = _columns(xa, geo, Cg, g)
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
        _grouped_gemm(w3.swapaxes(-1, -2), g4, dcols, fast=fast_dcols)
        if one:
            gx = dcols.reshape(N, C, H, W)
        else:
            gx = col2im_array(dcols, geo)
    return gx, gw, gb


def _convT_as_conv(xa, g, N, Cin, K, L, weight_grad) -> bool:
    """Whether conv_transpose2d (float32 CPU, groups 1) runs through conv2d's per-image
    fused kernels: where conv2d itself would run them for the matching convolution (Cin
    output channels, K = OC*kh*kw taps, L = H*W output pixels per image), ``weight_grad``
    as for ``_use_wide``."""
    return (
        g == 1
        and type(xa) is np.ndarray
        and xa.dtype == np.float32
        and not _use_wide(xa, 1, N, Cin, K, L, weight_grad=weight_grad)
        and _fused_kernel(xa, xa, 1, N, Cin, K, L) is not None
    )


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
    if is_half_cpu(xa):
        return half_forward(
            _convT_forward_arrays, xa, wa, ba, (OC, Ho, Wo),
            stride, padding, output_padding, groups, dilation,
        )  # fmt: skip
    xp = xp_of(xa)
    K = OCg * kh * kw
    L = H * W
    if type(xa) is np.ndarray and xa.dtype in (np.float32, np.float64):
        if _convT_as_conv(xa, g, N, Cin, K, L, weight_grad=False):
            # conv_transpose2d is conv2d's input gradient: the per-image fused kernel keeps
            # each image's columns in L2 (the wide path's batch of columns made a round
            # trip through memory before col2im: DCGAN's 128->64 4x4 s2 16->32 at batch 16,
            # 6.1 ms, torch 5.3)
            y = _conv2d_backward_arrays(
                xa, _ShapeOnly((N, OC, Ho, Wo)), wa, stride, padding, dilation, 1,
                True, False, False,
            )[0]  # fmt: skip
            if ba is not None:
                _add_channel_bias(y.reshape(N, OC, Ho * Wo), ba, N, OC, Ho * Wo)
            return y
        return _convT_wide_forward(xa, wa, ba, stride, padding, g, dilation, Ho, Wo)
    x4 = contiguous(xa).reshape(N, g, Cing, L)
    w3 = contiguous(wa).reshape(g, Cing, K)
    cols = xp.empty((N, g, K, L), xa.dtype)
    _grouped_gemm(w3.swapaxes(-1, -2), x4, cols)
    if _is_1x1(kh, kw, sh, sw, ph, pw) and Ho == H and Wo == W:
        y = cols.reshape(N, OC, Ho, Wo)
    else:
        y = col2im_array(
            cols, _window((N, OC, Ho, Wo), wa.shape, stride, padding, dilation, (H, W))
        )
    if ba is not None:
        _add_channel_bias(y.reshape(N, OC, Ho * Wo), ba, N, OC, Ho * Wo)
    return y


def _convT_backward_arrays(ga, xa, wa, stride, padding, groups, dilation, need_x, need_w, need_b):
    if is_half_cpu(ga):
        return half_backward(
            _convT_backward_arrays, ga, xa, wa, (stride, padding, groups, dilation),
            need_x, need_w, need_b,
        )  # fmt: skip
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
    if type(ga) is np.ndarray and ga.dtype in (np.float32, np.float64):
        if _convT_as_conv(xa, g, N, Cin, K, L, weight_grad=need_w):
            # conv2d of gy with the same weight, and conv2d's weight gradient with the roles
            # of x and gy exchanged: the per-image fused kernels (see _convT_forward_arrays)
            if need_x:
                gx = _conv2d_forward_arrays(ga, wa, None, stride, padding, dilation, 1)
            if need_w:
                gw = _conv2d_backward_arrays(
                    xa, ga, wa, stride, padding, dilation, 1, False, True, False
                )[1]  # fmt: skip
            return gx, gw, gb
        gx, gw = _convT_wide_backward(ga, xa, wa, stride, padding, g, dilation, need_x, need_w)
        return gx, gw, gb
    if _is_1x1(kh, kw, sh, sw, ph, pw) and Ho == H and Wo == W:
        cols = ga.reshape(N, g, K, L)
    else:
        geo = _window(ga.shape, wa.shape, stride, padding, dilation, (H, W))
        cols = im2col_array(ga, geo).reshape(N, g, K, L)
    if need_x:
        w3 = contiguous(wa).reshape(g, Cing, K)
        gx = xp.empty((N, g, Cing, L), ga.dtype)
        _grouped_gemm(w3, cols, gx)
        gx = gx.reshape(N, Cin, H, W)
    if need_w:
        x4 = contiguous(xa).reshape(N, g, Cing, L)
        part = xp.empty((N, g, Cing, K), ga.dtype)
        _gemm(x4, cols.swapaxes(-1, -2), out=part)
        gw = part.sum(0).reshape(Cin, OCg, kh, kw)
    return gx, gw, gb
