"""Products and distances of whole vectors and tensors (issue #14 ops): ``cross``, ``kron``,
``cdist``, ``cartesian_prod``. ``cross`` is one node (``math_nodes.Cross``);
``kron``/``cartesian_prod`` are compositions of differentiable ops; ``cdist`` is a ``Function`` with torch's zero-distance gradient.

Split from ``pointwise_extra.py`` (issue #10).
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad
from ..autograd.grad_mode import state as _grad_state
from . import join as J
from ._util import sum_to_shape, wrap_dim
from .pointwise_extra import _maybe_out

_wrap = Tensor._make


# ------------------------------------------------------------------ cross / diff / kron
def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None):
    """Cross product of 3-vectors along ``dim`` (inputs broadcast). Without ``dim``: the first
    dimension of size 3, as ``torch.cross`` does. One ``LinalgCrossBackward0`` node
    (``math_nodes.Cross``)."""
    from .math_nodes import cross_nd

    if input._a.ndim != other._a.ndim:
        raise RuntimeError("linalg.cross: inputs must have the same number of dimensions.")
    shape = np.broadcast_shapes(input._a.shape, other._a.shape)
    if dim is None:
        from .. import _warnings

        _warnings.warn_once(
            "cross_no_dim",
            "Using torch.cross without specifying the dim arg is deprecated.\n"
            "Please either pass the dim explicitly or simply use torch.linalg.cross.\n"
            "The default value of dim will change to agree with that of linalg.cross in a "
            "future release.",
        )
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = wrap_dim(dim, len(shape), "cross")
    if _dim_size(input, d, len(shape)) != 3 or _dim_size(other, d, len(shape)) != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got "
            f"{_dim_size(input, d, len(shape))} and {_dim_size(other, d, len(shape))}"
        )
    return _maybe_out(out, cross_nd(input, other, d))


def _dim_size(t: Tensor, d: int, nd: int) -> int:
    i = d - nd + t._a.ndim
    return t._a.shape[i] if i >= 0 else 1


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Kronecker product (differentiable: one broadcast multiply and a reshape)."""
    nd = max(input._a.ndim, other._a.ndim)
    a = input.reshape((1,) * (nd - input._a.ndim) + tuple(input._a.shape))
    b = other.reshape((1,) * (nd - other._a.ndim) + tuple(other._a.shape))
    sa, sb = a._a.shape, b._a.shape
    ia = []
    ib = []
    for i in range(nd):
        ia += [sa[i], 1]
        ib += [1, sb[i]]
    r = (a.reshape(tuple(ia)) * b.reshape(tuple(ib))).reshape(
        tuple(x * y for x, y in zip(sa, sb, strict=True))
    )
    return _maybe_out(out, r)


# ------------------------------------------------------------------ cdist
def _euclid_mm(a, b):
    """torch's ``use_mm_for_euclid_dist`` path: sqrt(|a|^2 + |b|^2 - 2 a.b), clamped at 0;
    memory O(P*R) instead of O(P*R*M)."""
    xp = xp_of(a)
    aa = (a * a).sum(-1)[..., :, None]
    bb = (b * b).sum(-1)[..., None, :]
    d2 = aa + bb - 2.0 * xp.matmul(a, xp.swapaxes(b, -1, -2))
    return xp.sqrt(xp.maximum(d2, 0.0))


class Cdist(Function):
    _node_name = "CdistBackward0"

    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        a, b = x1._a, x2._a
        xp = xp_of(a)
        ctx.save_for_backward(x1, x2)
        ctx.p = p
        if p == 2 and use_mm:
            dist = _euclid_mm(a, b)
            ctx.dist = dist
            return _wrap(dist.astype(a.dtype, copy=False))
        diff = a[..., :, None, :] - b[..., None, :, :]
        ad = xp.abs(diff)
        if p == 0:
            dist = (ad != 0).sum(-1).astype(a.dtype)
        elif math.isinf(p):
            dist = ad.max(-1) if ad.shape[-1] else xp.zeros(ad.shape[:-1], a.dtype)
        elif p == 1:
            dist = ad.sum(-1)
        elif p == 2:
            dist = xp.sqrt((diff * diff).sum(-1))
        else:
            dist = (ad**p).sum(-1) ** (1.0 / p)
        ctx.dist = dist
        return _wrap(dist.astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: torch has no double backward for cdist
            from .double_backward import refuse

            x1, x2 = ctx.saved_tensors
            msg = "the derivative for '_cdist_backward' is not implemented."
            with no_grad():
                g1, g2, _, _ = Cdist.backward(ctx, g)
            return refuse(msg, g1, x1, x2, g), refuse(msg, g2, x1, x2, g), None, None
        x1, x2 = ctx.saved_tensors
        p, dist = ctx.p, ctx.dist
        a, b = x1._a, x2._a
        xp = xp_of(a)
        if p == 2:
            # sum_r w_pr (a_p - b_r) without the P x R x M difference tensor
            with np.errstate(all="ignore"):
                w = xp.where(dist == 0, 0.0, g._a / dist).astype(a.dtype, copy=False)
            g1 = g2 = None
            if ctx.needs_input_grad[0]:
                g1 = _wrap(a * w.sum(-1)[..., None] - xp.matmul(w, b))
                g1 = sum_to_shape(g1, x1.shape) if g1.shape != x1.shape else g1
            if ctx.needs_input_grad[1]:
                g2 = _wrap(b * w.sum(-2)[..., None] - xp.matmul(xp.swapaxes(w, -1, -2), a))
                g2 = sum_to_shape(g2, x2.shape) if g2.shape != x2.shape else g2
            return g1, g2, None, None
        diff = a[..., :, None, :] - b[..., None, :, :]
        ga = g._a[..., None]
        dd = dist[..., None]
        with np.errstate(all="ignore"):
            if p == 0:
                w = xp.zeros_like(diff)
            elif p == 1:
                w = xp.sign(diff)
            elif math.isinf(p):
                w = xp.sign(diff) * (xp.abs(diff) == dd)
            else:
                w = xp.where(dd == 0, 0.0, xp.sign(diff) * xp.abs(diff) ** (p - 1) / dd ** (p - 1))
        gd = (ga * w).astype(a.dtype, copy=False)
        g1 = _wrap(gd.sum(-2)) if ctx.needs_input_grad[0] else None
        g2 = _wrap(-gd.sum(-3)) if ctx.needs_input_grad[1] else None
        if g1 is not None and g1.shape != x1.shape:
            g1 = sum_to_shape(g1, x1.shape)
        if g2 is not None and g2.shape != x2.shape:
            g2 = sum_to_shape(g2, x2.shape)
        return g1, g2, None, None


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """p-norm distances between the rows of ``x1`` (``B x P x M``) and ``x2`` (``B x R x M``);
    zero distances have a zero gradient, as in torch."""
    if x1._a.ndim < 2 or x2._a.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1._a.ndim}D"
            if x1._a.ndim < 2
            else f"cdist only supports at least 2D tensors, X2 got: {x2._a.ndim}D"
        )
    if x1._a.shape[-1] != x2._a.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1._a.shape[-1]} X2: "
            f"{x2._a.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if not x1.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    batch = np.broadcast_shapes(x1._a.shape[:-2], x2._a.shape[:-2])
    if x1._a.shape[:-2] != batch:
        x1 = x1.expand(batch + x1._a.shape[-2:])
    if x2._a.shape[:-2] != batch:
        x2 = x2.expand(batch + x2._a.shape[-2:])
    p = float(p)
    if compute_mode == "use_mm_for_euclid_dist":
        use_mm = True
    elif compute_mode == "donot_use_mm_for_euclid_dist":
        use_mm = False
    elif compute_mode == "use_mm_for_euclid_dist_if_necessary":
        use_mm = x1._a.shape[-2] > 25 or x2._a.shape[-2] > 25
    else:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    return Cdist.apply(x1, x2, p, use_mm)


# ------------------------------------------------------------------ cartesian_prod / trapezoid
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of the 1-D inputs' elements, one row each (differentiable)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if t._a.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._a.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .rearrange import meshgrid

    grids = meshgrid(*tensors, indexing="ij")
    return J.stack([g.reshape(-1) for g in grids], 1)
