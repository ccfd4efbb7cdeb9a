"""``as_strided`` (a view of the input's storage with any sizes and strides), ``hsplit`` /
``vsplit`` / ``dsplit`` and ``diagflat`` (issue #14: torch names real code calls).

``as_strided`` counts, as torch does, in elements of the *storage*: the array that owns the
memory (``_tensor.storage_root``), from ``storage_offset`` (by default the input's own). Its
gradient is torch's ``as_strided_backward`` for non-overlapping inputs: the output gradient
summed into a zero storage through the output's geometry (overlapping output elements add
up), then read back through the input's geometry; written with ``index_add`` and indexing,
so it differentiates again.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from .._backend import meta_xp, xp_of
from .._tensor import Tensor, storage_root
from .join import tensor_split
from .shape import _as_strided, _view_op


def _storage(a):
    """(flat view of the whole storage, its element count, ``a``'s storage offset)."""
    xp = xp_of(a)
    root = storage_root(a)
    isz = a.itemsize
    n = root.nbytes // isz
    flat = _as_strided(root.view(a.dtype) if root.dtype != a.dtype else root, (n,), (isz,))
    if xp is np:
        off = a.__array_interface__["data"][0] - root.__array_interface__["data"][0]
    elif xp is meta_xp:  # the meta device: offsets without addresses
        off = (a.offset - root.offset) * isz
    else:  # pragma: no cover - GPU
        off = a.data.ptr - root.data.ptr
    return flat, n, off // isz


def _indices(xp, n: int, size, stride, offset: int):
    """The storage index of every element of the (size, stride, offset) view."""
    ar = xp.arange(n, dtype=np.int64)
    return _as_strided(ar[offset:], tuple(size), tuple(s * 8 for s in stride))


def as_strided(input: Tensor, size, stride, storage_offset: int | None = None) -> Tensor:
    a = input._a
    size, stride = tuple(int(s) for s in size), tuple(int(s) for s in stride)
    if len(size) != len(stride):
        raise RuntimeError(
            f"mismatch in length of strides and shape: got {len(stride)} strides for "
            f"{len(size)} sizes"
        )
    if any(s < 0 for s in size):
        raise RuntimeError(f"as_strided: negative size in {list(size)}")
    if any(s < 0 for s in stride):
        raise RuntimeError(
            f"as_strided: Negative strides are not supported at the moment, got strides: "
            f"{list(stride)}"
        )
    flat, n, own = _storage(a)
    so = own if storage_offset is None else int(storage_offset)
    if so < 0:
        raise RuntimeError(f"Tensor: invalid storage offset {so}")
    need = so + (sum((s - 1) * st for s, st in zip(size, stride, strict=True)) + 1) * all(size)
    if need > n:
        isz = a.itemsize
        raise RuntimeError(
            f"setStorage: sizes {list(size)}, strides {list(stride)}, storage offset {so}, and "
            f"itemsize {isz} requiring a storage size of {need * isz} are out of bounds for "
            f"storage of size {n * isz}"
        )
    isz = a.itemsize
    in_shape, in_stride = a.shape, input.stride()

    def fwd(_a):
        return _as_strided(flat[so:], size, tuple(s * isz for s in stride))

    def bwd(g: Tensor) -> Tensor:
        xp = xp_of(g._a)
        out_idx = Tensor._make(_indices(xp, n, size, stride, so).reshape(-1).copy())
        in_idx = Tensor._make(_indices(xp, n, in_shape, in_stride, own).copy())
        store = g.new_zeros(n).index_add(0, out_idx, g.reshape(-1))
        return store[in_idx]

    return _view_op(input, fwd, bwd, "AsStridedBackward0")


def _split_along(name: str, input: Tensor, sections, dim: int, min_dims: int):
    nd = input._a.ndim
    if nd < min_dims:
        raise RuntimeError(
            f"torch.{name} requires a tensor with at least {min_dims} dimension, but got a "
            f"tensor with {nd} dimensions!"
        )
    if isinstance(sections, numbers.Integral) and not isinstance(sections, bool):
        size = input._a.shape[dim]
        if sections == 0 or size % sections:
            raise RuntimeError(
                f"torch.{name} attempted to split along dimension {dim}, but the size of the "
                f"dimension {size} is not divisible by the split_size {sections}!"
            )
    elif not isinstance(sections, Sequence | Tensor):
        raise TypeError(f"{name}(): argument 'indices_or_sections' must be int or a sequence")
    return tensor_split(input, sections, dim)


def hsplit(input: Tensor, indices_or_sections) -> tuple:
    dim = 0 if input._a.ndim == 1 else 1
    return _split_along("hsplit", input, indices_or_sections, dim, 1)


def vsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("vsplit", input, indices_or_sections, 0, 2)


def dsplit(input: Tensor, indices_or_sections) -> tuple:
    return _split_along("dsplit", input, indices_or_sections, 2, 3)


def diagflat(input: Tensor, offset: int = 0) -> Tensor:
    """The flattened input on the ``offset``-th diagonal of a square zero matrix."""
    from .. import diag_embed

    return diag_embed(input.reshape(-1), offset)


# ---------------------------------------------------------------- the *_scatter family
def _copy_with_storage(input: Tensor) -> Tensor:
    """A differentiable copy of ``input`` with its sizes, strides and storage offset, in a
    storage as large as ``input``'s: ``as_strided_scatter`` counts in that storage, as torch."""
    a = input._a
    _flat, n, own = _storage(a)
    buf = xp_of(a).zeros(n, a.dtype)
    out = Tensor._make(_as_strided(buf[own:], a.shape, a.strides))
    return out.copy_(input)


def _embed(name: str, input: Tensor, src: Tensor, view, like_storage: bool = False) -> Tensor:
    """A copy of ``input`` with ``view(copy)`` replaced by ``src`` (shapes must match, as
    torch checks); gradients flow to both through the in-place copy on a view."""
    out = _copy_with_storage(input) if like_storage else input.clone()
    v = view(out)
    if tuple(v.shape) != tuple(src.shape):
        raise RuntimeError(
            f"{name}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(v.shape)}"
        )
    v.copy_(src)
    return out


def as_strided_scatter(input: Tensor, src: Tensor, size, stride, storage_offset=None) -> Tensor:
    """``src`` written into a copy of ``input`` at ``as_strided(size, stride, storage_offset)``
    of a storage laid out as ``input``'s (sizes, strides and offset kept, as torch)."""
    return _embed(
        "as_strided_scatter",
        input,
        src,
        lambda t: as_strided(t, size, stride, storage_offset),
        like_storage=True,
    )


__all__ = [
    "as_strided",
    "as_strided_scatter",
    "diagflat",
    "dsplit",
    "hsplit",
    "vsplit",
]
