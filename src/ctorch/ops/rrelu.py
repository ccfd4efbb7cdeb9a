"""Randomized leaky ReLU (``F.rrelu``, ``F.rrelu_``, ``nn.RReLU``); ``channel_shuffle`` is in
``math_nodes.py``.

rrelu is torch's ``rrelu_with_noise``: in training each element at or below 0 is scaled by its
own slope drawn from U(lower, upper) (torch's draws on the CPU: one 53-bit uniform per such
element, in order), in eval by their mean; the output is
``input * noise`` and the gradient ``grad * noise`` (one node, ``RreluWithNoiseBackward0``).
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._random import gen_for
from .._tensor import Tensor
from ..autograd import inplace as IP
from ..autograd.function import Function

_wrap = Tensor._make


class _RreluWithNoise(Function):
    _node_name = "RreluWithNoiseBackward0"

    @staticmethod
    def forward(ctx, x, noise):
        ctx.noise = noise
        return _wrap(x._a * noise)

    @staticmethod
    def backward(ctx, g):
        return g * _wrap(ctx.noise), None


def _noise(a, lower: float, upper: float, training: bool, generator=None):
    xp = xp_of(a)
    if training:
        neg = a <= 0
        if xp is np:
            # torch draws one 53-bit uniform slope per element at or below 0, in order
            slope = np.ones(a.shape, a.dtype)
            u = gen_for(generator)._unit(int(np.count_nonzero(neg)), np.dtype(np.float64))
            # torch holds the bounds in the op's math type (float below float64) first
            op = np.float64 if a.dtype == np.float64 else np.float32
            lo, hi = float(op(lower)), float(op(upper))
            slope[neg] = (u * (hi - lo) + lo).astype(op).astype(a.dtype)
            return slope
        u = xp.random.random(a.shape)
        slope = (u * (upper - lower) + lower).astype(a.dtype)
        return xp.where(neg, slope, a.dtype.type(1)).astype(a.dtype)
    slope = a.dtype.type((lower + upper) / 2)
    return xp.where(a <= 0, slope, a.dtype.type(1)).astype(a.dtype)


def rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    inplace: bool = False,
    *,
    generator=None,
) -> Tensor:
    """``F.rrelu``: slopes ~ U(lower, upper) below 0 in training, (lower + upper) / 2 in eval
    (``generator``: the source of the slopes, as ``torch.rrelu``'s)."""
    if lower > upper:
        raise RuntimeError("rrelu: Lower bound should be less than or equal to the upper bound")
    if input._a.dtype.kind not in "fV":
        raise NotImplementedError(f"rrelu: not implemented for '{input.dtype}' (floats only)")
    if inplace:
        return rrelu_(input, lower, upper, training, generator)
    return _RreluWithNoise.apply(input, _noise(input._a, lower, upper, training, generator))


def rrelu_(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator=None,
) -> Tensor:
    """In-place ``rrelu`` (also ``torch.rrelu_``, whose fifth argument is the generator)."""
    return IP.inplace(
        input, "rrelu_", lambda: rrelu(input, lower, upper, training, generator=generator)
    )


def torch_rrelu(
    input: Tensor,
    lower: float = 1.0 / 8,
    upper: float = 1.0 / 3,
    training: bool = False,
    generator=None,
) -> Tensor:
    """``torch.rrelu`` (its fifth argument is a generator, not ``inplace``)."""
    return rrelu(input, lower, upper, training, generator=generator)
