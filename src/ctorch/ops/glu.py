"""``glu`` as one graph node (torch's ``GluBackward0``): ``a * sigmoid(b)`` for the two halves
of ``input`` along ``dim``; the backward joins both halves' gradients into one tensor."""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function
from ._util import wrap_dim


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
    d = wrap_dim(dim, input.dim(), "glu")
    n = input.shape[d]
    if n % 2:
        raise RuntimeError(f"Halving dimension must be even, but dimension {d} is size {n}")
    return GLU.apply(input, d)
