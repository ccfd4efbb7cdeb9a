"""Joining and splitting: cat, stack (and the h/v/d/column stacks, atleast_*d), split, chunk,
tensor_split, unbind. The ops that copy data into a new arrangement (flip, roll, repeat,
tril/triu, diagonal...) are ``rearrange.py``.

Split from ``shape.py`` (issue #10), which keeps the views these are built on.
"""

from __future__ import annotations

import math
import numbers

import numpy as np

from .. import _memfmt as MF
from .._backend import cpu_kernels, xp_of
from .._core._smallops import join_small as _join_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import as_tensor_arg, check_same_device, make_contiguous, wrap_dim
from .shape import narrow, unsqueeze

_wrap = Tensor._make


# ------------------------------------------------------------------ joining / splitting
class Cat(Function):
    _node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, ax, *tensors):
        ctx.ax = ax
        ctx.sizes = [t._a.shape[ax] for t in tensors]
        return _cat_laid_out(_cat_arrays(tensors, ax), tensors)

    @staticmethod
    def backward(ctx, g):
        outs = []
        o = 0
        for s in ctx.sizes:
            outs.append(narrow(g, ctx.ax, o, s))
            o += s
        return (None, *outs)


def _cat_laid_out(a, tensors):
    """cat's result: C-ordered, unless every input has one channels-last suggested format,
    which torch's cat then gives its output."""
    if tensors[0]._a.flags.c_contiguous:
        return make_contiguous(a)
    fmts = {MF.suggest_memory_format(t._a.shape, MF.elem_strides(t._a)) for t in tensors}
    fmt = fmts.pop() if len(fmts) == 1 else MF.contiguous_format
    if fmt is MF.contiguous_format:
        return make_contiguous(a)
    return Tensor._make(MF.relayout(a, fmt))


def _cat_arrays(tensors, ax):
    """The tensors' arrays joined along ``ax`` in their promoted dtype."""
    arrays = _promoted(tensors)
    r = _cat_rows(arrays, ax)
    return r if r is not None else xp_of(arrays[0]).concatenate(arrays, axis=ax)


def _cat_rows(arrays, ax):
    """The concatenation of C-contiguous CPU arrays along ``ax`` as row copies
    (``nnmisc.cat_rows``: one memcpy per part and outer index), else None (NumPy/CuPy's
    concatenate then). Only worth it for a join inside the rows (``ax > 0``) of enough
    data: a join along dim 0 is already one block copy per part in NumPy."""
    a0 = arrays[0]
    if ax == 0 or type(a0) is not np.ndarray or a0.size * len(arrays) < 4096:
        return None
    for a in arrays:
        if type(a) is not np.ndarray or not a.flags.c_contiguous:
            return None
    if not cpu_kernels.has("cat_rows"):  # a build without the compiled kernels
        return None
    shape = list(a0.shape)
    shape[ax] = sum(a.shape[ax] for a in arrays)
    out = np.empty(shape, a0.dtype)
    outer = math.prod(shape[:ax])
    cpu_kernels.cat_rows(
        [a.reshape(outer, -1).view(np.uint8) for a in arrays], out.reshape(outer, -1).view(np.uint8)
    )
    return out


def _promoted(tensors) -> list:
    """The tensors' arrays in their common dtype (torch's promotion)."""
    arrays = [t._a for t in tensors]
    dt = arrays[0].dtype
    if all(a.dtype == dt for a in arrays):
        return arrays
    from .. import _dtype as D  # _dtype imports the ops (through _tensor)

    for t in tensors[1:]:
        if t._a.dtype != dt:
            dt = D.to_numpy_dtype(D.promote_types(D.from_numpy_dtype(dt), t.dtype))
    return [a.astype(dt, copy=False) for a in arrays]


class _Stack(Function):
    """stack as one node (torch's StackBackward0): the gradient of input i is g.select(ax, i)."""

    _node_name = "StackBackward0"

    @staticmethod
    def forward(ctx, ax, *tensors):
        ctx.ax, ctx.n = ax, len(tensors)
        r = make_contiguous(xp_of(tensors[0]._a).stack(_promoted(tensors), axis=ax))
        r._a = _stack_layout(r._a, [t._a for t in tensors], ax)
        return r

    @staticmethod
    def backward(ctx, g):
        return (None, *(g.select(ctx.ax, i) for i in range(ctx.n)))


def _stack_layout(r, arrays, ax):
    """torch's stack result for channels-last inputs (all of one suggested format; else C
    order): the inputs' format for their shape with dim ``ax`` n times longer, split into
    (n, size) at ``ax``; C order when stacking after the last dim."""
    a0 = arrays[0]
    if ax >= a0.ndim or a0.ndim not in (4, 5) or all(a.flags.c_contiguous for a in arrays):
        return r
    fmt = None
    for a in arrays:
        f = MF.suggest_memory_format(a.shape, MF.elem_strides(a))
        if f is MF.contiguous_format or (fmt is not None and f is not fmt):
            return r
        fmt = f
    merged = list(a0.shape)
    merged[ax] *= len(arrays)
    st = list(MF.format_strides(tuple(merged), fmt))
    st[ax : ax + 1] = [st[ax] * max(a0.shape[ax], 1), st[ax]]
    out = MF.strided_empty(r.shape, tuple(st), r.dtype, xp_of(r))
    out[...] = r
    return out


def join_fast(tensors, dim, stack: bool):
    """cat (``stack``: stack) of small plain CPU tensors as one compiled call when nothing is
    recorded or cast (``_smallops.join_small`` says which qualify), else None. A (8, 16)
    cat cost 5.1 us (torch 1.2 us), nearly all of it Python around one small copy."""
    if type(dim) is not int or _fn_mod._autocast is not None:
        return None
    r = _join_small(tensors, dim, Tensor, state.enabled, stack)
    return None if r is None else _wrap(r)


def _need_sequence(op: str, tensors) -> None:
    """torch's refusal of one Tensor where a function wants a sequence of them (iterating
    it would join its rows)."""
    if isinstance(tensors, Tensor):
        raise TypeError(
            f"{op}(): argument 'tensors' (position 1) must be tuple of Tensors, not Tensor"
        )


def cat(tensors, dim: int = 0, *, out=None, _op="cat"):
    if out is None:
        r = join_fast(tensors, dim, False)
        if r is not None:
            return r
    _need_sequence(_op, tensors)
    tensors = list(tensors)
    if not tensors:
        raise ValueError("torch.cat(): expected a non-empty list of Tensors")  # torch: ValueError
    tensors = [t if type(t) is Tensor else as_tensor_arg(t, None, "cat") for t in tensors]
    # legacy: 1-D empty tensors are skipped
    nonempty = [t for t in tensors if t._a.shape != (0,)]
    if not nonempty:
        return tensors[0].clone()
    tensors = nonempty
    check_same_device("cat", *tensors)
    ref = tensors[0]._a.shape
    nd = len(ref)
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    ax = wrap_dim(dim, nd, "cat")
    head, tail = ref[:ax], ref[ax + 1 :]
    for i, t in enumerate(tensors):
        s = t._a.shape
        if len(s) == nd and s[:ax] == head and s[ax + 1 :] == tail:
            continue
        if len(s) != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {len(s)}"
            )
        d = next(d for d in range(nd) if d != ax and s[d] != ref[d])
        raise RuntimeError(
            f"Sizes of tensors must match except in dimension {ax}. Expected size "
            f"{ref[d]} but got size {s[d]} for tensor number {i} in the list."
        )
    if (state.enabled and any(t._rg for t in tensors)) or _fn_mod._autocast is not None:
        r = Cat.apply(ax, *tensors)
    else:  # nothing to record or cast: Cat.forward's arrays without the node machinery
        r = _cat_laid_out(_cat_arrays(tensors, ax), tensors)
    if out is not None:
        from .binary import _out

        return _out(out, r)
    return r


def concat(tensors, dim: int = 0, *, out=None):
    return cat(tensors, dim, out=out, _op="concat")


def concatenate(tensors, dim: int = 0, *, out=None):
    return cat(tensors, dim, out=out, _op="concatenate")


def stack(tensors, dim: int = 0, *, out=None):
    if out is None:
        r = join_fast(tensors, dim, True)
        if r is not None:
            return r
    _need_sequence("stack", tensors)
    tensors = [as_tensor_arg(t, None, "stack") for t in tensors]
    if not tensors:
        raise RuntimeError("stack expects a non-empty TensorList")
    shp = tensors[0]._a.shape
    for i, t in enumerate(tensors):
        if t._a.shape != shp:
            raise RuntimeError(
                f"stack expects each tensor to be equal size, but got {list(shp)} at entry 0 and "
                f"{list(t._a.shape)} at entry {i}"
            )
    d = wrap_dim(dim, len(shp) + 1, "stack")
    if out is None:
        check_same_device("stack", *tensors)
        return _Stack.apply(d, *tensors)
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def hstack(tensors):
    _need_sequence("hstack", tensors)
    tensors = [_atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def _vstack(tensors, op: str):
    _need_sequence(op, tensors)
    return cat([_atleast_2d(t) for t in tensors], 0)


def vstack(tensors):
    return _vstack(tensors, "vstack")


def row_stack(tensors):
    return _vstack(tensors, "row_stack")


def dstack(tensors):
    _need_sequence("dstack", tensors)
    return cat([_atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    _need_sequence("column_stack", tensors)
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return cat(ts, 1)


def _atleast_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def _atleast_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t


def _atleast(one, name: str):
    """torch's ``atleast_Nd(*tensors)``: one Tensor gives a Tensor; several, or one list or
    tuple of them, give a tuple."""

    def atleast(*tensors):
        if len(tensors) == 1 and not isinstance(tensors[0], (list, tuple)):
            return one(tensors[0])
        if len(tensors) == 1:
            tensors = tensors[0]
        return tuple(one(t) for t in tensors)

    atleast.__name__ = atleast.__qualname__ = name
    return atleast


def _atleast_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    if t.ndim == 2:
        return t.unsqueeze(-1)
    return t


atleast_1d = _atleast(_atleast_1d, "atleast_1d")
atleast_2d = _atleast(_atleast_2d, "atleast_2d")
atleast_3d = _atleast(_atleast_3d, "atleast_3d")


def _split_fast(tensor, size, dim):
    """split/chunk's common case, or None: int size > 0, int dim in range, nothing to
    record, a non-empty dim. The pieces as views with no other Python work (chunk(2) on a
    (4, 4) tensor: 2.9 -> 1.9 us)."""
    if state.enabled and tensor._rg or type(dim) is not int or size <= 0:
        return None
    if _fn_mod._autocast is not None:  # a profiler or autocast region: the recorded path
        return None
    a = tensor._a
    nd = a.ndim
    d = dim + nd if dim < 0 else dim
    if not 0 <= d < nd:
        return None
    n = a.shape[d]
    if n == 0:
        return None
    view = tensor._view_of
    if d == 0:
        return tuple([view(a[o : o + size]) for o in range(0, n, size)])
    if d == nd - 1:
        return tuple([view(a[..., o : o + size]) for o in range(0, n, size)])
    head = (slice(None),) * d
    return tuple([view(a[(*head, slice(o, o + size))]) for o in range(0, n, size)])


def split(tensor, split_size_or_sections, dim: int = 0):
    if type(split_size_or_sections) is int:
        r = _split_fast(tensor, split_size_or_sections, dim)
        if r is not None:
            return r
    d = wrap_dim(dim, tensor._a.ndim, "split")
    n = tensor._a.shape[d]
    by_size = type(split_size_or_sections) is int or isinstance(
        split_size_or_sections, numbers.Integral
    )
    if by_size:
        s = int(split_size_or_sections)
        if s < 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        if s == 0 and n > 0:
            raise RuntimeError(
                f"split_size can only be 0 if dimension size is 0, but got dimension size of {n}"
            )
        sizes = ([min(s, n - i) for i in range(0, n, s)] if s > 0 else []) or [
            0
        ]  # torch: one empty piece
    else:
        sizes = [int(x) for x in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    if not (state.enabled and tensor._rg):  # nothing to record: the views themselves
        return _split_views(tensor, d, sizes)
    fn = _Split if by_size else _SplitWithSizes
    return fn.apply(tensor, d, tuple(sizes))


def _split_views(x, d, sizes) -> tuple:
    """The pieces of ``x`` along dim ``d`` of the given ``sizes``, as views."""
    a = x._a
    view = x._view_of
    out, o = [], 0
    if d == a.ndim - 1:  # the last dim: a[..., o:o + s]
        for s in sizes:
            out.append(view(a[..., o : o + s]))
            o += s
        return tuple(out)
    head = (slice(None),) * d
    for s in sizes:
        out.append(view(a[(*head, slice(o, o + s))]))
        o += s
    return tuple(out)


class _Split(Function):
    """All pieces of a split as views, one graph node as torch's (backward joins the gradients;
    a piece that got no gradient contributes zeros)."""

    _node_name = "SplitBackward0"

    @staticmethod
    def forward(ctx, x, d, sizes):
        ctx.d, ctx.sizes = d, sizes
        return _split_views(x, d, sizes)

    @staticmethod
    def backward(ctx, *grads):
        ref = next(g for g in grads if g is not None)
        parts = []
        for g, s in zip(grads, ctx.sizes, strict=True):
            if g is None:
                shape = list(ref.shape)
                shape[ctx.d] = s
                g = ref.new_zeros(shape)
            parts.append(g)
        return cat(parts, ctx.d), None, None


class _SplitWithSizes(_Split):
    _node_name = "SplitWithSizesBackward0"


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._a.ndim)
    n = input._a.shape[d]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        if k <= 0:
            raise RuntimeError(f"number of sections must be larger than 0, got {k}")
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        return split(input, sizes, d)
    # as torch: a negative index counts from the end, past the end gives empty pieces
    idx = [0, *(min(max(int(i) + n * (int(i) < 0), 0), n) for i in indices_or_sections), n]
    return tuple(narrow(input, d, idx[i], max(0, idx[i + 1] - idx[i])) for i in range(len(idx) - 1))


def chunk(input, chunks: int, dim: int = 0):
    if type(chunks) is int and chunks > 0:
        a = input._a
        if type(dim) is int and -a.ndim <= dim < a.ndim and a.shape[dim]:
            r = _split_fast(input, -(-a.shape[dim] // chunks), dim)
            if r is not None:
                return r
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    d = wrap_dim(dim, input._a.ndim, "chunk")
    n = input._a.shape[d]
    if n == 0:  # torch: `chunks` empty pieces
        return _Split.apply(input, d, (0,) * chunks)
    return split(input, -(-n // chunks), d)


class Unbind(Function):
    """All slices along ``dim`` as views, one graph node (backward stacks the gradients)."""

    _node_name = "UnbindBackward0"

    @staticmethod
    def forward(ctx, x, d):
        ctx.d = d
        a = x._a
        return tuple(x._view_of(a[(slice(None),) * d + (i,)]) for i in range(a.shape[d]))

    @staticmethod
    def backward(ctx, *grads):
        return stack(grads, ctx.d), None


def unbind(input, dim: int = 0):
    d = wrap_dim(dim, input._a.ndim, "unbind")
    return Unbind.apply(input, d)
