"""Average pooling: avg_pool1d/2d, lp_pool2d, adaptive average pooling 1-D/2-D.

2-D average pooling runs in the ``pooling`` kernels (float32/float64) and falls back to
im2col and a sum over the window taps (windows clipped at the padded border for the
count_include_pad divisor).  1-D pooling is the 2-D op with H=1.  Adaptive average pooling
with divisible sizes is a plain average pool; otherwise it sums gathered taps per dimension
(``ops/taps.py``) through autograd.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import contiguous, float_kernels, xp_of
from .._geometry import Window2d
from .._memfmt import (
    contiguous_format,
    elem_strides,
    exact_format,
    like_input,
    suggest_memory_format,
)
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .im2col import _batch_of_one, _ntuple, col2im_array, im2col_array
from .pool_geometry import (
    _1d_args,
    _adaptive2d_checks,
    _as4d,
    _out_pair,
    _pool_geometry,
)
from .taps import _apply_taps, _to_like

__all__ = [
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "lp_pool1d",
    "lp_pool2d",
    "lp_pool3d",
]

_wrap = Tensor._make
_IntOrPair = int | tuple | list


def _avg_divisor(n, o, k, s, p, count_include_pad):
    """Per-output-position window length along one axis (pool size or valid count)."""
    i0 = np.arange(o) * s - p
    i1 = np.minimum(i0 + k, n + p)
    pool = i1 - i0
    valid = np.minimum(i1, n) - np.maximum(i0, 0)
    return pool if count_include_pad else valid


def _window_sizes(geo: Window2d, cip) -> np.ndarray:
    """(oh, ow): the divisor of each output position, its window's size (count_include_pad)
    or the number of input elements in it."""
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    return np.outer(_avg_divisor(H, oh, kh, sh, ph, cip), _avg_divisor(W, ow, kw, sw, pw, cip))


def _avg_kernel(name, src, shape, geo: Window2d, cip, div):
    """The C kernel ``name`` (avgpool2d_forward or _backward) applied to the contiguous
    ``src``: a new array of ``shape``, or None where there is no kernel for the dtype."""
    k = float_kernels(src, name)
    if k is None:
        return None
    out = xp_of(src).empty(shape, src.dtype)
    getattr(k, name)(src.reshape(-1), out.reshape(-1), geo, bool(cip), int(div or 0))
    return out


def _avg_fwd_arrays(xa, geo: Window2d, cip, div):
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    xp = xp_of(xa)
    xa = contiguous(xa)
    y = _avg_kernel("avgpool2d_forward", xa, (N, C, oh, ow), geo, cip, div)
    if y is not None:
        return y
    cols = im2col_array(xa, geo)
    s = cols.reshape(N, C, kh * kw, oh, ow).sum(2)
    if div:
        return (s / div).astype(xa.dtype)
    return (s / xp.asarray(_window_sizes(geo, cip).astype(xa.dtype))).astype(xa.dtype)


def _avg_bwd_arrays(ga, xshape, geo: Window2d, cip, div):
    N, C, H, W, kh, kw, sh, sw, ph, pw, _, _, oh, ow = geo
    xp = xp_of(ga)
    ga = contiguous(ga)
    gx = _avg_kernel("avgpool2d_backward", ga, xshape, geo, cip, div)
    if gx is not None:
        return gx
    if div:
        g = ga / div
    else:
        g = ga / xp.asarray(_window_sizes(geo, cip).astype(ga.dtype))
    cols = xp.broadcast_to(g.astype(ga.dtype).reshape(N, C, 1, oh, ow), (N, C, kh * kw, oh, ow))
    return col2im_array(xp.ascontiguousarray(cols), geo)


class AvgPool2dFn(Function):
    _node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geo, cip, div):
        ctx.args = (x._a.shape, geo, cip, div)
        return _wrap(like_input(_avg_fwd_arrays(x._a, geo, cip, div), x._a))

    @staticmethod
    def backward(ctx, g):
        xshape, geo, cip, div = ctx.args
        if state.enabled:
            return _AvgPoolGradFn.apply(g, ctx.args), None, None, None
        return _wrap(_avg_bwd_arrays(g._a, xshape, geo, cip, div)), None, None, None


class _AvgPoolGradFn(Function):
    @staticmethod
    def forward(ctx, g, args):
        ctx.args = args
        xshape, geo, cip, div = args
        return _wrap(_avg_bwd_arrays(g._a, xshape, geo, cip, div))

    @staticmethod
    def backward(ctx, gg):
        xshape, geo, cip, div = ctx.args
        return AvgPool2dFn.apply(gg, geo, cip, div), None


def avg_pool2d(
    input: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """2-D average pooling over (N, C, H, W) or (C, H, W) input, as torch's."""
    if _as4d("avg_pool2d", input):
        return _batch_of_one(
            avg_pool2d,
            input,
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        )
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geo = _pool_geometry("avg_pool2d", input._a, kernel_size, stride, padding, 1, ceil_mode)
    if input._a.dtype.kind not in "fcV":  # torch: int64 sums // divisor, others refused
        from .int_pool import avg_pool_int

        kw = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        kw.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
        return avg_pool_int("avg_pool2d", avg_pool2d, input, kw)
    div = int(divisor_override) if divisor_override else 0
    if div < 0:  # torch divides by a negative divisor too; the kernel takes positive ones
        return AvgPool2dFn.apply(input, geo, bool(count_include_pad), -div).neg()
    # apply on the no-grad path too (+1.5 us measured on 1x3x8x8, noise on real sizes)
    return AvgPool2dFn.apply(input, geo, bool(count_include_pad), div)


def avg_pool1d(
    input: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
) -> Tensor:
    """1-D average pooling over (N, C, L) or (C, L) input."""
    if _as4d("avg_pool1d", input, 1):
        return _batch_of_one(
            avg_pool1d, input, kernel_size, stride, padding, ceil_mode, count_include_pad
        )
    k, s, p, _ = _1d_args(kernel_size, stride, padding, 1)
    return avg_pool2d(input.unsqueeze(2), k, s, p, ceil_mode, count_include_pad).squeeze(2)


def _lp_pool(nd: int, avg, input, norm_type, kernel_size, stride, ceil_mode) -> Tensor:
    """torch's lp_pool{1,2,3}d: ``(sum over the window of x ** p) ** (1/p)`` as the average
    pool of ``x ** p`` times the window size (negative sums clipped to 0 before the root)."""
    k = _ntuple(kernel_size, nd)
    if norm_type == math.inf:  # torch: the max pool of |x| (the limit of the p-norm)
        from . import max_pool as _mp

        mp = (_mp.max_pool1d, _mp.max_pool2d, None)[nd - 1]
        if mp is None:
            from .pooling3d import max_pool3d as mp
        return mp(input.abs(), kernel_size, stride, 0, 1, ceil_mode)
    out = avg(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(math.prod(k)).pow(1.0 / norm_type)


def lp_pool1d(
    input: Tensor, norm_type: float, kernel_size: int, stride=None, ceil_mode: bool = False
) -> Tensor:
    return _lp_pool(1, avg_pool1d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    return _lp_pool(2, avg_pool2d, input, norm_type, kernel_size, stride, ceil_mode)


def lp_pool3d(
    input: Tensor, norm_type: float, kernel_size, stride=None, ceil_mode: bool = False
) -> Tensor:
    from .pooling3d import avg_pool3d  # pooling3d imports this module

    return _lp_pool(3, avg_pool3d, input, norm_type, kernel_size, stride, ceil_mode)


def _adaptive_avg_dim(y, d, n, o):
    """Adaptive average along dim d: each window summed in order, then divided by its
    length (torch's order).  The windows are gathered taps (shorter ones padded with a
    zero), so an inf or NaN reaches only the windows that hold it; the dense averaging
    matrix this replaces spread it over the whole row (0 * inf)."""
    i = np.arange(o, dtype=np.int64)
    a, b = (i * n) // o, -((-(i + 1) * n) // o)  # vectorised _adaptive_ranges
    idx = a[:, None] + np.arange(int((b - a).max()), dtype=np.int64)
    idx[idx >= b[:, None]] = n
    shape = [1] * y.dim()
    shape[d] = o
    cnt = (b - a).astype(y._a.dtype).reshape(shape)
    return _apply_taps(y, d, idx, None) / _to_like(cnt, y)


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Adaptive 2-D average pooling (torch's floor/ceil window bounds)."""
    if _adaptive2d_checks("adaptive_avg_pool2d", input, output_size, True):
        return _batch_of_one(adaptive_avg_pool2d, input, output_size)
    N, C, H, W = input._a.shape
    oh, ow = _out_pair(output_size, H, W)
    if oh < 0 or ow < 0:
        raise RuntimeError(
            f"adaptive_avg_pool2d: elements of output_size must be greater than "
            f"or equal to 0 but received {{{oh}, {ow}}}"
        )
    if oh == 0 or ow == 0 or N * C == 0:  # an empty output (torch returns it, with a grad_fn)
        return input.sum((2, 3), keepdim=True).expand(N, C, oh, ow).contiguous()
    if H % oh == 0 and W % ow == 0:
        if (oh, ow) == (1, 1) and input._a.dtype.kind in "fV":
            r = input.mean((2, 3), keepdim=True)
            fmt = suggest_memory_format(input._a.shape, elem_strides(input._a))
            if fmt is not contiguous_format:  # torch restrides it (C, 1, C, C) likewise
                r._a = exact_format(r._a, fmt)
            return r
        return avg_pool2d(input, (H // oh, W // ow), (H // oh, W // ow))
    y = input
    if oh != H:
        y = _adaptive_avg_dim(y, 2, H, oh)
    if ow != W:
        y = _adaptive_avg_dim(y, 3, W, ow)
    fmt = suggest_memory_format(input._a.shape, elem_strides(input._a))
    return y.contiguous(memory_format=fmt) if y is not input else y.clone(memory_format=fmt)


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    if _as4d("adaptive_avg_pool1d", input, 1):
        return _batch_of_one(adaptive_avg_pool1d, input, output_size)
    (o,) = _ntuple(output_size, 1)
    return adaptive_avg_pool2d(input.unsqueeze(2), (1, o)).squeeze(2)
