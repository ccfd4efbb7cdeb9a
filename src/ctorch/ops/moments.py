"""var, std, var_mean and std_mean as single graph nodes with torch's backward formulas.

Each is one Function (``VarBackward0``, ``StdBackward0``, ``VarMeanBackward0``,
``StdMeanBackward0``, the names torch gives), not the five-node chain of mean, sub, mul, sum
and div it used to be: one node to walk in backward, and torch's ``var_backward`` /
``std_backward`` formulas, written with tensor ops so that they differentiate again.

Reduced-precision floats (float32, float16, bfloat16) are accumulated in float64 and
rounded once, as torch's CPU kernels do (squares of 1e30 overflow float32: var([1e30, 0])
is finite in torch). Imported at the end of ``ops/reduction.py``, which re-exports them.
"""

from __future__ import annotations

import math
import warnings

import numpy as np

from .. import _warnings
from .._backend import fp_quiet, xp_of
from .._core._smallops import moments_small as _moments_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import _expand_grad, dims_tuple, make_contiguous, node_variants, with_out

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)
_add_reduce = np.add.reduce


def _moments(a, axes, correction: float, keepdim: bool, which: str = "var"):
    """(variance, mean) of ``a`` over ``axes``, accumulated in float64 for narrower floats and
    not yet rounded to ``a``'s dtype (std takes its sqrt first, as torch); a non-positive
    divisor warns as torch and gives inf/NaN, an empty slice's mean is NaN."""
    wide = np.float64 if a.dtype.itemsize < 8 else a.dtype
    xp = xp_of(a)
    n = math.prod(a.shape[i] for i in axes) if axes else 1
    denom = n - correction
    if denom <= 0:
        _warnings.warn(  # torch's text and category (a C++ TORCH_WARN: UserWarning)
            f"{which}(): degrees of freedom is <= 0. Correction should be strictly less than "
            "the reduction factor (input numel divided by output numel).",
            UserWarning,
        )
    if n and xp is np:  # the common case: NumPy's error state switched off cheaply
        v, mu = fp_quiet(_two_pass, np, a, axes, wide, n, denom, keepdim)
    else:
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's "mean of empty slice"
            v, mu = _two_pass(xp, a, axes, wide, n, denom, keepdim)
    if not keepdim:
        mu = mu.reshape(v.shape)
    return v, mu


def _two_pass(xp, a, axes, wide, n, denom, keepdim):
    # float64 accumulation without a float64 copy of the input: the mean casts in buffered
    # chunks, the deviations are the one float64 temporary, squared in place
    if xp is np and n:  # a.mean's own steps (sum, then divide by n) without its wrapper
        mu = np.true_divide(_add_reduce(a, axes, wide, None, True), n)
    else:
        mu = a.mean(axis=axes, dtype=wide, keepdims=True)
    d = xp.asarray(xp.subtract(a, mu, dtype=wide))  # (0-d: NumPy returns a scalar)
    # the corrected two-pass sum (Chan, Golub and LeVeque): minus (sum d)^2 / n takes out the
    # rounding of the mean, so a constant slice gives exactly 0 as torch's Welford sums do
    # (var([1e30] * 3) was 3e28 without it)
    c = d.sum(axis=axes, keepdims=keepdim) if n else None
    ss = xp.multiply(d, d, out=d).sum(axis=axes, keepdims=keepdim)
    if n:
        ss = xp.maximum(ss - c * c / n, 0)  # (NaN stays NaN)
    v = ss / denom if denom > 0 else (ss / 0.0 if denom == 0 else ss * np.nan)
    return v, mu


def _var_grad(ctx, x: Tensor, g: Tensor) -> Tensor:
    """torch's var_backward: 2 / (n - correction) * g * (x - mean(x))."""
    g = _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim)
    return (2.0 / ctx.denom if ctx.denom else math.inf) * g * (x - x.mean(ctx.axes, keepdim=True))


def _std_to_var_grad(y: Tensor, g: Tensor) -> Tensor:
    """torch's std_backward: g / (2 std), 0 where std is 0 (a constant slice)."""
    zero = y == 0
    return (g / (2 * y.masked_fill(zero, 1))).masked_fill(zero, 0)


def _mean_grad(ctx, g: Tensor) -> Tensor:
    n = math.prod(ctx.shape[i] for i in ctx.axes) if ctx.axes else 1
    return _expand_grad(g, ctx.shape, ctx.axes, ctx.keepdim) / max(n, 1)


class _Moment(Function):
    """forward(x, axes, correction, keepdim, which): which is "var", "std", "var_mean" or
    "std_mean"; the subclasses differ only in their node names."""

    @staticmethod
    def forward(ctx, x, axes, correction, keepdim, which):
        a = x._a
        n = math.prod(a.shape[i] for i in axes) if axes else 1
        ctx.shape, ctx.axes, ctx.keepdim, ctx.denom = a.shape, axes, keepdim, n - correction
        ctx.which = which
        if len(which) == 3:  # var/std of a small array: the no-grad path's kernel and bits
            r = _moments_small(a, axes, which == "std", correction, keepdim)
            if r is not None:
                y = Tensor._make(r)
                ctx.save_for_backward(x, y)
                return y
        v, mu = _moments(a, axes, correction, keepdim, which)
        xp = xp_of(a)
        if which.startswith("std"):
            with np.errstate(invalid="ignore"):
                v = xp.sqrt(v)
        y = _wrap(xp.asarray(v).astype(a.dtype))
        ctx.save_for_backward(x, y)
        return (y, _wrap(xp.asarray(mu).astype(a.dtype))) if which.endswith("_mean") else y

    @staticmethod
    def backward(ctx, g, gmean=None):
        x, y = ctx.saved_tensors
        if not _grad_state.enabled and type(x._a) is np.ndarray and x._a.dtype in _F3264:
            return _moment_grad_arrays(ctx, x._a, y._a, g, gmean), None, None, None, None
        gx = None
        if g is not None:
            if ctx.which.startswith("std"):
                g = _std_to_var_grad(y, g)
            gx = _var_grad(ctx, x, g)
        if gmean is not None:
            gm = _mean_grad(ctx, gmean)
            gx = gm if gx is None else gx + gm
        return gx, None, None, None, None


_F3264 = (np.dtype(np.float32), np.dtype(np.float64))


def _moment_grad_arrays(ctx, xa, ya, g, gmean) -> Tensor:
    """``_Moment.backward``'s formulas on float32/float64 NumPy arrays, op for op as the
    tensor form computes them, for a backward that records no graph."""
    axes, keepdim, shape = ctx.axes, ctx.keepdim, ctx.shape
    kshape = list(shape)
    for ax in axes:
        kshape[ax] = 1
    n = math.prod(shape[i] for i in axes) if axes else 1

    def grown(a):  # an array of the reduced shape, broadcastable to x
        return a if keepdim or not axes else a.reshape(kshape)

    gx = None
    if g is not None:
        ga = grown(g._a)
        if ctx.which.startswith("std"):  # _std_to_var_grad: g / (2 std), 0 where std is 0
            yk = grown(ya)
            zero = yk == 0
            ga = np.where(zero, 0, ga / (2 * np.where(zero, 1, yk))).astype(xa.dtype)
        mu = np.true_divide(_add_reduce(xa, axes, xa.dtype, None, True), n, dtype=xa.dtype)
        scale = 2.0 / ctx.denom if ctx.denom else math.inf
        gx = fp_quiet(_var_grad_arrays, scale, ga, xa, mu)
    if gmean is not None:
        gm = np.true_divide(np.broadcast_to(grown(gmean._a), shape), max(n, 1), dtype=xa.dtype)
        gx = gm if gx is None else gx + gm
    return _wrap(np.ascontiguousarray(np.broadcast_to(gx, shape)))


def _var_grad_arrays(scale, ga, xa, mu):
    return (scale * ga) * (xa - mu)


_Var, _Std, _VarMean, _StdMean = node_variants(
    _Moment,
    _Var="VarBackward0",
    _Std="StdBackward0",
    _VarMean="VarMeanBackward0",
    _StdMean="StdMeanBackward0",
)


_FNS = {"var": _Var, "std": _Std, "var_mean": _VarMean, "std_mean": _StdMean}


def _moment(which: str, input: Tensor, dim, unbiased, keepdim, correction):
    if isinstance(dim, bool) and unbiased is None:  # var(x, False): the legacy positional form
        unbiased, dim = dim, None
    if correction is None:
        correction = 1 if (unbiased is None or unbiased) else 0
    a = input._a
    if a.dtype.kind not in "fcV":
        raise RuntimeError("std and var only support floating point and complex dtypes")
    if a.dtype.kind == "c":  # torch: var(z) = var(Re z) + var(Im z), a real tensor
        from .complex import imag, real

        kw = {"keepdim": keepdim, "correction": correction}
        v = var(real(input), dim, **kw) + var(imag(input), dim, **kw)
        r = v.sqrt() if which.startswith("std") else v
        if which.endswith("_mean"):
            from .reduction import mean

            return r, mean(input, dim, keepdim)
        return r
    axes = dims_tuple(dim, a.ndim, which)
    if len(which) == 3 and not (_grad_state.enabled and input._rg) and _fn_mod._autocast is None:
        r = _moments_small(a, axes, which == "std", correction, bool(keepdim))  # var/std
        if r is not None:  # small, nothing to record
            return Tensor._make(r)
    return _FNS[which].apply(input, axes, correction, bool(keepdim), which)


def var(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None):
    if out is not None:
        return with_out(var(input, dim, unbiased, keepdim, correction=correction), out)
    return _moment("var", input, dim, unbiased, keepdim, correction)


def std(input, dim=None, unbiased=None, keepdim: bool = False, *, correction=None, out=None):
    if out is not None:
        return with_out(std(input, dim, unbiased, keepdim, correction=correction), out)
    return _moment("std", input, dim, unbiased, keepdim, correction)


def var_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment("var_mean", input, dim, unbiased, keepdim, correction)


def std_mean(input, dim=None, unbiased=None, keepdim=False, *, correction=None):
    return _moment("std_mean", input, dim, unbiased, keepdim, correction)
