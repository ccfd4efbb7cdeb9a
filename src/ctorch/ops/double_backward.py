"""Double backward that torch refuses: a first-order gradient computed from arrays, made a
graph node whose own backward raises torch's error (issues #14, #15).

A backward running under ``create_graph=True`` returns ``refuse(message, value, *inputs)``
instead of ``value``: the first-order result is unchanged, and differentiating it again raises
``NotImplementedError(message)`` rather than silently treating it as a constant.
"""

from __future__ import annotations

from .._tensor import Tensor
from ..autograd.function import Function

_wrap = Tensor._make


class NotDifferentiableTwice(Function):
    @staticmethod
    def forward(ctx, message, value, *inputs):
        ctx.message = message
        return _wrap(value._a)

    @staticmethod
    def backward(ctx, *grads):
        raise NotImplementedError(ctx.message)


def refuse(message: str, value: Tensor | None, *inputs: Tensor) -> Tensor | None:
    """``value`` (a gradient computed without a graph) tied to ``inputs`` by a node whose
    backward raises ``NotImplementedError(message)``."""
    if value is None:
        return None
    return NotDifferentiableTwice.apply(message, value, *inputs)
