"""Running extremes along one dimension: ``cummax`` and ``cummin`` (values and indices).

A scan like ``scan.py``'s, but it returns where each running extreme was taken, and its
gradient routes each output's gradient back to that element (torch's scatter_add backward).
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import make_contiguous, return_type, with_out, wrap_dim

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)


def _running_extreme(a, ax: int, largest: bool):
    """(values, indices) of torch's cummax/cummin of array ``a`` along ``ax``: NaN is sticky
    (a NaN and everything after it is NaN, indexed at the latest NaN) and ties take the latest
    position, as torch's CPU kernel (``x >= running`` for cummax, ``x <= running`` for cummin)."""
    xp = xp_of(a)
    ufunc = xp.maximum if largest else xp.minimum
    if a.dtype.kind == "b":
        vals = ufunc.accumulate(a.astype(np.uint8), axis=ax).astype(np.bool_)
    else:
        vals = ufunc.accumulate(a, axis=ax)  # NumPy's maximum/minimum propagate NaN too
    hit = a == vals
    if a.dtype.kind in "fc":
        hit |= xp.isnan(a) & xp.isnan(vals)
    shape = [1] * a.ndim
    shape[ax] = a.shape[ax]
    pos = xp.arange(a.shape[ax], dtype=np.int64).reshape(shape)
    # the latest position (up to each one) where the element is the running extreme
    idx = xp.maximum.accumulate(xp.where(hit, pos, -1), axis=ax)
    return vals, idx


class _CumExtreme(Function):
    @staticmethod
    def forward(ctx, x, ax, largest):
        vals, idx = _running_extreme(x._a, ax, largest)
        ind = _wrap(idx)
        ctx.mark_non_differentiable(ind)
        ctx.ax, ctx.ind, ctx.shape = ax, ind, x._a.shape
        return _wrap(vals), ind

    @staticmethod
    def backward(ctx, g, _gi):
        # each output's gradient lands on the element it was taken from
        from .indexing import scatter_add

        return scatter_add(g.new_zeros(ctx.shape), ctx.ax, ctx.ind, g), None, None


class _Cummax(_CumExtreme):
    _node_name = "CummaxBackward0"


class _Cummin(_CumExtreme):
    _node_name = "CumminBackward0"


def _cum_extreme(input: Tensor, dim: int, largest: bool, out=None):
    name = "cummax" if largest else "cummin"
    if not isinstance(input, Tensor):
        raise TypeError(f"{name}(): argument 'input' must be Tensor, not {type(input).__name__}")
    if input._a.dtype.kind == "c":
        raise RuntimeError(f"{name}: complex tensors are not supported (no ordering)")
    ax = wrap_dim(dim, input._a.ndim, name)
    fn = _Cummax if largest else _Cummin
    if input._a.ndim == 0:  # torch: the value itself at index 0
        v, i = fn.apply(input.reshape(1), 0, largest)
        v, i = v.reshape(()), i.reshape(())
    else:
        v, i = fn.apply(input, ax, largest)
    if out is not None:
        v, i = with_out(v, out[0]), with_out(i, out[1])
    return return_type(name)(v, i)


def cummax(input: Tensor, dim: int, *, out=None):
    """``torch.cummax``: the running maximum along ``dim`` and the index it came from."""
    return _cum_extreme(input, dim, True, out)


def cummin(input: Tensor, dim: int, *, out=None):
    """``torch.cummin``: the running minimum along ``dim`` and the index it came from."""
    return _cum_extreme(input, dim, False, out)
