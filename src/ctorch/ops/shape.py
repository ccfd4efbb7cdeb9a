"""Shape ops. Views (view, reshape when possible, transpose, permute, expand, squeeze,
unsqueeze, narrow, slicing) share the storage and the version counter of their input."""

from __future__ import annotations

import math
import numbers

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._dispatch import xp_of
from ._util import as_tensor_arg, check_same_device, dims_tuple, wrap_dim

_wrap = Tensor._make


def _shape_args(args, op):
    if len(args) == 1 and isinstance(args[0], (tuple, list)):
        args = tuple(args[0])
    out = []
    for s in args:
        if isinstance(s, Tensor):
            s = int(s.item())
        elif not isinstance(s, numbers.Integral):
            raise TypeError(
                f"{op}(): argument 'size' must be tuple of ints, but found element of type {type(s).__name__}"
            )
        out.append(int(s))
    return tuple(out)


def infer_shape(shape, numel, op="view"):
    neg = [i for i, s in enumerate(shape) if s == -1]
    if len(neg) > 1:
        raise RuntimeError("only one dimension can be inferred")
    if any(s < -1 for s in shape):
        raise RuntimeError(f"invalid shape dimension {min(shape)}")
    if neg:
        rest = math.prod(s for s in shape if s != -1)
        if rest == 0 or numel % rest:
            raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
        shape = tuple(numel // rest if s == -1 else s for s in shape)
    elif math.prod(shape) != numel:
        raise RuntimeError(f"shape '{list(shape)}' is invalid for input of size {numel}")
    return shape


def _view_array(a, shape):
    if a.shape == shape:
        return a.view()
    if type(a) is np.ndarray:
        try:
            return np.reshape(a, shape, copy=False)
        except TypeError:  # NumPy < 2.1
            v = a.view()
            v.shape = shape
            return v
    if a.flags.c_contiguous:
        return a.reshape(shape)
    v = a.view()
    v.shape = shape
    return v


class _ViewFn(Function):
    """Generic view op: forward maps the array, backward maps the gradient."""

    @staticmethod
    def forward(ctx, x, fwd, bwd, name):
        ctx.bwd = bwd
        return x._view_of(fwd(x._a))

    @staticmethod
    def backward(ctx, g):
        return ctx.bwd(g), None, None, None


def _make_view_fn(node):
    return type(node.replace("Backward0", ""), (_ViewFn,), {"_node_name": node})


_VIEW_FNS = {}


def _view_op(x, fwd, bwd, node):
    if state.enabled and x._rg:
        cls = _VIEW_FNS.get(node)
        if cls is None:
            cls = _VIEW_FNS[node] = _make_view_fn(node)
        return cls.apply(x, fwd, bwd, node)
    return x._view_of(fwd(x._a))


def view(input, *shape):
    if len(shape) == 1 and not isinstance(shape[0], (tuple, list, numbers.Integral, Tensor)):
        from .. import _dtype as D

        dt = D._as_dtype(shape[0])
        return _wrap(input._a.view(D.to_numpy_dtype(dt)))
    shape = infer_shape(_shape_args(shape, "view"), input._a.size)
    a = input._a
    try:
        _view_array(a, shape)
    except (ValueError, AttributeError):
        raise RuntimeError(
            "view size is not compatible with input tensor's size and stride (at least one "
            "dimension spans across two contiguous subspaces). Use .reshape(...) instead."
        ) from None
    old = a.shape
    return _view_op(
        input, lambda a: _view_array(a, shape), lambda g: g.reshape(old), "ViewBackward0"
    )


def reshape(input, *shape):
    shape = infer_shape(_shape_args(shape, "reshape"), input._a.size, "reshape")
    a = input._a
    old = a.shape
    try:
        _view_array(a, shape)
        return _view_op(
            input, lambda a: _view_array(a, shape), lambda g: g.reshape(old), "ViewBackward0"
        )
    except (ValueError, AttributeError):
        pass
    xp = xp_of(a)
    if state.enabled and input._rg:
        return _Copy.apply(
            input, lambda a: xp.reshape(a, shape), lambda g: g.reshape(old), "ReshapeAliasBackward0"
        )
    return _wrap(xp.reshape(a, shape))


class _Copy(Function):
    _node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, fwd, bwd, name):
        ctx.bwd = bwd
        return _wrap(fwd(x._a))

    @staticmethod
    def backward(ctx, g):
        return ctx.bwd(g), None, None, None


def view_as(input, other):
    return view(input, other._a.shape)


def reshape_as(input, other):
    return reshape(input, other._a.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    nd = input._a.ndim
    if nd == 0:
        return reshape(input, (1,))
    s = wrap_dim(start_dim, nd, "flatten")
    e = wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    shp = input._a.shape
    return reshape(input, shp[:s] + (math.prod(shp[s : e + 1]),) + shp[e + 1 :])


def unflatten(input, dim, sizes):
    nd = input._a.ndim
    d = wrap_dim(dim, nd, "unflatten")
    shp = input._a.shape
    sizes = tuple(sizes)
    sizes = infer_shape(sizes, shp[d], "unflatten")
    return (
        view(input, shp[:d] + sizes + shp[d + 1 :])
        if input._a.flags.c_contiguous
        else reshape(input, shp[:d] + sizes + shp[d + 1 :])
    )


def transpose(input, dim0: int, dim1: int):
    nd = input._a.ndim
    if nd == 0:
        return _view_op(input, lambda a: a.view(), lambda g: g, "TransposeBackward0")
    d0 = wrap_dim(dim0, nd, "transpose")
    d1 = wrap_dim(dim1, nd, "transpose")
    if d0 == d1:
        return _view_op(input, lambda a: a.view(), lambda g: g, "TransposeBackward0")
    return _view_op(
        input, lambda a: a.swapaxes(d0, d1), lambda g: g.transpose(d0, d1), "TransposeBackward0"
    )


swapaxes = transpose
swapdims = transpose


def t(input):
    nd = input._a.ndim
    if nd > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {nd}D")
    if nd < 2:
        return _view_op(input, lambda a: a.view(), lambda g: g, "TBackward0")
    return _view_op(input, lambda a: a.T, lambda g: g.t(), "TBackward0")


def adjoint(input):
    return transpose(input, -2, -1)


def permute(input, *dims):
    dims = _shape_args(dims, "permute")
    nd = input._a.ndim
    if len(dims) != nd:
        raise RuntimeError(
            f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
            f"length of the desired ordering of dimensions i.e. input.dim() = {nd} is not equal "
            f"to len(dims) = {len(dims)}"
        )
    dims = tuple(wrap_dim(d, nd, "permute") for d in dims)
    if len(set(dims)) != nd:
        raise RuntimeError("permute(): duplicate dims are not allowed.")
    inv = tuple(np.argsort(dims).tolist())
    return _view_op(
        input, lambda a: a.transpose(dims), lambda g: g.permute(inv), "PermuteBackward0"
    )


def movedim(input, source, destination):
    nd = input._a.ndim
    src = [wrap_dim(s, nd) for s in (source if isinstance(source, (tuple, list)) else [source])]
    dst = [
        wrap_dim(s, nd)
        for s in (destination if isinstance(destination, (tuple, list)) else [destination])
    ]
    order = [i for i in range(nd) if i not in src]
    for d, s in sorted(zip(dst, src, strict=False)):
        order.insert(d, s)
    return permute(input, order)


moveaxis = movedim


def squeeze(input, dim=None):
    a = input._a
    nd = a.ndim
    if dim is None:
        axes = tuple(i for i, s in enumerate(a.shape) if s == 1)
    else:
        axes = tuple(i for i in dims_tuple(dim, nd, "squeeze") if nd and a.shape[i] == 1)
    if not axes:
        return _view_op(input, lambda a: a.view(), lambda g: g, "SqueezeBackward0")
    old = a.shape
    return _view_op(input, lambda a: a.squeeze(axes), lambda g: g.reshape(old), "SqueezeBackward0")


def unsqueeze(input, dim: int):
    nd = input._a.ndim
    d = wrap_dim(dim, nd + 1, "unsqueeze")
    xp = xp_of(input._a)
    return _view_op(
        input, lambda a: xp.expand_dims(a, d), lambda g: g.squeeze(d), "UnsqueezeBackward0"
    )


def expand(input, *sizes):
    sizes = _shape_args(sizes, "expand")
    a = input._a
    nd = a.ndim
    if len(sizes) < nd:
        raise RuntimeError(
            f"expand({input.type()}{{{list(a.shape)}}}, size={list(sizes)}): the number of sizes "
            f"provided ({len(sizes)}) must be greater or equal to the number of dimensions in the "
            f"tensor ({nd})"
        )
    lead = len(sizes) - nd
    target = []
    for i, s in enumerate(sizes):
        if i < lead:
            if s < 0:
                raise RuntimeError("expand: -1 is not allowed in a leading, non-existing dimension")
            target.append(s)
        else:
            cur = a.shape[i - lead]
            if s == -1:
                s = cur
            if cur != s and cur != 1:
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) must match the existing size ({cur}) "
                    f"at non-singleton dimension {i}.  Target sizes: {list(sizes)}.  Tensor sizes: "
                    f"{list(a.shape)}"
                )
            target.append(s)
    target = tuple(target)
    if target == a.shape:
        return _view_op(input, lambda a: a.view(), lambda g: g, "ExpandBackward0")
    old = a.shape
    xp = xp_of(a)
    from ._util import sum_to_shape

    return _view_op(
        input,
        lambda a: xp.broadcast_to(a, target),
        lambda g: sum_to_shape(g, old),
        "ExpandBackward0",
    )


def expand_as(input, other):
    return expand(input, other._a.shape)


def broadcast_to(input, shape):
    return expand(input, shape)


def broadcast_tensors(*tensors):
    shape = np.broadcast_shapes(*(t._a.shape for t in tensors))
    return tuple(expand(t, shape) for t in tensors)


def broadcast_shapes(*shapes):
    from .._size import Size

    return Size(np.broadcast_shapes(*shapes))


def narrow(input, dim: int, start, length: int):
    nd = input._a.ndim
    d = wrap_dim(dim, nd, "narrow")
    size = input._a.shape[d]
    start = int(start)
    if start < 0:
        start += size
    if not (0 <= start <= size) or length < 0 or start + length > size:
        raise RuntimeError(f"start ({start}) + length ({length}) exceeds dimension size ({size}).")
    idx = (slice(None),) * d + (slice(start, start + length),)
    return input[idx]


def contiguous(input, memory_format=None):
    if input._a.flags.c_contiguous:
        return input
    xp = xp_of(input._a)
    if state.enabled and input._rg:
        return _Copy.apply(input, xp.ascontiguousarray, lambda g: g, "CloneBackward0")
    return _wrap(xp.ascontiguousarray(input._a))


def clone(input, *, memory_format=None):
    if state.enabled and input._rg:
        return _Copy.apply(input, lambda a: a.copy(), lambda g: g, "CloneBackward0")
    return _wrap(input._a.copy())


# ------------------------------------------------------------------ joining / splitting
class Cat(Function):
    _node_name = "CatBackward0"

    @staticmethod
    def forward(ctx, ax, *tensors):
        xp = xp_of(tensors[0]._a)
        ctx.ax = ax
        ctx.sizes = [t._a.shape[ax] for t in tensors]
        from .. import _dtype as D

        dt = tensors[0]._a.dtype
        for t in tensors[1:]:
            if t._a.dtype != dt:
                dt = D.to_numpy_dtype(D.promote_types(D.from_numpy_dtype(dt), t.dtype))
        return _wrap(xp.concatenate([t._a.astype(dt, copy=False) for t in tensors], axis=ax))

    @staticmethod
    def backward(ctx, g):
        outs = []
        o = 0
        for s in ctx.sizes:
            outs.append(narrow(g, ctx.ax, o, s))
            o += s
        return (None, *outs)


def cat(tensors, dim: int = 0, *, out=None):
    tensors = list(tensors)
    if not tensors:
        raise RuntimeError("torch.cat(): expected a non-empty list of Tensors")
    tensors = [as_tensor_arg(t, None, "cat") for t in tensors]
    # legacy: 1-D empty tensors are skipped
    nonempty = [t for t in tensors if not (t._a.ndim == 1 and t._a.shape[0] == 0)]
    if not nonempty:
        return tensors[0].clone()
    tensors = nonempty
    check_same_device("cat", *tensors)
    nd = tensors[0]._a.ndim
    if nd == 0:
        raise RuntimeError("zero-dimensional tensor (at position 0) cannot be concatenated")
    ax = wrap_dim(dim, nd, "cat")
    ref = tensors[0]._a.shape
    for i, t in enumerate(tensors):
        s = t._a.shape
        if len(s) != nd:
            raise RuntimeError(
                f"Tensors must have same number of dimensions: got {nd} and {len(s)}"
            )
        for d in range(nd):
            if d != ax and s[d] != ref[d]:
                raise RuntimeError(
                    f"Sizes of tensors must match except in dimension {ax}. Expected size "
                    f"{ref[d]} but got size {s[d]} for tensor number {i} in the list."
                )
    if state.enabled and any(t._rg for t in tensors):
        r = Cat.apply(ax, *tensors)
    else:
        r = Cat.forward(_C(), ax, *tensors)
    if out is not None:
        from .binary import _out

        return _out(out, r)
    return r


concat = cat
concatenate = cat


class _C:
    pass


def stack(tensors, dim: int = 0, *, out=None):
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
    return cat([unsqueeze(t, d) for t in tensors], d, out=out)


def hstack(tensors):
    tensors = [atleast_1d(t) for t in tensors]
    return cat(tensors, 0 if tensors[0].ndim == 1 else 1)


def vstack(tensors):
    return cat([atleast_2d(t) for t in tensors], 0)


row_stack = vstack


def dstack(tensors):
    return cat([atleast_3d(t) for t in tensors], 2)


def column_stack(tensors):
    ts = [t.reshape(-1, 1) if t.ndim <= 1 else t for t in tensors]
    return cat(ts, 1)


def atleast_1d(t):
    return t.reshape(1) if t.ndim == 0 else t


def atleast_2d(t):
    return t.reshape(1, -1) if t.ndim < 2 else t


def atleast_3d(t):
    if t.ndim == 0:
        return t.reshape(1, 1, 1)
    if t.ndim == 1:
        return t.reshape(1, -1, 1)
    if t.ndim == 2:
        return t.unsqueeze(-1)
    return t


def split(tensor, split_size_or_sections, dim: int = 0):
    d = wrap_dim(dim, tensor._a.ndim, "split")
    n = tensor._a.shape[d]
    if isinstance(split_size_or_sections, numbers.Integral):
        s = int(split_size_or_sections)
        if s <= 0 and n > 0:
            raise RuntimeError(f"split expects split_size be non-negative, but got split_size={s}")
        sizes = [min(s, n - i) for i in range(0, n, s)] if s > 0 else [0]
    else:
        sizes = [int(x) for x in split_size_or_sections]
        if sum(sizes) != n:
            raise RuntimeError(
                f"split_with_sizes expects split_sizes to sum exactly to {n} (input tensor's size "
                f"at dimension {d}), but got split_sizes={sizes}"
            )
    out = []
    o = 0
    for s in sizes:
        out.append(narrow(tensor, d, o, s))
        o += s
    return tuple(out)


def tensor_split(input, indices_or_sections, dim=0):
    d = wrap_dim(dim, input._a.ndim)
    n = input._a.shape[d]
    if isinstance(indices_or_sections, numbers.Integral):
        k = int(indices_or_sections)
        q, r = divmod(n, k)
        sizes = [q + 1] * r + [q] * (k - r)
        return split(input, sizes, d)
    idx = [0, *list(indices_or_sections), n]
    return tuple(
        narrow(input, d, idx[i], max(0, min(idx[i + 1], n) - idx[i])) for i in range(len(idx) - 1)
    )


def chunk(input, chunks: int, dim: int = 0):
    if chunks <= 0:
        raise RuntimeError("chunk expects `chunks` to be greater than 0, got: 0")
    d = wrap_dim(dim, input._a.ndim, "chunk")
    n = input._a.shape[d]
    s = -(-n // chunks) if n else 1
    return split(input, s if n else 0, d) if n else tuple(input for _ in range(1))


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
    if state.enabled and input._rg:
        return Unbind.apply(input, d)
    a = input._a
    return tuple(input._view_of(a[(slice(None),) * d + (i,)]) for i in range(a.shape[d]))


def select(input, dim: int, index: int):
    d = wrap_dim(dim, input._a.ndim, "select")
    n = input._a.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input._a.shape)} at dimension {d}"
        )
    return input[(slice(None),) * d + (index,)]


def flip(input, dims, *more):
    if more:  # t.flip(0, 2) as torch accepts
        dims = (dims, *more)
    if isinstance(dims, numbers.Integral):
        dims = (dims,)
    axes = dims_tuple(dims, input._a.ndim, "flip")
    xp = xp_of(input._a)
    if state.enabled and input._rg:
        return _Copy.apply(
            input, lambda a: xp.flip(a, axes).copy(), lambda g: g.flip(axes), "FlipBackward0"
        )
    return _wrap(xp.flip(input._a, axes).copy())


def fliplr(input):
    return flip(input, (1,))


def flipud(input):
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
    if state.enabled and input._rg:
        return _Copy.apply(
            input, lambda a: xp.roll(a, shifts, dims), lambda g: g.roll(neg, dims), "RollBackward0"
        )
    return _wrap(xp.roll(input._a, shifts, dims))


def rot90(input, k=1, dims=(0, 1)):
    xp = xp_of(input._a)
    if state.enabled and input._rg:
        return _Copy.apply(
            input,
            lambda a: xp.rot90(a, k, dims).copy(),
            lambda g: g.rot90(-k, dims),
            "Rot90Backward0",
        )
    return _wrap(xp.rot90(input._a, k, dims).copy())


def repeat(input, *sizes):
    sizes = _shape_args(sizes, "repeat")
    a = input._a
    if len(sizes) < a.ndim:
        raise RuntimeError(
            "Number of dimensions of repeat dims can not be smaller than number of dimensions of tensor"
        )
    lead = len(sizes) - a.ndim
    x = input.reshape((1,) * lead + a.shape) if lead else input
    shp = x._a.shape
    # repeat = expand on interleaved singleton dims, then reshape
    inter = []
    exp = []
    for r, s in zip(sizes, shp, strict=False):
        inter += [1, s]
        exp += [r, s]
    y = x.reshape(inter).expand(exp)
    return y.reshape(tuple(r * s for r, s in zip(sizes, shp, strict=False)))


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
    if state.enabled and input._rg:
        return _TriFn.apply(input, diagonal, False)
    return _wrap(xp_of(input._a).tril(input._a, diagonal))


def triu(input, diagonal: int = 0):
    if input._a.ndim < 2:
        raise RuntimeError("triu: input tensor must have at least 2 dimensions")
    if state.enabled and input._rg:
        return _TriFn.apply(input, diagonal, True)
    return _wrap(xp_of(input._a).triu(input._a, diagonal))


def diagonal(input, offset=0, dim1=0, dim2=1):
    xp = xp_of(input._a)
    nd = input._a.ndim
    d1, d2 = wrap_dim(dim1, nd), wrap_dim(dim2, nd)
    if state.enabled and input._rg:
        shape = input._a.shape

        def bwd(g):
            return _DiagEmbed.apply(g, shape, offset, d1, d2)

        return _Copy.apply(
            input, lambda a: xp.diagonal(a, offset, d1, d2).copy(), bwd, "DiagonalBackward0"
        )
    return _wrap(xp.diagonal(input._a, offset, d1, d2))


class _DiagEmbed(Function):
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
        if state.enabled and input._rg:
            return _DiagEmbed.apply(input, (n, n), diagonal_, 0, 1)
        return _wrap(xp.diag(input._a, diagonal_))
    return (
        diagonal(input, diagonal_).clone()
        if state.enabled and input._rg
        else _wrap(xp.diag(input._a, diagonal_).copy())
    )


def diag_embed(input, offset=0, dim1=-2, dim2=-1):
    n = input._a.shape[-1] + abs(offset)
    shape = input._a.shape[:-1] + (n, n)
    return (
        _DiagEmbed.apply(input, shape, offset, len(shape) - 2, len(shape) - 1)
        if state.enabled and input._rg
        else _DiagEmbed.forward(_C(), input, shape, offset, len(shape) - 2, len(shape) - 1)
    )


def trace(input):
    return diagonal(input).sum()


def meshgrid(*tensors, indexing="ij"):
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
