"""``index_reduce`` / ``Tensor.index_reduce_`` (issue #14, group 1): ``scatter_reduce`` with
the index spread over ``source``'s slices, so the forward and torch's gradients (prod with
zeros, mean counts, amax/amin ties shared evenly) are ``ops/indexing.py``'s; the node is named
``IndexReduceBackward0`` as torch's."""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ._util import with_out, wrap_dim
from .indexing import ScatterReduce, _reduce_0d

_wrap = Tensor._make
_REDUCES = ("prod", "mean", "amax", "amin")
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long"}


_UFUNCS = {"prod": np.multiply, "mean": np.add, "amax": np.maximum, "amin": np.minimum}


def _index_reduce_np(xa, d, idx, sa, reduce, include_self):
    """(out, count) as ``indexing._scatter_reduce_np`` gives them for an index spread over
    ``sa``'s slices, in one ``reduceat`` per group of equal indices instead of ``ufunc.at``
    (measured ~3x faster on 1000x1000; see ``_IndexReduce.forward`` for when it is used). Each
    group reduces the self slice (when included) and then the source slices in index order."""
    n = idx.size
    order = np.argsort(idx, kind="stable")
    si = idx[order]
    new = np.ones(n, bool)
    new[1:] = si[1:] != si[:-1]
    starts = np.flatnonzero(new)
    uniq = si[starts]
    cnts = np.diff(np.append(starts, n))
    u = uniq.size
    xs = np.moveaxis(xa, d, 0)
    ss = np.moveaxis(sa, d, 0)[order]
    ufunc = _UFUNCS[reduce]
    with np.errstate(all="ignore"):  # NaN propagates, integers wrap, as in torch
        if include_self:
            seg = starts + np.arange(u)
            perm = np.empty(u + n, np.int64)
            is_self = np.zeros(u + n, bool)
            is_self[seg] = True
            perm[seg] = np.arange(u)
            perm[~is_self] = u + np.arange(n)
            red = ufunc.reduceat(
                np.concatenate([xs[uniq], ss], 0)[perm], seg, axis=0, dtype=xa.dtype
            )
        else:
            red = ufunc.reduceat(ss, starts, axis=0, dtype=xa.dtype)  # no int upcast: wraps
        if reduce == "mean":
            shape = (u,) + (1,) * (xa.ndim - 1)
            div = (cnts + (1 if include_self else 0)).reshape(shape).astype(red.dtype)
            red = red / div if red.dtype.kind == "f" else red // div
    out = xa.copy()
    np.moveaxis(out, d, 0)[uniq] = red.astype(out.dtype, copy=False)
    count = np.zeros(xa.shape, np.int64)
    np.moveaxis(count, d, 0)[uniq] = cnts.reshape((u,) + (1,) * (xa.ndim - 1))
    return out, count


class _IndexReduce(ScatterReduce):
    _node_name = "IndexReduceBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        xa, ia, sa = x._a, index._a, src._a
        fast = (
            type(xa) is np.ndarray
            and xa.dtype.kind in "iuf"
            and ia.size > 0
            and sa.shape == ia.shape
            and sa.dtype == xa.dtype
            # float sums/products: reduceat reassociates (pairwise, float32 accumulators for
            # float16), so those keep ufunc.at's sequential order; max/min and integer
            # (wrapping) arithmetic do not depend on the order
            and (reduce in ("amax", "amin") or xa.dtype.kind in "iu")
        )
        if not fast:
            return ScatterReduce.forward(ctx, x, dim, index, src, reduce, include_self)
        idx = ia[tuple(slice(None) if k == dim else 0 for k in range(ia.ndim))]
        out, count = _index_reduce_np(xa, dim, idx, sa, reduce, include_self)
        # the state ScatterReduce.backward reads
        ctx.args = (dim, ia, reduce, include_self, np)
        ctx.arrays = (xa, sa, out, count, sa.shape)
        ctx.save_for_backward(x, src)
        return _wrap(out)


def _scalar_name(a) -> str:
    from .surface5a import _SCALAR_NAMES as ints

    return {**ints, **_SCALAR_NAMES}.get(a.dtype.name, a.dtype.name)


def index_reduce(
    input: Tensor,
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
    out: Tensor | None = None,
) -> Tensor:
    """``torch.index_reduce``: ``input`` with each ``source.select(dim, i)`` reduced into
    ``input.select(dim, index[i])`` by ``reduce`` (prod, mean, amax or amin); with
    ``include_self=False`` the indexed slices of ``input`` take no part."""
    op = "index_reduce_()"
    for arg, v in (("input", input), ("index", index), ("source", source)):
        if not isinstance(v, Tensor):
            raise TypeError(
                f"index_reduce(): argument '{arg}' must be Tensor, not {type(v).__name__}"
            )
    if reduce not in _REDUCES:
        raise RuntimeError(
            f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got "
            f"{reduce}."
        )
    xa, ia, sa = input._a, index._a, source._a
    if xa.dtype.kind in "bc":
        kind = "Bool" if xa.dtype.kind == "b" else "Complex" + str(input.dtype).split(".")[-1]
        raise NotImplementedError(f"\"index_reduce\" not implemented for '{kind}'")
    if ia.dtype.kind not in "iu" or ia.dtype.itemsize < 4:
        raise RuntimeError(
            f"{op}: Expected dtype int32/int64 for index but got: {_scalar_name(ia)}"
        )
    if ia.ndim > 1:
        raise IndexError(
            f"{op}: Index is supposed to be a vector, but got dim: {ia.ndim} with type: "
            f"{_scalar_name(ia)} and size: {list(ia.shape)}"
        )
    if xa.dtype != sa.dtype:
        raise RuntimeError(
            f"{op}: self ({_scalar_name(xa)}) and source ({_scalar_name(sa)}) must have the same"
            " scalar type"
        )
    if xa.ndim == 0:
        return with_out(_reduce_0d(index_reduce, input, index, source, reduce, include_self), out)
    d = wrap_dim(dim, xa.ndim, "index_reduce")
    s = source if sa.ndim else source.reshape(1)
    sa = s._a
    n_idx = ia.size
    if sa.ndim != xa.ndim or sa.shape[:d] + sa.shape[d + 1 :] != xa.shape[:d] + xa.shape[d + 1 :]:
        raise RuntimeError(f"{op}: Source/destination tensor must have same slice shapes.")
    if n_idx != sa.shape[d]:
        raise RuntimeError(
            f"{op}: Number of indices ({n_idx}) should be equal to source.size(dim): "
            f"({sa.shape[d]}), for dim: {d}"
        )
    flat = index.reshape(-1).to(dtype=_int64())
    if n_idx and (int(flat._a.min()) < 0 or int(flat._a.max()) >= xa.shape[d]):
        raise IndexError("index out of range in self")
    shape = [1] * xa.ndim
    shape[d] = n_idx
    full = flat.reshape(shape).expand(*sa.shape).contiguous()
    r = _IndexReduce.apply(input, d, full, s, reduce, include_self)
    return with_out(r, out)


def _int64():
    from .. import int64

    return int64


def index_reduce_(
    self: Tensor,
    dim: int,
    index: Tensor,
    source: Tensor,
    reduce: str,
    *,
    include_self: bool = True,
) -> Tensor:
    """``Tensor.index_reduce_``: ``index_reduce`` written into ``self``."""
    from ..autograd import inplace as IP

    return IP.inplace(
        self,
        "index_reduce_",
        lambda: index_reduce(self, dim, index, source, reduce, include_self=include_self),
        source,
    )


__all__ = ["index_reduce"]

METHODS = {"index_reduce": index_reduce, "index_reduce_": index_reduce_}
