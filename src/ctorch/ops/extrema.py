"""Extrema: max/min (with indices, torch's NaN-first rules), amax/amin, argmax/argmin and
aminmax, with their autograd nodes. Split out of ``reduction.py`` (which re-exports them)."""

from __future__ import annotations

import numpy as np

from .._backend import kernels_for, xp_of
from .._core._smallops import extreme_small as _small_extreme
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import (
    _F32,
    _F64,
    KERNEL_MIN,
    _expand_grad,
    _omi,
    dims_tuple,
    make_contiguous,
    return_type,
    with_out,
    wrap_dim,
)

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)
_nd = np.ndarray


# ------------------------------------------------------------------ max / min
def _extreme_axis(a, ax, is_max):
    """values, int64 indices of the max/min over one axis (first index; NaN wins)."""
    xp = np if type(a) is _nd else xp_of(a)
    if a.shape[ax] == 0:
        raise _empty_dim_error("max" if is_max else "min", ax)
    dt = a.dtype
    r = _small_extreme(a, ax, is_max)  # small float32/float64 CPU arrays: one compiled call
    if r is not None:
        return r
    if a.size >= KERNEL_MIN and (dt == _F32 or dt == _F64) and a.flags.c_contiguous:
        k = kernels_for(a)
        name = "max_axis" if is_max else "min_axis"
        if k.has(name):
            outer, mid, inner = _omi(a.shape, (ax,))
            vals = xp.empty(outer * inner, dt)
            idx = xp.empty(outer * inner, np.int64)
            getattr(k, name)(a.reshape(-1), vals, idx, outer, mid, inner)
            shape = a.shape[:ax] + a.shape[ax + 1 :]
            return vals.reshape(shape), idx.reshape(shape)
    if dt.kind in "fV":
        nan = xp.isnan(a)
        idx = (xp.argmax if is_max else xp.argmin)(a, axis=ax)
        if nan.any():
            nan_any = nan.any(axis=ax)
            idx = xp.where(nan_any, xp.argmax(nan, axis=ax), idx)
    else:
        idx = (xp.argmax if is_max else xp.argmin)(a, axis=ax)
    idx = xp.asarray(idx)  # a 1-D input's argmax is a NumPy scalar, not an array
    vals = xp.take_along_axis(a, xp.expand_dims(idx, ax), axis=ax).squeeze(ax)
    return vals, idx.astype(np.int64)


class MaxMinDim(Function):
    _node_name = "MaxBackward0"

    @staticmethod
    def forward(ctx, x, ax, keepdim, is_max):
        v, i = _extreme_axis(x._a, ax, is_max)
        if keepdim:
            v = xp_of(v).expand_dims(v, ax)
            i = xp_of(i).expand_dims(i, ax)
        ctx.ax, ctx.keepdim, ctx.shape = ax, keepdim, x._a.shape
        iv = _wrap(i)
        ctx.idx = iv
        ctx.mark_non_differentiable(iv)
        return _wrap(v), iv

    @staticmethod
    def backward(ctx, g, gi):
        idx = ctx.idx
        if not ctx.keepdim:
            g = g.unsqueeze(ctx.ax)
            idx = idx.unsqueeze(ctx.ax)
        from .indexing import scatter

        z = g.new_zeros(ctx.shape)
        return scatter(z, ctx.ax, idx, g), None, None, None


class MaxMinAll(Function):
    _node_name = "MaxBackward1"

    @staticmethod
    def forward(ctx, x, is_max):
        a = x._a
        if a.size == 0:
            raise RuntimeError(
                f"{'max' if is_max else 'min'}(): Expected reduction dim to be specified for "
                "input.numel() == 0. Specify the reduction dim with the 'dim' argument."
            )
        xp = xp_of(a)
        v = xp.max(a) if is_max else xp.min(a)
        out = _wrap(xp.asarray(v, dtype=a.dtype).reshape(()))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        mask = (x == out).to(g.dtype)
        return g * mask / mask.sum(), None


def _no_complex(input, name):
    if input._a.dtype.kind == "c":  # torch defines no ordering on complex numbers
        if name.endswith("()"):
            raise RuntimeError(f"{name}: does not support complex input")
        from .complex import scalar_name

        raise NotImplementedError(f"\"{name}\" not implemented for '{scalar_name(input._a)}'")


class _MinDim(MaxMinDim):  # the same code; torch's names for min's nodes
    _node_name = "MinBackward0"


class _MinAll(MaxMinAll):
    _node_name = "MinBackward1"


def _max_min(input, dim, keepdim, is_max, name):
    if (
        type(dim) is int
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
        and type(input._a) is _nd
    ):  # one dim, nothing to record: the (values, indices) of _extreme_axis directly
        a = input._a
        if a.ndim and a.dtype.kind in "fiub":
            ax = wrap_dim(dim, a.ndim, name)
            v, i = _extreme_axis(a, ax, is_max)
            if keepdim:
                v, i = np.expand_dims(v, ax), np.expand_dims(i, ax)
            return return_type(name)(_wrap(v), _wrap(i))
    _no_complex(input, f"{name}_all" if dim is None else f"{name}()")
    if isinstance(dim, Tensor):
        from .arithmetic import maximum, minimum

        return (maximum if is_max else minimum)(input, dim)
    if dim is None:
        return (MaxMinAll if is_max else _MinAll).apply(input, is_max)
    ax = wrap_dim(dim, input._a.ndim, name)
    if input._a.ndim == 0:
        return return_type(name)(input.clone(), _wrap(np.zeros((), np.int64)))
    v, i = (MaxMinDim if is_max else _MinDim).apply(input, ax, keepdim, is_max)
    return return_type(name)(v, i)


def max(input, dim=None, keepdim: bool = False, *, out=None):  # noqa: A001
    if out is not None:
        return with_out(max(input, dim, keepdim), out)
    return _max_min(input, dim, keepdim, True, "max")


def min(input, dim=None, keepdim: bool = False, *, out=None):  # noqa: A001
    if out is not None:
        return with_out(min(input, dim, keepdim), out)
    return _max_min(input, dim, keepdim, False, "min")


def amax(input, dim=(), keepdim: bool = False, *, out=None):
    if out is not None:
        return with_out(amax(input, dim, keepdim), out)
    return _amaxmin(input, dim, keepdim, True)


def amin(input, dim=(), keepdim: bool = False, *, out=None):
    if out is not None:
        return with_out(amin(input, dim, keepdim), out)
    return _amaxmin(input, dim, keepdim, False)


class AMaxMin(Function):
    _node_name = "AmaxBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim, is_max):
        xp = xp_of(x._a)
        v = (xp.max if is_max else xp.min)(x._a, axis=axes, keepdims=keepdim)
        out = _wrap(xp.asarray(v))
        ctx.axes, ctx.keepdim, ctx.shape = axes, keepdim, x._a.shape
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g, *_):
        x, out = ctx.saved_tensors
        o = _expand_grad(out, ctx.shape, ctx.axes, ctx.keepdim)
        mask = (x == o).to(g.dtype)
        cnt = mask.sum(dim=ctx.axes, keepdim=True)
        return _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim) * mask / cnt, None, None, None


class _AMin(AMaxMin):
    _node_name = "AminBackward0"


def _need_nonempty_dims(input, axes, name):
    """torch's errors for a max/min-like reduction with no identity over an empty extent:
    ``axes`` None (every dim) on an empty tensor, or a reduced dim of size 0."""
    shape = input._a.shape
    if axes is None:
        if input._a.size == 0:
            raise RuntimeError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0. "
                "Specify the reduction dim with the 'dim' argument."
            )
        return
    for ax in axes:
        if shape and shape[ax] == 0:
            raise _empty_dim_error(name, ax)


def _empty_dim_error(name, ax):
    return IndexError(f"{name}(): Expected reduction dim {ax} to have non-zero size.")


def _amaxmin(input, dim, keepdim, is_max):
    name = "amax" if is_max else "amin"
    _no_complex(input, "max_values_cpu" if is_max else "min_values_cpu")
    axes = dims_tuple(dim if dim != () else None, input._a.ndim, name)
    _need_nonempty_dims(input, None if dim in ((), None) else axes, name)
    return (AMaxMin if is_max else _AMin).apply(input, axes, keepdim, is_max)


def _arg_extreme(input, dim, keepdim: bool, is_max: bool):
    """argmax (is_max) or argmin: the first NaN wins, as in torch; dim=None flattens."""
    name = "argmax" if is_max else "argmin"
    a = input._a
    if a.dtype.kind == "b":
        raise RuntimeError(f"{name}(): does not support bool input")
    if type(dim) is int and type(a) is _nd and a.ndim:  # small float32/float64: compiled
        ax = wrap_dim(dim, a.ndim, name)
        r = _small_extreme(a, ax, is_max)
        if r is not None:
            return _wrap(np.expand_dims(r[1], ax) if keepdim else r[1])
    _no_complex(input, f"{name}()")
    if dim is None:
        a = input._a.reshape(-1)
        if a.size == 0:
            raise IndexError(
                f"{name}(): Expected reduction dim to be specified for input.numel() == 0."
            )
        xp = xp_of(a)
        if type(a) is MetaArray:  # the meta device: the index's shape and dtype, no value
            r = _wrap(MetaArray((), np.int64))
            return r.reshape([1] * input._a.ndim) if keepdim else r
        if a.dtype.kind in "fV" and xp.isnan(a).any():
            i = int(xp.argmax(xp.isnan(a)))
        else:
            i = int(xp.argmax(a) if is_max else xp.argmin(a))
        r = _wrap(xp.asarray(i, dtype=np.int64))
        return r.reshape([1] * input._a.ndim) if keepdim else r
    _need_nonempty_dims(input, (wrap_dim(dim, input._a.ndim, name),), name)
    return _max_min(input.detach() if input._rg else input, dim, keepdim, is_max, name).indices


def argmax(input, dim=None, keepdim: bool = False, *, out=None):
    if out is not None:
        return with_out(argmax(input, dim, keepdim), out)
    return _arg_extreme(input, dim, keepdim, True)


def argmin(input, dim=None, keepdim: bool = False, *, out=None):
    if out is not None:
        return with_out(argmin(input, dim, keepdim), out)
    return _arg_extreme(input, dim, keepdim, False)


def aminmax(input, *, dim=None, keepdim=False):
    mm = return_type("aminmax", ("min", "max"))
    if input._a.size == 0 and (
        dim is None or input._a.shape[wrap_dim(dim, input.ndim, "aminmax")] == 0
    ):
        raise RuntimeError(
            "aminmax(): cannot compute aminmax over an empty dimension as the operation has no "
            "identity."
        )
    return mm(
        amin(input, dim if dim is not None else (), keepdim),
        amax(input, dim if dim is not None else (), keepdim),
    )
