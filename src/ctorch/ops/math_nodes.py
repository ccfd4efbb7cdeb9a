"""Ops that were composites of several graph nodes, as one node each with torch's name and
backward formula (issue #10): ``renorm`` (``RenormBackward0``), ``linalg.cross``/``cross``
(``LinalgCrossBackward0``), ``dist`` (``DistBackward0``), ``channel_shuffle``
(``ChannelShuffleBackward0``) and ``multi_margin_loss`` (``MultiMarginLossBackward0``).

The forward values are those of the former composites (the same NumPy arithmetic); the
backwards are tensor ops, so they differentiate again.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np

from .._backend import xp_of
from .._memfmt import like_input
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state as grad_state
from ._util import make_contiguous, sum_to_shape

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)


def _norm_backward(g: Tensor, x: Tensor, p: float, norm: Tensor, dims: tuple) -> Tensor:
    """torch's ``norm_backward``: the gradient of ``vector_norm(x, p, dims, keepdim=True)``
    (``norm``, keepdim shape) for the incoming ``g`` (same shape)."""
    from ..linalg._misc import VectorNorm

    ctx = SimpleNamespace(
        saved_tensors=(x, norm), ord=float(p), dims=dims, keepdim_shape=tuple(norm.shape)
    )
    return VectorNorm.backward(ctx, g)[0]


# ------------------------------------------------------------------ renorm
class Renorm(Function):
    """``x * where(norm > maxnorm, maxnorm / (norm + 1e-7), 1)`` with the norm of each slice
    along ``dim``; torch's ``renorm_backward``."""

    _node_name = "RenormBackward0"

    @staticmethod
    def forward(ctx, x, p, others, maxnorm):
        from .compare import where

        norm = x.norm(p, others, keepdim=True)
        factor = where(norm > maxnorm, maxnorm / (norm + 1e-7), 1.0)
        ctx.save_for_backward(x)
        ctx.p, ctx.others, ctx.maxnorm, ctx.norm = p, others, maxnorm, norm
        return _wrap((x * factor.to(x.dtype))._a)

    @staticmethod
    def backward(ctx, g):
        from .compare import where

        (x,) = ctx.saved_tensors
        p, others, maxnorm = ctx.p, ctx.others, ctx.maxnorm
        norm = x.norm(p, others, keepdim=True) if grad_state.enabled else ctx.norm
        xg = x.conj() * g if x.is_complex() else x * g
        if x.is_complex():
            xg = xg.real
        gsum = xg.sum(others, keepdim=True)
        nb = _norm_backward(gsum, x, p, norm, others)
        invnorm = (norm + 1e-7).reciprocal()
        factor = invnorm * maxnorm
        return where(norm > maxnorm, factor * g - (factor * invnorm) * nb, g), None, None, None


def renorm(input: Tensor, p, dim: int, maxnorm, *, out=None) -> Tensor:
    """``torch.renorm``: each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled
    to norm ``maxnorm`` (``maxnorm / (norm + 1e-7)``, as torch)."""
    from ._util import with_out, wrap_dim

    a = input._a
    if a.ndim <= 1:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {a.ndim} dimensions")
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    if a.dtype.kind not in "fcV":
        raise RuntimeError(
            f"renorm: Expected a floating point or complex tensor as input. Got {input.dtype}"
        )
    ax = wrap_dim(dim, a.ndim, "renorm")
    others = tuple(i for i in range(a.ndim) if i != ax)
    return with_out(Renorm.apply(input, p, others, maxnorm), out)


# ------------------------------------------------------------------ cross
def _cross_arrays(a, b, d):
    xp = xp_of(a)
    i0, i1, i2 = ((slice(None),) * d + (slice(i, i + 1),) for i in range(3))
    return xp.concatenate(
        [
            a[i1] * b[i2] - a[i2] * b[i1],
            a[i2] * b[i0] - a[i0] * b[i2],
            a[i0] * b[i1] - a[i1] * b[i0],
        ],
        axis=d,
    )


class Cross(Function):
    """Cross product along ``d`` of broadcast inputs; torch: ``cross(other.conj(), g)`` and
    ``cross(g, self.conj())``, summed back to each input's shape."""

    _node_name = "LinalgCrossBackward0"

    @staticmethod
    def forward(ctx, x, y, d, shape):
        ctx.save_for_backward(x, y)
        ctx.d = d
        xp = xp_of(x._a)
        a, b = xp.broadcast_to(x._a, shape), xp.broadcast_to(y._a, shape)
        if a.dtype != b.dtype:
            dt = np.result_type(a.dtype, b.dtype)
            a, b = a.astype(dt), b.astype(dt)
        return _wrap(_cross_arrays(a, b, d))

    @staticmethod
    def backward(ctx, g):
        x, y = ctx.saved_tensors
        gx = gy = None
        if ctx.needs_input_grad[0]:
            yc = y.conj() if y.is_complex() else y
            gx = sum_to_shape(cross_nd(yc, g, ctx.d), x.shape)
        if ctx.needs_input_grad[1]:
            xc = x.conj() if x.is_complex() else x
            gy = sum_to_shape(cross_nd(g, xc, ctx.d), y.shape)
        return gx, gy, None, None


def cross_nd(input: Tensor, other: Tensor, d: int) -> Tensor:
    """Cross product along the (non-negative, checked) dim ``d`` of the broadcast shape."""
    shape = tuple(np.broadcast_shapes(input._a.shape, other._a.shape))
    return Cross.apply(input, other, d, shape)


# ------------------------------------------------------------------ dist
class Dist(Function):
    """``vector_norm(x - y, p)`` over all elements (inputs broadcast); torch's backward:
    ``norm_backward(g, x - y, p, result)`` summed to ``x``'s shape, its negative to ``y``'s."""

    _node_name = "DistBackward0"

    @staticmethod
    def forward(ctx, x, y, p):
        from .reduction import norm

        d = x - y
        r = norm(d, p)
        ctx.save_for_backward(x, y)
        ctx.p, ctx.r = p, r
        return r

    @staticmethod
    def backward(ctx, g):
        from .reduction import norm

        x, y = ctx.saved_tensors
        d = x - y
        dims = tuple(range(d.ndim))
        r = norm(d, ctx.p) if grad_state.enabled else ctx.r
        kshape = (1,) * d.ndim
        gd = _norm_backward(g.reshape(kshape), d, ctx.p, r.reshape(kshape), dims)
        gx = sum_to_shape(gd, x.shape) if ctx.needs_input_grad[0] else None
        gy = -sum_to_shape(gd, y.shape) if ctx.needs_input_grad[1] else None
        return gx, gy, None


def dist(input: Tensor, other: Tensor, p=2) -> Tensor:
    """``torch.dist``: the ``p``-norm of ``input - other`` (broadcast)."""
    if isinstance(p, Tensor):
        p = p.item()
    return Dist.apply(input, other, p)


# ------------------------------------------------------------------ channel_shuffle
class ChannelShuffle(Function):
    """(N, g*k, *) -> (N, k*g, *); the gradient is the inverse shuffle (``k`` groups)."""

    _node_name = "ChannelShuffleBackward0"

    @staticmethod
    def forward(ctx, x, g):
        a = x._a
        n, c, rest = a.shape[0], a.shape[1], a.shape[2:]
        ctx.k = c // g
        xp = xp_of(a)
        y = xp.ascontiguousarray(xp.swapaxes(a.reshape((n, g, c // g) + rest), 1, 2))
        return Tensor._make(like_input(y.reshape(a.shape), a))  # channels-last stays so

    @staticmethod
    def backward(ctx, gy):
        return channel_shuffle(gy, ctx.k), None


def channel_shuffle(input: Tensor, groups: int) -> Tensor:
    """``F.channel_shuffle`` (ShuffleNet): (N, g*k, *) -> channels regrouped as (N, k*g, *)."""
    a = input._a
    if a.ndim <= 2:
        raise RuntimeError(
            f"channel_shuffle expects input with > 2 dims, but got input with sizes {list(a.shape)}"
        )
    g = int(groups)
    if g <= 0:
        raise RuntimeError(
            f"Number of groups to divide channels in must be positive. Value of groups:{g}"
        )
    c = a.shape[1]
    if c % g:
        raise RuntimeError(
            f"Number of channels must be divisible by groups. Got {c} channels and {g} groups."
        )
    return ChannelShuffle.apply(input, g)


native_channel_shuffle = channel_shuffle


# ------------------------------------------------------------------ multi_margin_loss
class MultiMarginLoss(Function):
    """``sum_{j != y} max(0, margin - x[y] + x[j])^p * w[y] / C`` per sample, reduced. Backward
    (torch's ``multi_margin_loss_backward``): each active margin term ``h`` adds to ``x[j]`` and
    subtracts from ``x[y]``; written with tensor ops (twice differentiable). ``weight`` gets a
    gradient too (torch refuses one: an extension)."""

    _node_name = "MultiMarginLossBackward0"

    @staticmethod
    def forward(ctx, x2, t, p, margin, weight, reduction, shape0):
        xp = xp_of(x2._a)
        a = x2._a
        n, c = a.shape
        rows = xp.arange(n)
        with np.errstate(all="ignore"):
            z = margin - a[rows, t][:, None] + a
            z = xp.maximum(z, 0) if p == 1 else xp.maximum(z, 0) ** 2
            z[rows, t] = 0
            per = z.sum(1)
            if weight is not None:
                per = per * weight._a[t]
            per = per / c
            if reduction == "sum":
                r = per.sum()
            elif reduction == "mean":
                r = per.mean() if n else xp.asarray(np.nan, a.dtype)
            else:
                r = per.reshape(shape0)
        ctx.save_for_backward(x2, weight)
        ctx.t, ctx.p, ctx.margin, ctx.reduction = t, p, margin, reduction
        return _wrap(xp.asarray(r, dtype=a.dtype))

    @staticmethod
    def backward(ctx, g):
        x2, weight = ctx.saved_tensors
        t, p, margin = ctx.t, ctx.p, ctx.margin
        n, c = x2.shape
        xp = xp_of(x2._a)
        rows = xp.arange(n)
        onehot = xp.zeros((n, c), dtype=x2._a.dtype)
        onehot[rows, t] = 1
        oh = _wrap(onehot)
        tt = _wrap(t.reshape(n, 1))
        gi = g.reshape(-1, 1) if ctx.reduction == "none" else g.reshape(1, 1).expand(n, 1)
        if ctx.reduction == "mean":
            gi = gi / n
        z = margin - x2.gather(1, tt) + x2
        active = (z > 0).to(x2.dtype) * (1 - oh)
        wy = weight.index_select(0, tt.reshape(-1)).reshape(n, 1) if weight is not None else None
        coef = gi / c if wy is None else gi * wy / c
        h = active * coef if p == 1 else 2 * z * active * coef
        gx = h - oh * h.sum(1, keepdim=True) if ctx.needs_input_grad[0] else None
        gw = None
        if weight is not None and ctx.needs_input_grad[4]:
            zz = z.clamp_min(0) * (1 - oh)
            per = (zz if p == 1 else zz * zz).sum(1, keepdim=True) * gi / c
            gw = weight.new_zeros(weight.shape).index_add(0, tt.reshape(-1), per.reshape(-1))
        return gx, None, None, None, gw, None, None


def margin_rows(op: str, input: Tensor) -> Tensor:
    """The (N, C) rows of a margin loss's input (a vector is one row), after torch's check
    of multi_margin_loss and multilabel_margin_loss."""
    if input.dim() > 2 or (input.dim() == 2 and input.shape[1] == 0):
        raise RuntimeError(
            f"{op}: Expected non-empty vector or matrix with optional 0-dim batch size, but "
            f"got: {list(input.shape)}"
        )
    return input.reshape(1, -1) if input.dim() <= 1 else input


def multi_margin_loss(input, target, p, margin, weight, reduction):
    """Checks as torch, then one ``MultiMarginLossBackward0`` node."""
    if p not in (1, 2):
        raise ValueError("only p == 1 and p == 2 supported")
    x2 = margin_rows("multi_margin_loss", input)
    n, c = x2.shape
    t = np.asarray(target.detach().cpu().numpy()).astype(np.int64, copy=False).reshape(-1)
    if (input.dim() == 2 and target.dim() != 1) or t.shape[0] != n:
        raise RuntimeError(
            "multi_margin_loss: target tensor should be 1-D with size equal to the number of "
            f"input samples (batch size). Expected target size [{n}], but got "
            f"{list(target.shape)}. Input has shape {list(input.shape)}."
        )
    if t.size and (t.min() < 0 or t.max() >= c):
        raise RuntimeError("target out of range")
    if weight is not None and (weight.dim() != 1 or weight.numel() != c):
        raise RuntimeError(f"inconsistent weight size, expected {c} but got {list(weight.shape)}")
    if input.device.type != "cpu":  # pragma: no cover - GPU
        t = xp_of(input._a).asarray(t)
    shape0 = () if input.dim() <= 1 else (n,)
    return MultiMarginLoss.apply(x2, t, p, float(margin), weight, reduction, shape0)
