"""Ops that write into a copy of their input, as one graph node each with torch's name and
backward (issue #10): ``index_fill`` (``IndexFillBackward0/1``), ``index_copy``
(``IndexCopyBackward0``), ``masked_scatter`` (``MaskedScatterBackward0``), ``put``
(``PutBackward0``), ``fill_``/``zero_`` on a graph tensor (``FillBackward2/3``,
``ZeroBackward0``) and ``select_scatter``/``slice_scatter``/``diagonal_scatter`` (their
``*ScatterBackward0``). They were clones plus an indexed assignment (``IndexPutBackward0`` or
``CopySlices`` on top of a ``CloneBackward0``).

The forwards write NumPy/CuPy arrays directly; the backwards are written with tensor ops (most
call the op itself on the gradient), so they differentiate again.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import meta_xp, xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import SCALAR_TYPE_NAMES, make_contiguous, node_variants, sum_to_shape, wrap_dim
from .indexing import IndexOutOfRange, _check_bounds, index_select

_wrap = make_contiguous  # results contiguous, as torch allocates them (ops._util)


def _name(dt) -> str:
    return SCALAR_TYPE_NAMES.get(np.dtype(dt).name, str(dt))


def _along(a, dim, idx):
    """``a`` (0-d as 1-d) indexed by ``idx`` along ``dim``: the writable target of a write."""
    if a.ndim == 0:
        return a.reshape(1), (idx,)
    sl = [slice(None)] * a.ndim
    sl[dim] = idx
    return a, tuple(sl)


def _scatter_add(xp, out, key, v):
    if xp is np or xp is meta_xp:  # (meta: a no-op)
        np.add.at(out, key, v)
    else:  # pragma: no cover - GPU
        import cupyx

        cupyx.scatter_add(out, key, v)


# ------------------------------------------------------------------ index_fill
def _wrapped(index: Tensor, n: int) -> Tensor:
    """Negative indices wrapped (index_fill allows them; index_select does not)."""
    ia = index._a
    return _wrap(xp_of(ia).where(ia < 0, ia + n, ia)) if ia.size and int(ia.min()) < 0 else index


class IndexFill(Function):
    """``value`` (a number) at ``index`` along ``dim``: the gradient is ``g`` with those places
    0."""

    _node_name = "IndexFillBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.dim, ctx.index = dim, index
        out = x._a.copy()
        tgt, key = _along(out, dim, index._a)
        tgt[key] = value
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        return index_fill(g, ctx.dim, ctx.index, 0), None, None, None


class IndexFillTensor(Function):
    """``value`` a 0-d tensor: its gradient is the sum of ``g`` over the (distinct) filled
    places (torch: ``grad.index_select(dim, unique(index)).sum()``)."""

    _node_name = "IndexFillBackward1"

    @staticmethod
    def forward(ctx, x, dim, index, value):
        ctx.dim, ctx.index, ctx.vdtype = dim, index, value.dtype
        out = x._a.copy()
        tgt, key = _along(out, dim, index._a)
        tgt[key] = value._a
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gx = gv = None
        if ctx.needs_input_grad[0]:
            gx = index_fill(g, ctx.dim, ctx.index, 0)
        if ctx.needs_input_grad[3]:
            g1 = g.reshape(1) if g.ndim == 0 else g
            n = g1.shape[ctx.dim]
            ia = _wrapped(ctx.index, n)._a
            uniq = _wrap(xp_of(ia).unique(ia))
            gv = index_select(g1, ctx.dim, uniq).sum().to(ctx.vdtype)
        return gx, None, None, gv


def _index_arg(op, input, dim, index):
    if not isinstance(index, Tensor):
        from ._util import as_tensor_arg

        index = as_tensor_arg(index, input, op)
    if index._a.dtype != np.int64:
        raise IndexError(f"{op}(): Expected dtype int64 for index.")
    if index._a.ndim > 1:
        raise RuntimeError("Index has to be a vector/scalar")
    return index.reshape(-1) if index._a.ndim == 0 else index


def index_fill(input: Tensor, dim: int, index: Tensor, value) -> Tensor:
    """A copy of ``input`` with the slices ``index`` along ``dim`` set to ``value`` (a number or
    a 0-d tensor); negative indices count from the end, as in torch."""
    d = wrap_dim(dim, input._a.ndim)
    index = _index_arg("index_fill_", input, d, index)
    _check_bounds(index._a, input._a.shape[d] if input._a.ndim else 1, d, allow_negative=True)
    if isinstance(value, Tensor):
        if value._a.ndim != 0:
            raise RuntimeError(
                "index_fill_ only supports a 0-dimensional value tensor, but got tensor with "
                f"{value._a.ndim} dimension(s)."
            )
        return IndexFillTensor.apply(input, d, index, value)
    return IndexFill.apply(input, d, index, D.checked_int(value, input._a.dtype))


# ------------------------------------------------------------------ index_copy
class IndexCopy(Function):
    _node_name = "IndexCopyBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src):
        ctx.dim, ctx.index, ctx.sshape = dim, index, src._a.shape
        out = x._a.copy()
        tgt, key = _along(out, dim, index._a)
        s = src._a
        tgt[key] = s.reshape(1) if s.ndim == 0 else s
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = index_fill(g, ctx.dim, ctx.index, 0)
        if ctx.needs_input_grad[3]:
            g1 = g.reshape(1) if g.ndim == 0 else g
            gs = index_select(g1, ctx.dim, ctx.index).reshape(ctx.sshape)
        return gx, None, None, gs


def index_copy(input: Tensor, dim: int, index: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` with ``source``'s slices written at ``index`` along ``dim``."""
    op = "index_copy_"
    nd = input._a.ndim
    d = wrap_dim(dim, nd)
    index = _index_arg(op, input, d, index)
    sa = source._a
    if sa.dtype != input._a.dtype:
        raise RuntimeError(
            f"{op}(): self and source expected to have the same dtype, but got (self) "
            f"{_name(input._a.dtype)} and (source) {_name(sa.dtype)}"
        )
    n = input._a.shape[d] if nd else 1
    _check_bounds(index._a, n, d, op)
    ssize = sa.shape[d] if sa.ndim > d else 1
    if index._a.size != ssize or (sa.ndim and sa.ndim != max(nd, 1)):
        raise RuntimeError(
            f"{op}(): Number of indices ({index._a.size}) should be equal to source.size(dim) "
            f"({ssize})"
        )
    if nd:
        for i in range(nd):
            if i != d and sa.shape[i] != input._a.shape[i]:
                raise RuntimeError(
                    f"{op}(): Source/destination tensor must have same slice shapes. "
                    f"Destination slice shape: {input._a.shape[i]} at dimension {i} and source "
                    f"slice shape: {sa.shape[i]} at dimension {i}."
                )
    return IndexCopy.apply(input, d, index, source)


# ------------------------------------------------------------------ masked_scatter
class MaskedScatter(Function):
    """The first ``mask.sum()`` elements of ``source`` (row-major) at the True places of
    ``mask`` (input and mask broadcast); torch's backward: ``g`` with those places 0 for the
    input, the selected gradient (then zeros) for ``source``."""

    _node_name = "MaskedScatterBackward0"

    @staticmethod
    def forward(ctx, x, mask, src, shape):
        xp = xp_of(x._a)
        out = xp.array(xp.broadcast_to(x._a, shape))  # a fresh contiguous copy
        m = xp.broadcast_to(mask._a, shape)
        n = int(m.sum())
        out[m] = src._a.reshape(-1)[:n]
        ctx.mask, ctx.n, ctx.xshape, ctx.sshape = _wrap(m), n, x._a.shape, src._a.shape
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        from .join import cat

        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = sum_to_shape(g.masked_fill(ctx.mask, 0), ctx.xshape)
        if ctx.needs_input_grad[2]:
            sel = g.masked_select(ctx.mask)
            rest = int(np.prod(ctx.sshape, dtype=np.int64)) - ctx.n
            if rest:
                sel = cat([sel, g.new_zeros(rest)])
            gs = sel.reshape(ctx.sshape)
        return gx, None, gs, None


def masked_scatter(input: Tensor, mask: Tensor, source: Tensor) -> Tensor:
    """A copy of ``input`` (broadcast with ``mask``) with the first ``mask.sum()`` elements of
    ``source`` at the True places, in row-major order."""
    if source._a.dtype != input._a.dtype:
        raise RuntimeError(
            "masked_scatter: expected self and source to have same dtypes but got"
            f"{_name(input._a.dtype)} and {_name(source._a.dtype)}"
        )
    if not isinstance(mask, Tensor) or mask._a.dtype != np.bool_:
        dt = _name(mask._a.dtype) if isinstance(mask, Tensor) else type(mask).__name__
        raise RuntimeError(
            f"masked_scatter_ only supports boolean masks, but got mask with dtype {dt}"
        )
    shape = tuple(np.broadcast_shapes(input._a.shape, mask._a.shape))
    if int(xp_of(mask._a).broadcast_to(mask._a, shape).sum()) > source._a.size:
        raise RuntimeError("Number of elements of source < number of ones in mask")
    return MaskedScatter.apply(input, mask, source, shape)


# ------------------------------------------------------------------ put
class Put(Function):
    _node_name = "PutBackward0"

    @staticmethod
    def forward(ctx, x, index, src, accumulate):
        ctx.index, ctx.accumulate, ctx.sshape = index, accumulate, src._a.shape
        xp = xp_of(x._a)
        out = xp.array(x._a, order="C")  # a C-contiguous copy: its reshape(-1) is a view
        flat = out.reshape(-1)
        ia, sa = index._a.reshape(-1), src._a.reshape(-1)
        if accumulate:
            _scatter_add(xp, flat, ia, sa)
        else:
            flat[ia] = sa
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gx = gs = None
        if ctx.needs_input_grad[0]:
            gx = g if ctx.accumulate else put(g, ctx.index, g.new_zeros(ctx.index.shape))
        if ctx.needs_input_grad[2]:
            gs = g.take(ctx.index).reshape(ctx.sshape)
        return gx, None, gs, None


def put(input: Tensor, index: Tensor, source: Tensor, accumulate: bool = False) -> Tensor:
    """torch.put: ``source`` written (or added, ``accumulate``) at flat indices of ``input``
    (negatives wrap, as torch)."""
    n = input._a.size
    if not isinstance(index, Tensor) or index._a.dtype != np.int64:
        got = _name(index._a.dtype) if isinstance(index, Tensor) else type(index).__name__
        raise RuntimeError(f"put_(): Expected a long tensor for index, but got {got}")
    if source._a.dtype != input._a.dtype:
        raise RuntimeError(
            "put_(): self and source expected to have the same dtype, but got self.dtype = "
            f"{_name(input._a.dtype)} and source.dtype = {_name(source._a.dtype)}"
        )
    if index.numel() != source.numel():
        raise RuntimeError(
            f"put_(): Expected source and index to have the same number of elements, but got "
            f"source.numel() = {source.numel()}, index.numel() = {index.numel()}"
        )
    if index._a.size:
        lo, hi = int(index._a.min()), int(index._a.max())
        if lo < -n or hi >= n:
            raise IndexOutOfRange(
                f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                f"{n} elements."
            )
    return Put.apply(input, index, source, bool(accumulate))


# ------------------------------------------------------------------ fill_ / zero_
class Fill(Function):
    """The input filled with a number: no gradient reaches the old values."""

    _node_name = "FillBackward2"

    @staticmethod
    def forward(ctx, x, value):
        return _wrap(xp_of(x._a).full(x._a.shape, value, x._a.dtype))

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(g.shape), None


class FillTensor(Function):
    """Filled with a 0-d tensor: its gradient is the sum of ``g``."""

    _node_name = "FillBackward3"

    @staticmethod
    def forward(ctx, x, value):
        ctx.vdtype = value.dtype
        xp = xp_of(x._a)
        return _wrap(xp.full(x._a.shape, value._a, x._a.dtype))

    @staticmethod
    def backward(ctx, g):
        gx = g.new_zeros(g.shape) if ctx.needs_input_grad[0] else None
        gv = g.sum().to(ctx.vdtype) if ctx.needs_input_grad[1] else None
        return gx, gv


class Zero(Function):
    _node_name = "ZeroBackward0"

    @staticmethod
    def forward(ctx, x):
        return _wrap(xp_of(x._a).zeros(x._a.shape, x._a.dtype))

    @staticmethod
    def backward(ctx, g):
        return g.new_zeros(g.shape)


# ------------------------------------------------------------------ the *_scatter family
class _ViewScatter(Function):
    """``src`` written into a copy of ``x`` at ``view(copy)``; backward: ``g`` with the view
    zeroed for ``x`` (the op itself on zeros), ``view(g)`` for ``src``."""

    @staticmethod
    def forward(ctx, x, src, view, scatter):
        ctx.view, ctx.scatter = view, scatter
        out = _wrap(x._a.copy())
        xp_of(out._a).copyto(view(out)._a, src._a, casting="unsafe")
        return out

    @staticmethod
    def backward(ctx, g):
        gx = gs = None
        v = ctx.view(g)
        if ctx.needs_input_grad[0]:
            gx = ctx.scatter(g, v.new_zeros(v.shape))
        if ctx.needs_input_grad[1]:
            gs = v
        return gx, gs, None, None


SelectScatter, SliceScatter, DiagonalScatter = node_variants(
    _ViewScatter,
    SelectScatter="SelectScatterBackward0",
    SliceScatter="SliceScatterBackward0",
    DiagonalScatter="DiagonalScatterBackward0",
)


def _view_scatter(cls, name, input, src, view, scatter):
    v = view(input.detach())
    if tuple(v.shape) != tuple(src.shape):
        raise RuntimeError(
            f"{name}: expected src to have a size equal to the slice of self. src size = "
            f"{list(src.shape)}, slice size = {list(v.shape)}"
        )
    return cls.apply(input, src, view, scatter)


def select_scatter(input: Tensor, src: Tensor, dim: int, index: int) -> Tensor:
    """A copy of ``input`` with ``src`` at ``input.select(dim, index)``."""

    def view(t):
        return t.select(dim, index)

    def scatter(t, s):
        return select_scatter(t, s, dim, index)

    return _view_scatter(SelectScatter, "select_scatter", input, src, view, scatter)


def slice_scatter(input: Tensor, src: Tensor, dim: int = 0, start=None, end=None, step=1):
    """A copy of ``input`` with ``src`` at ``input[..., start:end:step]`` along ``dim``."""
    d = wrap_dim(dim, max(input._a.ndim, 1), "slice_scatter")
    if step is not None and step <= 0:
        raise RuntimeError("slice step must be positive")

    def view(t):
        return t[(slice(None),) * d + (slice(start, end, step),)]

    def scatter(t, s):
        return slice_scatter(t, s, d, start, end, step)

    return _view_scatter(SliceScatter, "slice_scatter", input, src, view, scatter)


def diagonal_scatter(input: Tensor, src: Tensor, offset: int = 0, dim1: int = 0, dim2: int = 1):
    """A copy of ``input`` with ``src`` on its ``offset``-th diagonal of ``(dim1, dim2)``."""

    def view(t):
        return t.diagonal(offset, dim1, dim2)

    def scatter(t, s):
        return diagonal_scatter(t, s, offset, dim1, dim2)

    return _view_scatter(DiagonalScatter, "diagonal_scatter", input, src, view, scatter)
