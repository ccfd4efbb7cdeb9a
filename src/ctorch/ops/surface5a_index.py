"""``index_reduce`` / ``Tensor.index_reduce_`` (issue #14, group 1): ``scatter_reduce`` with
the index spread over ``source``'s slices, so the forward and torch's gradients (prod with
zeros, mean counts, amax/amin ties shared evenly) are ``ops/indexing.py``'s; the node is named
``IndexReduceBackward0`` as torch's."""

from __future__ import annotations

from .._tensor import Tensor
from ._util import with_out, wrap_dim
from .indexing import ScatterReduce

_REDUCES = ("prod", "mean", "amax", "amin")
_SCALAR_NAMES = {"float32": "Float", "float64": "Double", "float16": "Half", "int64": "Long"}


class _IndexReduce(ScatterReduce):
    _node_name = "IndexReduceBackward0"


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
        r = index_reduce(
            input.reshape(1),
            0,
            index.reshape(-1),
            source.reshape(-1),
            reduce,
            include_self=include_self,
        ).reshape(())
        return with_out(r, out)
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
