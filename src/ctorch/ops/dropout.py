"""Dropout: a mask of keep / (1 - p), multiplied in.

On the CPU the keep flags are torch's (``bernoulli_(1 - p)`` on ctorch's mt19937 generator, so
a seeded program drops the same elements as under torch); on the GPU they come from CuPy's
generator through the ``nnmisc.dropout_mask`` kernel;
``feature`` dropout (Dropout1d/2d) draws one mask entry per channel and broadcasts it.
"""

from __future__ import annotations

import numpy as np

from .._backend import kernels_for, xp_of
from .._random import gen_for
from .._tensor import Tensor
from ..autograd.function import Function
from .binary import _scalar_name

_wrap = Tensor._make


def dropout_mask_array(like, shape: tuple, p: float, generator=None):
    """A float mask of ``shape`` (dtype and device of ``like``): 0 with prob p, else 1/(1-p)."""
    dt = like.dtype if like.dtype.kind in "fV" else np.dtype(np.float32)
    scale = 0.0 if p >= 1.0 else 1.0 / (1.0 - p)
    xp = xp_of(like)
    if xp is np:
        # torch: mask.bernoulli_(1 - p) (one 53-bit uniform per element, kept below 1 - p),
        # then * 1/(1 - p): the same draws, so the same mask as torch under a seed
        return gen_for(generator).bernoulli_scalar(shape, 1.0 - p, scale, dt)
    u = xp.random.random(shape, dtype=dt)
    k = kernels_for(u)
    if dt in (np.float32, np.float64) and k.has("dropout_mask"):
        mask = xp.empty(shape, dt)
        k.dropout_mask(u.reshape(-1), mask.reshape(-1), float(p), float(scale))
        return mask
    return ((u >= p) * scale).astype(dt)


class Dropout(Function):
    _node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, x, mask):
        ctx.mask = mask
        return _wrap((x._a * mask).astype(x._a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        return _wrap((g._a * ctx.mask).astype(g._a.dtype, copy=False)), None


def dropout(
    input: Tensor,
    p: float = 0.5,
    training: bool = True,
    inplace: bool = False,
    mask_shape: tuple | None = None,
    generator=None,
) -> Tensor:
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")
    if not training or p == 0.0:
        return input
    xa = input._a
    if xa.dtype.kind in "biu":  # torch: the float mask can't be written into an integer input
        raise RuntimeError(
            f"result type Float can't be cast to the desired output type {_scalar_name(xa.dtype)}"
        )
    mask = dropout_mask_array(
        xa, tuple(mask_shape) if mask_shape is not None else xa.shape, p, generator
    )
    if inplace:
        return input.mul_(_wrap(mask))
    return Dropout.apply(input, mask)
