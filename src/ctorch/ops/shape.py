"""Views: view, reshape (a view when possible), transpose, permute, squeeze, unsqueeze,
expand, narrow, select, ``Tensor.unfold``, plus the copies a reshape falls back to
(contiguous, clone). A view shares the storage and the version counter of its input.

Joining, splitting and ops that copy data into a new arrangement (cat, stack, split, flip,
roll, repeat, tril, diag, ...) are ``join.py`` (issue #10 split them out of this module).
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _memfmt as MF
from .._backend import xp_of
from .._core._smallops import expand_shape as _expand_shape
from .._core._smallops import expand_view as _expand_view
from .._core._smallops import perm_dims as _perm_dims
from .._core._smallops import view_shape as _view_shape
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import dims_tuple, sum_to_shape, wrap_dim

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


def _named(base, node, cache={}):  # noqa: B006 (the cache is the point)
    """``base`` (a Function taking forward/backward callables) as a subclass whose graph node
    carries torch's name ``node``: one class per (base, name), made on first use."""
    cls = cache.get((base, node))
    if cls is None:
        cls = cache[(base, node)] = type(
            node[: node.rindex("Backward")], (base,), {"_node_name": node}
        )
    return cls


def _view_op(x, fwd, bwd, node):
    # Hot path (view/reshape/transpose/permute/squeeze/unsqueeze/expand/t/unfold): the
    # no-record branch stays spelled out here instead of going through ``Function.apply``.
    # Measured without grad, same process (tools/bench_views.py): apply adds ~0.6-6 us per
    # call (x.view(2, 2) on 4 elements, m.transpose(0, 1)), over issue #10's 0.3 us budget.
    if state.enabled and x._rg:
        return _named(_ViewFn, node).apply(x, fwd, bwd, node)
    return x._view_of(fwd(x._a))


def _plain_view(input, shape):
    """view/reshape's common case, or None: plain int sizes, nothing to record, and a
    contiguous array, which always reshapes to a view."""
    a = input._a
    if state.enabled and input._rg or not a.flags.c_contiguous:
        return None
    sh = _view_shape(shape, a.size)
    return None if sh is None else input._view_of(a.reshape(sh))


def view(input, *shape):
    r = _plain_view(input, shape)
    if r is not None:
        return r
    if not shape:
        raise TypeError(
            "view() received an invalid combination of arguments - got (), but expected one "
            "of:\n * (torch.dtype dtype)\n * (tuple of ints size)\n"
        )
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
    r = _plain_view(input, shape)
    if r is not None:
        return r
    if not shape:
        raise TypeError('reshape() missing 1 required positional arguments: "shape"')
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
    return copy_op(
        input, lambda a: xp.reshape(a, shape), lambda g: g.reshape(old), "ReshapeAliasBackward0"
    )


class _Copy(Function):
    """Generic copying op: forward maps the array to a new one, backward maps the gradient;
    ``copy_op`` names its node (torch's ``FlipBackward0``, ``RollBackward0``, ...). The
    callables come as keywords, so the node has one input, as torch's: ``next_functions``
    and a hook's ``grad_inputs`` hold the tensor's entry alone."""

    _node_name = "CloneBackward0"

    @staticmethod
    def forward(ctx, x, *, fwd, bwd):
        ctx.bwd = bwd
        return _wrap(fwd(x._a))

    @staticmethod
    def backward(ctx, g):
        return (ctx.bwd(g),)


def copy_op(x, fwd, bwd, node):
    return _named(_Copy, node).apply(x, fwd=fwd, bwd=bwd)


def view_as(input, other):
    return view(input, other._a.shape)


def reshape_as(input, other):
    return reshape(input, other._a.shape)


def flatten(input, start_dim: int = 0, end_dim: int = -1):
    a = input._a
    if (
        start_dim == 0
        and end_dim == -1
        and a.ndim > 1
        and not (state.enabled and input._rg)
        and a.flags.c_contiguous
    ):  # x.flatten() of a contiguous tensor, nothing to record: a view at once
        return input._view_of(a.reshape(-1))
    nd = input._a.ndim
    if nd == 0:  # dims 0 / -1 only (torch)
        wrap_dim(start_dim, 0, "flatten")
        wrap_dim(end_dim, 0, "flatten")
        return reshape(input, (1,))
    s = wrap_dim(start_dim, nd, "flatten")
    e = wrap_dim(end_dim, nd, "flatten")
    if s > e:
        raise RuntimeError("flatten() has invalid args: start_dim cannot come after end_dim")
    if s == e:  # torch returns the tensor itself (no view, no grad_fn): x.flatten() is x
        return input
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
    if not (state.enabled and input._rg):  # nothing to record: the view at once
        return input._view_of(input._a.swapaxes(d0, d1))
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
    if not (state.enabled and input._rg):  # nothing to record: the view at once
        return input._view_of(input._a.T)
    if nd < 2:
        return _view_op(input, lambda a: a.view(), lambda g: g, "TBackward0")
    return _view_op(input, lambda a: a.T, lambda g: g.t(), "TBackward0")


def adjoint(input):
    """``adjoint`` (function and Tensor method): the conjugate transpose of the last two dims;
    a 0-d tensor is returned as is (conjugated) with torch's deprecation warning."""
    from .complex import conj  # (ops.complex builds on this module)

    nd = input._a.ndim
    if nd == 0:
        from .. import _warnings

        _warnings.warn("adjoint() is deprecated on 0-D tensors. Consider using x.conj().")
        return conj(input) if input._a.dtype.kind == "c" else input
    if nd == 1:
        raise RuntimeError(
            "tensor.adjoint() is only supported on matrices or batches of matrices. Got 1-D tensor."
        )
    t = transpose(input, -2, -1)
    return conj(t) if input._a.dtype.kind == "c" else t


def permute(input, *dims):
    order = _perm_dims(dims, input._a.ndim)
    if order is not None and not (state.enabled and input._rg):
        return input._view_of(input._a.transpose(order))  # plain dims, nothing to record
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
    if not (state.enabled and input._rg):  # nothing to record: at once
        if dim is None:
            return input._view_of(a.squeeze())
        nd = a.ndim
        if type(dim) is int and -nd <= dim < nd:  # (wrap_dim's common case, inline)
            d = dim if dim >= 0 else dim + nd
            return input._view_of(a.squeeze(d) if a.shape[d] == 1 else a.view())
    nd = a.ndim
    # torch's node names: no dim SqueezeBackward0, one int SqueezeBackward1, a sequence 2
    if dim is None:
        axes = tuple(i for i, s in enumerate(a.shape) if s == 1)
        node = "SqueezeBackward0"
    else:
        axes = tuple(i for i in dims_tuple(dim, nd, "squeeze") if nd and a.shape[i] == 1)
        node = "SqueezeBackward1" if isinstance(dim, numbers.Integral) else "SqueezeBackward2"
    if not axes:
        return _view_op(input, lambda a: a.view(), lambda g: g, node)
    old = a.shape
    return _view_op(input, lambda a: a.squeeze(axes), lambda g: g.reshape(old), node)


def unsqueeze(input, dim: int):
    a = input._a
    nd = a.ndim
    if type(dim) is int and -nd - 1 <= dim <= nd:  # (wrap_dim's common case, inline)
        d = dim if dim >= 0 else dim + nd + 1
    else:
        d = wrap_dim(dim, nd + 1, "unsqueeze")
    shape = a.shape[:d] + (1,) + a.shape[d:]  # (a reshape adding a 1 never copies)
    if not (state.enabled and input._rg):
        return input._view_of(a.reshape(shape))
    return _view_op(input, lambda a: a.reshape(shape), lambda g: g.squeeze(d), "UnsqueezeBackward0")


def expand(input, *sizes):
    a = input._a
    if not (state.enabled and input._rg):
        target = _expand_shape(sizes, a.shape)
        if target is not None:  # plain valid sizes, nothing to record
            if target == a.shape:
                return input._view_of(a.view())
            r = _expand_view(a, target)  # a C-contiguous NumPy array: built directly
            return input._view_of(r if r is not None else xp_of(a).broadcast_to(a, target))
    sizes = _shape_args(sizes, "expand")
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
                raise RuntimeError(
                    f"The expanded size of the tensor ({s}) isn't allowed in a leading, "
                    f"non-existing dimension {i}"
                )
            target.append(s)
        else:
            cur = a.shape[i - lead]
            if s == -1:
                s = cur
            elif s < 0:  # torch: "numel: integer multiplication overflow"; said plainly here
                raise RuntimeError(
                    f"expand: the size of dimension {i} must be -1 or non-negative, got {s}. "
                    f"Target sizes: {list(sizes)}.  Tensor sizes: {list(a.shape)}"
                )
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


def broadcast_to_method(self, *size):
    """``Tensor.broadcast_to``: like ``expand``, the sizes as one sequence or separately."""
    return expand(self, *size)


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


def contiguous(input, *, memory_format=None):  # (keyword-only, as torch)
    """``input`` itself when contiguous in ``memory_format`` (default ``contiguous_format``),
    else a copy laid out so (``channels_last``: 4-D only, ``channels_last_3d``: 5-D only)."""
    a = input._a
    if memory_format is None:
        if a.flags.c_contiguous:
            return input
        xp = xp_of(a)
        return copy_op(input, xp.ascontiguousarray, lambda g: g, "CloneBackward0")
    fmt = MF.as_format(memory_format)
    if MF.is_contiguous_as(a, fmt):
        return input
    if fmt is MF.preserve_format:
        raise RuntimeError("preserve memory format is unsupported by the contiguous operator")
    MF.like_strides(a, fmt)  # torch's rank error before anything else
    return copy_op(input, lambda a: MF.copy_as(a, fmt), lambda g: g, "CloneBackward0")


def clone(input, *, memory_format=None):
    """A copy of ``input``; ``preserve_format`` (the default) keeps a dense input's strides
    and a strided one's dim order (torch's ``empty_like`` rules)."""
    if memory_format is None:
        if not (state.enabled and input._rg) and _fn_mod._autocast is None:
            return _wrap(_clone_preserve(input._a))  # nothing to record: 1.9 -> 1.2 us
        return copy_op(input, _clone_preserve, _identity, "CloneBackward0")
    fmt = MF.as_format(memory_format)
    if fmt is not MF.preserve_format:
        MF.like_strides(input._a, fmt)  # torch's rank error before anything else
    return copy_op(input, lambda a: MF.copy_as(a, fmt), _identity, "CloneBackward0")


def _identity(g):
    return g


def _clone_preserve(a):
    if MF.plain_c(a):  # the common case first
        return a.copy()
    return MF.copy_as(a, MF.preserve_format)


def select(input, dim: int, index: int):
    d = wrap_dim(dim, input._a.ndim, "select")
    n = input._a.shape[d]
    if not -n <= index < n:
        raise IndexError(
            f"select(): index {index} out of range for tensor of size {list(input._a.shape)} at dimension {d}"
        )
    return input[(slice(None),) * d + (index,)]


# ------------------------------------------------------------------ Tensor.unfold
def _as_strided(a: Any, shape: tuple, strides: tuple) -> Any:
    xp = xp_of(a)
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=bool(a.flags.writeable))
    return xp.lib.stride_tricks.as_strided(a, shape, strides)  # pragma: no cover - GPU


def _unfold_backward_graph(g: Tensor, in_shape, dd: int, size: int, step: int, n: int) -> Tensor:
    """Gradient of ``Tensor.unfold`` from differentiable ops: window element k of window i
    goes back to position k + i * step (index_add along ``dd``)."""
    import ctorch

    shape = in_shape if in_shape else (1,)
    gx = ctorch.zeros(shape, dtype=g.dtype, device=g.device)
    if not in_shape:
        g = g.reshape((1, size))
    xp = xp_of(g._a)
    for k in range(size):
        pos = _wrap(xp.arange(k, k + step * (n - 1) + 1, step, dtype=np.int64))
        gx = gx.index_add(dd, pos, g.select(-1, k))
    return gx.reshape(in_shape)


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: a view of the windows of ``size`` elements, ``step`` apart, along
    ``dimension`` (a new last dimension holds each window). Differentiable: the gradient of
    overlapping windows adds up."""
    a = input._a
    nd = a.ndim
    d = wrap_dim(dimension, max(nd, 1), "unfold")
    L = a.shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > L:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {L} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    n = (L - size) // step + 1
    if nd == 0:
        shape, strides = (size,), (a.itemsize,)
    else:
        shape = a.shape[:d] + (n,) + a.shape[d + 1 :] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1 :] + (a.strides[d],)
    in_shape = a.shape

    def fwd(arr: Any) -> Any:
        return _as_strided(arr, shape, strides)

    def bwd(g: Tensor) -> Tensor:
        if state.enabled:  # create_graph: the window sums as differentiable ops of g
            return _unfold_backward_graph(g, in_shape, d if nd else 0, size, step, n)
        ga = g._a
        xp = xp_of(ga)
        gx = xp.zeros(in_shape if nd else (1,), ga.dtype)
        dd = d if nd else 0
        gm = xp.moveaxis(ga, -1, 0)  # (size, ..., n at dd, ...)
        for k in range(size):
            idx = [slice(None)] * gx.ndim
            idx[dd] = slice(k, k + step * (n - 1) + 1, step)
            gx[tuple(idx)] += gm[k]
        return _wrap(gx.reshape(in_shape))

    return _view_op(input, fwd, bwd, "UnfoldBackward0")
