"""Pooling graph nodes with torch's names (issue #10): the 3-D and adaptive max pools record
one node whose backward scatters into each input plane by the flat indices of the forward
(``MaxPool3DWithIndicesBackward0``, ``AdaptiveMaxPool3DBackward0``,
``AdaptiveMaxPool2DBackward0``, batched or not), and ``avg_pool3d`` one
``AvgPool3DBackward0`` whose forward and backward are the three separable 1-D passes of the
2-D average-pool kernels (the forward's arithmetic unchanged; it was three graph nodes plus
their movedim/reshape views).
"""

from __future__ import annotations

import math
from types import SimpleNamespace

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import node_variants
from .avg_pool import _avg_bwd_arrays, _avg_fwd_arrays, _AvgPoolGradFn
from .max_pool import _maxpool_bwd_arrays, _MaxPoolGradFn
from .pool_geometry import _pool_geometry

_wrap = Tensor._make


class _IndexedPool(Function):
    """Values ``ya`` taken from each (``nsp``-dimensional) plane of ``x`` at the flat plane
    indices ``idx``; the gradient goes back to those places (summed where they repeat), through
    the 2-D max-pool scatter kernel (differentiable: its backward gathers)."""

    @staticmethod
    def forward(ctx, x, ya, idx, nsp):
        ctx.idx, ctx.xshape, ctx.nsp = idx, x._a.shape, nsp
        return _wrap(ya)

    @staticmethod
    def backward(ctx, g):
        xs, nsp = ctx.xshape, ctx.nsp
        m, plane = math.prod(xs[:-nsp]), math.prod(xs[-nsp:])
        shape4 = (1, m, plane, 1)
        g4 = g.reshape(1, m, -1, 1)
        i4 = ctx.idx.reshape(1, m, -1, 1)
        if state.enabled:
            r = _MaxPoolGradFn.apply(g4, i4, shape4)
        else:
            r = _wrap(_maxpool_bwd_arrays(g4._a, i4, shape4))
        return r.reshape(xs), None, None, None


MaxPool3dIndexed, AdaptiveMaxPool3dIndexed, AdaptiveMaxPool2dIndexed = node_variants(
    _IndexedPool,
    MaxPool3dIndexed="MaxPool3DWithIndicesBackward0",
    AdaptiveMaxPool3dIndexed="AdaptiveMaxPool3DBackward0",
    AdaptiveMaxPool2dIndexed="AdaptiveMaxPool2DBackward0",
)


# ------------------------------------------------------------------ avg_pool3d
def _passes(xshape, k, s, p, ceil_mode, cip, divisor_override):
    """The three 1-D passes (along W, H, D) of a 5-D average pool: for each, the axis, the
    (M, 1, 1, L) input shape the 2-D kernels see, their window and divisor."""
    shape = list(xshape)
    out = []
    for ax in (4, 3, 2):
        i = ax - 2
        lead = shape[:ax] + shape[ax + 1 :]
        shape4 = (math.prod(lead), 1, 1, shape[ax])
        geo = _pool_geometry(
            "avg_pool3d",
            SimpleNamespace(shape=shape4),
            (1, k[i]),
            (1, s[i]),
            (0, p[i]),
            1,
            ceil_mode,
        )
        out.append((ax, shape4, geo, cip, 1 if divisor_override else 0))
        shape[ax] = geo.ow
    return out


def _move_last(a, ax):
    return xp_of(a).moveaxis(a, ax, -1)


class AvgPool3dFn(Function):
    _node_name = "AvgPool3DBackward0"

    @staticmethod
    def forward(ctx, x, passes, divisor_override):
        xp = xp_of(x._a)
        y = x._a
        for ax, shape4, geo, cip, div in passes:
            yt = _move_last(y, ax)
            r = _avg_fwd_arrays(xp.reshape(yt, shape4), geo, cip, div)
            y = xp.moveaxis(r.reshape(yt.shape[:-1] + (r.shape[-1],)), -1, ax)
        if divisor_override:
            y = y / divisor_override
        ctx.passes, ctx.div = passes, divisor_override
        return _wrap(xp.ascontiguousarray(y))

    @staticmethod
    def backward(ctx, g):
        if ctx.div:
            g = g / ctx.div
        for ax, shape4, geo, cip, div in reversed(ctx.passes):
            gt = g.movedim(ax, -1)
            lead = tuple(gt.shape[:-1])
            g4 = gt.reshape(shape4[0], 1, 1, -1)
            if state.enabled:
                r = _AvgPoolGradFn.apply(g4, (shape4, geo, cip, div))
            else:
                r = _wrap(_avg_bwd_arrays(g4._a, shape4, geo, cip, div))
            g = r.reshape(*lead, shape4[-1]).movedim(-1, ax)
        return g.contiguous(), None, None


def avg_pool3d_node(input: Tensor, k, s, p, ceil_mode, cip, divisor_override) -> Tensor:
    """``avg_pool3d`` of a checked (N, C, D, H, W) or (C, D, H, W) input as one node."""
    a = input._a
    batched = a.ndim == 5
    xshape = a.shape if batched else (1,) + a.shape
    passes = _passes(xshape, k, s, p, ceil_mode, bool(cip), divisor_override)
    if not batched:
        passes = [(ax - 1, sh, geo, c, d) for ax, sh, geo, c, d in passes]
    return AvgPool3dFn.apply(input, passes, divisor_override)
