"""Memory formats: ``contiguous_format``, ``channels_last``, ``channels_last_3d``,
``preserve_format``, and torch's rules for the strides each one gives.

A tensor's layout is its NumPy array's strides (in bytes; ``Tensor.stride`` divides by the
item size).  A channels-last tensor is a C-contiguous ``(N, H, W, C)`` array seen through
``transpose(0, 3, 1, 2)``; NumPy's ufuncs keep such a layout by themselves.  The rules here
are c10's (``TensorImpl::refresh_contiguous``, ``suggest_memory_format``,
``infer_dense_strides``, ``empty_like``), written over element strides.
"""

from __future__ import annotations

import math

import numpy as np

from ._backend import meta_xp, xp_of


class memory_format:
    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        from . import _display

        return f"{_display.prefix}{self.name}"

    def __reduce__(self):
        return self.name  # a module-level singleton: pickles by name


memory_format.__module__ = "ctorch"
contiguous_format = memory_format("contiguous_format")
channels_last = memory_format("channels_last")
channels_last_3d = memory_format("channels_last_3d")
preserve_format = memory_format("preserve_format")
_BY_NAME = {
    f.name: f for f in (contiguous_format, channels_last, channels_last_3d, preserve_format)
}


def as_format(fmt, default=preserve_format):
    """``fmt`` as one of ctorch's four formats (``None`` is ``default``; real torch's
    ``torch.channels_last`` and friends are accepted by name)."""
    if fmt is None:
        return default
    if isinstance(fmt, memory_format):
        return fmt
    name = str(fmt).rsplit(".", 1)[-1]
    if type(fmt).__name__ == "memory_format" and name in _BY_NAME:
        return _BY_NAME[name]
    raise TypeError(f"memory_format must be a ctorch.memory_format, not {type(fmt).__name__}")


def elem_strides(a) -> tuple:
    item = a.itemsize
    return tuple(s // item for s in a.strides)


# ------------------------------------------------------------------ predicates (c10)
def _cl_contiguous(shape, strides, order) -> bool:
    expected = 1
    for d in order:
        n = shape[d]
        if n != 1:
            if strides[d] != expected:
                return False
            expected *= n
    return True


def is_contiguous_as(a, fmt) -> bool:
    """``Tensor.is_contiguous(memory_format=fmt)`` of the array ``a``."""
    if fmt is contiguous_format:
        return bool(a.flags.c_contiguous)
    nd = a.ndim
    if fmt is channels_last:
        return nd == 4 and _cl_contiguous(a.shape, elem_strides(a), (1, 3, 2, 0))
    if fmt is channels_last_3d:
        if nd != 5:
            return False
        return _cl_contiguous(a.shape, elem_strides(a), (1, 4, 3, 2, 0))
    return bool(a.flags.c_contiguous)  # preserve_format: torch answers for the default format


def _strides_like_cl(shape, strides, order) -> bool:
    """c10's ``is_channels_last_strides_2d_s4`` / ``_3d_s5``."""
    lo = 0
    if strides[1] == 0:
        return False
    for d in order:
        if shape[d] == 0 or strides[d] < lo:
            return False
        if d == 0 and lo == strides[1]:
            return False
        lo = strides[d]
        if shape[d] > 1:
            lo *= shape[d]
    return True


def suggest_memory_format(shape, strides):
    """``Tensor.suggest_memory_format()`` of a tensor with these sizes and element strides."""
    nd = len(shape)
    if nd == 4 and _strides_like_cl(shape, strides, (1, 3, 2, 0)):
        return channels_last
    if nd == 5 and _strides_like_cl(shape, strides, (1, 4, 3, 2, 0)):
        return channels_last_3d
    return contiguous_format


def non_overlapping_and_dense(shape, strides) -> bool:
    """c10's ``compute_non_overlapping_and_dense`` (an empty tensor counts as dense: torch's
    ``empty_like`` keeps its strides)."""
    nd = len(shape)
    if 0 in shape:
        return True
    if nd == 1:
        return shape[0] < 2 or strides[0] == 1
    perm = sorted(range(nd), key=lambda d: (shape[d] < 2, strides[d] if shape[d] >= 2 else 0))
    need = 1
    for d in perm:
        n = shape[d]
        if n < 2:
            return True
        if strides[d] != need:
            return False
        need *= n
    return True


def _iter_order_strides(shape, operand_strides) -> tuple:
    """Dense element strides for ``shape`` in TensorIterator's dim order
    (``reorder_dimensions``): an insertion sort of the dims, innermost first, where the first
    operand whose strides tell two dims apart decides (a zero stride, a broadcast dim, tells
    nothing), equal strides order by size, and nothing deciding keeps C order.
    ``operand_strides``: each operand's element strides broadcast to ``shape``."""
    nd = len(shape)
    perm = list(range(nd - 1, -1, -1))  # innermost first

    def should_swap(d0, d1) -> int:
        for st in operand_strides:
            s0, s1 = st[d0], st[d1]
            if s0 == 0 or s1 == 0:
                continue
            if s0 < s1:
                return -1
            if s0 > s1:
                return 1
            if shape[d0] > shape[d1]:
                return 1
        return 0

    for i in range(1, nd):
        d1 = i
        for d0 in range(i - 1, -1, -1):
            c = should_swap(perm[d0], perm[d1])
            if c > 0:
                perm[d0], perm[d1] = perm[d1], perm[d0]
                d1 = d0
            elif c < 0:
                break
    out = [0] * nd
    cur = 1
    for d in perm:
        out[d] = cur
        cur *= max(shape[d], 1)
    return tuple(out)


def infer_dense_strides(shape, strides) -> tuple:
    """c10's ``infer_dense_strides``: dense strides that keep a strided input's dim order
    (TensorIterator's insertion sort, zero strides left in place, ties by size)."""
    return _iter_order_strides(shape, (strides,))


def broadcast_elem_strides(shape, arrays) -> list:
    """Each array's element strides broadcast to ``shape``: 0 on the dims it is broadcast
    along (leading ones it lacks, and its size-1 dims where ``shape`` is larger)."""
    nd = len(shape)
    out = []
    for a in arrays:
        st = elem_strides(a)
        off = nd - a.ndim
        out.append(
            tuple(
                0 if d < off or (a.shape[d - off] == 1 and shape[d] != 1) else st[d - off]
                for d in range(nd)
            )
        )
    return out


def iter_strides(shape, arrays) -> tuple:
    """The element strides TensorIterator gives the output of an elementwise op of
    ``arrays`` broadcast to ``shape`` (``reorder_dimensions``: the first operand with
    non-zero strides in both dims orders them, equal strides by size; broadcast dims have
    stride 0 and defer to the next operand; ties keep C order)."""
    return _iter_order_strides(shape, broadcast_elem_strides(shape, arrays))


def format_strides(shape, fmt) -> tuple:
    """The strides ``empty(shape, memory_format=fmt)`` gives (``fmt`` not preserve)."""
    nd = len(shape)
    if fmt is channels_last:
        if nd != 4:
            raise RuntimeError("required rank 4 tensor to use channels_last format")
        order = (1, 3, 2, 0)
    elif fmt is channels_last_3d:
        if nd != 5:
            raise RuntimeError("required rank 5 tensor to use channels_last_3d format")
        order = (1, 4, 3, 2, 0)
    else:
        order = tuple(range(nd - 1, -1, -1))
    out = [0] * nd
    cur = 1
    for d in order:
        out[d] = cur
        cur *= max(shape[d], 1)
    return tuple(out)


def _canonical_c(shape, strides, item) -> bool:
    """The byte ``strides`` are C order's for ``shape``, size-1 dims included."""
    want = item
    for i in range(len(shape) - 1, -1, -1):
        if strides[i] != want:
            return False
        want *= shape[i]
    return True


def plain_c(a) -> bool:
    """``a`` C-ordered, non-empty and without size-1 dims (whose strides torch keeps as they
    are): every layout rule then gives C order, so the common paths of clone, ``*_like`` and
    ``to`` need none of them."""
    return a.flags.c_contiguous and a.size > 0 and 1 not in a.shape


def like_strides(a, fmt):
    """The element strides ``empty_like(a, memory_format=fmt)`` gives, or None for C order."""
    if fmt is preserve_format:
        if a.flags.c_contiguous and a.size:
            # size-1 dims may hold any stride, which torch keeps: C order unless one differs
            if 1 not in a.shape or _canonical_c(a.shape, a.strides, a.itemsize):
                return None
            return elem_strides(a)
        shape, st = a.shape, elem_strides(a)
        if non_overlapping_and_dense(shape, st):
            return st
        if any(s < 0 for s in st):  # only from_numpy of a reversed array: torch refuses those
            return None
        return infer_dense_strides(shape, st)
    if fmt is contiguous_format:
        return None
    return format_strides(a.shape, fmt)


def strided_empty(shape, strides, dtype, xp=np):
    """An uninitialised array of ``shape`` with exactly these (dense) element strides, or a
    C-ordered one when ``strides`` is None."""
    if strides is None:
        return xp.empty(shape, dtype=dtype)
    dtype = np.dtype(dtype)
    if xp is meta_xp:  # the meta device: no storage
        return xp.empty(shape, dtype=dtype, strides=tuple(s * dtype.itemsize for s in strides))
    n = math.prod(shape)
    flat = xp.empty(n, dtype=dtype)
    bstrides = tuple(s * dtype.itemsize for s in strides)
    if xp is np:
        return np.ndarray(shape, dtype=dtype, buffer=flat, strides=bstrides)
    if n == 0:  # pragma: no cover - GPU
        return xp.empty(shape, dtype=dtype)
    return xp.ndarray(shape, dtype=dtype, memptr=flat.data, strides=bstrides)  # pragma: no cover


def empty_like_array(a, fmt, dtype=None):
    """``empty_like`` of the array ``a`` (its backend) in ``fmt`` (torch's rules)."""
    return strided_empty(
        a.shape, like_strides(a, fmt), a.dtype if dtype is None else dtype, xp_of(a)
    )


def copy_as(a, fmt):
    """A copy of ``a`` laid out as ``empty_like(a, memory_format=fmt)`` would be."""
    st = like_strides(a, fmt)
    if st is None:
        return xp_of(a).ascontiguousarray(a) if not a.flags.c_contiguous else a.copy()
    out = strided_empty(a.shape, st, a.dtype, xp_of(a))
    out[...] = a
    return out


def relayout(a, fmt):
    """``a`` itself when it is already contiguous in ``fmt``, else a copy in ``fmt``."""
    if is_contiguous_as(a, fmt):
        return a
    return copy_as(a, fmt)


def conv_format(x, w):
    """The format torch's CPU convolution gives its output: channels-last (3d) when the input
    or the weight (arrays) is."""
    if x.flags.c_contiguous and w.flags.c_contiguous:
        return contiguous_format
    for ref in (x, w):
        if not ref.flags.c_contiguous:
            fmt = suggest_memory_format(ref.shape, elem_strides(ref))
            if fmt is not contiguous_format:
                return fmt
    return contiguous_format


def like_conv_input(out, x, w):
    """A convolution's output ``out`` laid out as torch's CPU convolution lays it out
    (``conv_format``; ``out`` itself when that is C order: no copy)."""
    if x.flags.c_contiguous and w.flags.c_contiguous:
        return out
    fmt = conv_format(x, w)
    return out if fmt is contiguous_format else relayout(out, fmt)


def empty_in_format_of(shape, dtype, ref):
    """An uninitialised array of ``shape`` in the suggested memory format of the array
    ``ref`` (C order unless ``ref`` is channels-last-like and of the same rank)."""
    fmt = contiguous_format
    if ref.ndim == len(shape) and not ref.flags.c_contiguous:
        fmt = suggest_memory_format(ref.shape, elem_strides(ref))
    st = None if fmt is contiguous_format else format_strides(tuple(shape), fmt)
    return strided_empty(tuple(shape), st, dtype, xp_of(ref))


def exact_format(a, fmt):
    """``a`` (contiguous in ``fmt``) with exactly the strides ``empty(memory_format=fmt)``
    gives, size-1 dims included (torch's ``(N, C, 1, 1)`` channels-last result has strides
    ``(C, 1, C, C)``): a view, no copy; a copy in ``fmt`` if ``a`` is not contiguous in it."""
    if not is_contiguous_as(a, fmt):
        return copy_as(a, fmt)
    want = format_strides(a.shape, fmt)
    if elem_strides(a) == want or a.size == 0:
        return a
    st = tuple(s * a.itemsize for s in want)
    return xp_of(a).lib.stride_tricks.as_strided(a, a.shape, st)


def like_input(out, ref):
    """``out`` (a fresh C-ordered result) in ``ref``'s suggested memory format: torch's
    convolution/pooling/normalization kernels return a channels-last result for a
    channels-last input.  ``out`` itself when ``ref`` is not channels-last (no copy)."""
    if ref.ndim not in (4, 5) or ref.flags.c_contiguous:
        return out
    fmt = suggest_memory_format(ref.shape, elem_strides(ref))
    if fmt is contiguous_format or out.ndim != ref.ndim:
        return out
    return exact_format(out, fmt)
