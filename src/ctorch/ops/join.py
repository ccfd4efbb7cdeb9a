"""Joining and splitting (cat, stack, split, chunk, unbind) and the ops that copy data into a
new arrangement (flip, roll, rot90, repeat, tile, repeat_interleave, tril/triu, diagonal,
diag, diag_embed, trace, meshgrid, expand_copy).

Split from ``shape.py`` (issue #10), which keeps the views these are built on.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _memfmt as MF
from .. import _warnings
from .._backend import contiguous, cpu_kernels, xp_of
from .._core._smallops import join_small as _join_small
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import as_tensor_arg, check_same_device, dims_tuple, make_contiguous, wrap_dim
from .shape import _as_strided, _shape_args, _view_op, copy_op, expand, narrow, unsqueeze

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


def split(tensor, split_size_or_sections, dim: int = 0):
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


def flip(input, dims, *more):
    if more:  # t.flip(0, 2) as torch accepts
        dims = (dims, *more)
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    axes = dims_tuple(dims, input._a.ndim, "flip")
    xp = xp_of(input._a)
    return copy_op(
        input,
        lambda a: _flip_array(xp, a, axes),
        lambda g: g.flip(axes),
        "FlipBackward0",
    )


def _flip_array(xp, a, axes):
    """``a`` flipped along ``axes`` into a new array laid out as ``empty_like(a)``
    (torch's TensorIterator keeps a channels-last or permuted input's layout)."""
    if MF.plain_c(a):
        return xp.flip(a, axes).copy()
    out = MF.empty_like_array(a, MF.preserve_format)
    out[...] = xp.flip(a, axes)
    return out


def fliplr(input):
    if input._a.ndim < 2:
        raise RuntimeError("Input must be >= 2-d.")
    return flip(input, (1,))


def flipud(input):
    if input._a.ndim < 1:
        raise RuntimeError("Input must be >= 1-d.")
    return flip(input, (0,))


def roll(input, shifts, dims=None):
    xp = xp_of(input._a)
    if dims is None:
        flat = input.flatten()
        r = roll(flat, shifts, 0)
        return r.view(input._a.shape)
    if isinstance(shifts, numbers.Integral):
        shifts = (shifts,)
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    dims = tuple(wrap_dim(d, input._a.ndim) for d in dims)
    neg = tuple(-s for s in shifts)
    return copy_op(
        input,
        # torch's roll: C order, or channels-last for a channels-last input
        lambda a: MF.like_input(contiguous(xp.roll(a, shifts, dims)), a),
        lambda g: g.roll(neg, dims),
        "RollBackward0",
    )


def rot90(input, k=1, dims=(0, 1)):
    xp = xp_of(input._a)
    return copy_op(
        input, lambda a: xp.rot90(a, k, dims).copy(), lambda g: g.rot90(-k, dims), "Rot90Backward0"
    )


def repeat(input, *sizes):
    sizes = _shape_args(sizes, "repeat")
    a = input._a
    if len(sizes) < a.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    shp = (1,) * (len(sizes) - a.ndim) + a.shape
    pairs = [n for r, s in zip(sizes, shp, strict=True) for n in (r, s)]
    ishape = a.shape  # the backward keeps the shape, not the input's buffer

    def fwd(arr):
        return xp_of(arr).tile(arr.reshape(shp), sizes)

    def bwd(g):  # each output tile adds into the input: sum over the repeat axes
        return g.reshape(pairs).sum(tuple(range(0, len(pairs), 2))).reshape(ishape)

    return copy_op(input, fwd, bwd, "RepeatBackward0")


def tile(input, *dims):
    """``Tensor.tile``: like torch's method, takes a tuple, several ints or one int."""
    if len(dims) == 1 and not isinstance(dims[0], int):
        dims = dims[0]
    dims = tuple(int(d) for d in dims)
    if len(dims) < input._a.ndim:
        dims = (1,) * (input._a.ndim - len(dims)) + dims
    return repeat(input, dims)


def tile_function(input, dims):
    """``torch.tile(input, dims)``: torch's function wants a sequence of ints, not an int."""
    if isinstance(dims, int) or (isinstance(dims, Tensor) and dims.dim() == 0):
        raise TypeError(
            f"tile(): argument 'dims' (position 2) must be tuple of ints, not {type(dims).__name__}"
        )
    return tile(input, tuple(dims))


def repeat_interleave(input, repeats, dim=None):
    if dim is None:
        input = input.flatten()
        dim = 0
    d = wrap_dim(dim, input._a.ndim)
    xp = xp_of(input._a)
    if isinstance(repeats, Tensor):
        reps = repeats._a
    else:
        reps = int(repeats)
    if hasattr(reps, "any"):  # (torch's two messages: a tensor of repeats, a number)
        if (reps < 0).any():
            raise RuntimeError("repeats can not be negative")
    elif reps < 0:
        raise RuntimeError("Repeats must be non-negative")
    idx = xp.repeat(xp.arange(input._a.shape[d]), reps)
    from .indexing import index_select

    return index_select(input, d, _wrap(idx.astype(np.int64)))


class _TriFn(Function):
    _node_name = "TrilBackward0"

    @staticmethod
    def forward(ctx, x, k, upper):
        ctx.k, ctx.upper = k, upper
        xp = xp_of(x._a)
        return _wrap((xp.triu if upper else xp.tril)(x._a, k))

    @staticmethod
    def backward(ctx, g):
        return (triu if ctx.upper else tril)(g, ctx.k), None, None


def tril(input, diagonal: int = 0):
    if input._a.ndim < 2:
        raise RuntimeError("tril: input tensor must have at least 2 dimensions")
    return _TriFn.apply(input, diagonal, False)


class _TriuFn(_TriFn):
    _node_name = "TriuBackward0"


def triu(input, diagonal: int = 0):
    if input._a.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    return _TriuFn.apply(input, diagonal, True)


def _diagonal_view(a, offset: int, d1: int, d2: int):
    """The (writable, as torch's) strided view of ``a``'s diagonal: NumPy's ``diagonal``
    returns a read-only one, so ``x.diagonal().zero_()`` could not write through."""
    xp = xp_of(a)
    m = xp.moveaxis(a, (d1, d2), (-2, -1))
    m = m[..., :, offset:] if offset >= 0 else m[..., -offset:, :]
    n = max(min(m.shape[-2], m.shape[-1]), 0)
    return _as_strided(m, m.shape[:-2] + (n,), m.strides[:-2] + (m.strides[-2] + m.strides[-1],))


def diagonal(input, offset=0, dim1=0, dim2=1):
    nd = input._a.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    shape = input._a.shape
    return _view_op(
        input,
        lambda a: _diagonal_view(a, offset, d1, d2),
        lambda g: _DiagEmbed.apply(g, shape, offset, d1, d2),
        "DiagonalBackward0",
    )


class _DiagEmbed(Function):
    _node_name = "DiagEmbedBackward0"

    @staticmethod
    def forward(ctx, g, shape, offset, d1, d2):
        xp = xp_of(g._a)
        z = xp.zeros(shape, g._a.dtype)
        # write the diagonal through an index grid
        n = g._a.shape[-1]
        i = xp.arange(n)
        r, c = (i, i + offset) if offset >= 0 else (i - offset, i)
        zz = xp.moveaxis(z, (d1, d2), (-2, -1))
        zz[..., r, c] = g._a
        ctx.args = (offset, d1, d2)
        return _wrap(z)

    @staticmethod
    def backward(ctx, gg):
        o, d1, d2 = ctx.args
        return diagonal(gg, o, d1, d2), None, None, None, None


def diag(input, diagonal_: int = 0):
    xp = xp_of(input._a)
    if input._a.ndim == 1:
        n = input._a.shape[0] + abs(diagonal_)
        return _DiagEmbed.apply(input, (n, n), diagonal_, 0, 1)
    if input._a.ndim != 2:
        xp.diag(input._a, diagonal_)  # NumPy's ValueError for 0-d and >2-d input, as before
    return diagonal(input, diagonal_).clone()


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input._a.shape[-1] + abs(offset)
    shape = input._a.shape[:-1] + (n, n)
    return _DiagEmbed.apply(input, shape, offset, len(shape) - 2, len(shape) - 1)


def trace(input):
    if input._a.dtype.kind == "b":
        raise NotImplementedError("\"trace\" not implemented for 'Bool'")
    if input._a.ndim != 2:
        raise RuntimeError(f"trace: expected a matrix, but got tensor with dim {input._a.ndim}")
    shape = input._a.shape

    def bwd(g):  # g on the diagonal (torch's trace_backward)
        return _DiagEmbed.apply(g.expand(min(shape)), shape, 0, 0, 1)

    def fwd(a):
        # integers sum into int64 as torch's (NumPy would give uint64 for uint8/uint16)
        dt = np.int64 if a.dtype.kind in "iu" else None
        return xp_of(a).asarray(xp_of(a).trace(a, dtype=dt))

    return copy_op(input, fwd, bwd, "TraceBackward0")


def meshgrid(*tensors, indexing=None):
    if indexing is None:
        _warnings.warn_once(
            "meshgrid",
            "torch.meshgrid: in an upcoming release, it will be required to pass the indexing "
            "argument.",
        )
        indexing = "ij"
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    shape = [t._a.shape[0] if t.ndim else 1 for t in tensors]
    if indexing == "xy" and len(tensors) >= 2:
        shape[0], shape[1] = shape[1], shape[0]
    out = []
    for i, t in enumerate(tensors):
        v = [1] * len(tensors)
        j = i
        if indexing == "xy" and len(tensors) >= 2 and i < 2:
            j = 1 - i
        v[j] = -1
        out.append(t.reshape(v).expand(shape))
    return tuple(out)


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:
    """``input.expand(size)`` as a new contiguous tensor."""
    return expand(input, size).clone()
