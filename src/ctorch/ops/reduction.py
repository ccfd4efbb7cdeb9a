"""Reductions: sum, mean, prod, nansum/nanmean, norm, all/any, count_nonzero; max/min (with
indices), amax/amin, argmax/argmin are ``extrema.py`` (re-exported here), var/std ``moments.py``.

Reductions over all elements or over one axis of float32/float64 data run in the
``reduction`` kernels (deterministic fixed blocking); other cases use NumPy/CuPy.
The softmax family (softmax, log_softmax, logsumexp) is ``softmax.py`` and the scans
(cumsum, cumprod, logcumsumexp) are ``scan.py`` (issue #10 split them out of this module).
"""

from __future__ import annotations

import collections
import math

import numpy as np

from .. import _dtype as D
from .._backend import fp_quiet, kernels_for, xp_of
from .._core._smallops import moments_small as _moments_small
from .._core._smallops import sum_small as _sum_small
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
    with_out,
)
from ._util import conj_if_complex as _cj
from .binary import _scalar_name

_make = Tensor._make
_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)
_nd = np.ndarray
_add_reduce = np.add.reduce  # what np.sum runs, without its Python wrapper (~1 us a call)


def _nd_of(r, dt):
    """``r`` (an ndarray, or the NumPy scalar a full reduction returns) as an ndarray."""
    return r if type(r) is _nd else np.asarray(r, dtype=dt)


values_indices = collections.namedtuple("values_indices", ["values", "indices"])


class _MinMaxResult(values_indices):
    pass


def _sum_array(a, axes, keepdim, dt):
    """Sum of array ``a`` over ``axes`` (sorted tuple) in dtype ``dt``."""
    if a.dtype != dt:
        a = a.astype(dt)
    n = a.size
    if n < KERNEL_MIN and type(a) is _nd:  # (NumPy's overflow warning off: torch is silent)
        return _nd_of(fp_quiet(_add_reduce, a, axes, dt, None, keepdim), dt)
    if n >= KERNEL_MIN and (dt == _F32 or dt == _F64) and a.flags.c_contiguous:
        k = kernels_for(a)
        if len(axes) == a.ndim and k.has("sum_all"):
            v = k.sum_all(a.reshape(-1))
            r = xp_of(a).asarray(v, dtype=dt).reshape(())
            return r.reshape((1,) * a.ndim) if keepdim else r
        pat = _omi(a.shape, axes)
        if pat is not None and k.has("sum_axis"):
            outer, mid, inner = pat
            out = xp_of(a).empty(outer * inner, dt)
            k.sum_axis(a.reshape(-1), out, outer, mid, inner)
            shape = (
                [s for i, s in enumerate(a.shape) if i not in axes]
                if not keepdim
                else [1 if i in axes else s for i, s in enumerate(a.shape)]
            )
            return out.reshape(shape)
    xp = np if type(a) is _nd else xp_of(a)
    r = xp.sum(a, axis=axes, keepdims=keepdim, dtype=dt)
    if xp is np and type(r) is not _nd:
        r = np.asarray(r, dtype=dt)
    return r


def _sum_dtype(a, dtype):
    if dtype is not None:
        return D.to_numpy_dtype(D._as_dtype(dtype))
    if a.dtype.kind in "biu":
        return np.dtype(np.int64)
    return a.dtype


class Sum(Function):
    _node_name = "SumBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dt):
        ctx.shape, ctx.axes, ctx.keepdim = x._a.shape, axes, keepdim
        ctx.dt = x.dtype
        return _wrap(_sum_array(x._a, axes, keepdim, dt))

    @staticmethod
    def backward(ctx, g):
        g = _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim)
        if g.dtype is not ctx.dt:
            g = g.to(ctx.dt)
        return g, None, None, None


class SumAll(Sum):
    _node_name = "SumBackward0"  # torch's name for a full reduction (dim=None)


class Mean(Function):
    _node_name = "MeanBackward1"

    @staticmethod
    def forward(ctx, x, axes, keepdim, dt, count):
        ctx.shape, ctx.axes, ctx.keepdim, ctx.count = x._a.shape, axes, keepdim, count
        ctx.dt = x.dtype
        return _wrap(_mean_array(x._a, axes, keepdim, dt, count))

    @staticmethod
    def backward(ctx, g):
        g = _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim) / ctx.count
        if g.dtype is not ctx.dt:
            g = g.to(ctx.dt)
        return g, None, None, None, None


def _small_sum_of(a, dim, keepdim, mean):
    """The sum (``mean``: the mean) of a small float32/float64 array over all axes (``dim``
    None) or its last axis (``dim`` -1 or ndim - 1) as ``_sum_array`` / ``_mean_array``
    compute it (``_smallops.sum_small``: the same bits), or None."""
    if dim is None:
        return _sum_small(a, False, keepdim, a.size if mean else 1.0)
    if type(dim) is int and a.ndim and (dim == -1 or dim == a.ndim - 1):
        return _sum_small(a, True, keepdim, a.shape[-1] if mean else 1.0)
    return None


def _mean_array(a, axes, keepdim, dt, count):
    """Mean of array ``a`` over ``axes``: the sum divided by ``count`` in its dtype."""
    sa = _sum_array(a, axes, keepdim, dt)
    r = xp_of(sa).true_divide(sa, count, dtype=sa.dtype)
    return r if type(r) is type(sa) else np.asarray(r)


class MeanAll(Mean):
    _node_name = "MeanBackward0"


def _unrecorded_float(input, a) -> bool:
    """Whether ``input`` (its array ``a``) is a float32/float64 CPU tensor with nothing to
    record or cast: sum and mean then compute their arrays directly, as their forwards would
    (16-bit tensors keep the forwards' float32 widening, other devices and dtypes the nodes)."""
    return (
        type(a) is _nd
        and (a.dtype == _F32 or a.dtype == _F64)
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
    )


def sum(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):  # noqa: A001
    if out is not None:
        return with_out(sum(input, dim, keepdim, dtype=dtype), out)
    if not isinstance(input, Tensor):
        import builtins

        return builtins.sum(input)
    a = input._a
    if dtype is None and not (state.enabled and input._rg) and _fn_mod._autocast is None:
        r = _small_sum_of(a, dim, keepdim, False)
        if r is not None:
            return _make(r)
    axes = dims_tuple(dim, a.ndim, "sum")
    dt = _sum_dtype(a, dtype)
    if _unrecorded_float(input, a):
        # a bias gradient in backward, a no-grad statistic: Sum.forward's array call without
        # the node machinery (~2.5 us a call)
        return _wrap(_sum_array(a, axes, keepdim, dt))
    return (SumAll if dim is None else Sum).apply(input, axes, keepdim, dt)


def mean(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    if out is not None:
        return with_out(mean(input, dim, keepdim, dtype=dtype), out)
    a = input._a
    if dtype is None and not (state.enabled and input._rg) and _fn_mod._autocast is None:
        r = _small_sum_of(a, dim, keepdim, True)
        if r is not None:
            return _make(r)
    if dtype is None and a.dtype.kind not in "fcV":
        raise RuntimeError(
            f"mean(): could not infer output dtype. Input dtype must be either a floating point "
            f"or complex dtype. Got: {_scalar_name(a.dtype)}"
        )
    axes = dims_tuple(dim, a.ndim, "mean")
    count = math.prod(a.shape[i] for i in axes) if axes else 1
    if count:
        dt = _sum_dtype(a, dtype)
        if _unrecorded_float(input, a):  # Mean.forward's arrays without the node machinery
            return _wrap(_mean_array(a, axes, keepdim, dt, count))
        return (MeanAll if dim is None else Mean).apply(input, axes, keepdim, dt, count)
    return sum(input, dim, keepdim, dtype=dtype) / 0.0  # an empty mean: NaN, as torch


class Nansum(Function):
    """sum with NaNs read as 0 (masked_fill, not nan_to_num: nan_to_num also clamps +-inf);
    the gradient is g where the input is not NaN, 0 at the NaNs, as torch."""

    _node_name = "NansumBackward0"

    @staticmethod
    def forward(ctx, x, dim, keepdim, dtype):
        ctx.shape, ctx.keepdim = x._a.shape, keepdim
        ctx.axes = dims_tuple(dim, x._a.ndim, "nansum") if dim is not None else None
        ctx.save_for_backward(x)
        return sum(x.masked_fill(x.isnan(), 0), dim, keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        axes = ctx.axes if ctx.axes is not None else tuple(range(len(ctx.shape)))
        g = _expand_grad(g.to(x.dtype), ctx.shape, axes, ctx.keepdim)
        return g.masked_fill(x.isnan(), 0), None, None, None


def nansum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    if out is not None:
        return with_out(nansum(input, dim, keepdim, dtype=dtype), out)
    if input._a.dtype.kind not in "fcV":  # no NaNs to drop: integer and bool sums as sum
        return sum(input, dim, keepdim, dtype=dtype)
    return Nansum.apply(input, dim, keepdim, dtype)


def nanmean(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return with_out(nanmean(input, dim, keepdim), out)
    if input._a.dtype.kind not in "fcV":
        raise RuntimeError(
            "nanmean(): expected input to have floating point or complex dtype but got "
            f"{_scalar_name(input._a.dtype)}"
        )
    m = ~input.isnan()
    return nansum(input, dim, keepdim) / m.sum(dim, keepdim).to(input.dtype)


class Prod(Function):
    _node_name = "ProdBackward0"

    @staticmethod
    def forward(ctx, x, axes, keepdim):
        ctx.axes, ctx.keepdim, ctx.shape = axes, keepdim, x._a.shape
        xp = xp_of(x._a)
        # (NumPy's overflow warning off: torch's prod gives inf silently)
        out = _wrap(xp.asarray(fp_quiet(xp.prod, x._a, axis=axes, keepdims=keepdim)))
        ctx.save_for_backward(x, out)
        return out

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        g = _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim)
        o = _expand_grad(out, ctx.shape, ctx.axes, ctx.keepdim)
        # safe for zeros: product of the others, computed directly where x == 0
        zero = x == 0
        if bool(zero.any()):
            from .compare import where

            xs = where(zero, 1.0, x)
            po = xs
            for ax in sorted(ctx.axes, reverse=True):  # public prod reduces one dim at a time
                po = prod(po, ax, keepdim=True)
            po = po.expand(ctx.shape)
            nz = zero.to(x.dtype).sum(dim=ctx.axes, keepdim=True).expand(ctx.shape)
            gi = where(zero, where(nz == 1, po, 0.0), o / xs)
            return g * _cj(gi), None, None
        return g * _cj(o / x), None, None


def prod(input, dim=None, keepdim: bool = False, *, dtype=None, out=None):
    if out is not None:
        return with_out(prod(input, dim, keepdim, dtype=dtype), out)
    if dtype is not None:
        input = input.to(dtype)
    if dim is not None and not isinstance(dim, (int, np.integer)):
        # torch's prod reduces over one dim only (no tuple/list overload)
        raise TypeError(
            f"prod() received an invalid combination of arguments - got (dim={type(dim).__name__}"
            ", ), but expected one of: (*, torch.dtype dtype = None) or (int dim, bool keepdim = "
            "False, *, torch.dtype dtype = None)"
        )
    a = input._a
    axes = dims_tuple(dim, a.ndim, "prod") if dim is not None else tuple(range(a.ndim))
    if a.dtype.kind in "bu" or a.dtype.kind == "i":
        if a.dtype != np.int64:
            input = input.to(D.int64)
    return Prod.apply(input, axes, keepdim)


# ------------------------------------------------------------------ norm
def norm(input, p="fro", dim=None, keepdim: bool = False, dtype=None, *, out=None):
    if out is not None:
        return with_out(norm(input, p, dim, keepdim, dtype), out)
    if (
        (p == "fro" or p == 2)
        and dtype is None
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
    ):  # a small 2-norm with nothing to record: one compiled pass (_smallops.moments_small)
        r = _moments_small(input._a, dims_tuple(dim, input._a.ndim, "norm"), 2, 0.0, keepdim)
        if r is not None:
            return _wrap(r)
    if dtype is not None:
        input = input.to(dtype)
    if isinstance(p, str):
        if p == "fro":
            p = 2
        elif p == "nuc":  # torch: linalg.matrix_norm over a 2-tuple dim (all dims if None)
            from ..linalg import matrix_norm

            dims = tuple(range(input.ndim)) if dim is None else dims_tuple(dim, input.ndim, "norm")
            if len(dims) != 2:
                raise RuntimeError(
                    "linalg.matrix_norm: dim must be a 2-tuple. Got " + " ".join(map(str, dims))
                )
            return matrix_norm(input, "nuc", dims, keepdim)
    # torch 2's norm is linalg.vector_norm for every numeric p (one LinalgVectorNormBackward0
    # node, the subgradient 0 at a zero vector, complex input by its moduli)
    from ..linalg import vector_norm  # ctorch.linalg imports ops: imported when first used

    return vector_norm(input, p, dim, keepdim)


# ------------------------------------------------------------------ all / any / count
_LOGICAL = {"all": np.logical_and.reduce, "any": np.logical_or.reduce}
_BOOL = np.dtype(np.bool_)


def _all_any(input, dim, keepdim, name):
    a = input._a
    if dim is None and not keepdim and type(a) is _nd and a.dtype == _BOOL:
        return _make(np.array(_LOGICAL[name](a, None)))  # a whole bool tensor, at once
    xp = xp_of(input._a)
    axes = dims_tuple(dim, input._a.ndim, name) if dim is not None else None
    r = xp.asarray(getattr(xp, name)(input._a, axis=axes, keepdims=keepdim))
    # torch keeps uint8 for uint8 input (its pre-bool convention); every other dtype gives bool
    return _wrap(r.astype(np.uint8) if input._a.dtype == np.uint8 else r)


def all(input, dim=None, keepdim: bool = False, *, out=None):  # noqa: A001
    if out is not None:
        return with_out(all(input, dim, keepdim), out)
    return _all_any(input, dim, keepdim, "all")


def any(input, dim=None, keepdim: bool = False, *, out=None):  # noqa: A001
    if out is not None:
        return with_out(any(input, dim, keepdim), out)
    return _all_any(input, dim, keepdim, "any")


def count_nonzero(input, dim=None):
    xp = xp_of(input._a)
    axes = dims_tuple(dim, input._a.ndim, "count_nonzero") if dim is not None else None
    return _wrap(xp.asarray(xp.count_nonzero(input._a, axis=axes), dtype=np.int64))


# var / std / var_mean / std_mean: one node each, in their own module (it imports
# _expand_grad from here, so it comes last)
from .moments import std, std_mean, var, var_mean  # noqa: E402, F401
