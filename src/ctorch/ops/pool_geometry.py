"""Pooling windows: torch's output-size rule (ceil_mode), the 2-D geometry and its errors,
the 1-D-as-2-D arguments and the adaptive window bounds, shared by ``max_pool``,
``avg_pool`` and ``pooling3d``."""

from __future__ import annotations

import numpy as np

from .._geometry import Window2d
from .._tensor import Tensor
from .im2col import _ntuple


def _pool_out(i, k, s, p, d, ceil):
    o = (i + 2 * p - d * (k - 1) - 1 + (s - 1 if ceil else 0)) // s + 1
    if ceil and (o - 1) * s >= i + p:
        o -= 1
    return o


def _int32(*vals) -> None:
    """torch converts the 2-D pooling geometry to C int and refuses what does not fit
    (ctorch's kernels would take it, but then disagree with torch: stride=2**32 pooled)."""
    for v in vals:
        if not -(2**31) <= v < 2**31:
            raise RuntimeError("value cannot be converted to type int without overflow")


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode) -> Window2d:
    """The pooling window over x (N, C, H, W), checked as torch checks it (ceil_mode sizes)."""
    kh, kw = _ntuple(kernel_size, 2, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        sh, sw = kh, kw
    else:
        sh, sw = _ntuple(stride, 2, "stride")
    ph, pw = _ntuple(padding, 2, "padding")
    dh, dw = _ntuple(dilation, 2, "dilation")
    _int32(kh, kw, sh, sw, ph, pw, dh, dw)
    if kh <= 0 or kw <= 0:
        raise RuntimeError(
            f"{op}: kernel size should be greater than zero, but got kH: {kh} kW: {kw}"
        )
    if sh <= 0 or sw <= 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got dH: {sh} dW: {sw}")
    if dh <= 0 or dw <= 0:
        raise RuntimeError(
            f"{op}: dilation should be greater than zero, but got dilationH: {dh} dilationW: {dw}"
        )
    if ph < 0 or pw < 0 or kh // 2 < ph or kw // 2 < pw:
        raise RuntimeError(
            f"pad should be at most half of effective kernel size, but got "
            f"pad={ph if kh // 2 < ph else pw}, kernel_size="
            f"{kh if kh // 2 < ph else kw} and dilation="
            f"{dh if kh // 2 < ph else dw}"
        )
    N, C, H, W = x.shape
    if not C * H * W:  # torch: only the batch may be empty
        raise RuntimeError(
            f"{op}: Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for "
            f"input, but got:{list(x.shape)}"
        )
    oh = _pool_out(H, kh, sh, ph, dh, ceil_mode)
    ow = _pool_out(W, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: "
            f"({C}x{oh}x{ow}). Output size is too small"
        )
    return Window2d(N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow)


def _as4d(op, input, nd=2):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, "
            f"but got: {list(input._a.shape)}"
        )
    return input._a.ndim == nd + 1


def _1d_args(kernel_size, stride, padding, dilation):
    (k,) = _ntuple(kernel_size, 1, "kernel_size")
    s = (
        None
        if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0)
        else _ntuple(stride, 1, "stride")[0]
    )
    (p,) = _ntuple(padding, 1, "padding")
    (d,) = _ntuple(dilation, 1, "dilation")
    return (1, k), (1, k if s is None else s), (0, p), (1, d)


def _adaptive_ranges(n, o):
    return [((i * n) // o, -((-(i + 1) * n) // o)) for i in range(o)]


def _out_pair(output_size, H, W):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError("adaptive pooling: output_size must be 2")
        oh, ow = output_size
    else:
        oh = ow = output_size
    return (H if oh is None else int(oh)), (W if ow is None else int(ow))


def _check_storage(shape, dtype) -> None:
    """torch's error for an output whose byte size overflows int64 (before any Python
    loop over the output positions could start)."""
    n = 1
    for v in shape:
        n *= int(v)
    if n * np.dtype(dtype).itemsize >= 2**63:
        raise RuntimeError(f"Storage size calculation overflowed with sizes={list(shape)}")


def _adaptive_nonempty(op, shape, first):
    """torch refuses an empty dimension from ``first`` on (an empty batch is fine; average
    pooling also takes zero channels, max pooling does not)."""
    for i in range(first, len(shape)):
        if shape[i] == 0:
            raise RuntimeError(
                f"{op}(): Expected input to have non-zero size for non-batch dimensions, "
                f"but input has sizes {list(shape)} with dimension {i} being empty"
            )


def _adaptive2d_checks(op, input, output_size, empty_channels_ok: bool) -> bool:
    """The input checks adaptive 2-D pooling does first (torch's order: rank, empty
    dimensions, the output's byte size); True for an unbatched input."""
    unbatched = _as4d(op, input)
    first = input._a.ndim - 2 if empty_channels_ok else 1
    _adaptive_nonempty(op, input._a.shape, first)
    _check_storage(input._a.shape[:-2] + _out_pair(output_size, 1, 1), input._a.dtype)
    return unbatched
