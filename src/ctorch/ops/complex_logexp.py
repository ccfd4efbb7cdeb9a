"""Complex ``logaddexp`` and ``logcumsumexp`` (torch defines both on complex tensors; NumPy's
``logaddexp`` ufunc has no complex loop).

torch's ``_log_add_exp_helper``: the operand of smaller real part is ``lo``, the other ``hi``
(a NaN in either part of an operand makes the result NaN + NaN i); two infinite real parts of
the same sign give ``lo`` when -inf and ``log(exp(lo) + exp(hi))`` when +inf; otherwise
``hi + log1p(exp(lo - hi))``.  Gradients are torch's ``g / conj(1 + exp(other - self))``.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import as_tensor_arg, sum_to_shape

_wrap = Tensor._make


def logaddexp_arrays(x, y):
    """The elementwise helper on two broadcastable complex arrays (NumPy or CuPy)."""
    xp = xp_of(x)
    x, y = xp.broadcast_arrays(x, y)
    nan_x = xp.isnan(x.real) | xp.isnan(x.imag)
    nan_y = xp.isnan(y.real) | xp.isnan(y.imag)
    x_lo = x.real < y.real
    lo = xp.where(x_lo, x, y)
    hi = xp.where(x_lo, y, x)
    with np.errstate(all="ignore"):
        r = hi + xp.log1p(xp.exp(lo - hi))
        same_inf = ~xp.isfinite(lo.real) & (lo.real == hi.real)
        if same_inf.any():
            both_pos = xp.log(xp.exp(lo) + xp.exp(hi))
            r = xp.where(same_inf, xp.where(lo.real < 0, lo, both_pos), r)
    nan = xp.asarray(complex(np.nan, np.nan), dtype=r.dtype)
    return xp.where(nan_x | nan_y, nan, r).astype(x.dtype, copy=False)


class LogAddExpComplex(Function):
    _node_name = "LogaddexpBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return _wrap(logaddexp_arrays(a._a, b._a))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = sum_to_shape(g / (1 + (b - a).exp()).conj(), a.shape)
        if ctx.needs_input_grad[1]:
            gb = sum_to_shape(g / (1 + (a - b).exp()).conj(), b.shape)
        return ga, gb


def logaddexp(input, other) -> Tensor:
    """``logaddexp`` where either operand is complex (both taken to their complex type)."""
    a = input if isinstance(input, Tensor) else as_tensor_arg(input, other, "logaddexp")
    b = other if isinstance(other, Tensor) else as_tensor_arg(other, a, "logaddexp")
    dt = D.result_type(input, other)
    if not dt.is_complex:
        dt = D.get_default_dtype().to_complex()
    return LogAddExpComplex.apply(a.to(dt), b.to(dt))


def logcumsumexp(input: Tensor, ax: int) -> Tensor:
    """Complex ``logcumsumexp`` along ``ax``: the running ``logaddexp`` of the slices (one
    differentiable step per position, so gradients are the chain of logaddexp's)."""
    n = input.shape[ax]
    if n == 0:
        return input.clone()
    out = [input.select(ax, 0)]
    for i in range(1, n):
        out.append(LogAddExpComplex.apply(out[-1], input.select(ax, i)))
    from .join import stack

    return stack(out, ax)


def is_complex_operand(v) -> bool:
    return isinstance(v, complex) or (isinstance(v, Tensor) and v._a.dtype.kind == "c")
