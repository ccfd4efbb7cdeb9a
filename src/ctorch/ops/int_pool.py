"""torch's integer average pooling (issue #14): ``avg_pool2d``/``avg_pool3d`` accept int64
input (only; other integer dtypes and bool raise torch's NotImplementedError) and return
int64: each window's sum divided by its divisor, truncated toward zero, computed exactly
(float64 window sums of the integers, then integer division)."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._util import SCALAR_TYPE_NAMES


def avg_pool_int(op: str, pool, input: Tensor, kw: dict) -> Tensor:
    """``pool`` (the float op, called with ``**kw``) on int64 ``input``, as torch's integer
    kernel: sum // divisor toward zero."""
    a = input._a
    if a.dtype != np.int64:
        raise NotImplementedError(
            f"\"{op}\" not implemented for '{SCALAR_TYPE_NAMES.get(a.dtype.name, a.dtype)}'"
        )
    div = kw.pop("divisor_override", None)
    xd = input.double()
    sums = pool(xd, **kw, divisor_override=1)._a
    if div:
        d = np.full(sums.shape, int(div), np.int64)
    else:  # the divisor of each window: its tap count over its average of ones
        ones = xd.new_ones(xd.shape)
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.rint(pool(ones, **kw, divisor_override=1)._a / pool(ones, **kw)._a)
        d = np.maximum(np.nan_to_num(d), 1).astype(np.int64)
    s = np.rint(sums).astype(np.int64)
    return Tensor._make(np.sign(s) * (np.abs(s) // d))
