"""torch names added for issue #14 (group 1): ``quantile``/``nanquantile``, ``mode``, ``ravel``,
``signbit``, ``positive``, ``deg2rad``/``rad2deg``, ``unique_consecutive``, ``isin`` and
``unravel_index``, plus the Tensor methods torch has for them.

``quantile`` follows torch's algorithm step by step (sort, ranks, gather, lerp), composed of
differentiable ops so the gradient is torch's; ``mode`` and the angle conversions are single
autograd nodes named as torch names them. ``ops/extra_surface.py`` registers the names.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import float_dtype_for, named, return_type, with_out, wrap_dim

_wrap = Tensor._make

_INTERPOLATIONS = ("linear", "lower", "higher", "midpoint", "nearest")


def _need_tensor(name: str, arg: str, x) -> None:
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument '{arg}' must be Tensor, not {type(x).__name__}")


# --------------------------------------------------------------------------- quantile


def _quantile(name, input, q, dim, keepdim, interpolation, out, ignore_nan):
    _need_tensor(name, "input", input)
    a = input._a
    if a.dtype not in (np.float32, np.float64):
        raise RuntimeError(f"{name}() input tensor must be either float or double dtype")
    if isinstance(q, Tensor):
        if q._a.dtype != a.dtype:
            raise RuntimeError(f"{name}() q tensor must be same dtype as the input tensor")
        if q._a.ndim > 1:
            raise RuntimeError(f"{name}() q must be a scalar or 1D tensor")
        qa = np.asarray(q.detach().cpu()._a)
        scalar_q = q._a.ndim == 0
        if qa.size and not bool(((qa >= 0) & (qa <= 1)).all()):
            raise RuntimeError(f"{name}() q values must be in the range [0, 1]")
    elif isinstance(q, numbers.Real) and not isinstance(q, bool):
        if not 0 <= q <= 1:
            raise RuntimeError(f"{name}() q must be in the range [0, 1] but got {q}")
        qa = np.asarray(q, dtype=a.dtype)
        scalar_q = True
    else:
        raise TypeError(f"{name}(): argument 'q' must be float or Tensor, not {type(q).__name__}")
    if a.size == 0:
        raise RuntimeError(f"{name}() input tensor must be non-empty")
    if interpolation not in _INTERPOLATIONS:
        raise RuntimeError(
            f"{name}() interpolation must be one of linear, lower, higher, midpoint or nearest,"
            f" but got {interpolation}"
        )
    qa = qa.reshape(-1).astype(a.dtype)
    ndim = a.ndim
    if dim is None:
        x = input.reshape(-1)
        out_shape = (1,) * ndim if keepdim else ()
    else:
        ax = wrap_dim(dim, max(ndim, 1), name)
        x = input.reshape(1) if ndim == 0 else input.movedim(ax, -1)
        shp = list(a.shape)
        if ndim:
            if keepdim:
                shp[ax] = 1
            else:
                del shp[ax]
        out_shape = tuple(shp)
    srt = x.sort(-1).values
    sa = srt.detach()._a
    xp = xp_of(sa)
    n = sa.shape[-1]
    qv = xp.asarray(qa)
    if ignore_nan:  # ranks on the count of non-NaN values; all NaN: rank 0 (a NaN)
        cnt = (~xp.isnan(sa)).sum(-1, keepdims=True).astype(a.dtype) - 1
        ranks = qv * cnt
        slope = xp.where(ranks < 0, xp.zeros((), a.dtype), cnt)  # d rank / d q
        ranks = xp.where(ranks < 0, xp.zeros((), a.dtype), ranks)
    else:  # a NaN in the slice: rank of the last element (NaN sorts last)
        ranks = xp.broadcast_to(qv * a.dtype.type(n - 1), sa.shape[:-1] + (qv.size,))
        has_nan = xp.isnan(sa).any(-1, keepdims=True)
        slope = xp.where(has_nan, xp.zeros((), a.dtype), a.dtype.type(n - 1))
        ranks = xp.where(has_nan, a.dtype.type(n - 1), ranks)
    if interpolation == "lower":
        ranks = xp.floor(ranks)
    elif interpolation == "higher":
        ranks = xp.ceil(ranks)
    elif interpolation == "nearest":
        ranks = xp.rint(ranks)  # torch's round(): half to even
    below = ranks.astype(np.int64)
    r = srt.gather(-1, _wrap(below))
    if interpolation in ("linear", "midpoint"):
        if interpolation == "midpoint":
            w = xp.full(ranks.shape, 0.5, a.dtype)
        else:
            w = (ranks - below).astype(a.dtype)
        above = _wrap(xp.ceil(ranks).astype(np.int64))
        wt = _wrap(w)
        if interpolation == "linear" and isinstance(q, Tensor) and q.requires_grad:
            # torch differentiates q through the weight: w = q * slope - below, same rounding
            slope = xp.broadcast_to(slope, w.shape).astype(a.dtype)
            offset = xp.where(slope != 0, -below.astype(a.dtype), w)
            from .. import where

            # masked like torch's masked_fill: NaN rows pass no (NaN * 0) gradient to q
            wt = where(_wrap(slope != 0), q.reshape(-1) * _wrap(slope) + _wrap(offset), wt)
        r = r.lerp(srt.gather(-1, above), wt)
    k = qv.size
    r = r.movedim(-1, 0).reshape((k,) + out_shape)
    if scalar_q:
        r = r.reshape(out_shape)
    return with_out(r, out)


def _quantile_of(name, ignore_nan, doc):
    """The public ``name``: ``_quantile``, NaN ignored or not."""

    def quantile(
        input: Tensor,
        q,
        dim: int | None = None,
        keepdim: bool = False,
        *,
        interpolation: str = "linear",
        out: Tensor | None = None,
    ) -> Tensor:
        return _quantile(name, input, q, dim, keepdim, interpolation, out, ignore_nan)

    return named(quantile, name, doc)


quantile = _quantile_of(
    "quantile",
    False,
    """``torch.quantile``: the ``q``-th quantiles of ``input`` along ``dim`` (a NaN in a
    slice makes its quantile NaN).""",
)
nanquantile = _quantile_of(
    "nanquantile",
    True,
    """``torch.nanquantile``: ``quantile`` ignoring NaN (a slice of only NaN gives NaN).""",
)


# --------------------------------------------------------------------------- mode


def _mode_rows(a2):
    """(values, indices) of the mode of each row of the 2-D NumPy array ``a2``: the most
    frequent value, the smallest of the tied ones, at its last position. That is torch's CPU
    answer for rows of up to 16 elements; past that torch's index is wherever its unstable
    ``std::sort`` leaves the run's last element (any occurrence), so only the value agrees."""
    n = a2.shape[1]
    order = np.argsort(a2, axis=1, kind="stable")
    s = np.take_along_axis(a2, order, 1)
    new_run = np.ones(s.shape, bool)
    new_run[:, 1:] = s[:, 1:] != s[:, :-1]
    pos = np.broadcast_to(np.arange(n), s.shape)
    start = np.maximum.accumulate(np.where(new_run, pos, 0), axis=1)
    cnt = pos - start + 1  # running count inside each run of equal values
    best = cnt.max(1, keepdims=True)
    j = np.argmax(cnt == best, axis=1)[:, None]  # end of the first (smallest) longest run
    vals, idx = np.take_along_axis(s, j, 1)[:, 0], np.take_along_axis(order, j, 1)[:, 0]
    if a2.dtype.kind in "fc" and n <= 16:
        for r in np.flatnonzero(np.isnan(a2).any(axis=1)):
            vals[r], idx[r] = _mode_insertion_sorted(a2[r])
    return vals, idx


def _mode_insertion_sorted(row):
    """torch's mode of a row of up to 16 elements that holds NaN: libstdc++'s ``std::sort``
    (an insertion sort at this size) of (value, index) pairs by ``value <``, where NaN
    compares false both ways and so stays where it is, then the first longest run of equal
    neighbours (a NaN is never equal, so it is a run of one). A row whose values are all
    distinct or NaN gives its first sorted element: torch.mode([nan, 1, nan, 2]) is NaN at 0,
    and [1, nan, 1, nan, nan] gives 1 at 0 (the two 1s never become neighbours)."""
    el = [(row[k], k) for k in range(row.shape[0])]
    for i in range(1, len(el)):
        v = el[i]
        if v[0] < el[0][0]:
            el[1 : i + 1] = el[0:i]
            el[0] = v
        else:
            j = i
            while v[0] < el[j - 1][0]:
                el[j] = el[j - 1]
                j -= 1
            el[j] = v
    best = (el[0][0], el[0][1])
    max_freq = freq = 0
    for i in range(len(el)):
        freq += 1
        if i == len(el) - 1 or el[i][0] != el[i + 1][0]:
            if freq > max_freq:
                best, max_freq = el[i], freq
            freq = 0
    return best


class _Mode(Function):
    _node_name = "ModeBackward0"

    @staticmethod
    def forward(ctx, x, ax, keepdim):
        a = x._a
        xp = xp_of(a)
        if type(a) is MetaArray:  # the meta device: the reduced shape, no value counted
            shape = list(a.shape)
            if keepdim:
                shape[ax] = 1
            else:
                del shape[ax]
            vals, idx = MetaArray(shape, a.dtype), MetaArray(shape, np.int64)
            ind = _wrap(idx)
            ctx.mark_non_differentiable(ind)
            ctx.ax, ctx.keepdim, ctx.ind, ctx.shape = ax, keepdim, ind, a.shape
            return _wrap(vals), ind
        host = a if type(a) is np.ndarray else a.get()
        moved = np.moveaxis(host, ax, -1)
        batch = moved.shape[:-1]
        vals, idx = _mode_rows(moved.reshape(-1, moved.shape[-1]))
        vals, idx = vals.reshape(batch), idx.reshape(batch).astype(np.int64)
        if keepdim:
            vals, idx = np.expand_dims(vals, ax), np.expand_dims(idx, ax)
        if xp is not np:
            vals, idx = xp.asarray(vals), xp.asarray(idx)
        ind = _wrap(idx)
        ctx.mark_non_differentiable(ind)
        ctx.ax, ctx.keepdim, ctx.ind, ctx.shape = ax, keepdim, ind, a.shape
        return _wrap(vals), ind

    @staticmethod
    def backward(ctx, g, _gi):
        from .indexing import scatter_add

        ind = ctx.ind
        if not ctx.keepdim:
            g, ind = g.unsqueeze(ctx.ax), ind.unsqueeze(ctx.ax)
        return scatter_add(g.new_zeros(ctx.shape), ctx.ax, ind, g), None, None


def mode(input: Tensor, dim: int = -1, keepdim: bool = False, *, out=None):
    """``torch.mode``: the most frequent value along ``dim`` (the smallest of tied values) and
    the index of its last occurrence, as ``return_types.mode``."""
    _need_tensor("mode", "input", input)
    a = input._a
    if a.dtype.kind == "c":
        raise NotImplementedError(f"mode(): not implemented for complex tensors ({input.dtype})")
    ax = wrap_dim(dim, max(a.ndim, 1), "mode")
    if a.ndim == 0:
        v, i = _Mode.apply(input.reshape(1), 0, False)
        v, i = v.reshape(()), i.reshape(())
    else:
        if a.shape[ax] == 0:
            raise IndexError(f"mode(): Expected reduction dim {ax} to have non-zero size.")
        v, i = _Mode.apply(input, ax, bool(keepdim))
    if out is not None:
        v, i = with_out(v, out[0]), with_out(i, out[1])
    return return_type("mode")(v, i)


# --------------------------------------------------------------------------- pointwise


def ravel(input: Tensor) -> Tensor:
    """``torch.ravel``: a flat view when the layout allows, else a flat copy."""
    _need_tensor("ravel", "input", input)
    return input.reshape(-1)


def signbit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``torch.signbit``: True where the sign bit is set (``-0.0`` and negative NaN too)."""
    _need_tensor("signbit", "input", input)
    a = input._a
    if a.dtype.kind == "c":
        raise NotImplementedError("signbit is not implemented for complex tensors.")
    xp = xp_of(a)
    if a.dtype.kind == "b":
        r = xp.zeros(a.shape, np.bool_)
    elif a.dtype.kind == "V":  # bfloat16
        r = xp.signbit(a.astype(np.float32))
    else:
        r = xp.signbit(a)
    return with_out(_wrap(xp.asarray(r)), out)


def positive(input: Tensor) -> Tensor:
    """``torch.positive``: ``input`` itself (an error for bool, as torch's unary ``+``)."""
    _need_tensor("positive", "input", input)
    if input._a.dtype.kind == "b":
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


class _AngleScale(Function):
    @staticmethod
    def forward(ctx, x, c):
        a = x._a
        dt = float_dtype_for(a)
        ctx.c = c
        with np.errstate(over="ignore"):  # beyond the dtype's range: inf, as torch
            if a.dtype.kind == "V" or a.dtype == np.float16:  # computed in float32, as torch
                return _wrap((a.astype(np.float32) * np.float32(c)).astype(a.dtype))
            return _wrap((a.astype(dt, copy=False) * dt.type(c)).astype(dt, copy=False))

    @staticmethod
    def backward(ctx, g):
        return g * ctx.c, None


class _Deg2Rad(_AngleScale):
    _node_name = "Deg2RadBackward0"


class _Rad2Deg(_AngleScale):
    _node_name = "Rad2DegBackward0"


def _angle(name, fn, c, input, out):
    _need_tensor(name, "input", input)
    if input._a.dtype.kind == "c":
        raise RuntimeError(f"{name} is not supported for complex tensors.")
    return with_out(fn.apply(input, c), out)


def deg2rad(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``torch.deg2rad``: degrees to radians (integers and bool give the default float)."""
    return _angle("deg2rad", _Deg2Rad, math.pi / 180.0, input, out)


def rad2deg(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """``torch.rad2deg``: radians to degrees (integers and bool give the default float)."""
    return _angle("rad2deg", _Rad2Deg, 180.0 / math.pi, input, out)


_SCALAR_NAMES = {
    "bool": "Bool",
    "uint8": "Byte",
    "uint16": "UInt16",
    "uint32": "UInt32",
    "uint64": "UInt64",
    "int8": "Char",
    "int16": "Short",
    "int32": "Int",
    "int64": "Long",
}


def _angle_(name, fn, self):
    from ..autograd import inplace as IP

    if self._a.dtype.kind in "iub":
        scalar = _SCALAR_NAMES.get(self._a.dtype.name, self._a.dtype.name)
        raise RuntimeError(
            f"{name}_(): result type Float can't be cast to the desired output type {scalar}"
        )
    return IP.inplace(self, name + "_", lambda: fn(self), None)


def deg2rad_(self: Tensor) -> Tensor:
    """``Tensor.deg2rad_``."""
    return _angle_("deg2rad", deg2rad, self)


def rad2deg_(self: Tensor) -> Tensor:
    """``Tensor.rad2deg_``."""
    return _angle_("rad2deg", rad2deg, self)


# --------------------------------------------------------------------------- sets, indices


def unique_consecutive(
    input: Tensor,
    return_inverse: bool = False,
    return_counts: bool = False,
    dim: int | None = None,
):
    """``torch.unique_consecutive``: drop all but the first of each run of equal elements
    (or equal slices along ``dim``); optionally the inverse indices and the run lengths."""
    _need_tensor("unique_consecutive", "input", input)
    a = input._a
    if a.dtype.kind == "c":
        raise NotImplementedError(
            f'"unique_consecutive" not implemented for complex tensors ({input.dtype})'
        )
    xp = xp_of(a)
    if dim is None:
        flat = a.reshape(-1)
        n = flat.shape[0]
        change = flat[1:] != flat[:-1]
        keep_shape = a.shape
    else:
        if a.ndim == 0:  # torch's own check (not the usual 0-d dim 0 / -1 leniency)
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        ax = wrap_dim(dim, max(a.ndim, 1), "unique_consecutive")
        moved = xp.moveaxis(a.reshape(1) if a.ndim == 0 else a, ax, 0)
        n = moved.shape[0]
        rows = moved.reshape(n, math.prod(moved.shape[1:]))
        change = (rows[1:] != rows[:-1]).any(1) if rows.shape[1] else xp.zeros(max(n - 1, 0), bool)
        keep_shape = (n,)
        if a.size == 0 and n != 0:
            raise RuntimeError(
                "unique_consecutive(): There are 0 sized dimensions, and they aren't selected,"
                " so unique cannot be applied"
            )
    first = xp.concatenate([xp.ones(min(n, 1), bool), change])
    starts = xp.nonzero(first)[0]
    if dim is None:
        vals = flat[starts]
    else:
        vals = xp.moveaxis(moved[starts], 0, ax)
    res = [_wrap(xp.ascontiguousarray(vals))]
    if return_inverse:
        inv = (xp.cumsum(first) - 1).astype(np.int64)
        res.append(_wrap(inv.reshape(keep_shape)))
    if return_counts:
        counts = xp.diff(xp.concatenate([starts, xp.asarray([n])])).astype(np.int64)
        res.append(_wrap(counts))
    return res[0] if len(res) == 1 else tuple(res)


def isin(
    elements,
    test_elements,
    *,
    assume_unique: bool = False,
    invert: bool = False,
    out: Tensor | None = None,
) -> Tensor:
    """``torch.isin``: True where an element of ``elements`` occurs in ``test_elements``
    (either may be a Python number, not both)."""
    e_t, t_t = isinstance(elements, Tensor), isinstance(test_elements, Tensor)
    if not (e_t or t_t):
        raise TypeError(
            "isin() received an invalid combination of arguments - got "
            f"({type(elements).__name__}, {type(test_elements).__name__}), but expected "
            "(Tensor elements, Tensor test_elements) or one of them a Number"
        )
    ea = elements._a if e_t else np.asarray(elements)
    ta = test_elements._a if t_t else np.asarray(test_elements)
    for arr in (ea, ta):
        if arr.dtype.kind in "cb":
            kind = "Bool" if arr.dtype.kind == "b" else str(arr.dtype)
            raise RuntimeError(f"Unsupported input type encountered for isin(): {kind}")
    xp = xp_of(ea if e_t else ta)
    ea, ta = xp.asarray(ea), xp.asarray(ta)
    r = xp.isin(ea, ta.reshape(-1), assume_unique=assume_unique, invert=invert)
    return with_out(_wrap(xp.asarray(r, dtype=np.bool_)), out)


def unravel_index(indices: Tensor, shape) -> tuple:
    """``torch.unravel_index``: flat indices to a tuple of coordinate tensors for ``shape``
    (Python-style modulo for indices outside the shape, as torch)."""
    if not isinstance(indices, Tensor):
        raise TypeError(
            f"unravel_index(): argument 'indices' must be Tensor, not {type(indices).__name__}"
        )
    a = indices._a
    if a.dtype.kind not in "iu":
        raise TypeError(
            f"expected 'indices' to be integer dtype, but got {D.from_numpy_dtype(a.dtype)}"
        )
    if isinstance(shape, numbers.Integral):
        shape = (int(shape),)
    shape = tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    xp = xp_of(a)
    rem = a.astype(np.int64)
    coords = []
    for s in reversed(shape):
        if s == 0:
            coords.append(xp.zeros(a.shape, np.int64))
            continue
        coords.append(rem % s)
        rem = rem // s
    return tuple(_wrap(c) for c in reversed(coords))


# --------------------------------------------------------------------------- methods


def _bernoulli_method(self: Tensor, p: float | None = None, *, generator=None):
    from .._creation import bernoulli

    return bernoulli(self, p, generator=generator)


def _multinomial_method(
    self: Tensor, num_samples: int, replacement: bool = False, *, generator=None
):
    from .._creation import multinomial

    return multinomial(self, num_samples, replacement, generator=generator)


__all__ = [
    "deg2rad",
    "deg2rad_",
    "isin",
    "mode",
    "nanquantile",
    "positive",
    "quantile",
    "rad2deg",
    "rad2deg_",
    "ravel",
    "signbit",
    "unique_consecutive",
    "unravel_index",
]

#: Tensor methods: name -> function (self first)
METHODS = {
    "quantile": quantile,
    "nanquantile": nanquantile,
    "mode": mode,
    "ravel": ravel,
    "signbit": signbit,
    "positive": positive,
    "deg2rad": deg2rad,
    "rad2deg": rad2deg,
    "deg2rad_": deg2rad_,
    "rad2deg_": rad2deg_,
    "unique_consecutive": unique_consecutive,
    "bernoulli": _bernoulli_method,
    "multinomial": _multinomial_method,
}
