"""Pickling sparse tensors: ``torch.save`` files interchangeable with torch's
(``torch._utils._rebuild_sparse_tensor(layout, data)``), and plain ``pickle``/``copy``."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._size import Size
from .._tensor import Tensor
from ._tensor import SparseTensor

_wrap = Tensor._make


def _host(a):
    return a if type(a) is np.ndarray else a.get()


def sparse_save_args(t: SparseTensor) -> tuple:
    """``(layout name, data)`` as torch's ``Tensor.__reduce_ex__`` writes them."""
    val = _wrap(_host(t._val._a))
    if t._lay == "coo":
        return "sparse_coo", (_wrap(_host(t._ind)), val, Size(t._sz), bool(t._coal))
    return "sparse_" + t._lay, (_wrap(_host(t._crow)), _wrap(_host(t._col)), val, Size(t._sz))


def rebuild_sparse_tensor(layout: Any, data: Any) -> SparseTensor:
    """``torch._utils._rebuild_sparse_tensor`` for ctorch.load (COO and compressed)."""
    import ctorch

    from ._compressed import sparse_compressed_tensor
    from ._ops import sparse_coo_tensor

    name = getattr(layout, "name", layout)
    if name == "sparse_coo":
        if len(data) == 3:
            indices, values, size = data
            coalesced = None
        else:
            indices, values, size, coalesced = data
        return sparse_coo_tensor(indices, values, size, is_coalesced=coalesced)
    if name in ("sparse_csr", "sparse_csc", "sparse_bsr", "sparse_bsc"):
        cidx, pidx, values, size = data
        return sparse_compressed_tensor(cidx, pidx, values, size, layout=getattr(ctorch, name))
    raise NotImplementedError(f"rebuilding sparse tensor for layout {layout}")


def _rebuild_pickled(lay, a, b, c, vals, size, coalesced, rg, dev, blk=None):
    val = _wrap(vals)
    if lay == "coo":
        t = SparseTensor._coo(a, val, size, coalesced)
    else:
        t = SparseTensor._compressed(lay, b, c, val, size, blk)
    if dev != "cpu":
        t = t.to(dev)
    t._rg = rg
    return t


def reduce_sparse(t: SparseTensor):
    """``__reduce_ex__`` for plain pickle and ``copy``: host arrays, device restored."""
    if t._lay == "coo":
        arrs = (_host(t._ind), None, None)
    else:
        arrs = (None, _host(t._crow), _host(t._col))
    return (
        _rebuild_pickled,
        (t._lay, *arrs, _host(t._val._a), t._sz, t._coal, t._rg, str(t.device), t._blk),
    )
