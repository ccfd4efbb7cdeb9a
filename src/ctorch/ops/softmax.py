"""The softmax family: softmax, log_softmax (last-dim kernels ``softmax_lastdim`` and friends
for large contiguous float32/float64 input) and logsumexp.

Split from ``reduction.py`` (issue #10): these normalise along one axis rather than reduce it.
"""

from __future__ import annotations

import numpy as np

from .._backend import contiguous, fp_quiet, kernels_for, xp_of
from .._core._smallops import MAX_SMALL_SIZE as _SMALL_MAX
from .._core._smallops import softmax_rows as _small_rows
from .._core._smallops import softmax_rows_backward as _small_rows_bwd
from .._half import hkernel, is_half, u16
from .._tensor import NestedInput, Tensor, nested_call
from ..autograd import function as _function
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import _F32, _F64, dims_tuple, make_contiguous, with_out, wrap_dim
from .binary import _scalar_name
from .extrema import amax

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)
_nd = np.ndarray


def _lse_keepdim(xp, a, axes):
    """logsumexp of float array ``a`` over ``axes`` with keepdims, shifted by the max (0 where
    the max is +-inf), in ``a``'s dtype (call with NumPy's floating-point warnings off)."""
    m = xp.max(a, axis=axes, keepdims=True)
    m = xp.where(xp.isinf(m), 0, m).astype(a.dtype)
    t = a - m
    return (xp.log(xp.sum(xp.exp(t, out=t), axis=axes, keepdims=True)) + m).astype(a.dtype)


def _drop_axes(r, shape, axes):
    return r.reshape([n for i, n in enumerate(shape) if i not in axes])


class Logsumexp(Function):
    """log(sum(exp(x))) over ``axes``, shifted by the max (0 where the max is +-inf); torch's
    logsumexp_backward: g * exp(x - result), differentiable again."""

    _node_name = "LogsumexpBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        a = x._a
        r = fp_quiet(_lse_keepdim, xp_of(a), a, axes)
        ctx.save_for_backward(x, _wrap(r))
        ctx.kshape, ctx.axes = r.shape, axes
        return _wrap(r if keepdim else _drop_axes(r, a.shape, axes))

    @staticmethod
    def backward(ctx, g):
        x, r = ctx.saved_tensors
        if state.enabled:  # create_graph: the result as a function of x, not a constant
            r = Logsumexp.apply(x, ctx.axes, True)
        return g.reshape(ctx.kshape) * (x - r).exp(), None, None


def logsumexp(input, dim, keepdim: bool = False, *, out=None):
    if out is not None:
        return with_out(logsumexp(input, dim, keepdim), out)
    axes = dims_tuple(dim, input._a.ndim, "logsumexp")
    if input._a.dtype.kind in "biu":  # torch: integral inputs in the default float dtype
        from .._dtype import get_default_dtype

        input = input.to(get_default_dtype())  # noqa: A001
    if input._a.dtype in (_F32, _F64) and axes and 0 not in [input._a.shape[a] for a in axes]:
        if (
            type(input._a) is _nd
            and not (state.enabled and input._rg)
            and _function._autocast is None
        ):
            r = fp_quiet(_lse_keepdim, np, input._a, axes)  # nothing to record: the arrays
            return _wrap(r if keepdim else _drop_axes(r, input._a.shape, axes))
        return Logsumexp.apply(input, axes, keepdim)
    if 0 in [input._a.shape[a] for a in axes]:  # (this module defines its own any)
        # an empty sum: log(0) = -inf, as torch (amax has no identity to shift by)
        r = input.exp().sum(axes, keepdim=True).log()
        return r.squeeze(axes) if not keepdim and len(axes) else r
    d = input.detach()
    m = amax(d.real if d._a.dtype.kind == "c" else d, axes, keepdim=True)  # complex: Re max
    xp = xp_of(m._a)
    m = _wrap(xp.where(xp.isinf(m._a), 0, m._a).astype(m._a.dtype))
    r = (input - m).exp().sum(axes, keepdim=True).log() + m
    if not keepdim:
        r = r.squeeze(axes) if len(axes) else r
    return r


# ------------------------------------------------------------------ softmax family
# float32/float64 last-axis softmax rows go to the row kernels from this many elements. It
# was 1024: below it six NumPy calls and an errstate switch ran instead (a (4, 8) softmax
# forward + backward took 2x torch's time), and small and large inputs gave different bits.
_ROW_KERNEL_MIN = 1


def _lastdim_2d(x: Tensor, ax: int):
    a = x._a
    if ax == a.ndim - 1 and a.flags.c_contiguous and a.dtype in (_F32, _F64) and a.size >= 1024:
        n = a.shape[-1] if a.ndim else 1
        return a.reshape(-1, n) if n else None
    return None


def _softmax_arr(a, ax, log):
    r = _small_rows(a, log, ax)  # small C-contiguous float32/float64 arrays: one call
    if r is not None:
        return r
    xp = np if type(a) is _nd else xp_of(a)
    if (
        a.ndim
        and ax == a.ndim - 1
        and a.flags.c_contiguous
        and a.dtype in (_F32, _F64)
        and a.size >= _ROW_KERNEL_MIN
        and a.shape[-1]
    ):
        k = kernels_for(a)
        name = "log_softmax_lastdim" if log else "softmax_lastdim"
        if k.has(name):
            n = a.shape[-1]
            m = a.size // n
            out = xp.empty(a.shape, a.dtype)
            getattr(k, name)(a.reshape(-1), out.reshape(-1), m, n)
            return out
    if a.ndim == 0:  # x - x keeps NaN (and inf - inf = NaN) as torch
        with np.errstate(invalid="ignore"):
            return (a - a) if log else (a - a) + 1
    if a.size == 0:  # nothing to normalise (torch returns the empty tensor)
        return xp.empty_like(a)
    m = xp.max(a, axis=ax, keepdims=True)
    with np.errstate(invalid="ignore", over="ignore"):
        z = a - m
        if log:
            return (z - xp.log(xp.sum(xp.exp(z), axis=ax, keepdims=True))).astype(
                a.dtype, copy=False
            )
        e = xp.exp(z)
        return (e / xp.sum(e, axis=ax, keepdims=True)).astype(a.dtype, copy=False)


def _h_softmax(mode, a, b, ax):
    """The fused 16-bit row kernel over the last axis (float32 inside, one rounding), or None."""
    if not (a.ndim and ax == a.ndim - 1 and a.size >= 1024 and a.shape[-1]):
        return None
    hk, kind = hkernel("h_softmax_rows", *((a,) if b is None else (a, b)))
    if hk is None:
        return None
    n = a.shape[-1]
    out = np.empty(a.shape, a.dtype)
    hk(kind, mode, u16(a), u16(a if b is None else b), u16(out), a.size // n, n)
    return out


class Softmax(Function):
    _node_name = "SoftmaxBackward0"

    @staticmethod
    def _half_native(x, ax, log):
        """16-bit last-axis rows of 1024+ elements run fused (ctorch._half.float32_compute)."""
        a = x._a
        return (
            type(a) is _nd
            and a.ndim > 0
            and ax == a.ndim - 1
            and a.size >= 1024
            and a.shape[-1] > 0
            and a.flags.c_contiguous
        )

    @staticmethod
    def forward(ctx, x, ax, log):
        y = _h_softmax(1 if log else 0, x._a, None, ax) if is_half(x._a.dtype) else None
        y = _wrap(y if y is not None else _softmax_arr(x._a, ax, log))
        ctx.ax, ctx.log = ax, log
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        ax, log = ctx.ax, ctx.log
        ga, ya = g._a, y._a
        if not state.enabled and ya.size <= _SMALL_MAX:
            # (contiguous: e.g. the expanded gradient of a sum(), one small copy)
            gx = _small_rows_bwd(contiguous(ga), ya, log, ax)
            if gx is not None:
                return _wrap(gx), None, None
        if not state.enabled and is_half(ya.dtype) and ga.dtype == ya.dtype:
            gx = _h_softmax(3 if log else 2, contiguous(ga), ya, ax)
            if gx is not None:
                return _wrap(gx), None, None
        if (
            not state.enabled
            and ya.ndim
            and ax == ya.ndim - 1
            and ga.dtype == ya.dtype
            and ya.dtype in (_F32, _F64)
            and ya.flags.c_contiguous
            and ya.size >= _ROW_KERNEL_MIN
            and ya.shape[-1]
        ):
            k = kernels_for(ya)
            name = "log_softmax_backward_lastdim" if log else "softmax_backward_lastdim"
            if k.has(name):
                ga = contiguous(ga)  # e.g. the expanded gradient of a sum(): one copy
                n = ya.shape[-1]
                gx = xp_of(ya).empty(ya.shape, ya.dtype)
                getattr(k, name)(ga.reshape(-1), ya.reshape(-1), gx.reshape(-1), ya.size // n, n)
                return _wrap(gx), None, None
        if log:
            return g - y.exp() * g.sum(ax, keepdim=True), None, None
        return y * (g - (g * y).sum(ax, keepdim=True)), None, None


Softmax._backward_cls.__name__ = "SoftmaxBackward0"


class LogSoftmax(Softmax):  # the same code (``log`` picks the formulas): torch's node name
    _node_name = "LogSoftmaxBackward0"


def _softmax_impl(input, dim, dtype, log):
    if dtype is not None:
        input = input.to(dtype)
    if dim is None:  # torch.softmax / Tensor.softmax: dim is required (only F.softmax infers it)
        name = "log_softmax" if log else "softmax"
        raise TypeError(f'{name}() missing 1 required positional arguments: "dim"')
    ax = wrap_dim(dim, input._a.ndim, "log_softmax" if log else "softmax")
    if input._a.dtype.kind not in "fV":  # torch has no integer, bool or complex kernels
        name = "log_softmax" if log else "softmax"
        last = "lastdim_" if ax == input._a.ndim - 1 or input._a.ndim == 0 else ""
        raise NotImplementedError(
            f"\"{name}_{last}kernel_impl\" not implemented for '{_scalar_name(input._a.dtype)}'"
        )
    return (LogSoftmax if log else Softmax).apply(input, ax, log)


def _fast(input, dim, log):
    """softmax/log_softmax of a small C-contiguous float32/float64 tensor over one dim,
    when no graph is recorded and no autocast region is open, or None: the per-call cost of
    a (8, 16) softmax was 5.4 us (torch 1.2 us), nearly all Python around the kernel."""
    if type(input) is Tensor and not (input._rg and state.enabled) and _function._autocast is None:
        if type(dim) is int:
            r = _small_rows(input._a, log, dim)
            if r is not None:
                return Tensor._make(r)
    return None


def softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dtype is None:
        r = _fast(input, dim, False)
        if r is not None:
            return r
    try:
        return _softmax_impl(input, dim, dtype, False)
    except NestedInput:  # a nested tensor (ctorch.nested): no cost on the dense path
        return nested_call("softmax", input, dim, dtype=dtype)


def log_softmax(input, dim=None, _stacklevel=3, dtype=None):
    if dtype is None:
        r = _fast(input, dim, True)
        if r is not None:
            return r
    try:
        return _softmax_impl(input, dim, dtype, True)
    except NestedInput:
        return nested_call("log_softmax", input, dim, dtype=dtype)
