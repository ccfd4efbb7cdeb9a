"""Selection and joining of sparse COO tensors (``index_select``, ``cat``), differentiable."""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from . import _arrays as AR
from ._autograd import BuildCoo, values_of
from ._ops import _index_array, _move
from ._tensor import SparseTensor, unsupported

_wrap = Tensor._make


# ------------------------------------------------------------------ selection and joining
def index_select(s: SparseTensor, dim: int, index) -> SparseTensor:
    """``index_select`` of a COO tensor (torch's order: by output position, then entry)."""
    from .._tensor import _wrap_dim

    if s._lay != "coo":
        raise unsupported("index_select", s)
    d = _wrap_dim(dim, len(s._sz), "index_select")
    idx = _index_array(index, "index", "index_select").reshape(-1)
    xp = xp_of(s._ind)
    idx = _move(idx, s.device)
    n = s._sz[d]
    if idx.size and (int(idx.min()) < -n or int(idx.max()) >= n):
        raise IndexError(f"index_select(): index out of range in self (size {n} at dim {d})")
    idx = xp.where(idx < 0, idx + n, idx)
    sd = s._ind.shape[0]
    size = list(s._sz)
    size[d] = int(idx.shape[0])
    if d >= sd:  # a dense dimension: select in the values
        v = values_of(s).index_select(d - sd + 1, _wrap(idx))
        return BuildCoo.apply(v, s._ind, tuple(size), s._coal)
    order = xp.argsort(idx, kind="stable") if xp is np else xp.argsort(idx)
    sidx = idx[order]
    lo = xp.searchsorted(sidx, s._ind[d], side="left")
    counts = xp.searchsorted(sidx, s._ind[d], side="right") - lo
    total = int(counts.sum())
    entry = AR.repeat_by(xp.arange(counts.shape[0]), counts)
    starts = xp.cumsum(counts) - counts
    offs = xp.arange(total) - starts[entry]
    ks = order[lo[entry] + offs]
    perm = xp.argsort(ks, kind="stable") if xp is np else xp.argsort(ks)
    entry, ks = entry[perm], ks[perm]
    ind = s._ind[:, entry]
    ind[d] = ks
    v = values_of(s)[_wrap(entry)]
    return BuildCoo.apply(v, ind, tuple(size), total <= 1)


def cat(tensors, dim: int = 0, *, out=None) -> SparseTensor:
    """``torch.cat`` of COO tensors along a sparse dimension."""
    import ctorch

    from .._tensor import _wrap_dim

    tensors = list(tensors)
    if out is not None:
        raise unsupported("cat.out", tensors[0])
    if not all(isinstance(t, SparseTensor) and t._lay == "coo" for t in tensors):
        raise RuntimeError(
            "cat(): expected all tensors to be sparse COO tensors when one of them is sparse"
        )
    first = tensors[0]
    nd, sd = len(first._sz), first._ind.shape[0]
    d = _wrap_dim(dim, nd, "cat")
    for t in tensors:
        if len(t._sz) != nd or t._ind.shape[0] != sd:
            raise RuntimeError("cat(): all sparse tensors must have the same sparse_dim and ndim")
        if any(t._sz[k] != first._sz[k] for k in range(nd) if k != d):
            raise RuntimeError(
                f"cat(): sizes of tensors must match except in dimension {d}: "
                f"{list(first._sz)} vs {list(t._sz)}"
            )
    if d >= sd:
        raise NotImplementedError(
            "cat(): ctorch concatenates sparse COO tensors along sparse dimensions only "
            f"(dim {d} is a dense dimension; sparse_dim = {sd})"
        )
    xp = xp_of(first._ind)
    inds, off = [], 0
    for t in tensors:
        i = t._ind.copy()
        i[d] += off
        off += t._sz[d]
        inds.append(i)
    size = list(first._sz)
    size[d] = off
    v = ctorch.cat([values_of(t) for t in tensors])
    return BuildCoo.apply(v, xp.concatenate(inds, axis=1), tuple(size), False)
