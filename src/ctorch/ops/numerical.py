"""Finite differences and integration along one dimension (issue #14 ops): ``diff`` and
``trapezoid``/``trapz``, both compositions of differentiable narrows and arithmetic.

Split from ``pointwise_extra.py`` (issue #10).
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from . import join as J
from . import shape as S
from ._util import as_tensor_arg, wrap_dim


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """n-th forward difference along ``dim`` (``!=`` for bool tensors, as torch)."""
    if input._a.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input._a.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    if len(parts) > 1:
        parts = [as_tensor_arg(p, input, "diff") for p in parts]
        x = J.cat(
            [
                p if p._a.ndim == input._a.ndim else p.expand(_with(input.shape, d, 1))
                for p in parts
            ],
            d,
        )
    else:
        x = input
    for _ in range(n):
        L = x._a.shape[d]
        if L == 0:
            break
        hi, lo = S.narrow(x, d, 1, L - 1), S.narrow(x, d, 0, L - 1)
        x = hi != lo if x._a.dtype == np.bool_ else hi - lo
    return x


def _with(shape: tuple, d: int, v: int) -> tuple:
    s = list(shape)
    s[d] = v
    return tuple(s)


def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """Trapezoidal rule along ``dim``, with sample points ``x`` or spacing ``dx`` (default 1)."""
    if isinstance(x, numbers.Number):
        dx, x = x, None
    if y._a.dtype.kind == "b":
        raise RuntimeError("trapezoid: received a bool input for `y`, but bool is not supported")
    d = wrap_dim(dim, y._a.ndim, "trapezoid")
    if y._a.dtype.kind in "biu":  # sums of neighbours in the float result dtype (uint8
        y = y.to(D.get_default_dtype())  # 255 + 7 must not wrap)
    L = y._a.shape[d]
    if L == 0:
        return y.sum(d) * 0
    lo, hi = S.narrow(y, d, 0, L - 1), S.narrow(y, d, 1, L - 1)
    if x is None:
        step = 1.0 if dx is None else dx
        return ((lo + hi) * 0.5).sum(d) * step
    if x._a.ndim == 1:
        if x._a.shape[0] != L:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        dxs = x[1:] - x[:-1]
        shape = [1] * y._a.ndim
        shape[d] = L - 1
        dxs = dxs.reshape(tuple(shape))
    else:
        xd = wrap_dim(dim, x._a.ndim, "trapezoid")
        Lx = x._a.shape[xd]
        dxs = S.narrow(x, xd, 1, Lx - 1) - S.narrow(x, xd, 0, Lx - 1)
    return (dxs * (lo + hi) * 0.5).sum(d)


trapz = trapezoid
