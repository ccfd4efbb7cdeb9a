"""Convolutions: conv1d, conv2d, conv_transpose2d, unfold, fold.

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

from .._backend import kernels_for, xp_of
from .._backend import sgemm_kernels as _sgemm_kernel
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state

__all__ = ["conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d", "unfold", "fold"]

_wrap = Tensor._make
_KDT = (np.dtype(np.float32), np.dtype(np.float64))
_IntOrPair = int | tuple | list


class _NoCtx:
    """Stand-in ctx for the no-grad fast path (forward logic called directly)."""

    needs_input_grad = (False,) * 12

    def save_for_backward(self, *a) -> None:
        pass


def _int64(v) -> int:
    """int(v), refusing what torch's int64 argument parser refuses (same message)."""
    v = int(v)
    if not -(2**63) <= v < 2**63:
        raise ValueError("Overflow when unpacking long long")
    return v


def _ntuple(v, n: int, name: str = "") -> tuple:
    if isinstance(v, (tuple, list)):
        if len(v) == 1:
            return (_int64(v[0]),) * n
        if len(v) != n:
            raise RuntimeError(
                f"expected {name} to be a single integer value or a list of {n} "
                f"values, but got {list(v)}"
            )
        return tuple(_int64(a) for a in v)
    return (_int64(v),) * n


_INT_MAX = 2**31 - 1


def _kernel_geometry(op, sizes, ks, stride, padding, dilation, outs, transposed=False):
    """(stride, dilation) for the C kernels, whose geometry fields are 32-bit ints.

    torch takes any int64 here.  A stride only matters between two outputs (or, for the
    transposed conv, two inputs: ``outs`` is then the input size) and a dilation only between
    two taps, so a stride with one output and a dilation of a 1-tap kernel become 1 (same
    result; ``stride=2**32`` reached C as 0 and killed the process with SIGFPE).  What is
    still above 2**31-1 after that (a padding, or a padded size) describes an array far too
    large for memory (torch fails to allocate it): a RuntimeError here instead of a wrapped
    value in the kernel.
    """
    dilation = tuple(1 if k <= 1 else d for d, k in zip(dilation, ks, strict=True))
    # one output: the smallest stride that still gives one (the sizes are recomputed from
    # it); transposed (outs = input sizes), one input: (H - 1) * stride is 0 for any stride
    stride = tuple(
        s if o > 1 else 1 if transposed else max(1, min(s, n + 2 * p - d * (k - 1)))
        for s, o, n, p, d, k in zip(stride, outs, sizes, padding, dilation, ks, strict=True)
    )
    for n, k, s, p, d, o in zip(sizes, ks, stride, padding, dilation, outs, strict=True):
        if max(k, s, p, d, o, n + 2 * p, d * (k - 1) + 1) > _INT_MAX:
            raise RuntimeError(
                f"{op}: geometry too large: kernel_size={tuple(ks)}, stride={tuple(stride)}, "
                f"padding={tuple(padding)}, dilation={tuple(dilation)} for spatial size "
                f"{tuple(sizes)}; ctorch supports values and padded sizes up to 2**31-1"
            )
    return stride, dilation


def _pair(v, name: str = "") -> tuple:
    return _ntuple(v, 2, name)


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


def _contig(a):
    if a.flags.c_contiguous:
        return a
    return xp_of(a).ascontiguousarray(a)


def _use_kernel(a, name: str):
    if a.dtype in _KDT:
        k = kernels_for(a)
        if k.has(name):
            return k
    return None


# --------------------------------------------------------------------------- array level
def _right_pad(n, k, s, p, d, o):
    """Padding after the input so that every window (also ceil_mode's last) is in range."""
    return max(p, (o - 1) * s + d * (k - 1) + 1 - n - p)


def im2col_array(x, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=None):
    """cols (N, C*kh*kw, oh*ow) from x (N, C, H, W); zero outside the input."""
    xp = xp_of(x)
    x = _contig(x)
    cols = out if out is not None else xp.empty((N, C * kh * kw, oh * ow), x.dtype)
    k = _use_kernel(x, "im2col")
    if k is not None:
        k.im2col(
            x.reshape(-1), cols.reshape(-1), N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
        )
        return cols
    rh, rw = _right_pad(H, kh, sh, ph, dh, oh), _right_pad(W, kw, sw, pw, dw, ow)
    xpad = x.reshape(N, C, H, W)
    if ph or pw or rh or rw:
        xpad = xp.pad(xpad, ((0, 0), (0, 0), (ph, rh), (pw, rw)))
    c6 = cols.reshape(N, C, kh, kw, oh, ow)
    for ki in range(kh):
        y0 = ki * dh
        for kj in range(kw):
            x0 = kj * dw
            c6[:, :, ki, kj] = xpad[
                :, :, y0 : y0 + sh * (oh - 1) + 1 : sh, x0 : x0 + sw * (ow - 1) + 1 : sw
            ]
    return cols


def col2im_array(cols, N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow, out=None):
    """x (N, C, H, W) = sum of the patches of cols (the adjoint of im2col)."""
    xp = xp_of(cols)
    cols = _contig(cols)
    x = out if out is not None else xp.empty((N, C, H, W), cols.dtype)
    k = _use_kernel(cols, "col2im")
    if k is not None:
        k.col2im(
            cols.reshape(-1), x.reshape(-1), N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow
        )
        return x
    rh, rw = _right_pad(H, kh, sh, ph, dh, oh), _right_pad(W, kw, sw, pw, dw, ow)
    xpad = xp.zeros((N, C, H + ph + rh, W + pw + rw), cols.dtype)
    c6 = cols.reshape(N, C, kh, kw, oh, ow)
    for ki in range(kh):
        y0 = ki * dh
        for kj in range(kw):
            x0 = kj * dw
            xpad[:, :, y0 : y0 + sh * (oh - 1) + 1 : sh, x0 : x0 + sw * (ow - 1) + 1 : sw] += c6[
                :, :, ki, kj
            ]
    x[...] = xpad[:, :, ph : ph + H, pw : pw + W]
    return x


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
    g = _contig(g)
    k = _use_kernel(g, "sum_axis")
    if k is not None and g.size >= 4096:
        part = xp_of(g).empty((N * OC,), g.dtype)
        k.sum_axis(g.reshape(-1), part, N * OC, L, 1)
        return part.reshape(N, OC).sum(0)
    return g.reshape(N, OC, L).sum(axis=(0, 2))


def _out_size(i, k, s, p, d):
    return (i + 2 * p - d * (k - 1) - 1) // s + 1


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
        return _contig(xa).reshape(N, g, K, L)
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
        bias = None if ba is None else _contig(ba)
        k.conv2d_fused_forward(
            _contig(xa).reshape(-1), _contig(wa).reshape(-1), bias, y.reshape(-1),
            N, C, H, W, OC, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow,
        )  # fmt: skip
        return y
    cols = _columns(xa, wa.shape, stride, padding, dilation, g, oh, ow)
    y = xp.empty((N, g, OCg, L), xa.dtype)
    w3 = _contig(wa).reshape(g, OCg, K)
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
    ga = _contig(ga)
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
            ga.reshape(-1), _contig(xa).reshape(-1) if need_w else None,
            _contig(wa).reshape(-1) if need_x else None,
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
        w3 = _contig(wa).reshape(g, OCg, K)
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


class Conv2dFn(Function):
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, dilation, groups):
        ctx.save_for_backward(
            x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None
        )
        ctx.geom = (stride, padding, dilation, groups)
        ctx.shapes = (x._a.shape, w._a.shape)
        return _wrap(
            _conv2d_forward_arrays(
                x._a, w._a, None if b is None else b._a, stride, padding, dilation, groups
            )
        )

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, dilation, groups = ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        if state.enabled:  # create_graph: the differentiable (slower) formulation
            return _conv2d_backward_graph(g, x, w, ctx, nx, nw, nb)
        xs, ws = ctx.shapes
        xa = x._a if x is not None else _Shape(xs)
        wa = w._a if w is not None else _Shape(ws)
        gx, gw, gb = _conv2d_backward_arrays(
            g._a, xa, wa, stride, padding, dilation, groups, nx, nw, nb
        )
        return (
            None if gx is None else _wrap(gx),
            None if gw is None else _wrap(gw),
            None if gb is None else _wrap(gb),
            None,
            None,
            None,
            None,
        )


class _Shape:
    """Shape-only placeholder for an input whose value backward does not need."""

    def __init__(self, shape) -> None:
        self.shape = shape


def _conv2d_backward_graph(g, x, w, ctx, nx, nw, nb):
    """Gradients as differentiable ops (only for create_graph=True / double backward)."""
    stride, padding, dilation, groups = ctx.geom
    xs, ws = ctx.shapes
    gx = gw = gb = None
    if nb:
        gb = g.sum((0, 2, 3))
    if nx:
        # dx = conv_transpose2d(g, w) with the geometry that restores the input size
        oh = (g.shape[2] - 1) * stride[0] - 2 * padding[0] + dilation[0] * (ws[2] - 1) + 1
        owd = (g.shape[3] - 1) * stride[1] - 2 * padding[1] + dilation[1] * (ws[3] - 1) + 1
        gx = conv_transpose2d(
            g, w, None, stride, padding, (xs[2] - oh, xs[3] - owd), groups, dilation
        )
    if nw:
        N, C, H, W = xs
        OC, Cg, kh, kw = ws
        cols = unfold(x, (kh, kw), dilation, padding, stride)  # (N, C*kh*kw, L)
        G = groups
        L = cols.shape[2]
        c5 = cols.reshape(N, G, Cg * kh * kw, L)
        g5 = g.reshape(N, G, OC // G, L)
        gw = (g5 @ c5.transpose(-1, -2)).sum(0).reshape(ws)
    return gx, gw, gb, None, None, None, None


def _check_conv_args(op, x, w, b, groups, nd):
    if not isinstance(x, Tensor) or not isinstance(w, Tensor):
        raise TypeError(f"{op}() expected Tensor arguments")
    if w._a.ndim != nd + 2:
        raise RuntimeError(
            f"{op}: Expected {nd + 2}-dimensional weight, but got weight of size {list(w._a.shape)}"
        )
    if x._a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"Expected {nd + 1}D (unbatched) or {nd + 2}D (batched) input to {op}, "
            f"but got input of size: {list(x._a.shape)}"
        )
    if x._a.dtype != w._a.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and weight type ({w.dtype}) should be the same")
    if b is not None and b._a.dtype != x._a.dtype:
        raise RuntimeError(f"Input type ({x.dtype}) and bias type ({b.dtype}) should be the same")
    if x._a.dtype.kind not in "fc":
        raise RuntimeError(f"\"{op}\" not implemented for '{x.dtype}'")
    if groups < 1:
        raise RuntimeError("non-positive groups is not supported")


def _check_window(stride, padding, dilation) -> None:
    """torch's errors for a non-positive stride or dilation and a negative padding."""
    if min(stride) < 1:
        raise RuntimeError("non-positive stride is not supported")
    if min(dilation) < 1:
        raise RuntimeError("dilation should be greater than zero")
    if min(padding) < 0:
        raise RuntimeError("negative padding is not supported")


def _same_padding(ks, dil):
    """Per-dim (left, right) padding for padding='same' (stride 1)."""
    out = []
    for k, d in zip(ks, dil, strict=False):
        total = d * (k - 1)
        out.append((total // 2, total - total // 2))
    return out


def conv2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """2-D convolution over (N, C, H, W) (or unbatched (C, H, W)) input, as torch's."""
    _check_conv_args("conv2d", input, weight, bias, groups, 2)
    stride, dilation = _pair(stride, "stride"), _pair(dilation, "dilation")
    if input._a.ndim == 3:
        return conv2d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    ks = weight._a.shape[2:]
    if isinstance(padding, str):
        if padding == "valid":
            padding = (0, 0)
        elif padding == "same":
            if stride != (1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lr = _same_padding(ks, dilation)
            if any(a != b for a, b in lr):
                from .spatial import pad

                input = pad(input, (0, lr[1][1] - lr[1][0], 0, lr[0][1] - lr[0][0]))
            padding = (lr[0][0], lr[1][0])
        else:
            raise RuntimeError(
                f"Invalid padding string '{padding}', should be one of ['valid', 'same']"
            )
    else:
        padding = _pair(padding, "padding")
    _check_window(stride, padding, dilation)
    N, C, H, W = input._a.shape
    OC, Cg = weight._a.shape[:2]
    if C != Cg * groups:
        raise RuntimeError(
            f"Given groups={groups}, weight of size {list(weight._a.shape)}, expected "
            f"input{list(input._a.shape)} to have {Cg * groups} channels, but got {C} "
            "channels instead"
        )
    if OC % groups:
        raise RuntimeError("out_channels must be divisible by groups")
    if bias is not None and tuple(bias._a.shape) != (OC,):
        raise RuntimeError(
            f"Given weight of size {list(weight._a.shape)}, expected bias to be "
            f"1-dimensional with {OC} elements, but got bias of size "
            f"{list(bias._a.shape)} instead"
        )
    oh = _out_size(H, ks[0], stride[0], padding[0], dilation[0])
    ow = _out_size(W, ks[1], stride[1], padding[1], dilation[1])
    if oh <= 0 or ow <= 0:
        raise RuntimeError(
            f"Calculated padded input size per channel: ({H + 2 * padding[0]} x "
            f"{W + 2 * padding[1]}). Kernel size: ({dilation[0] * (ks[0] - 1) + 1} x "
            f"{dilation[1] * (ks[1] - 1) + 1}). Kernel size can't be greater than actual "
            "input size"
        )
    stride, dilation = _kernel_geometry("conv2d", (H, W), ks, stride, padding, dilation, (oh, ow))
    if state.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        return Conv2dFn.apply(input, weight, bias, stride, padding, dilation, groups)
    return _wrap(
        _conv2d_forward_arrays(
            input._a,
            weight._a,
            None if bias is None else bias._a,
            stride,
            padding,
            dilation,
            groups,
        )
    )


def conv1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """1-D convolution over (N, C, L) (or unbatched (C, L)) input: conv2d with H=1."""
    _check_conv_args("conv1d", input, weight, bias, groups, 1)
    if input._a.ndim == 2:
        return conv1d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    (s,) = _ntuple(stride, 1, "stride")
    (d,) = _ntuple(dilation, 1, "dilation")
    if isinstance(padding, str):
        p2 = padding
    else:
        (p,) = _ntuple(padding, 1, "padding")
        p2 = (0, p)
    y = conv2d(input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), p2, (1, d), groups)
    return y.squeeze(2)


def conv3d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair | str = 0,
    dilation: _IntOrPair = 1,
    groups: int = 1,
) -> Tensor:
    """3-D convolution, composed of one conv2d per depth tap (autograd through the ops).

    Not a hot path: correct and torch-compatible, not tuned.
    """
    _check_conv_args("conv3d", input, weight, bias, groups, 3)
    if input._a.ndim == 4:
        return conv3d(input.unsqueeze(0), weight, bias, stride, padding, dilation, groups).squeeze(
            0
        )
    sd, sh, sw = _ntuple(stride, 3, "stride")
    dd, dh, dw = _ntuple(dilation, 3, "dilation")
    kd = weight._a.shape[2]
    if isinstance(padding, str):
        if padding == "valid":
            pads = (0, 0, 0)
        elif padding == "same":
            if (sd, sh, sw) != (1, 1, 1):
                raise RuntimeError("padding='same' is not supported for strided convolutions")
            lr = _same_padding(weight._a.shape[2:], (dd, dh, dw))
            if any(a != b for a, b in lr):
                from .spatial import pad

                input = pad(
                    input, (0, lr[2][1] - lr[2][0], 0, lr[1][1] - lr[1][0], 0, lr[0][1] - lr[0][0])
                )
            pads = tuple(a for a, _ in lr)
        else:
            raise RuntimeError(f"Invalid padding string '{padding}'")
    else:
        pads = _ntuple(padding, 3, "padding")
    pd, ph, pw = pads
    # depth runs through Python slicing (any int64 stride is fine); a depth padding above
    # 2**31-1 would only fail in the allocation of the padded copy
    if pd > _INT_MAX or min(pads) < 0:
        _check_window((sd, sh, sw), pads, (dd, dh, dw))
        raise RuntimeError(
            f"conv3d: geometry too large: padding={tuple(pads)}; ctorch supports values and "
            "padded sizes up to 2**31-1"
        )
    if pd:
        from .spatial import pad

        input = pad(input, (0, 0, 0, 0, pd, pd))
    N, C, D = input.shape[:3]
    od = (D - dd * (kd - 1) - 1) // sd + 1
    if od <= 0:
        raise RuntimeError("conv3d: kernel size can't be greater than actual input size")
    y = None
    for k in range(kd):
        xs = input[:, :, k * dd : k * dd + sd * (od - 1) + 1 : sd]  # (N, C, od, H, W)
        x2 = xs.transpose(1, 2).reshape(N * od, C, *xs.shape[3:])
        t = conv2d(x2, weight[:, :, k], None, (sh, sw), (ph, pw), (dh, dw), groups)
        y = t if y is None else y + t
    OC = weight.shape[0]
    y = y.reshape(N, od, OC, *y.shape[2:]).transpose(1, 2)
    if bias is not None:
        y = y + bias.reshape(1, OC, 1, 1, 1)
    return y.contiguous()


# --------------------------------------------------------------------------- transposed
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
    x4 = _contig(xa).reshape(N, g, Cing, L)
    w3 = _contig(wa).reshape(g, Cing, K)
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
    ga = _contig(ga)
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
        w3 = _contig(wa).reshape(g, Cing, K)
        gx = xp.empty((N, g, Cing, L), ga.dtype)
        if g == 1:
            _gemm(w3[0], cols.reshape(N, K, L), out=gx.reshape(N, Cing, L))
        else:
            _gemm(w3, cols, out=gx)
        gx = gx.reshape(N, Cin, H, W)
    if need_w:
        x4 = _contig(xa).reshape(N, g, Cing, L)
        part = xp.empty((N, g, Cing, K), ga.dtype)
        _gemm(x4, cols.swapaxes(-1, -2), out=part)
        gw = part.sum(0).reshape(Cin, OCg, kh, kw)
    return gx, gw, gb


class ConvTranspose2dFn(Function):
    _node_name = "ConvolutionBackward0"

    @staticmethod
    def forward(ctx, x, w, b, stride, padding, output_padding, groups, dilation):
        ctx.save_for_backward(
            x if ctx.needs_input_grad[1] else None, w if ctx.needs_input_grad[0] else None
        )
        ctx.geom = (stride, padding, output_padding, groups, dilation)
        ctx.shapes = (x._a.shape, w._a.shape)
        return _wrap(
            _convT_forward_arrays(
                x._a,
                w._a,
                None if b is None else b._a,
                stride,
                padding,
                output_padding,
                groups,
                dilation,
            )
        )

    @staticmethod
    def backward(ctx, g):
        x, w = ctx.saved_tensors
        stride, padding, output_padding, groups, dilation = ctx.geom
        nx, nw, nb = ctx.needs_input_grad[:3]
        xs, ws = ctx.shapes
        if state.enabled:
            gx = gw = gb = None
            if nb:
                gb = g.sum((0, 2, 3))
            if nx:
                gx = conv2d(g, w, None, stride, padding, dilation, groups)
            if nw:
                N, Cin, H, W = xs
                _, OCg, kh, kw = ws
                G = groups
                cols = unfold(g, (kh, kw), dilation, padding, stride)
                c5 = cols.reshape(N, G, OCg * kh * kw, H * W)
                x5 = x.reshape(N, G, Cin // G, H * W)
                gw = (x5 @ c5.transpose(-1, -2)).sum(0).reshape(ws)
            return gx, gw, gb, None, None, None, None, None
        xa = x._a if x is not None else _Shape(xs)
        wa = w._a if w is not None else _Shape(ws)
        gx, gw, gb = _convT_backward_arrays(
            g._a, xa, wa, stride, padding, groups, dilation, nx, nw, nb
        )
        return (
            None if gx is None else _wrap(gx),
            None if gw is None else _wrap(gw),
            None if gb is None else _wrap(gb),
            None,
            None,
            None,
            None,
            None,
        )


def conv_transpose2d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    output_padding: _IntOrPair = 0,
    groups: int = 1,
    dilation: _IntOrPair = 1,
) -> Tensor:
    """Transposed 2-D convolution (the gradient of conv2d w.r.t. its input), as torch's."""
    _check_conv_args("conv_transpose2d", input, weight, bias, groups, 2)
    if input._a.ndim == 3:
        return conv_transpose2d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    stride, padding = _pair(stride, "stride"), _pair(padding, "padding")
    output_padding, dilation = _pair(output_padding, "output_padding"), _pair(dilation, "dilation")
    _check_window(stride, padding, dilation)
    for op_, s, d in zip(output_padding, stride, dilation, strict=False):
        if op_ < 0 or (op_ >= s and op_ >= d):
            raise RuntimeError(
                "output padding must be smaller than either stride or dilation, "
                f"but got output_padding: {output_padding}, stride: {stride}, "
                f"dilation: {dilation}"
            )
    N, Cin, H, W = input._a.shape
    if weight._a.shape[0] != Cin:
        raise RuntimeError(
            f"Given transposed=1, weight of size {list(weight._a.shape)}, expected "
            f"input{list(input._a.shape)} to have {weight._a.shape[0]} channels, but got {Cin} "
            "channels instead"
        )
    if Cin % groups:
        raise RuntimeError("in_channels must be divisible by groups")
    OC = weight._a.shape[1] * groups
    if bias is not None and tuple(bias._a.shape) != (OC,):
        raise RuntimeError(
            f"Given transposed weight of size {list(weight._a.shape)}, expected "
            f"bias to have {OC} elements, but got {list(bias._a.shape)}"
        )
    kh, kw = weight._a.shape[2:]
    for i, (n, k) in enumerate(((H, kh), (W, kw))):
        o = (n - 1) * stride[i] - 2 * padding[i] + dilation[i] * (k - 1) + output_padding[i] + 1
        if o <= 0:
            raise RuntimeError(
                f"Given input size per channel: ({H} x {W}). Calculated output "
                "size per channel is too small"
            )
        if o > _INT_MAX:  # col2im's C ints; torch wraps the stride to int32 here instead
            raise RuntimeError(
                f"conv_transpose2d: calculated output size {o} is above 2**31-1 (stride="
                f"{stride}, padding={padding}, output_padding={output_padding}, dilation="
                f"{dilation})"
            )
    # stride matters between two inputs, dilation between two taps
    stride, dilation = _kernel_geometry(
        "conv_transpose2d", (H, W), (kh, kw), stride, padding, dilation, (H, W), True
    )
    if state.enabled and (input._rg or weight._rg or (bias is not None and bias._rg)):
        return ConvTranspose2dFn.apply(
            input, weight, bias, stride, padding, output_padding, groups, dilation
        )
    return _wrap(
        _convT_forward_arrays(
            input._a,
            weight._a,
            None if bias is None else bias._a,
            stride,
            padding,
            output_padding,
            groups,
            dilation,
        )
    )


def conv_transpose1d(
    input: Tensor,
    weight: Tensor,
    bias: Tensor | None = None,
    stride: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    output_padding: _IntOrPair = 0,
    groups: int = 1,
    dilation: _IntOrPair = 1,
) -> Tensor:
    """Transposed 1-D convolution: conv_transpose2d with H=1."""
    if input.dim() == 2:
        return conv_transpose1d(
            input.unsqueeze(0), weight, bias, stride, padding, output_padding, groups, dilation
        ).squeeze(0)
    (s,) = _ntuple(stride, 1)
    (p,) = _ntuple(padding, 1)
    (op_,) = _ntuple(output_padding, 1)
    (d,) = _ntuple(dilation, 1)
    y = conv_transpose2d(
        input.unsqueeze(2), weight.unsqueeze(2), bias, (1, s), (0, p), (0, op_), groups, (1, d)
    )
    return y.squeeze(2)


# --------------------------------------------------------------------------- unfold / fold
class UnfoldFn(Function):
    _node_name = "Im2ColBackward0"

    @staticmethod
    def forward(ctx, x, geom):
        kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geom
        N, C, H, W = x._a.shape
        ctx.geom, ctx.xshape = geom, (N, C, H, W)
        return _wrap(im2col_array(x._a, N, C, H, W, *geom))

    @staticmethod
    def backward(ctx, g):
        N, C, H, W = ctx.xshape
        if state.enabled:
            return FoldFn.apply(g, (N, C, H, W), ctx.geom), None
        return _wrap(col2im_array(g._a, N, C, H, W, *ctx.geom)), None


class FoldFn(Function):
    _node_name = "Col2ImBackward0"

    @staticmethod
    def forward(ctx, cols, xshape, geom):
        ctx.geom, ctx.xshape = geom, xshape
        return _wrap(col2im_array(cols._a, *xshape, *geom))

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return UnfoldFn.apply(g, ctx.geom), None, None
        N, C, H, W = ctx.xshape
        return _wrap(im2col_array(g._a, N, C, H, W, *ctx.geom)), None, None


def _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw) -> None:
    """torch's im2col/col2im argument errors (unfold/fold)."""
    if kh <= 0 or kw <= 0:
        raise RuntimeError(
            f"kernel size should be greater than zero, but got kernel_height: {kh} "
            f"kernel_width: {kw}"
        )
    if sh <= 0 or sw <= 0:
        raise RuntimeError(
            f"stride should be greater than zero, but got stride_height: {sh} stride_width: {sw}"
        )
    if dh <= 0 or dw <= 0:
        raise RuntimeError(
            f"dilation should be greater than zero, but got dilation_height: {dh} "
            f"dilation_width: {dw}"
        )
    if ph < 0 or pw < 0:
        raise RuntimeError(
            f"padding should be non-negative, but got pad_height: {ph} pad_width: {pw}"
        )


def unfold(
    input: Tensor,
    kernel_size: _IntOrPair,
    dilation: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    stride: _IntOrPair = 1,
) -> Tensor:
    """Extract sliding local blocks: (N, C, H, W) -> (N, C*kh*kw, L)."""
    if input._a.ndim == 3:
        return unfold(input.unsqueeze(0), kernel_size, dilation, padding, stride).squeeze(0)
    if input._a.ndim != 4:
        raise RuntimeError(
            f"Input Error: Only 3D or 4D input Tensors are supported (got {input._a.ndim}D)"
        )
    kh, kw = _pair(kernel_size)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw)
    N, C, H, W = input._a.shape
    oh, ow = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input with spatial size ({H}, {W}), kernel_size=({kh}, {kw}), "
            f"dilation=({dh}, {dw}), padding=({ph}, {pw}), calculated shape of "
            f"the array of sliding blocks as ({oh}, {ow}), but its components "
            "must be at least one."
        )
    (sh, sw), (dh, dw) = _kernel_geometry(
        "unfold", (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)
    )
    geom = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if state.enabled and input._rg:
        return UnfoldFn.apply(input, geom)
    return _wrap(im2col_array(input._a, N, C, H, W, *geom))


def fold(
    input: Tensor,
    output_size: _IntOrPair,
    kernel_size: _IntOrPair,
    dilation: _IntOrPair = 1,
    padding: _IntOrPair = 0,
    stride: _IntOrPair = 1,
) -> Tensor:
    """Combine sliding local blocks into a tensor (sums overlaps): the adjoint of unfold."""
    if input._a.ndim == 2:
        return fold(
            input.unsqueeze(0), output_size, kernel_size, dilation, padding, stride
        ).squeeze(0)
    if input._a.ndim != 3:
        raise RuntimeError(
            "Input Error: Only unbatched (2D) or batched (3D) input Tensors are "
            f"supported (got {input._a.ndim}D)"
        )
    H, W = _pair(output_size)
    kh, kw = _pair(kernel_size)
    dh, dw = _pair(dilation)
    ph, pw = _pair(padding)
    sh, sw = _pair(stride)
    _check_im2col_args(kh, kw, sh, sw, ph, pw, dh, dw)
    N, CK, L = input._a.shape
    if CK % (kh * kw):
        raise RuntimeError(
            "Expected size of input's dimension 1 to be divisible by the product "
            f"of kernel_size, but got input.size(1)={CK} and "
            f"kernel_size=({kh}, {kw})"
        )
    C = CK // (kh * kw)
    oh, ow = _out_size(H, kh, sh, ph, dh), _out_size(W, kw, sw, pw, dw)
    if oh * ow != L:
        raise RuntimeError(
            f"Given output_size=({H}, {W}), kernel_size=({kh}, {kw}), "
            f"dilation=({dh}, {dw}), padding=({ph}, {pw}), stride=({sh}, {sw}), "
            f"expected size of input's dimension 2 to match the calculated number "
            f"of sliding blocks {oh} * {ow} = {oh * ow}, but got input.size(2)={L}."
        )
    (sh, sw), (dh, dw) = _kernel_geometry(
        "fold", (H, W), (kh, kw), (sh, sw), (ph, pw), (dh, dw), (oh, ow)
    )
    geom = (kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)
    if state.enabled and input._rg:
        return FoldFn.apply(input, (N, C, H, W), geom)
    return _wrap(col2im_array(input._a, N, C, H, W, *geom))
