"""Sorting and selection by value: ``sort``/``argsort``/``msort``, ``topk``, ``kthvalue``,
``median``/``nanmedian``, ``unique``, ``bincount``, ``searchsorted``/``bucketize``.

The differentiable ones pick elements with ``gather`` (``indexing.py``), so their gradients
come from gather's backward.
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import return_type, wrap_dim
from .indexing import Gather, _PickAlong
from .shape import _named


def _picked(node: str, input, d: int, idx):
    """The values at ``idx`` along ``d`` as one node named as torch names it for the op
    (``SortBackward0``, ``TopkBackward0``): gather's gradient, the op's name."""
    return _named(Gather, node).apply(input, d, idx)


_wrap = Tensor._make


sort_result = return_type("sort")
topk_result = return_type("topk")


def _argsort(a, ax, descending, stable=True):
    xp = xp_of(a)
    if descending:
        if a.dtype.kind == "b":
            a = a.astype(np.int8)
        if a.dtype.kind == "u":
            a = a.astype(np.int64)
        key = -a
        if a.dtype.kind in "fV":
            key = xp.where(xp.isnan(a), -xp.inf, key)
        return xp.argsort(key, axis=ax, kind="stable") if xp is np else xp.argsort(key, axis=ax)
    return xp.argsort(a, axis=ax, kind="stable") if xp is np else xp.argsort(a, axis=ax)


def sort(input, dim=-1, descending=False, stable=False):
    if input._a.dtype.kind == "c":
        raise RuntimeError("Sort does not support complex dtypes on CPU")
    if input._a.ndim == 0:
        idx = _wrap(np.zeros((), np.int64))
        return sort_result(_picked("SortBackward0", input, 0, idx), idx)
    d = wrap_dim(dim, input._a.ndim, "sort")
    idx = _wrap(_argsort(input._a, d, descending).astype(np.int64))
    return sort_result(_picked("SortBackward0", input, d, idx), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input.detach(), dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    d = wrap_dim(dim, input._a.ndim, "topk")
    n = input._a.shape[d] if input._a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n} at dim {d})")
    idx = _argsort(input._a, d, largest)
    idx = _wrap(xp_of(idx).take(idx, np.arange(k), axis=d).astype(np.int64))
    return topk_result(_picked("TopkBackward0", input, d, idx), idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input._a.ndim, "kthvalue")
    n = input._a.shape[d] if input._a.ndim else 1
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


def median(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, True, "nanmedian")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    xp = xp_of(input._a)
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not implemented")
    res = xp.unique(input._a, return_inverse=return_inverse, return_counts=return_counts)
    if not isinstance(res, tuple):
        return _wrap(res)
    out = [_wrap(res[0])]
    i = 1
    if return_inverse:
        out.append(_wrap(res[i].reshape(input._a.shape).astype(np.int64)))
        i += 1
    if return_counts:
        out.append(_wrap(res[i].astype(np.int64)))
    return tuple(out)


def bincount(input, weights=None, minlength=0):
    xp = xp_of(input._a)
    w = weights._a if weights is not None else None
    return _wrap(xp.bincount(input._a, w, minlength))


def searchsorted(sorted_sequence, values, *, right=False, side=None):
    xp = xp_of(sorted_sequence._a)
    side = side or ("right" if right else "left")
    v = values._a if isinstance(values, Tensor) else values
    if sorted_sequence._a.ndim == 1:
        return _wrap(xp.asarray(xp.searchsorted(sorted_sequence._a, v, side=side), dtype=np.int64))
    rows = [
        xp.searchsorted(s, vv, side=side)
        for s, vv in zip(
            sorted_sequence._a.reshape(-1, sorted_sequence._a.shape[-1]),
            v.reshape(-1, v.shape[-1]),
            strict=False,
        )
    ]
    return _wrap(xp.stack(rows).reshape(v.shape).astype(np.int64))


def bucketize(input, boundaries, *, right=False):
    xp = xp_of(input._a)
    return _wrap(
        xp.searchsorted(boundaries._a, input._a, side="left" if not right else "right").astype(
            np.int64
        )
    )
