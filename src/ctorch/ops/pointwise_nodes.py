"""Pointwise ops that were composites of several graph nodes, as one node each with torch's
name and backward: ``logit`` (``LogitBackward0``), ``nan_to_num`` (``NanToNumBackward0``),
``fmod``/``remainder`` (``FmodBackward0/1``, ``RemainderBackward0/1``: a number or a tensor
divisor). The forward values are the no-graph paths' (the same bits with and without grad).
The backwards are written with tensor ops, so they are differentiable again.
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import sum_to_shape

_wrap = Tensor._make


class Logit(Function):
    """``log(x / (1 - x))`` of ``x`` clamped to ``[eps, 1 - eps]`` when ``eps`` is given.
    Gradient ``g / (x (1 - x))``: 0 outside the clamp band, NaN outside [0, 1] without eps
    (torch's rules)."""

    _node_name = "LogitBackward0"

    @staticmethod
    def forward(ctx, x, eps):
        a = x._a
        xp = xp_of(a)
        if eps is not None:
            a = xp.clip(a, eps, 1.0 - eps)
        with np.errstate(divide="ignore", invalid="ignore"):
            y = xp.log(a / (1.0 - a))
        ctx.save_for_backward(x)
        ctx.eps = eps
        return _wrap(y.astype(x._a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        import ctorch

        (x,) = ctx.saved_tensors
        d = g / (x * (1 - x))
        if ctx.eps is None:
            return ctorch.where((x < 0) | (x > 1), ctorch.full_like(d, float("nan")), d), None
        lo, hi = ctx.eps, 1.0 - ctx.eps
        return ctorch.where((x < lo) | (x > hi), ctorch.zeros_like(d), d), None


class NanToNum(Function):
    """The gradient passes where the input is finite, 0 where it was replaced: torch's
    ``grad * isfinite(x)``, a product, so a NaN or inf gradient still gives NaN there."""

    _node_name = "NanToNumBackward0"

    @staticmethod
    def forward(ctx, x, nan, posinf, neginf):
        a = x._a
        ctx.finite = xp_of(a).isfinite(a)
        if a.dtype.name == "bfloat16" and type(a) is np.ndarray:
            # NumPy's nan_to_num leaves an ml_dtypes array as it is (inf and NaN stayed):
            # through float32, with bfloat16's largest value for the infinities
            import ml_dtypes

            big = float(ml_dtypes.finfo(a.dtype).max)
            posinf = big if posinf is None else posinf
            neginf = -big if neginf is None else neginf
            r = np.nan_to_num(a.astype(np.float32), nan=nan, posinf=posinf, neginf=neginf)
            return _wrap(r.astype(a.dtype))
        return _wrap(xp_of(a).nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf))

    @staticmethod
    def backward(ctx, g):
        return g * _wrap(ctx.finite).to(g.dtype), None, None, None


class _Mod(Function):
    """``a mod b`` through ``values(a, b)`` (the no-graph arrays); d/da = 1, d/db = -q(a / b)
    with q = trunc (fmod) or floor (remainder), named by the subclass."""

    @staticmethod
    def forward(ctx, a, b, values):
        ctx.save_for_backward(a, b if isinstance(b, Tensor) else None)
        return values(a, b)

    @staticmethod
    def backward(ctx, g):
        a, bt = ctx.saved_tensors
        ga = sum_to_shape(g, a.shape) if ctx.needs_input_grad[0] else None
        gb = None
        if bt is not None and ctx.needs_input_grad[1]:
            q = a.detach() / bt.detach()
            q = q.trunc() if ctx._forward_cls.trunc else q.floor()
            gb = sum_to_shape(-g * q, bt.shape)
        return ga, gb, None


def _mod_class(node: str, trunc: bool) -> type:
    return type(node.replace("Backward", ""), (_Mod,), {"_node_name": node, "trunc": trunc})


_MOD = {  # (name, divisor is a tensor) -> the Function with torch's node name
    ("fmod", True): _mod_class("FmodBackward1", True),
    ("fmod", False): _mod_class("FmodBackward0", True),
    ("remainder", True): _mod_class("RemainderBackward1", False),
    ("remainder", False): _mod_class("RemainderBackward0", False),
}


def mod_node(name: str, a: Tensor, b, values) -> Tensor:
    """``fmod``/``remainder`` with autograd: one node, torch's name for the divisor's kind."""
    return _MOD[(name, isinstance(b, Tensor))].apply(a, b, values)
