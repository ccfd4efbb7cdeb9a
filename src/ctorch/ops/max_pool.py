"""Max pooling: max_pool1d/2d (with indices), adaptive max pooling 1-D/2-D, max_unpool2d.

2-D max pooling runs in the ``pooling`` kernels (float32/float64) and falls back to a
NumPy/CuPy loop over the kh*kw window taps with the same window rules as torch's CPU code
(windows clipped to the input, -inf padding, first maximum / last NaN wins).  1-D pooling is
the 2-D op with H=1.  Backward scatters the gradient to the argmax indices; its own backward
(double backward) is a gather.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import contiguous, float_kernels, xp_of
from .._geometry import Window2d
from .._half import BF16, F16, F32, convert
from .._memfmt import like_input
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from .im2col import _batch_of_one, _ntuple
from .indexing import gather
from .pool_geometry import (
    _1d_args,
    _adaptive2d_checks,
    _adaptive_ranges,
    _as4d,
    _out_pair,
    _pool_geometry,
)

__all__ = [
    "max_pool1d",
    "max_pool2d",
    "adaptive_max_pool1d",
    "adaptive_max_pool2d",
    "max_unpool1d",
    "max_unpool2d",
    "max_unpool3d",
    "max_pool1d_with_indices",
    "max_pool2d_with_indices",
    "adaptive_max_pool2d_with_indices",
    "adaptive_max_pool1d_with_indices",
]

_wrap = Tensor._make
_IntOrPair = int | tuple | list


# float32 scratch per chunk when a 16-bit input runs the float32 kernels (elements)
_HALF_CHUNK = 1 << 18


def _is_half_cpu(a) -> bool:
    return type(a) is np.ndarray and (a.dtype == BF16 or a.dtype == F16)


def _half_chunks(n_items: int, item_size: int):
    """Slices of the batch dim with at most ``_HALF_CHUNK`` elements of scratch each."""
    per = max(1, _HALF_CHUNK // max(1, item_size))
    return [slice(s, min(s + per, n_items)) for s in range(0, n_items, per)]


def _maxpool_fwd_half(xa, geo: Window2d):
    """16-bit max pooling through the float32 kernel, a batch chunk at a time: the values
    are exact in any dtype (a maximum is one of the inputs), and the float32 copy never
    exceeds a chunk (a whole-tensor copy was twice the 16-bit input: issue #12's peak)."""
    N, C, H, W = xa.shape
    y = np.empty((N, C, geo.oh, geo.ow), xa.dtype)
    idx = np.empty((N, C, geo.oh, geo.ow), np.int64)
    for sl in _half_chunks(N, C * H * W):
        n = sl.stop - sl.start
        yc, ic = _maxpool_fwd_arrays(convert(xa[sl], F32), geo._replace(N=n))
        y[sl] = convert(yc, xa.dtype)
        idx[sl] = ic
    return y, idx


def _maxpool_fwd_arrays(xa, geo: Window2d):
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    if _is_half_cpu(xa) and N:
        return _maxpool_fwd_half(xa, geo)
    xp = xp_of(xa)
    xa = contiguous(xa)
    k = float_kernels(xa, "maxpool2d_forward")
    y = xp.empty((N, C, oh, ow), xa.dtype)
    idx = xp.empty((N, C, oh, ow), np.int64)
    if k is not None:
        k.maxpool2d_forward(
            xa.reshape(-1),
            y.reshape(-1),
            idx.reshape(-1),
            geo,
        )
        return y, idx
    # fallback: -inf padded input, scan the taps in torch's order (first max, last NaN wins)
    right_h = max(0, (oh - 1) * sh + dh * (kh - 1) + 1 - H - ph)
    right_w = max(0, (ow - 1) * sw + dw * (kw - 1) + 1 - W - pw)
    fill = -np.inf if xa.dtype.kind in "fV" else np.iinfo(xa.dtype).min
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
                (v > best) | (xp.isnan(v) if xa.dtype.kind in "fV" else False) | (bidx < 0)
            )
            best = xp.where(take, v, best)
            bidx = xp.where(take, flat, bidx)
    y[...] = best
    idx[...] = bidx
    return y, idx


def _maxpool_bwd_arrays(ga, idx, xshape):
    N, C, H, W = xshape
    if _is_half_cpu(ga) and N:
        # the scatter in float32 a batch chunk at a time (windows that overlap add their
        # gradients in float32, rounded once, as the whole-tensor widening did)
        gx = np.empty(xshape, ga.dtype)
        for sl in _half_chunks(N, C * H * W):
            n = sl.stop - sl.start
            gc = _maxpool_bwd_arrays(convert(ga[sl], F32), idx[sl], (n, C, H, W))
            gx[sl] = convert(gc, ga.dtype)
        return gx
    xp = xp_of(ga)
    ga = contiguous(ga)
    NC, HW, OHW = N * C, H * W, ga.shape[2] * ga.shape[3]
    gx = xp.empty(xshape, ga.dtype)
    k = float_kernels(ga, "maxpool2d_backward")
    if k is not None:
        k.maxpool2d_backward(
            ga.reshape(-1), contiguous(idx).reshape(-1), gx.reshape(-1), NC, HW, OHW
        )
        return gx
    gidx = (idx.reshape(NC, OHW) + (xp.arange(NC) * HW)[:, None]).reshape(-1)
    acc = xp.bincount(gidx, weights=ga.reshape(-1).astype(np.float64), minlength=NC * HW)
    gx[...] = acc.reshape(xshape).astype(ga.dtype)
    return gx


def _kept_indices(idx, plane: int):
    """The argmax indices max pooling keeps for backward: int32 where they fit (a CPU array,
    planes under 2**31 elements). They are as large as a 16-bit activation in int64 (the
    CNN's first pooling: 19 MB at batch 2048): half of that stays alive until backward."""
    if type(idx) is np.ndarray and plane < 2**31:
        return idx.astype(np.int32)
    return idx


class MaxPool2dFn(Function):
    _node_name = "MaxPool2DWithIndicesBackward0"

    @staticmethod
    def _half_native(x, geo):  # float32_compute: 16-bit CPU arrays run chunked (above)
        return _is_half_cpu(x._a)

    @staticmethod
    def forward(ctx, x, geo):
        y, idx = _maxpool_fwd_arrays(x._a, geo)
        ctx.idx, ctx.xshape = _kept_indices(idx, geo.H * geo.W), x._a.shape
        return _wrap(like_input(y, x._a))

    @staticmethod
    def backward(ctx, g):
        if state.enabled:
            return _MaxPoolGradFn.apply(g, ctx.idx, ctx.xshape), None
        return _wrap(_maxpool_bwd_arrays(g._a, ctx.idx, ctx.xshape)), None


class _MaxPoolGradFn(Function):
    """The scatter of max pooling's backward, differentiable (gather) for double backward."""

    @staticmethod
    def _half_native(g, idx, xshape):
        return _is_half_cpu(g._a)

    @staticmethod
    def forward(ctx, g, idx, xshape):
        ctx.idx = idx
        return _wrap(_maxpool_bwd_arrays(g._a, idx, xshape))

    @staticmethod
    def backward(ctx, gg):
        N, C = gg._a.shape[:2]
        idx = ctx.idx.astype(np.int64, copy=False)  # gather takes int64 indices
        flat = gg.reshape(N, C, -1)
        r = gather(flat, 2, _wrap(idx.reshape(N, C, -1))).reshape(idx.shape)
        return r, None, None


def _max_pool2d_geometry(input, kernel_size, stride, padding, dilation, ceil_mode):
    """max_pool2d's window over a 4-D ``input``, with torch's errors (bool input refused)."""
    geo = _pool_geometry("max_pool2d", input._a, kernel_size, stride, padding, dilation, ceil_mode)
    if input._a.dtype.kind == "b":  # torch's integer kernels take every dtype but bool
        raise NotImplementedError("\"max_pool2d\" not implemented for 'Bool'")
    return geo


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
        return _batch_of_one(
            max_pool2d_with_indices, input, kernel_size, stride, padding, dilation, ceil_mode, True
        )
    geo = _max_pool2d_geometry(input, kernel_size, stride, padding, dilation, ceil_mode)
    # the indices are an output too: computed here and handed to the Function (as adaptive
    # max pooling does), so the no-grad path needs no ctx to fetch them from
    ya, idx = _maxpool_fwd_arrays(input._a, geo)
    ya, idx = like_input(ya, input._a), like_input(idx, input._a)
    return _MaxPool2dIndicesFn.apply(input, ya, idx), _wrap(idx)


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
        return _batch_of_one(max_pool2d, input, kernel_size, stride, padding, dilation, ceil_mode)
    geo = _max_pool2d_geometry(input, kernel_size, stride, padding, dilation, ceil_mode)
    # apply on the no-grad path too: measured +1.5 us against _maxpool_fwd_arrays directly on
    # 1x3x8x8 (a ~5-6 us op), within noise at 8x64x32x32 (~300 us): one path, kept
    return MaxPool2dFn.apply(input, geo)


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
        return _batch_of_one(
            max_pool1d_with_indices, input, kernel_size, stride, padding, dilation, ceil_mode
        )
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
        return _batch_of_one(max_pool1d, input, kernel_size, stride, padding, dilation, ceil_mode)
    k, s, p, d = _1d_max_args(input, kernel_size, stride, padding, dilation)
    return max_pool2d(input.unsqueeze(2), k, s, p, d, ceil_mode).squeeze(2)


def _adaptive_max_arrays(xa, oh, ow):
    N, C, H, W = xa.shape
    xp = xp_of(xa)
    y = xp.empty((N, C, oh, ow), xa.dtype)
    idx = xp.empty((N, C, oh, ow), np.int64)
    rh, rw = _adaptive_ranges(H, oh), _adaptive_ranges(W, ow)
    for i, (a, b) in enumerate(rh):
        for j, (c, d) in enumerate(rw):
            win = xa[:, :, a:b, c:d].reshape(N, C, (b - a) * (d - c))
            if xa.dtype.kind in "fV":
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
    from .pool_nodes import AdaptiveMaxPool2dIndexed  # pool_nodes imports this module

    if _adaptive2d_checks("adaptive_max_pool2d", input, output_size, False):
        # unbatched: the batch-of-one values, one AdaptiveMaxPool2DBackward0 node on the input
        y, i = adaptive_max_pool2d_with_indices(input.detach().unsqueeze(0), output_size)
        return AdaptiveMaxPool2dIndexed.apply(input, y._a[0], i._a[0], 2), i.squeeze(0)
    N, C, H, W = input._a.shape
    oh, ow = _out_pair(output_size, H, W)
    if oh < 0 or ow < 0:
        raise RuntimeError(
            f"Trying to create tensor with negative dimension {min(oh, ow)}: {[N, C, oh, ow]}"
        )
    if oh == 0 or ow == 0 or N == 0:  # empty output (torch returns it, with a grad_fn)
        ya = xp_of(input._a).empty((N, C, oh, ow), input._a.dtype)
        idx = xp_of(input._a).empty((N, C, oh, ow), np.int64)
        return _IndexPoolFn.apply(input, ya, idx), _wrap(idx)
    if H % oh == 0 and W % ow == 0 and (H // oh) * (W // ow) > 1:
        # max_pool2d's kernel computes the values; the node is torch's adaptive one
        y, i = max_pool2d_with_indices(input.detach(), (H // oh, W // ow), (H // oh, W // ow))
        return _IndexPoolFn.apply(input, y._a, i._a), i
    ya, idx = _adaptive_max_arrays(input._a, oh, ow)
    ya, idx = like_input(ya, input._a), like_input(idx, input._a)
    return _IndexPoolFn.apply(input, ya, idx), _wrap(idx)


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


class _MaxPool2dIndicesFn(_IndexPoolFn):
    """max_pool2d_with_indices: values and indices computed by the caller (both are
    outputs), backward as max_pool2d's."""

    _node_name = "MaxPool2DWithIndicesBackward0"


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


def adaptive_max_pool1d_with_indices(input: Tensor, output_size, return_indices: bool = True):
    """``F.adaptive_max_pool1d_with_indices``: (values, indices) whatever ``return_indices``."""
    return adaptive_max_pool1d(input, output_size, True)


# --------------------------------------------------------------------------- unpool
class _UnpoolFn(Function):
    _node_name = "MaxUnpool2DBackward0"

    @staticmethod
    def forward(ctx, x, idx, oshape):
        xa = x._a
        xp = xp_of(xa)
        N, C = xa.shape[:2]
        out = xp.zeros((N, C, math.prod(oshape)), xa.dtype)
        ia = idx.reshape(N, C, -1)
        xp.put_along_axis(out, ia, xa.reshape(N, C, -1), -1)
        ctx.idx = ia
        ctx.xshape = xa.shape
        return _wrap(out.reshape(N, C, *oshape))

    @staticmethod
    def backward(ctx, g):
        N, C = ctx.xshape[:2]
        gx = gather(g.reshape(N, C, -1), 2, _wrap(ctx.idx)).reshape(ctx.xshape)
        return gx, None, None


class _Unpool3dFn(_UnpoolFn):
    _node_name = "MaxUnpool3DBackward0"


def _unpool_size(nd: int, in_size, k, s, p, output_size) -> tuple:
    """torch's ``_unpool_output_size``: the default ``(in - 1) * stride + kernel - 2 * pad``, or
    ``output_size`` (nd or nd + 2 numbers) within one stride of it."""
    default = tuple((in_size[i] - 1) * s[i] + k[i] - 2 * p[i] for i in range(nd))
    if output_size is None:
        return default
    output_size = tuple(int(v) for v in output_size)
    if len(output_size) == nd + 2:
        output_size = output_size[2:]
    if len(output_size) != nd:
        raise ValueError(
            f"output_size should be a sequence containing {nd} or {nd + 2} elements, but it "
            f"has a length of '{len(output_size)}'"
        )
    for d in range(nd):
        lo, hi = default[d] - s[d], default[d] + s[d]
        if not lo < output_size[d] < hi:
            raise ValueError(
                f'invalid output_size "{output_size}" (dim {d} must be between {lo} and {hi})'
            )
    return output_size


def _max_unpool(nd: int, input, indices, kernel_size, stride, padding, output_size):
    """max_unpool{1,2,3}d: scatter the pooled values back to their argmax positions (flat
    indices within each plane/volume)."""
    if indices._a.dtype != np.int64:
        from .binary import _scalar_name

        raise RuntimeError(
            f"elements in indices should be type int64 but got: {_scalar_name(indices._a.dtype)}"
        )
    unb = input._a.ndim == nd + 1
    if unb:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    k = _ntuple(kernel_size, nd)
    s = k if stride is None else _ntuple(stride, nd)
    p = _ntuple(padding, nd)
    oshape = _unpool_size(nd, input._a.shape[2:], k, s, p, output_size)
    ia = indices._a
    size = math.prod(oshape)
    if ia.size and (int(ia.min()) < 0 or int(ia.max()) >= size):
        # torch names the last invalid index in memory order (not the max: a -1 was
        # reported as the largest valid index)
        flat = ia.reshape(-1)
        bad = xp_of(ia).nonzero((flat < 0) | (flat >= size))[0]
        vol = "x".join(str(v) for v in oshape)
        raise RuntimeError(
            f"Found an invalid max index: {int(flat[int(bad[-1])])} (output volumes are of "
            f"size {vol})"
        )
    y = (_Unpool3dFn if nd == 3 else _UnpoolFn).apply(input, ia, oshape)
    return y.squeeze(0) if unb else y


def max_unpool1d(
    input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None
) -> Tensor:
    """Partial inverse of max_pool1d: scatter values back to their argmax positions."""
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


def max_unpool2d(
    input: Tensor,
    indices: Tensor,
    kernel_size: _IntOrPair,
    stride: _IntOrPair | None = None,
    padding: _IntOrPair = 0,
    output_size=None,
) -> Tensor:
    """Partial inverse of max_pool2d: scatter values back to their argmax positions."""
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


def max_unpool3d(
    input: Tensor, indices: Tensor, kernel_size, stride=None, padding=0, output_size=None
) -> Tensor:
    """Partial inverse of max_pool3d: scatter values back to their argmax positions."""
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)
