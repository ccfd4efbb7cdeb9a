"""Pooling: max/avg pooling 1-D and 2-D, adaptive average/max pooling, max_unpool2d.

Max and average pooling 2-D run in the ``pooling`` kernels (float32/float64) and fall back to
a NumPy/CuPy loop over the kh*kw window taps with the same window rules as torch's CPU code
(max windows are clipped to the input, -inf padding, first maximum / last NaN wins; average
windows are clipped at the padded border for the count_include_pad divisor).  1-D pooling is
the 2-D op with H=1.  Adaptive average pooling with divisible sizes is a plain average pool;
otherwise it is two small matrix products (rows, then columns) through autograd.
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .conv import _contig, _ntuple, _use_kernel

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "avg_pool1d",
    "avg_pool2d",
    "adaptive_avg_pool1d",
    "adaptive_avg_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "max_unpool2d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "lp_pool2d",
]

_wrap = Tensor._make
_IntOrPair = int | tuple | list


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


def _pool_geometry(op, x, kernel_size, stride, padding, dilation, ceil_mode):
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
    oh = _pool_out(H, kh, sh, ph, dh, ceil_mode)
    ow = _pool_out(W, kw, sw, pw, dw, ceil_mode)
    if oh < 1 or ow < 1:
        raise RuntimeError(
            f"Given input size: ({C}x{H}x{W}). Calculated output size: "
            f"({C}x{oh}x{ow}). Output size is too small"
        )
    return kh, kw, sh, sw, ph, pw, dh, dw, oh, ow


def _as4d(op, input, nd=2):
    if not isinstance(input, Tensor):
        raise TypeError(f"{op}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._a.ndim not in (nd + 1, nd + 2):
        raise RuntimeError(
            f"{op}: Expected {nd + 1}D or {nd + 2}D (batch mode) tensor for input, "
            f"but got: {list(input._a.shape)}"
        )
    return input._a.ndim == nd + 1


# --------------------------------------------------------------------------- max pool
def _maxpool_fwd_arrays(xa, geom):
    N, C, H, W = xa.shape
    kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geom
    xp = xp_of(xa)
    xa = _contig(xa)
    k = _use_kernel(xa, "maxpool2d_forward")
    y = xp.empty((N, C, oh, ow), xa.dtype)
    idx = xp.empty((N, C, oh, ow), np.int64)
    if k is not None:
        k.maxpool2d_forward(
            xa.reshape(-1),
            y.reshape(-1),
            idx.reshape(-1),
            N,
            C,
            H,
            W,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            dh,
            dw,
            oh,
            ow,
        )
        return y, idx
    # fallback: -inf padded input, scan the taps in torch's order (first max, last NaN wins)
    right_h = max(0, (oh - 1) * sh + dh * (kh - 1) + 1 - H - ph)
    right_w = max(0, (ow - 1) * sw + dw * (kw - 1) + 1 - W - pw)
    fill = -np.inf if xa.dtype.kind == "f" else np.iinfo(xa.dtype).min
    xpd = xp.full((N, C, H + ph + right_h, W + pw + right_w), fill, xa.dtype)
    xpd[:, :, ph : ph + H, pw : pw + W] = xa
    rows = xp.arange(oh) * sh - ph
    colsx = xp.arange(ow) * sw - pw
    best = None
    for ki in range(kh):
        for kj in range(kw):
            v = xpd[
                :,
                :,
                ki * dh : ki * dh + sh * (oh - 1) + 1 : sh,
                kj * dw : kj * dw + sw * (ow - 1) + 1 : sw,
            ]
            iy = rows + ki * dh
            ix = colsx + kj * dw
            inside = ((iy >= 0) & (iy < H))[:, None] & ((ix >= 0) & (ix < W))[None, :]
            flat = iy[:, None] * W + ix[None, :]
            if best is None:
                best = xp.where(inside, v, fill).astype(xa.dtype)
                bidx = xp.broadcast_to(xp.where(inside, flat, -1), best.shape).copy()
                continue
            take = inside & (
                (v > best) | (xp.isnan(v) if xa.dtype.kind == "f" else False) | (bidx < 0)
            )
            best = xp.where(take, v, best)
            bidx = xp.where(take, flat, bidx)
    y[...] = best
    idx[...] = bidx
    return y, idx


def _maxpool_bwd_arrays(ga, idx, xshape):
    N, C, H, W = xshape
    xp = xp_of(ga)
    ga = _contig(ga)
    NC, HW, OHW = N * C, H * W, ga.shape[2] * ga.shape[3]
    gx = xp.empty(xshape, ga.dtype)
    k = _use_kernel(ga, "maxpool2d_backward")
    if k is not None:
        k.maxpool2d_backward(ga.reshape(-1), _contig(idx).reshape(-1), gx.reshape(-1), NC, HW, OHW)
        return gx
    gidx = (idx.reshape(NC, OHW) + (xp.arange(NC) * HW)[:, None]).reshape(-1)
    acc = xp.bincount(gidx, weights=ga.reshape(-1).astype(np.float64), minlength=NC * HW)
    gx[...] = acc.reshape(xshape).astype(ga.dtype)
    return gx


class MaxPool2dFn(Function):
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def forward(ctx, x, geom):
        y, idx = _maxpool_fwd_arrays(x._a, geom)
        ctx.idx, ctx.xshape = idx, x._a.shape
        return _wrap(y)

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return _MaxPoolGradFn.apply(g, ctx.idx, ctx.xshape), None
        return _wrap(_maxpool_bwd_arrays(g._a, ctx.idx, ctx.xshape)), None


class _MaxPoolGradFn(Function):
    """The scatter of max pooling's backward, differentiable (gather) for double backward."""

    @staticmethod
    def forward(ctx, g, idx, xshape):
        ctx.idx = idx
        return _wrap(_maxpool_bwd_arrays(g._a, idx, xshape))

    @staticmethod
    def backward(ctx, gg):
        N, C = gg._a.shape[:2]
        idx = ctx.idx
        flat = gg.reshape(N, C, -1)
        from .indexing import gather

        r = gather(flat, 2, _wrap(idx.reshape(N, C, -1))).reshape(idx.shape)
        return r, None, None


def max_pool2d_with_indices(
    input: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    dilation: _IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = True,
):
    if _as4d("max_pool2d", input):
        r = max_pool2d_with_indices(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode, True
        )
        return r[0].squeeze(0), r[1].squeeze(0)
    geom = _pool_geometry("max_pool2d", input._a, kernel_size, stride, padding, dilation, ceil_mode)
    if state.enabled and input._rg:
        y = MaxPool2dFn.apply(input, geom)
        idx = y.grad_fn.idx
    else:
        ya, idx = _maxpool_fwd_arrays(input._a, geom)
        y = _wrap(ya)
    return y, _wrap(idx)


def max_pool2d(
    input: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    dilation: _IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """2-D max pooling over (N, C, H, W) or (C, H, W) input, as torch's."""
    if return_indices:
        return max_pool2d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    if _as4d("max_pool2d", input):
        return max_pool2d(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode
        ).squeeze(0)
    geom = _pool_geometry("max_pool2d", input._a, kernel_size, stride, padding, dilation, ceil_mode)
    if state.enabled and input._rg:
        return MaxPool2dFn.apply(input, geom)
    return _wrap(_maxpool_fwd_arrays(input._a, geom)[0])


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


def _1d_max_args(input, kernel_size, stride, padding, dilation):
    """max_pool1d's geometry as 2-D arguments.  torch's max_pool1d takes an int64 stride
    (max_pool2d refuses one above 2**31-1): a stride past the padded length leaves one
    window, whose position does not depend on it, so it is clamped to that length + 1."""
    k, s, p, d = _1d_args(kernel_size, stride, padding, dilation)
    L = input._a.shape[-1]
    if s[1] > L + 2 * p[1] + 1 and p[1] >= 0:
        s = (1, L + 2 * p[1] + 1)
    return k, s, p, d


def max_pool1d_with_indices(
    input: Tensor,
    kernel_size,
    stride=None,
    padding=0,
    dilation=1,
    ceil_mode: bool = False,
    return_indices: bool = True,
):
    if _as4d("max_pool1d", input, 1):
        y, i = max_pool1d_with_indices(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode
        )
        return y.squeeze(0), i.squeeze(0)
    k, s, p, d = _1d_max_args(input, kernel_size, stride, padding, dilation)
    y, i = max_pool2d_with_indices(input.unsqueeze(2), k, s, p, d, ceil_mode)
    return y.squeeze(2), i.squeeze(2)


def max_pool1d(
    input: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    dilation: _IntOrPair = 1,
    ceil_mode: bool = False,
    return_indices: bool = False,
):
    """1-D max pooling over (N, C, L) or (C, L) input."""
    if return_indices:
        return max_pool1d_with_indices(input, kernel_size, stride, padding, dilation, ceil_mode)
    if _as4d("max_pool1d", input, 1):
        return max_pool1d(
            input.unsqueeze(0), kernel_size, stride, padding, dilation, ceil_mode
        ).squeeze(0)
    k, s, p, d = _1d_max_args(input, kernel_size, stride, padding, dilation)
    return max_pool2d(input.unsqueeze(2), k, s, p, d, ceil_mode).squeeze(2)


# --------------------------------------------------------------------------- avg pool
def _avg_divisor(xp, n, o, k, s, p, count_include_pad):
    """Per-output-position window length along one axis (pool size or valid count)."""
    i0 = np.arange(o) * s - p
    i1 = np.minimum(i0 + k, n + p)
    pool = i1 - i0
    valid = np.minimum(i1, n) - np.maximum(i0, 0)
    return pool if count_include_pad else valid


def _avg_fwd_arrays(xa, geom, cip, div):
    N, C, H, W = xa.shape
    kh, kw, sh, sw, ph, pw, _, _, oh, ow = geom
    xp = xp_of(xa)
    xa = _contig(xa)
    k = _use_kernel(xa, "avgpool2d_forward")
    if k is not None:
        y = xp.empty((N, C, oh, ow), xa.dtype)
        k.avgpool2d_forward(
            xa.reshape(-1),
            y.reshape(-1),
            N,
            C,
            H,
            W,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            oh,
            ow,
            bool(cip),
            int(div or 0),
        )
        return y
    from .conv import im2col_array

    cols = im2col_array(xa, N, C, H, W, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow)
    s = cols.reshape(N, C, kh * kw, oh, ow).sum(2)
    if div:
        return (s / div).astype(xa.dtype)
    d = np.outer(_avg_divisor(xp, H, oh, kh, sh, ph, cip), _avg_divisor(xp, W, ow, kw, sw, pw, cip))
    return (s / xp.asarray(d.astype(xa.dtype))).astype(xa.dtype)


def _avg_bwd_arrays(ga, xshape, geom, cip, div):
    N, C, H, W = xshape
    kh, kw, sh, sw, ph, pw, _, _, oh, ow = geom
    xp = xp_of(ga)
    ga = _contig(ga)
    k = _use_kernel(ga, "avgpool2d_backward")
    if k is not None:
        gx = xp.empty(xshape, ga.dtype)
        k.avgpool2d_backward(
            ga.reshape(-1),
            gx.reshape(-1),
            N,
            C,
            H,
            W,
            kh,
            kw,
            sh,
            sw,
            ph,
            pw,
            oh,
            ow,
            bool(cip),
            int(div or 0),
        )
        return gx
    from .conv import col2im_array

    if div:
        g = ga / div
    else:
        d = np.outer(
            _avg_divisor(xp, H, oh, kh, sh, ph, cip), _avg_divisor(xp, W, ow, kw, sw, pw, cip)
        )
        g = ga / xp.asarray(d.astype(ga.dtype))
    cols = xp.broadcast_to(g.astype(ga.dtype).reshape(N, C, 1, oh, ow), (N, C, kh * kw, oh, ow))
    return col2im_array(
        xp.ascontiguousarray(cols), N, C, H, W, kh, kw, sh, sw, ph, pw, 1, 1, oh, ow
    )


class AvgPool2dFn(Function):
    _node_name = "AvgPool2DBackward0"

    @staticmethod
    def forward(ctx, x, geom, cip, div):
        ctx.args = (x._a.shape, geom, cip, div)
        return _wrap(_avg_fwd_arrays(x._a, geom, cip, div))

    @staticmethod
    def backward(ctx, g):
        xshape, geom, cip, div = ctx.args
        if state.enabled:
            return _AvgPoolGradFn.apply(g, ctx.args), None, None, None
        return _wrap(_avg_bwd_arrays(g._a, xshape, geom, cip, div)), None, None, None


class _AvgPoolGradFn(Function):
    @staticmethod
    def forward(ctx, g, args):
        ctx.args = args
        xshape, geom, cip, div = args
        return _wrap(_avg_bwd_arrays(g._a, xshape, geom, cip, div))

    @staticmethod
    def backward(ctx, gg):
        xshape, geom, cip, div = ctx.args
        return AvgPool2dFn.apply(gg, geom, cip, div), None


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
        return avg_pool2d(
            input.unsqueeze(0),
            kernel_size,
            stride,
            padding,
            ceil_mode,
            count_include_pad,
            divisor_override,
        ).squeeze(0)
    if divisor_override is not None and divisor_override == 0:
        raise RuntimeError("divisor must be not zero")
    geom = _pool_geometry("avg_pool2d", input._a, kernel_size, stride, padding, 1, ceil_mode)
    if input._a.dtype.kind not in "fc":
        raise RuntimeError(f"\"avg_pool2d\" not implemented for '{input.dtype}'")
    div = int(divisor_override) if divisor_override else 0
    if state.enabled and input._rg:
        return AvgPool2dFn.apply(input, geom, bool(count_include_pad), div)
    return _wrap(_avg_fwd_arrays(input._a, geom, bool(count_include_pad), div))


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
        return avg_pool1d(
            input.unsqueeze(0), kernel_size, stride, padding, ceil_mode, count_include_pad
        ).squeeze(0)
    k, s, p, _ = _1d_args(kernel_size, stride, padding, 1)
    return avg_pool2d(input.unsqueeze(2), k, s, p, ceil_mode, count_include_pad).squeeze(2)


def lp_pool2d(
    input: Tensor,
    norm_type: float,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    ceil_mode: bool = False,
) -> Tensor:
    kh, kw = _ntuple(kernel_size, 2)
    out = avg_pool2d(input.pow(norm_type), kernel_size, stride, 0, ceil_mode)
    return (out.sign() * out.abs().relu()).mul(kh * kw).pow(1.0 / norm_type)


# --------------------------------------------------------------------------- adaptive
def _adaptive_ranges(n, o):
    return [((i * n) // o, -((-(i + 1) * n) // o)) for i in range(o)]


def _adaptive_avg_dim(y, d, n, o):
    """Adaptive average along dim d: each window summed in order, then divided by its
    length (torch's order).  The windows are gathered taps (shorter ones padded with a
    zero), so an inf or NaN reaches only the windows that hold it; the dense averaging
    matrix this replaces spread it over the whole row (0 * inf)."""
    from .spatial import _apply_taps, _to_like

    i = np.arange(o, dtype=np.int64)
    a, b = (i * n) // o, -((-(i + 1) * n) // o)  # vectorised _adaptive_ranges
    idx = a[:, None] + np.arange(int((b - a).max()), dtype=np.int64)
    idx[idx >= b[:, None]] = n
    shape = [1] * y.dim()
    shape[d] = o
    cnt = (b - a).astype(y._a.dtype).reshape(shape)
    return _apply_taps(y, d, idx, None) / _to_like(cnt, y)


def _out_pair(output_size, H, W):
    if isinstance(output_size, (tuple, list)):
        if len(output_size) != 2:
            raise RuntimeError("adaptive pooling: output_size must be 2")
        oh, ow = output_size
    else:
        oh = ow = output_size
    return (H if oh is None else int(oh)), (W if ow is None else int(ow))


def adaptive_avg_pool2d(input: Tensor, output_size) -> Tensor:
    """Adaptive 2-D average pooling (torch's floor/ceil window bounds)."""
    _as4d("adaptive_avg_pool2d", input)
    _adaptive_nonempty("adaptive_avg_pool2d", input._a.shape, input._a.ndim - 2)
    _check_storage(input._a.shape[:-2] + _out_pair(output_size, 1, 1), input._a.dtype)
    if input._a.ndim == 3:
        return adaptive_avg_pool2d(input.unsqueeze(0), output_size).squeeze(0)
    N, C, H, W = input._a.shape
    oh, ow = _out_pair(output_size, H, W)
    if oh < 0 or ow < 0:
        raise RuntimeError(
            f"adaptive_avg_pool2d: elements of output_size must be greater than "
            f"or equal to 0 but received {{{oh}, {ow}}}"
        )
    if oh == 0 or ow == 0:  # an empty output (torch returns it, with a grad_fn)
        return input.sum((2, 3), keepdim=True).expand(N, C, oh, ow).contiguous()
    if H % oh == 0 and W % ow == 0:
        if (oh, ow) == (1, 1) and input._a.dtype.kind == "f":
            return input.mean((2, 3), keepdim=True)
        return avg_pool2d(input, (H // oh, W // ow), (H // oh, W // ow))
    y = input
    if oh != H:
        y = _adaptive_avg_dim(y, 2, H, oh)
    if ow != W:
        y = _adaptive_avg_dim(y, 3, W, ow)
    return y.contiguous() if y is not input else y.clone()


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


def adaptive_avg_pool1d(input: Tensor, output_size) -> Tensor:
    if _as4d("adaptive_avg_pool1d", input, 1):
        return adaptive_avg_pool1d(input.unsqueeze(0), output_size).squeeze(0)
    (o,) = _ntuple(output_size, 1)
    return adaptive_avg_pool2d(input.unsqueeze(2), (1, o)).squeeze(2)


def _adaptive_max_arrays(xa, oh, ow):
    N, C, H, W = xa.shape
    xp = xp_of(xa)
    y = xp.empty((N, C, oh, ow), xa.dtype)
    idx = xp.empty((N, C, oh, ow), np.int64)
    rh, rw = _adaptive_ranges(H, oh), _adaptive_ranges(W, ow)
    for i, (a, b) in enumerate(rh):
        for j, (c, d) in enumerate(rw):
            win = xa[:, :, a:b, c:d].reshape(N, C, (b - a) * (d - c))
            if xa.dtype.kind == "f":
                nan = xp.isnan(win)
                am = xp.where(
                    nan.any(-1),
                    (nan.shape[-1] - 1 - xp.argmax(nan[..., ::-1], -1)),
                    xp.argmax(win, -1),
                )
            else:
                am = xp.argmax(win, -1)
            y[:, :, i, j] = xp.take_along_axis(win, am[..., None], -1)[..., 0]
            idx[:, :, i, j] = (a + am // (d - c)) * W + c + am % (d - c)
    return y, idx


def adaptive_max_pool2d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    _as4d("adaptive_max_pool2d", input)
    _adaptive_nonempty("adaptive_max_pool2d", input._a.shape, 1)
    _check_storage(input._a.shape[:-2] + _out_pair(output_size, 1, 1), input._a.dtype)
    if input._a.ndim == 3:
        y, i = adaptive_max_pool2d_with_indices(input.unsqueeze(0), output_size)
        return y.squeeze(0), i.squeeze(0)
    N, C, H, W = input._a.shape
    oh, ow = _out_pair(output_size, H, W)
    if oh < 0 or ow < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(oh, ow)}: {[N, C, oh, ow]}"
        )
    if oh == 0 or ow == 0 or N == 0:  # empty output (torch returns it, with a grad_fn)
        ya = xp_of(input._a).empty((N, C, oh, ow), input._a.dtype)
        idx = xp_of(input._a).empty((N, C, oh, ow), np.int64)
        if state.enabled and input._rg:
            return _IndexPoolFn.apply(input, ya, idx), _wrap(idx)
        return _wrap(ya), _wrap(idx)
    if H % oh == 0 and W % ow == 0 and (H // oh) * (W // ow) > 1:
        return max_pool2d_with_indices(input, (H // oh, W // ow), (H // oh, W // ow))
    ya, idx = _adaptive_max_arrays(input._a, oh, ow)
    if state.enabled and input._rg:
        return _IndexPoolFn.apply(input, ya, idx), _wrap(idx)
    return _wrap(ya), _wrap(idx)


class _IndexPoolFn(Function):
    """Output already computed from indices into each H*W plane; backward scatters."""

    _node_name = "AdaptiveMaxPool2DBackward0"

    @staticmethod
    def forward(ctx, x, ya, idx):
        ctx.idx, ctx.xshape = idx, x._a.shape
        return _wrap(ya)

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return _MaxPoolGradFn.apply(g, ctx.idx, ctx.xshape), None, None
        return _wrap(_maxpool_bwd_arrays(g._a, ctx.idx, ctx.xshape)), None, None


def adaptive_max_pool2d(input: Tensor, output_size, return_indices: bool = False):
    """Adaptive 2-D max pooling (optionally with the flat H*W indices)."""
    y, i = adaptive_max_pool2d_with_indices(input, output_size)
    return (y, i) if return_indices else y


def adaptive_max_pool1d(input: Tensor, output_size, return_indices: bool = False):
    if _as4d("adaptive_max_pool1d", input, 1):
        r = adaptive_max_pool1d(input.unsqueeze(0), output_size, True)
        return (r[0].squeeze(0), r[1].squeeze(0)) if return_indices else r[0].squeeze(0)
    (o,) = _ntuple(output_size, 1)
    y, i = adaptive_max_pool2d_with_indices(input.unsqueeze(2), (1, o))
    y, i = y.squeeze(2), i.squeeze(2)
    return (y, i) if return_indices else y


# --------------------------------------------------------------------------- unpool
class _UnpoolFn(Function):
    _node_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, idx, oshape):
        xa = x._a
        xp = xp_of(xa)
        N, C = xa.shape[:2]
        out = xp.zeros((N, C, oshape[0] * oshape[1]), xa.dtype)
        ia = idx.reshape(N, C, -1)
        xp.put_along_axis(out, ia, xa.reshape(N, C, -1), -1)
        ctx.idx = ia
        ctx.xshape = xa.shape
        return _wrap(out.reshape(N, C, *oshape))

    @staticmethod
    def backward(ctx, g):
        N, C = ctx.xshape[:2]
        from .indexing import gather

        gx = gather(g.reshape(N, C, -1), 2, _wrap(ctx.idx)).reshape(ctx.xshape)
        return gx, None, None


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    output_size=None,
) -> Tensor:
    """Partial inverse of max_pool2d: scatter values back to their argmax positions."""
    unb = input._a.ndim == 3
    if unb:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    kh, kw = _ntuple(kernel_size, 2)
    sh, sw = (kh, kw) if stride is None else _ntuple(stride, 2)
    ph, pw = _ntuple(padding, 2)
    H, W = input._a.shape[2:]
    if output_size is None:
        oshape = ((H - 1) * sh - 2 * ph + kh, (W - 1) * sw - 2 * pw + kw)
    else:
        oshape = tuple(int(s) for s in tuple(output_size)[-2:])
    ia = indices._a
    if ia.size and (int(ia.min()) < 0 or int(ia.max()) >= oshape[0] * oshape[1]):
        # torch names the last invalid index in memory order (not the max: a -1 was
        # reported as the largest valid index)
        flat = ia.reshape(-1)
        bad = xp_of(ia).nonzero((flat < 0) | (flat >= oshape[0] * oshape[1]))[0]
        raise RuntimeError(
            f"Found an invalid max index: {int(flat[int(bad[-1])])} (output volumes are of "
            f"size {oshape[0]}x{oshape[1]})"
        )
    if state.enabled and input._rg:
        y = _UnpoolFn.apply(input, ia, oshape)
    else:
        y = _UnpoolFn.forward(_UnpoolCtx(), input, ia, oshape)
    return y.squeeze(0) if unb else y


class _UnpoolCtx:
    pass
