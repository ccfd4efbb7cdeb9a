"""Sorting and selection by value: ``sort``/``argsort``/``msort``, ``topk``, ``kthvalue``,
``median``/``nanmedian``, ``unique``, ``bincount``, ``searchsorted``/``bucketize``.

The differentiable ones pick elements with ``gather`` (``indexing.py``), so their gradients
come from gather's backward.
"""

from __future__ import annotations

import math

import numpy as np

from .._backend import xp_of
from .._core._smallops import sort_small as _sort_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state as _grad_state
from ._util import make_contiguous, return_type, with_out, wrap_dim
from .indexing import Gather, _PickAlong
from .shape import _named


def _picked(node: str, input, d: int, idx):
    """The values at ``idx`` along ``d`` as one node named as torch names it for the op
    (``SortBackward0``, ``TopkBackward0``): gather's gradient, the op's name."""
    return _named(Gather, node).apply(input, d, idx)


_make = Tensor._make
_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)


sort_result = return_type("sort")
topk_result = return_type("topk")


def _argsort(a, ax, descending, stable=True):
    """The stable order of ``a`` along ``ax``; NaN counts as the largest value (last
    ascending, first descending), as torch orders it."""
    xp = xp_of(a)
    kind = {"kind": "stable"} if xp is np else {}
    if descending:
        # the ascending stable order of the reversed slice, reversed: largest first (NaN
        # first, before +inf), equal values still in their original order; exact for every
        # dtype (no negated key to overflow, and bool needs no cast)
        n = a.shape[ax]
        return xp.flip(n - 1 - xp.argsort(xp.flip(a, ax), axis=ax, **kind), ax)
    return xp.argsort(a, axis=ax, **kind)


def sort(input, dim=-1, descending=False, stable=False, *, out=None):
    if out is not None:
        return with_out(sort(input, dim, descending, stable), out)
    if input._a.dtype.kind == "c":
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    if input._a.ndim == 0:
        wrap_dim(dim, 0, "sort")  # a 0-d tensor sorts over dim 0 / -1 only (torch)
        idx = _wrap(np.zeros((), np.int64))
        return sort_result(_picked("SortBackward0", input, 0, idx), idx)
    d = wrap_dim(dim, input._a.ndim, "sort")
    if _fn_mod._autocast is None:
        r = _sort_small(input._a, d, descending, input._a.shape[d])  # small slices
        if r is not None:
            idx = _make(r[1])
            if not (_grad_state.enabled and input._rg):
                return sort_result(_make(r[0]), idx)  # nothing to record
            return sort_result(_picked("SortBackward0", input, d, idx), idx)
    idx = _wrap(_argsort(input._a, d, descending).astype(np.int64))
    return sort_result(_picked("SortBackward0", input, d, idx), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input.detach(), dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True, *, out=None):  # noqa: A002
    if out is not None:
        return with_out(topk(input, k, dim, largest, sorted), out)
    if input._a.dtype.kind == "b":
        raise RuntimeError("topk does not support bool dtypes on CPU")
    d = wrap_dim(dim, input._a.ndim, "topk")
    n = input._a.shape[d] if input._a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n} at dim {d})")
    if input._a.ndim == 0:  # torch: a 0-d input gives 0-d values and indices
        idx = _wrap(xp_of(input._a).zeros((), dtype=np.int64))
        return topk_result(
            input.clone() if k else input.reshape(1)[:0], idx if k else idx[None][:0]
        )
    if _fn_mod._autocast is None:
        r = _sort_small(input._a, d, largest, k)  # small slices
        if r is not None:
            idx = _make(r[1])
            if not (_grad_state.enabled and input._rg):
                return topk_result(_make(r[0]), idx)  # nothing to record
            return topk_result(_picked("TopkBackward0", input, d, idx), idx)
    idx = _argsort(input._a, d, largest)
    idx = _wrap(xp_of(idx).take(idx, np.arange(k), axis=d).astype(np.int64))
    return topk_result(_picked("TopkBackward0", input, d, idx), idx)


def kthvalue(input, k, dim=-1, keepdim=False, *, out=None):
    if out is not None:
        return with_out(kthvalue(input, k, dim, keepdim), out)
    if input._a.dtype.kind == "b":
        raise NotImplementedError("\"kthvalue_cpu\" not implemented for 'Bool'")
    d = wrap_dim(dim, input._a.ndim, "kthvalue")
    n = input._a.shape[d] if input._a.ndim else 1
    if n == 0:
        raise IndexError(f"kthvalue(): Expected reduction dim {d} to have non-zero size.")
    if not 1 <= k <= n:  # narrow(k - 1) would wrap k=0 to the last element
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    if input._a.ndim == 0:
        i = _wrap(np.zeros((), np.int64))
    else:
        order = _argsort(input._a, d, False)
        i = _wrap(xp_of(order).take(order, [k - 1], axis=d).astype(np.int64))
    v = _named(_PickAlong, "KthvalueBackward0").apply(input, d, i, keepdim)
    if not keepdim and input._a.ndim:
        i = _wrap(i._a.squeeze(d))
    return kthvalue_result(v, i)


kthvalue_result = return_type("kthvalue")
median_result = return_type("median")
nanmedian_result = return_type("nanmedian")


def _median(input, dim, keepdim, ignore_nan, name):
    """torch's lower median. ``median``: a NaN anywhere in the slice gives NaN (the first NaN's
    index); ``nanmedian``: the median of the non-NaN values (NaN when all are NaN). Sorting puts
    NaN last and is stable, so both are one position of the sorted slice."""
    flat = dim is None
    x = input.reshape(-1) if flat else input
    d = 0 if flat else wrap_dim(dim, x._a.ndim, name)
    if x._a.ndim == 0:
        x = x.reshape(1)
    n = x._a.shape[d]
    if n == 0 and flat and x._a.dtype.kind in "fcV":
        return _wrap(xp_of(x._a).asarray(np.nan, dtype=x._a.dtype))  # torch: NaN
    if n == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {d} to have non-zero size."
            if not flat
            else f"{name}() input tensor cannot be empty"
        )
    xp = xp_of(x._a)
    order = _argsort(x._a, d, False)  # stable, NaN last
    if x._a.dtype.kind in "fcV":
        nn = (~xp.isnan(x._a)).sum(axis=d, keepdims=True)
    else:
        nn = xp.full([1 if i == d else m for i, m in enumerate(x._a.shape)], n)
    if ignore_nan:
        pos = xp.maximum(nn - 1, 0) // 2
    else:  # any NaN -> the first NaN (sorted to position nn)
        pos = xp.where(nn < n, nn, (n - 1) // 2)
    ia = xp.take_along_axis(order, xp.asarray(pos, dtype=np.int64), d).astype(np.int64)
    if flat:
        v = _wrap(xp.take_along_axis(x._a, ia, d).reshape(()))
        return (_EvenNanmedian if ignore_nan else _EvenMedian).apply(input, v)
    # one node, torch's MedianBackward1 / NanmedianBackward1: the gradient goes to the index
    node = "NanmedianBackward1" if ignore_nan else "MedianBackward1"
    if input._a.ndim == 0:
        i = _wrap(ia.reshape(()))
        return (nanmedian_result if ignore_nan else median_result)(
            _named(_PickAlong, node).apply(input, 0, i, True), i
        )
    v = _named(_PickAlong, node).apply(input, d, _wrap(ia), keepdim)
    i = _wrap(ia if keepdim else ia.squeeze(d))
    return (nanmedian_result if ignore_nan else median_result)(v, i)


class _EvenMedian(Function):
    """Full-reduction median/nanmedian: like torch, the gradient is shared evenly by every
    element equal to the result (every NaN when the result is NaN)."""

    _node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, v):
        ctx.save_for_backward(x)
        ctx.v = v
        return v.clone()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = xp_of(x._a)
        v = ctx.v._a
        mask = xp.isnan(x._a) if (v.dtype.kind in "fcV" and xp.isnan(v)) else (x._a == v)
        w = _wrap((mask / mask.sum()).astype(x._a.dtype))
        return g * w, None


class _EvenNanmedian(_EvenMedian):
    _node_name = "NanmedianBackward0"


def _no_bool(input, dim) -> None:
    if input._a.dtype.kind == "b":  # torch has no bool median kernel
        name = "median_cpu" if dim is None else "median_out"
        raise NotImplementedError(f"\"{name}\" not implemented for 'Bool'")


def median(input, dim=None, keepdim=False, *, out=None):
    if out is not None:
        return with_out(median(input, dim, keepdim), out)
    _no_bool(input, dim)
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    _no_bool(input, dim)
    return _median(input, dim, keepdim, True, "nanmedian")


def _unique_dim(a, d, return_inverse, return_counts):
    """unique over slices along ``d`` (torch.unique(dim=d)): the slices sorted
    lexicographically; NaN != NaN, so slices holding NaN stay apart, as in torch."""
    xp = xp_of(a)
    m = xp.moveaxis(a, d, 0)
    n = m.shape[0]
    if m.size == 0 and n != 0:
        raise RuntimeError(
            "There are 0 sized dimensions, and they aren't selected, so unique cannot be applied"
        )
    rows = m.reshape(n, math.prod(m.shape[1:]))
    order = xp.lexsort(rows.T[::-1]) if n and rows.shape[1] else xp.arange(n)
    srt = rows[order]
    new = xp.ones(n, dtype=bool)
    if n:
        new[1:] = (srt[1:] != srt[:-1]).any(axis=1)
    starts = xp.flatnonzero(new)
    uniq = xp.moveaxis(srt[starts].reshape((len(starts),) + m.shape[1:]), 0, d)
    out = [_wrap(xp.ascontiguousarray(uniq))]
    if return_inverse:
        inverse = xp.empty(n, dtype=np.int64)
        inverse[order] = xp.cumsum(new) - 1
        out.append(_wrap(inverse))
    if return_counts:
        out.append(_wrap(xp.diff(xp.append(starts, n)).astype(np.int64)))
    return out[0] if len(out) == 1 else tuple(out)


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    # torch's CPU unique sorts whatever ``sorted`` says, so the results here are always sorted.
    a = input._a
    xp = xp_of(a)
    if dim is not None:
        if a.ndim == 0:
            raise IndexError(f"Dimension specified as {dim} but tensor has no dimensions")
        return _unique_dim(a, wrap_dim(dim, a.ndim, "unique"), return_inverse, return_counts)
    kw = {"equal_nan": False} if xp is np else {}  # torch keeps every NaN apart
    res = xp.unique(a, return_inverse=return_inverse, return_counts=return_counts, **kw)
    if not isinstance(res, tuple):
        return _wrap(res)
    out = [_wrap(res[0])]
    i = 1
    if return_inverse:
        out.append(_wrap(res[i].reshape(a.shape).astype(np.int64)))
        i += 1
    if return_counts:
        out.append(_wrap(res[i].astype(np.int64)))
    return tuple(out)


def bincount(input, weights=None, minlength=0):
    a = input._a
    if a.dtype.kind not in "iu":
        from .complex import scalar_name

        raise NotImplementedError(f"\"bincount_cpu\" not implemented for '{scalar_name(a)}'")
    xp = xp_of(a)
    if a.ndim != 1 or (a.size and int(a.min()) < 0):
        raise RuntimeError("bincount only supports 1-d non-negative integral inputs.")
    w = None if weights is None else weights._a
    if w is not None and (w.ndim != 1 or w.shape[0] != a.shape[0]):
        raise RuntimeError("weights should be 1-d and have the same length as input")
    if minlength < 0:
        raise RuntimeError("minlength should be >= 0")
    if a.size == 0:  # torch: an empty input counts, whatever the weights
        return _wrap(xp.zeros(minlength, dtype=np.int64))
    r = xp.bincount(a, None if w is None else w.astype(np.float64), minlength)
    # torch: int64 counts; float32 weights sum to float32, any other weights to float64
    dt = np.int64 if w is None else (np.float32 if w.dtype == np.float32 else np.float64)
    return _wrap(r.astype(dt, copy=False))


def _bsearch(bd, v, right):
    """torch's binary search, vectorized: ``bd`` (rows, n) boundaries, ``v`` (rows, m) values.
    The comparisons are torch's (``!(mid >= v)`` / ``!(mid > v)``), so NaN anywhere answers as
    torch's does."""
    xp = xp_of(bd)
    rows, n = bd.shape
    start = xp.zeros(v.shape, dtype=np.int64)
    end = xp.full(v.shape, n, dtype=np.int64)
    r = xp.arange(rows)[:, None]
    while True:
        live = start < end
        if not live.any():
            return start
        mid = xp.where(live, start + ((end - start) >> 1), 0)
        mv = bd[r, xp.minimum(mid, max(n - 1, 0))] if n else mid
        go_right = ~(mv > v) if right else ~(mv >= v)
        start = xp.where(live & go_right, mid + 1, start)
        end = xp.where(live & ~go_right, mid, end)


def searchsorted(sorted_sequence, input, *, out_int32=False, right=False, side=None, out=None,
                 sorter=None):  # fmt: skip
    name = "torch.searchsorted()"
    if side is not None and side not in ("left", "right"):
        raise RuntimeError(f"{name}: side can only be 'left' or 'right' but got {side}")
    if side == "left" and right:
        raise RuntimeError(
            f"{name}: side and right can't be set to opposites, got side of left while right "
            "was True"
        )
    right = right or side == "right"
    bd = sorted_sequence._a
    xp = xp_of(bd)
    if bd.ndim == 0:
        raise RuntimeError(
            f"{name}: boundaries tensor should have positive dimension, but got 0 dimension"
        )
    scalar = not isinstance(input, Tensor)
    v = xp.asarray(input) if scalar else input._a
    if bd.ndim > 1 and v.ndim == 0:
        raise RuntimeError(
            f"{name}: input value can be a scalar only when boundaries tensor dimension is 1, "
            f"but we got boundaries tensor dim({bd.ndim}) and input value's dim(0) numel(1)"
        )
    if bd.ndim > 1 and bd.shape[:-1] != v.shape[:-1]:
        raise RuntimeError(
            f"{name}: boundaries tensor should be 1 dimension or the first N-1 dimensions of "
            f"boundaries tensor and input value tensor must match, but we got boundaries tensor "
            f"{list(bd.shape)} and input value tensor {list(v.shape)}"
        )
    if sorter is not None:
        s = sorter._a
        if s.dtype != np.int64:
            from .complex import scalar_name

            raise RuntimeError(
                f"{name}: sorter must be a tensor of long dtype but got dtype {scalar_name(s)}"
            )
        if s.shape != bd.shape:
            raise RuntimeError(
                f"{name}: boundary and sorter must have the same size, but got boundary tensor "
                f"{list(bd.shape)}and got sorter tensor {list(s.shape)}"
            )
        if s.size and (int(s.min()) < 0 or int(s.max()) >= bd.shape[-1]):
            raise RuntimeError(f"{name}: sorter index out of range")
        bd = xp.take_along_axis(bd, s, axis=-1)
    odt = np.int32 if out_int32 else np.int64
    if v.size == 0:  # nothing to search (a (0, n) batch cannot be reshaped by rows)
        res = xp.zeros(v.shape, odt)
    elif bd.ndim == 1 and not (bd.dtype.kind in "fc" and xp.isnan(bd).any()):
        # NumPy's search agrees with torch's whenever the boundaries hold no NaN
        res = xp.searchsorted(bd, v, side="right" if right else "left")
    else:
        b2 = bd.reshape(-1, bd.shape[-1]) if bd.ndim > 1 else bd[None]
        v2 = v.reshape(b2.shape[0], -1) if bd.ndim > 1 else v.reshape(1, -1)
        res = _bsearch(b2, v2, right).reshape(v.shape)
    res = _wrap(xp.asarray(res, dtype=odt))
    if out is not None:
        out.copy_(res)
        return out
    return res


def bucketize(input, boundaries, *, out_int32=False, right=False, out=None):
    if not isinstance(boundaries, Tensor):
        raise TypeError(
            "bucketize() received an invalid combination of arguments: argument 'boundaries' "
            f"must be Tensor, not {type(boundaries).__name__}"
        )
    if boundaries._a.ndim != 1:
        raise RuntimeError(
            f"boundaries tensor must be 1 dimension, but got dim({boundaries._a.ndim})"
        )
    # bucketize's ``right`` is searchsorted's side: right=False counts boundaries < x
    return searchsorted(boundaries, input, out_int32=out_int32, right=right, out=out)
