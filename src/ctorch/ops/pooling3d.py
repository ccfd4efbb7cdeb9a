"""3-D pooling: max/avg pooling and adaptive average/max pooling over (N, C, D, H, W) or
unbatched (C, D, H, W) input, with torch's window rules.

Average pooling (plain and adaptive) is separable, divisors included (the count of taps inside
the input or padded border is a product of per-axis counts), so it runs as three 1-D passes of
the 2-D average-pool kernels along W, H and D.  Max pooling scans the kD*kH*kW taps over
whole arrays (NumPy/CuPy; first maximum wins, a NaN propagates) and records flat D*H*W indices;
its backward is the 2-D pooling scatter over a (D*H*W, 1) plane, so double backward works too.
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, xp_of
from .._memfmt import (
    channels_last_3d,
    elem_strides,
    exact_format,
    like_input,
    suggest_memory_format,
)
from .._tensor import Tensor
from .avg_pool import adaptive_avg_pool2d
from .im2col import _batch_of_one, _ntuple
from .pool_geometry import _adaptive_ranges, _pool_out
from .pool_nodes import AdaptiveMaxPool3dIndexed, MaxPool3dIndexed, avg_pool3d_node

__all__ = [
    "max_pool3d",
    "max_pool3d_with_indices",
    "avg_pool3d",
    "adaptive_avg_pool3d",
    "adaptive_max_pool3d",
    "adaptive_max_pool3d_with_indices",
]

_wrap = Tensor._make


def _check5d(op: str, input: Tensor) -> bool:
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._a.ndim not in (4, 5):
        raise RuntimeError(
            f"{op}: Expected 4D or 5D (batch mode) tensor for input, but got: "
            f"{list(input._a.shape)}"
        )
    return input._a.ndim == 4


def _geometry3d(op, shape, kernel_size, stride, padding, dilation, ceil_mode):
    for i, n in enumerate(shape[1:]):
        if n == 0:  # torch: only the batch may be empty
            raise RuntimeError(
                f"{op}(): Expected input's non-batch dimensions to have positive length, but "
                f"input has a shape of {list(shape)} and non-batch dimension {i} has length "
                "zero!"
            )
    k = _ntuple(kernel_size, 3, "kernel_size")
    if stride is None or (isinstance(stride, (tuple, list)) and len(stride) == 0):
        s = k
    else:
        s = _ntuple(stride, 3, "stride")
    p = _ntuple(padding, 3, "padding")
    d = _ntuple(dilation, 3, "dilation")
    if min(k) <= 0:
        raise RuntimeError(f"{op}: kernel size should be greater than zero, but got {k}")
    if min(s) <= 0:
        raise RuntimeError(f"{op}: stride should be greater than zero, but got {s}")
    if min(d) <= 0:
        raise RuntimeError(f"{op}: dilation should be greater than zero, but got {d}")
    for ki, pi in zip(k, p, strict=True):
        if pi < 0 or ki // 2 < pi:
            raise RuntimeError(
                f"pad should be at most half of effective kernel size, but got pad={pi}, "
                f"kernel_size={ki} and dilation={d[0]}"
            )
    N, C, D, H, W = shape
    o = tuple(
        _pool_out(i, ki, si, pi, di, ceil_mode)
        for i, ki, si, pi, di in zip((D, H, W), k, s, p, d, strict=True)
    )
    if min(o) < 1:
        raise RuntimeError(
            f"Given input size: ({C}x{D}x{H}x{W}). Calculated output size: "
            f"({C}x{o[0]}x{o[1]}x{o[2]}). Output size is too small"
        )
    return k, s, p, d, o


def _maxpool3d_arrays(xa, k, s, p, d, o):
    N, C, D, H, W = xa.shape
    xp = xp_of(xa)
    xa = contiguous(xa)
    fill = -np.inf if xa.dtype.kind in "fV" else np.iinfo(xa.dtype).min
    right = [
        max(0, (oi - 1) * si + di * (ki - 1) + 1 - n - pi)
        for oi, si, di, ki, n, pi in zip(o, s, d, k, (D, H, W), p, strict=True)
    ]
    xpd = xp.full(
        (N, C, D + p[0] + right[0], H + p[1] + right[1], W + p[2] + right[2]), fill, xa.dtype
    )
    xpd[:, :, p[0] : p[0] + D, p[1] : p[1] + H, p[2] : p[2] + W] = xa
    pos = [xp.arange(oi) * si - pi for oi, si, pi in zip(o, s, p, strict=True)]
    best = bidx = None
    isf = xa.dtype.kind in "fV"
    for a in range(k[0]):
        for b in range(k[1]):
            for c in range(k[2]):
                v = xpd[
                    :,
                    :,
                    a * d[0] : a * d[0] + s[0] * (o[0] - 1) + 1 : s[0],
                    b * d[1] : b * d[1] + s[1] * (o[1] - 1) + 1 : s[1],
                    c * d[2] : c * d[2] + s[2] * (o[2] - 1) + 1 : s[2],
                ]
                iz, iy, ix = pos[0] + a * d[0], pos[1] + b * d[1], pos[2] + c * d[2]
                inside = (
                    ((iz >= 0) & (iz < D))[:, None, None]
                    & ((iy >= 0) & (iy < H))[None, :, None]
                    & ((ix >= 0) & (ix < W))[None, None, :]
                )
                flat = (iz[:, None, None] * H + iy[None, :, None]) * W + ix[None, None, :]
                if best is None:
                    best = xp.where(inside, v, fill).astype(xa.dtype)
                    bidx = xp.broadcast_to(xp.where(inside, flat, -1), best.shape).copy()
                    continue
                take = inside & ((v > best) | (xp.isnan(v) if isf else False) | (bidx < 0))
                best = xp.where(take, v, best)
                bidx = xp.where(take, flat, bidx)
    return xp.ascontiguousarray(best), xp.ascontiguousarray(bidx.astype(np.int64))


def max_pool3d_with_indices(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = True,
):
    unbatched = _check5d("max_pool3d", input)
    xa = input._a[None] if unbatched else input._a
    k, s, p, d, o = _geometry3d(
        "max_pool3d", xa.shape, kernel_size, stride, padding, dilation, ceil_mode
    )
    ya, idx = _maxpool3d_arrays(xa, k, s, p, d, o)
    ya, idx = like_input(ya, xa), like_input(idx, xa)  # a channels_last_3d input stays so
    if unbatched:
        ya, idx = ya[0], idx[0]
    # one MaxPool3DWithIndicesBackward0 node (batched or not), as torch
    return MaxPool3dIndexed.apply(input, ya, idx, 3), _wrap(idx)


def max_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """3-D max pooling, as ``torch.nn.functional.max_pool3d``."""
    y, i = max_pool3d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    return (y, i) if return_indices else y


def _along(x: Tensor, axis: int, fn) -> Tensor:
    """Apply a pooling ``fn`` over (M, 1, 1, L) views along ``axis`` of a 5-D tensor."""
    xt = x.movedim(axis, -1)
    shp = xt.shape
    y = fn(xt.reshape(-1, 1, 1, shp[-1]))
    return y.reshape(*shp[:-1], y.shape[-1]).movedim(-1, axis)


def avg_pool3d(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    ceil_mode: bool = False,
    count_include_pad: bool = True,
    divisor_override: int | None = None,
) -> Tensor:
    """3-D average pooling, as ``torch.nn.functional.avg_pool3d``: one AvgPool3DBackward0
    node (``pool_nodes.AvgPool3dFn``, three separable 1-D passes)."""
    unbatched = _check5d("avg_pool3d", input)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    if input._a.dtype.kind not in "fcV":  # torch: int64 sums // divisor, others refused
        from .int_pool import avg_pool_int

        kw = dict(kernel_size=kernel_size, stride=stride, padding=padding, ceil_mode=ceil_mode)
        kw.update(count_include_pad=count_include_pad, divisor_override=divisor_override)
        return avg_pool_int("avg_pool3d", avg_pool3d, input, kw)
    shape5 = ((1,) if unbatched else ()) + input._a.shape
    k, s, p, _, _ = _geometry3d("avg_pool3d", shape5, kernel_size, stride, padding, 1, ceil_mode)
    return avg_pool3d_node(input, k, s, p, ceil_mode, count_include_pad, divisor_override)


def _out3(output_size, shape):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 3:
            raise RuntimeError("adaptive pooling: output_size must be 3")
        o = tuple(output_size)
    else:
        o = (output_size,) * 3
    return tuple(n if v is None else int(v) for v, n in zip(o, shape, strict=True))


def adaptive_avg_pool3d(input: Tensor, output_size) -> Tensor:
    """Adaptive 3-D average pooling (torch's floor/ceil window bounds)."""
    if _check5d("adaptive_avg_pool3d", input):
        return _batch_of_one(adaptive_avg_pool3d, input, output_size)
    o = _out3(output_size, input._a.shape[2:])
    if min(o) < 0:
        raise RuntimeError(
            "adaptive_avg_pool3d: elements of output_size must be greater than or equal to 0 "
            f"but received {o}"
        )
    if min(o) == 0:  # torch returns the empty result
        n, c = input.shape[:2]
        return input.sum((2, 3, 4), keepdim=True).expand(n, c, *o).contiguous()
    if o == (1, 1, 1) and input._a.dtype.kind in "fV":
        r = input.mean((2, 3, 4), keepdim=True)
        xa = input._a
        if suggest_memory_format(xa.shape, elem_strides(xa)) is channels_last_3d:
            r._a = exact_format(r._a, channels_last_3d)  # torch restrides it so
        return r
    y = input
    for ax in (4, 3, 2):
        n = o[ax - 2]
        if n != y.shape[ax]:
            y = _along(y, ax, lambda t, n=n: adaptive_avg_pool2d(t, (1, n)))
    return y.contiguous()


def _adaptive_max3d_arrays(xa, o):
    N, C, D, H, W = xa.shape
    xp = xp_of(xa)
    y = xp.empty((N, C) + o, xa.dtype)
    idx = xp.empty((N, C) + o, np.int64)
    rd, rh, rw = (_adaptive_ranges(n, m) for n, m in zip((D, H, W), o, strict=True))
    for i, (a0, a1) in enumerate(rd):
        for j, (b0, b1) in enumerate(rh):
            for m, (c0, c1) in enumerate(rw):
                win = xa[:, :, a0:a1, b0:b1, c0:c1].reshape(N, C, -1)
                if xa.dtype.kind in "fV":
                    nan = xp.isnan(win)
                    am = xp.where(
                        nan.any(-1),
                        nan.shape[-1] - 1 - xp.argmax(nan[..., ::-1], -1),
                        xp.argmax(win, -1),
                    )
                else:
                    am = xp.argmax(win, -1)
                y[:, :, i, j, m] = xp.take_along_axis(win, am[..., None], -1)[..., 0]
                hw = (b1 - b0) * (c1 - c0)
                dz, r = am // hw, am % hw
                dy, dx = r // (c1 - c0), r % (c1 - c0)
                idx[:, :, i, j, m] = ((a0 + dz) * H + b0 + dy) * W + c0 + dx
    return y, idx


def adaptive_max_pool3d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    unbatched = _check5d("adaptive_max_pool3d", input)
    xa = input._a[None] if unbatched else input._a
    D, H, W = xa.shape[2:]
    o = _out3(output_size, (D, H, W))
    if min(o) < 0:
        raise RuntimeError(
            f"adaptive_max_pool3d: elements of output_size must be greater than 0 but received {o}"
        )
    if min(o) == 0:  # torch returns the empty result
        xp = xp_of(xa)
        ya = xp.empty(xa.shape[:2] + o, xa.dtype)
        idx = xp.empty(xa.shape[:2] + o, np.int64)
    elif D % o[0] == 0 and H % o[1] == 0 and W % o[2] == 0:
        k = (D // o[0], H // o[1], W // o[2])
        ya, idx = _maxpool3d_arrays(xa, k, k, (0, 0, 0), (1, 1, 1), o)
    else:
        ya, idx = _adaptive_max3d_arrays(xa, o)
    if unbatched:
        ya, idx = ya[0], idx[0]
    return AdaptiveMaxPool3dIndexed.apply(input, ya, idx, 3), _wrap(idx)


def adaptive_max_pool3d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive 3-D max pooling (optionally with the flat D*H*W indices)."""
    y, i = adaptive_max_pool3d_with_indices(input, output_size)
    return (y, i) if return_indices else y
