"""Activations with a weight or a split, as one graph node each: ``glu`` (torch's
``GluBackward0``: ``a * sigmoid(b)`` for the two halves of ``input`` along ``dim``; the backward
joins both halves' gradients into one tensor) and ``prelu`` (``PreluKernelBackward0``)."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import wrap_dim
from .binary import _scalar_name


class GLU(Function):
    _node_name = "GluBackward0"

    @staticmethod
    def forward(ctx, x, d):
        a, b = x.chunk(2, d)
        ctx.save_for_backward(x)
        ctx.d = d
        return a * b.sigmoid()

    @staticmethod
    def backward(ctx, g):
        from .join import cat  # join imports shape, which the ops package loads later

        (x,) = ctx.saved_tensors
        a, b = x.chunk(2, ctx.d)
        s = b.sigmoid()
        ga = g * s
        return cat([ga, ga * a * (1 - s)], ctx.d), None


def glu(input: Tensor, dim: int = -1) -> Tensor:
    if input.dim() == 0:
        raise RuntimeError("glu does not support scalars because halving size must be even")
    if input._a.dtype.kind not in "fcV":
        raise NotImplementedError(
            f"\"glu_cpu\" not implemented for '{_scalar_name(input._a.dtype)}'"
        )
    d = wrap_dim(dim, input.dim(), "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return GLU.apply(input, d)


class PReLU(Function):
    """``x if x > 0 else w * x`` with ``w`` one value or one per channel (dim 1). As torch, a
    NaN input takes the ``w * x`` branch (its gradients are ``w`` and NaN)."""

    _node_name = "PreluKernelBackward0"

    @staticmethod
    def forward(ctx, x, w, wshape):
        import ctorch

        wb = w.reshape(wshape)
        ctx.save_for_backward(x, w)
        ctx.wshape = wshape
        return ctorch.where(x > 0, x, wb * x)

    @staticmethod
    def backward(ctx, g):
        import ctorch

        x, w = ctx.saved_tensors
        pos = x > 0
        gx = gw = None
        if ctx.needs_input_grad[0]:
            gx = ctorch.where(pos, g, w.reshape(ctx.wshape) * g)
        if ctx.needs_input_grad[1]:
            contrib = ctorch.where(pos, ctorch.zeros_like(g), x * g)
            axes = tuple(i for i in range(x.dim()) if not (w.numel() != 1 and i == 1))
            gw = (contrib.sum(axes) if axes else contrib).reshape(w.shape)
        return gx, gw, None


def prelu(input: Tensor, weight: Tensor) -> Tensor:
    if weight.numel() != 1:
        if input.dim() == 0:
            raise RuntimeError("Not allow zero-dim input tensor.")
        ch = input.shape[1] if input.dim() >= 2 else 1
        if weight.numel() != ch:
            raise RuntimeError(
                "Mismatch of parameter numbers and input channel size. Found parameter numbers "
                f"= {weight.numel()} and channel size = {ch}."
            )
        wshape = (1, ch) + (1,) * (input.dim() - 2) if input.dim() >= 2 else (ch,)
    else:
        wshape = ()
    if weight.dtype != input.dtype:
        # torch: "prelu: Type promoting not supported. Got Double and Float"
        raise RuntimeError(
            "prelu: Type promoting not supported. Got "
            f"{_scalar_name(input._a.dtype)} and {_scalar_name(weight._a.dtype)}"
        )
    return PReLU.apply(input, weight, wshape)
