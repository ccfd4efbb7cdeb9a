"""Scans along one dimension: cumsum, cumprod, logcumsumexp.

Split from ``reduction.py`` (issue #10): a scan keeps the dimension it runs along.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import fp_quiet, xp_of
from .._core._smallops import cumsum_small as _cumsum_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import make_contiguous, with_out, wrap_dim
from .reduction import _sum_dtype

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)


def _scan(fn, a, ax, dt=None):
    """``fn`` (xp.cumsum or xp.cumprod) of array ``a`` along ``ax`` in dtype ``dt``. Like torch
    on the CPU, reduced-precision floats accumulate in float64 and round once at the end (a
    float32 running sum drifts: 1e5 normal values end ~1e-4 away from torch's)."""
    dt = a.dtype if dt is None else np.dtype(dt)
    if dt.kind in "fV" and dt.itemsize < 8:  # (inf / inf - inf = NaN silently: as torch)
        return fp_quiet(_scan_wide, fn, a, ax, dt)
    return _plus_zero(fn, fp_quiet(fn, a, axis=ax, dtype=dt))


def _scan_wide(fn, a, ax, dt):
    return _plus_zero(fn, fn(a, axis=ax, dtype=np.float64)).astype(dt)


def _plus_zero(fn, r):
    """torch's cumsum starts from +0.0, so -0.0 inputs sum to +0.0; NumPy's first element is
    the input's own -0.0 (and -0.0 + -0.0 stays -0.0). Adding +0.0 gives torch's signs."""
    if fn.__name__ == "cumsum" and r.dtype.kind in "fc":
        r += 0.0
    return r


class Cumsum(Function):
    _node_name = "CumsumBackward0"

    @staticmethod
    def forward(ctx, x, ax, dt):
        ctx.ax = ax
        xp = xp_of(x._a)
        return _wrap(_scan(xp.cumsum, x._a, ax, dt))

    @staticmethod
    def backward(ctx, g):
        ax = ctx.ax
        return g.flip(ax).cumsum(ax).flip(ax), None, None


def cumsum(input, dim, *, dtype=None, out=None):
    if out is not None:
        return with_out(cumsum(input, dim, dtype=dtype), out)
    ax = wrap_dim(dim, input._a.ndim, "cumsum")
    dt = _sum_dtype(input._a, dtype)
    if input._a.ndim == 0:
        return input.to(D.from_numpy_dtype(dt)).clone()
    if not (_grad_state.enabled and input._rg) and _fn_mod._autocast is None:
        if dt == input._a.dtype:
            r = _cumsum_small(input._a, ax)  # small float32/float64: one compiled pass
            if r is not None:
                return Tensor._make(r)
        return _wrap(_scan(xp_of(input._a).cumsum, input._a, ax, dt))  # nothing to record
    return Cumsum.apply(input, ax, dt)


def cumprod(input, dim, *, dtype=None, out=None):
    if out is not None:
        return with_out(cumprod(input, dim, dtype=dtype), out)
    ax = wrap_dim(dim, input._a.ndim, "cumprod")
    if dtype is not None:
        input = input.to(dtype)
    elif input._a.dtype.kind in "biu" and input._a.dtype != np.int64:
        input = input.to(D.int64)  # torch: integer and bool products accumulate in int64
    if input._a.ndim == 0:
        return input.to(D.from_numpy_dtype(_sum_dtype(input._a, None))).clone()
    return _Ghost.apply(input, ax)


class _Ghost(Function):
    _node_name = "CumprodBackward0"

    @staticmethod
    def forward(ctx, x, ax):
        # d cumprod: grad_i = sum_{j>=i} g_j * out_j / x_i  (inputs without zeros)
        ctx.ax = ax
        out = _wrap(_scan(xp_of(x._a).cumprod, x._a, ax))
        if not ctx.needs_input_grad[0]:  # nothing recorded: no saved copy to keep apart
            return out
        ctx.save_for_backward(x, out)
        return out.clone()

    @staticmethod
    def backward(ctx, g):
        x, out = ctx.saved_tensors
        ax = ctx.ax
        if _grad_state.enabled:  # create_graph: out as a function of x, not a constant
            out = _Ghost.apply(x, ax)
        if x._a.dtype.kind == "c":  # torch's convention: the conjugate of d out / d x
            from .complex import conj_physical

            x, out = conj_physical(x), conj_physical(out)
        if not bool((x == 0).any()):
            return (g * out).flip(ax).cumsum(ax).flip(ax) / x, None
        # zeros (the division above gives NaN; torch is exact): with P_i the product of the
        # inputs before i and S_i = g_i + x_{i+1} S_{i+1}, the gradient is P_i * S_i
        from .join import stack

        xs, gs = x.unbind(ax), g.unbind(ax)
        n = len(xs)
        acc = [gs[n - 1]]
        for i in range(n - 2, -1, -1):
            acc.append(gs[i] + xs[i + 1] * acc[-1])
        acc.reverse()
        grads, before = [], None
        for i in range(n):
            grads.append(acc[i] if before is None else before * acc[i])
            before = xs[i] if before is None else before * xs[i]
        return stack(grads, ax), None


class LogCumSumExp(Function):
    """``log(cumsum(exp(x)))`` as a running ``logaddexp`` (no overflow or underflow however far
    apart the values are; -inf stays -inf), one node as torch's ``LogcumsumexpBackward0``."""

    _node_name = "LogcumsumexpBackward0"

    @staticmethod
    def forward(ctx, x, ax):
        a = x._a
        xp = xp_of(a)
        if a.ndim == 0:
            out = a.copy()
        elif xp is np:
            with np.errstate(invalid="ignore"):  # inf + -inf pairs: NaN, as torch
                out = np.logaddexp.accumulate(a, axis=ax)
        else:  # CuPy has no ufunc.accumulate: shift by the slice's max (finite inputs)
            m = xp.max(a, axis=ax, keepdims=True)
            out = xp.log(xp.cumsum(xp.exp(a - m), axis=ax)) + m
        y = _wrap(out.astype(a.dtype, copy=False))
        ctx.save_for_backward(x, y)
        ctx.ax = ax
        return y

    @staticmethod
    def backward(ctx, g):
        # d out_j / d x_i = exp(x_i - out_j) for i <= j, so grad_i = sum_{j >= i} g_j
        # exp(x_i - out_j), summed in log space for each sign of g (torch's formula; written
        # with tensor ops, so it is differentiable again)
        import ctorch

        x, out = ctx.saved_tensors
        ax = ctx.ax
        if x.dim() == 0:
            return g, None
        if _grad_state.enabled:  # create_graph: the output again, as a function of x
            out = LogCumSumExp.apply(x, ax)
        neg_inf = ctorch.full_like(g, -float("inf"))

        def part(gs):
            # -inf terms are kept out of the sums explicitly: -inf - (-inf) would be NaN. So an
            # input of -inf gets a gradient of 0 (torch: NaN when a whole prefix is -inf).
            pos = gs > 0
            lg = ctorch.where(pos, ctorch.where(pos, gs, ctorch.ones_like(gs)).log(), neg_inf)
            rev = LogCumSumExp.apply(ctorch.where(pos, lg - out, neg_inf).flip(ax), ax).flip(ax)
            return ctorch.where(x == -float("inf"), neg_inf, x + rev).exp()

        # a NaN in g reaches every position at or before it (the sign split would drop it)
        nan = ctorch.where(g != g, g, ctorch.zeros_like(g)).flip(ax).cumsum(ax).flip(ax)
        return part(g) - part(-g) + nan, None


def logcumsumexp(input, dim):
    ax = wrap_dim(dim, input._a.ndim, "logcumsumexp")
    if input._a.dtype.kind == "c":
        from .complex_logexp import logcumsumexp as complex_logcumsumexp  # imports join

        return complex_logcumsumexp(input, ax) if input._a.ndim else input.clone()
    if input._a.dtype.kind not in "fV":
        raise RuntimeError(f"\"logcumsumexp_out_cpu\" not implemented for '{input.dtype}'")
    return LogCumSumExp.apply(input, ax)
