"""Copies into a new arrangement: flip/fliplr/flipud, roll, rot90, repeat, tile,
repeat_interleave, tril/triu, diagonal (a view), diag, diag_embed, trace, meshgrid,
expand_copy. Split out of ``join.py`` (issue #10), which keeps joining and splitting."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from .. import _memfmt as MF
from .. import _warnings
from .._backend import contiguous, xp_of
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import dims_tuple, wrap_dim
from .binary import _scalar_name
from .shape import _as_strided, _shape_args, _view_op, copy_op, expand

_wrap = Tensor._make


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
    """torch.rot90 with torch's checks and result layout: an odd number of quarter turns is
    the input flipped along one of ``dims`` (a contiguous copy) with the two dims swapped, so
    the result is that copy's transposed view (strides (1, 3) for a 2x3 input), as torch's
    flip().transpose_(); an even number is a contiguous copy."""
    a = input._a
    dims = tuple(dims)
    if len(dims) != 2:
        raise RuntimeError(f"expected total rotation dims == 2, but got dims = {len(dims)}")
    if a.ndim < 2:
        raise RuntimeError(f"expected total dims >= 2, but got total dims = {a.ndim}")
    d0, d1 = wrap_dim(dims[0], a.ndim), wrap_dim(dims[1], a.ndim)
    if d0 == d1:
        raise RuntimeError(
            f"expected rotation dims to be different, but got dim0 = {d0} and dim1 = {d1}"
        )
    kk = int(k) % 4
    xp = xp_of(a)

    def fwd(arr):
        if kk % 2 == 0:
            return (xp.flip(arr, (d0, d1)) if kk else arr).copy()
        return xp.ascontiguousarray(xp.flip(arr, d1 if kk == 1 else d0)).swapaxes(d0, d1)

    return copy_op(input, fwd, lambda g: g.rot90(-kk, (d0, d1)), "Rot90Backward0")


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


def repeat_interleave(input, repeats=None, dim=None, *, output_size: int | None = None):
    """``torch.repeat_interleave``; ``output_size`` is the result's length along ``dim``
    (checked against the repeats; needed on the meta device for a meta tensor of repeats,
    whose sum the shape depends on). With one tensor argument, ``repeat_interleave(repeats)``:
    each index ``i`` of the 1-D ``repeats`` repeated ``repeats[i]`` times."""
    from .indexing import index_select

    if repeats is None:
        if not isinstance(input, Tensor):
            raise TypeError(
                f"repeat_interleave(): argument 'repeats' must be Tensor, not {type(input).__name__}"
            )
        if input._a.ndim != 1:
            raise RuntimeError("repeat_interleave only accept 1D vector as repeat")
        if input._a.dtype.kind not in "iu":
            raise NotImplementedError(
                f"\"repeat_interleave_cpu\" not implemented for '{_scalar_name(input._a.dtype)}'"
            )
        idx = _wrap(xp_of(input._a).arange(input._a.shape[0], dtype=np.int64))
        return repeat_interleave(idx, input, 0, output_size=output_size)

    if dim is None:
        input = input.flatten()
        dim = 0
    d = wrap_dim(dim, input._a.ndim)
    xp = xp_of(input._a)
    if isinstance(repeats, Tensor):
        reps = repeats._a
    else:
        reps = int(repeats)
    if type(reps) is MetaArray:  # the meta device: no repeats to add up (torch's error)
        if output_size is None:
            raise RuntimeError("cannot repeat_interleave a meta tensor without output_size")
        return index_select(input, d, _wrap(MetaArray((int(output_size),), np.int64)))
    if hasattr(reps, "any"):  # (torch's two messages: a tensor of repeats, a number)
        if (reps < 0).any():
            raise RuntimeError("repeats can not be negative")
    elif reps < 0:
        raise RuntimeError("Repeats must be non-negative")
    if output_size is not None:
        n = input._a.shape[d]
        if not hasattr(reps, "any"):  # a number of repeats
            expected = n * int(reps)
            if int(output_size) != expected:
                raise RuntimeError(
                    f"repeat_interleave: Invalid output_size, expected {expected} but got "
                    f"{int(output_size)}"
                )
        elif int(reps.sum()) * (n if reps.size == 1 else 1) != int(output_size):
            raise RuntimeError("allocated size does not match required size")
    idx = xp.repeat(xp.arange(input._a.shape[d]), reps)
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
