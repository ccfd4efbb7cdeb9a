"""Subscripting: ``Tensor.__getitem__``/``__setitem__`` (ints, slices, None, ..., integer
and boolean tensors), ``index_put``, the masked ops, ``take``/``put``/``take_along_dim`` and
``nonzero``: everything that selects or writes elements through a Python index or a mask.

Split from ``indexing.py`` (issue #10): the index-tensor-along-one-dim ops (gather, scatter,
index_select/add/fill/copy) stay there, sorting and selection by value live in ``sorting.py``.
"""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype as D
from .._backend import contiguous, fp_quiet, meta_xp, xp_of
from .._core._smallops import basic_index as _basic_index
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import as_tensor_arg, check_same_device, node_variants, sum_to_shape, wrap_dim
from .binary import _scalar_name
from .compare import where
from .indexing import IndexOutOfRange, _check_bounds, gather
from .shape import copy_op

_wrap = Tensor._make
_nd = np.ndarray


def _conv_index(idx, a):
    """Translate a torch-style index into one NumPy/CuPy accepts. Returns (index, advanced)."""
    if not isinstance(idx, tuple):
        idx = (idx,)
    xp = np if type(a) is _nd else xp_of(a)
    out = []
    adv = False
    for i in idx:
        if isinstance(i, Tensor):
            arr = i._a
            k = arr.dtype.kind
            if k == "b":
                adv = True
                out.append(arr if xp is not np or type(arr) is _nd else arr)
            elif k in "iu":
                if arr.ndim == 0:
                    out.append(int(arr))
                elif (k == "u" and arr.dtype.itemsize > 1) or (k == "i" and arr.dtype.itemsize < 4):
                    # torch indexes with long, int, byte (a mask) or bool tensors only
                    raise IndexError(
                        "tensors used as indices must be long, int, byte or bool tensors"
                    )
                else:
                    adv = True
                    out.append(arr.astype(np.int64, copy=False))
            else:
                raise IndexError("tensors used as indices must be long, int, byte or bool tensors")
        elif isinstance(i, (bool, np.bool_)):
            adv = True
            out.append(bool(i))
        elif isinstance(i, numbers.Integral):
            out.append(int(i))
        elif isinstance(i, (slice, type(None), type(Ellipsis))):
            if isinstance(i, slice):
                for part in (i.start, i.stop, i.step):
                    if isinstance(part, Tensor):
                        i = slice(
                            *(
                                int(p) if isinstance(p, Tensor) else p
                                for p in (i.start, i.stop, i.step)
                            )
                        )
                        break
                if i.step is not None and i.step <= 0:
                    raise ValueError("step must be greater than zero")
            out.append(i)
        elif isinstance(i, (list, range, np.ndarray)):
            arr = np.asarray(i)
            if arr.dtype == object:
                arr = np.asarray([int(v) for v in i])
            if arr.dtype.kind not in "biu":
                if arr.size == 0:
                    arr = arr.astype(np.int64)
                else:
                    raise IndexError(
                        "tensors used as indices must be long, int, byte or bool tensors"
                    )
            adv = True
            out.append(arr if xp is np else xp.asarray(arr))
        elif type(i).__module__.startswith("cupy"):
            adv = True
            out.append(i)
        else:
            raise IndexError(
                f"only integers, slices (`:`), ellipsis (`...`), None and long or byte Variables "
                f"are valid indices (got {type(i).__name__})"
            )
    if xp is not np:
        out = [xp.asarray(o) if type(o) is _nd else o for o in out]
        # CuPy does not bounds-check advanced indices: check here (meta has no index values)
        if type(a) is not MetaArray:
            _check_gpu_bounds(out, a)
    return tuple(out), adv


def _check_gpu_bounds(index, a):
    dim = 0
    for i in index:
        if i is None:
            continue
        if i is Ellipsis:
            dim = a.ndim - sum(
                1
                for j in index
                if j is not None
                and j is not Ellipsis
                and not (hasattr(j, "dtype") and j.dtype.kind == "b")
            )
            continue
        if hasattr(i, "dtype") and i.dtype.kind in "iu" and i.size:
            n = a.shape[dim]
            lo, hi = int(i.min()), int(i.max())
            if lo < -n or hi >= n:
                raise IndexError(
                    f"index {hi if hi >= n else lo} is out of bounds for dimension {dim} with size {n}"
                )
        if hasattr(i, "dtype") and i.dtype.kind == "b":
            dim += i.ndim
        else:
            dim += 1


def _basic_view(a, index, r):
    """``r = a[index]`` (a basic index) as an array: where an int indexes every dim NumPy
    gives a scalar, torch a 0-d view; ``...`` at the end makes NumPy's result that view."""
    return a[index + (...,)] if isinstance(r, np.generic) else r


class _Index(Function):
    _node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, index, adv):
        ctx.index, ctx.adv, ctx.shape = index, adv, x._a.shape
        r = x._a[index]
        if adv:
            return _wrap(r if hasattr(r, "shape") else np.asarray(r))
        return x._view_of(_basic_view(x._a, index, r))

    @staticmethod
    def backward(ctx, g):
        return _IndexBackward.apply(g, ctx.index, ctx.adv, ctx.shape), None, None


_Select, _Slice, _Unsqueeze, _Alias = node_variants(
    _Index,
    _Select="SelectBackward0",
    _Slice="SliceBackward0",
    _Unsqueeze="UnsqueezeBackward0",
    _Alias="AliasBackward0",
)


def _index_fn(index, adv):
    """torch names a basic index's node after the last view op it applies."""
    if adv:
        return _Index
    for i in reversed(index):
        if isinstance(i, int):
            return _Select
        if i is None:
            return _Unsqueeze
        if isinstance(i, slice) and i != slice(None):
            return _Slice
    return _Alias


class _IndexBackward(Function):
    """grad of indexing = scatter-add of g into zeros (itself differentiable)."""

    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, g, index, adv, shape):
        ctx.index, ctx.adv = index, adv
        xp = xp_of(g._a)
        z = xp.zeros(shape, g._a.dtype)
        if adv:
            if xp is np or xp is meta_xp:  # (meta: a no-op)
                np.add.at(z, index, g._a)
            else:
                import cupyx

                cupyx.scatter_add(z, index, g._a)
        else:
            z[index] = g._a
        return _wrap(z)

    @staticmethod
    def backward(ctx, gg):
        return _apply_index(gg, ctx.index, ctx.adv), None, None, None


def _apply_index(t, index, adv):
    """Index ``t`` with an already converted index (differentiable)."""
    return _Index.apply(t, index, adv)


def _index_error(e, a):
    msg = str(e)
    if a.ndim == 0 and msg.startswith("too many indices"):
        if msg.endswith("but 1 were indexed"):  # loss.data[0], 2017 style
            return IndexError(
                "invalid index of a 0-dim tensor. Use `tensor.item()` in Python or "
                "`tensor.item<T>()` in C++ to convert a 0-dim tensor to a number"
            )
        return IndexError("too many indices for tensor of dimension 0")
    if msg.startswith("too many indices"):  # torch's message, as for a 0-d tensor
        return IndexError(f"too many indices for tensor of dimension {a.ndim}")
    if msg.startswith("boolean index did not match"):
        return IndexError(
            f"The shape of the mask does not match the shape of the indexed tensor "
            f"{list(a.shape)}: {msg}"
        )
    # NumPy says "axis", torch "dimension"
    msg = msg.replace(" for axis ", " for dimension ")
    return IndexError(f"{msg} (indexing a tensor of shape {tuple(a.shape)})")


def getitem(self: Tensor, idx):
    a = self._a
    if type(idx) is int and type(a) is _nd and a.ndim and not (state.enabled and self._rg):
        # x[i] without a graph to record: the commonest index, converted by nothing
        try:
            return self._view_of(a[idx, ...])  # `...`: a 0-d view, never a NumPy scalar
        except IndexError as e:
            raise _index_error(e, a) from None
    if type(a) is _nd and not (state.enabled and self._rg) and _basic_index(idx):
        # ints, int slices, None and ... without a graph to record: NumPy reads them as torch
        try:
            r = a[idx]
        except IndexError as e:
            raise _index_error(e, a) from None
        return self._view_of(_basic_view(a, idx if type(idx) is tuple else (idx,), r))
    index, adv = _conv_index(idx, a)
    # Hot path (x[0], x[1:3], select, narrow): the no-record branch stays spelled out instead
    # of going through ``Function.apply``, which costs ~1.4-3 us more per call without grad
    # (tools/bench_views.py), over issue #10's 0.3 us budget; it also turns NumPy's IndexError
    # into torch's message, which the recorded path does not need to.
    if state.enabled and self._rg:
        try:
            return _index_fn(index, adv).apply(self, index, adv)
        except IndexError as e:
            if a.ndim:
                raise
            raise _index_error(e, a) from None
    try:
        r = a[index]
    except IndexError as e:
        raise _index_error(e, a) from None
    if adv:
        return _wrap(r)
    return self._view_of(_basic_view(a, index, r))


class _IndexPut(Function):
    _node_name = "IndexPutBackward0"

    @staticmethod
    def forward(ctx, x, value, index, adv, accumulate):
        ctx.index, ctx.adv, ctx.accumulate = index, adv, accumulate
        ctx.vshape = value._a.shape if isinstance(value, Tensor) else None
        out = x._a.copy()
        v = value._a if isinstance(value, Tensor) else value
        if accumulate:
            if type(out) is _nd:
                np.add.at(out, index, v)
            else:
                import cupyx

                cupyx.scatter_add(out, index, v)
        else:
            out[index] = v
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gx = None
        if ctx.needs_input_grad[0]:
            if ctx.accumulate:
                gx = g
            else:
                gx = _IndexPut.apply(g, 0.0, ctx.index, ctx.adv, False)
        gv = None
        if ctx.vshape is not None and ctx.needs_input_grad[1]:
            from ._util import sum_to_shape

            gv = sum_to_shape(_apply_index(g, ctx.index, ctx.adv), ctx.vshape)
        return gx, gv, None, None, None


def setitem(self: Tensor, idx, value) -> None:
    from ..autograd.inplace import check_writable, inplace

    check_writable(self, "__setitem__")
    a = self._a
    index, adv = _conv_index(idx, a)
    if isinstance(value, Tensor):
        check_same_device("__setitem__", self, value)
    elif type(value) is int and not -(2**63) <= value < 2**63:
        # torch's __setitem__ unpacks a Python int as a C long long, for any dtype
        raise ValueError("Overflow when unpacking long long")
    elif not isinstance(value, (numbers.Number, np.generic)):
        value = as_tensor_arg(value, self, "__setitem__")
    # The grad-mode test stays: it picks the in-place machinery (autograd.inplace, which
    # records the write in the graph) or a plain write into the array (no Function involved).
    if state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
        if isinstance(value, Tensor) and value._a.dtype != a.dtype:
            value = value.to(self.dtype)
        inplace(self, "__setitem__", lambda: _IndexPut.apply(self, value, index, adv, False), value)
        return
    v = value._a if isinstance(value, Tensor) else D.checked_int(value, a.dtype)
    try:
        a[index] = v
    except ValueError as e:
        raise RuntimeError(
            f"__setitem__: cannot assign a value of shape {tuple(getattr(v, 'shape', ()))} to "
            f"the selected region of a tensor of shape {tuple(a.shape)}: {e}"
        ) from None
    self._vref[0] += 1


def index_put(input, indices, values, accumulate=False):
    index, adv = _conv_index(tuple(indices), input._a)
    return _IndexPut.apply(input, values, index, adv, accumulate)


def index_put_(input, indices, values, accumulate=False):
    from ..autograd.inplace import inplace

    return inplace(
        input, "index_put_", lambda: index_put(input, indices, values, accumulate), values
    )


def _filled(xp, m, v, a):
    """``a`` with ``v`` where ``m``, a new contiguous array of ``a``'s dtype (torch's
    masked_fill is a clone then masked_fill_)."""
    return contiguous(xp.where(m, xp.asarray(v).astype(a.dtype), a))


def masked_fill(input, mask, value):
    if not isinstance(mask, Tensor) or mask._a.dtype != np.bool_:
        raise RuntimeError(
            f"masked_fill_ only supports boolean masks, but got mask with dtype {getattr(mask, 'dtype', type(mask).__name__)}"
        )
    if isinstance(value, Tensor):
        if value._a.ndim != 0:
            raise RuntimeError(
                f"masked_fill_ only supports a 0-dimensional value tensor, but got tensor with {value._a.ndim} dimension(s)."
            )
        value = value.to(input.dtype) if not value._rg else value
    elif input._a.dtype.kind in "iub" and isinstance(value, float):
        if input._a.dtype.kind == "b":
            value = bool(value)
        else:  # torch: a float that fits no value of the type (NaN, inf, -1.0 into uint8)
            value = int(D.checked_int(value, input._a.dtype))  # raises c10's overflow error
    value = D.checked_int(value, input._a.dtype)
    same_shape = mask._a.shape == input._a.shape
    if not same_shape:
        try:
            bshape = np.broadcast_shapes(mask._a.shape, input._a.shape)
        except ValueError:
            raise RuntimeError(
                f"masked_fill: the shape of the mask {tuple(mask.shape)} must be broadcastable "
                f"to the shape of the input {tuple(input.shape)}"
            ) from None
        same_shape = input._a.shape == bshape
    if (
        same_shape
        and not isinstance(value, Tensor)
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
    ):  # nothing to record: copy_op's array without its node machinery
        a = input._a
        if type(value) in (float, int, bool) and type(a) is np.ndarray:
            # a C-order copy with the value set where the mask is (0.8 us on (8, 16) where
            # where() + astype + contiguous take 1.3); the value fits (checked_int above)
            out = a.copy()
            m = mask._a
            out[m if m.shape == a.shape else np.broadcast_to(m, a.shape)] = value
            return _wrap(out)
        return _wrap(fp_quiet(_filled, xp_of(a), mask._a, value, a))
    if same_shape and (not isinstance(value, Tensor) or not value._rg):
        # one node (torch's MaskedFillBackward0): the gradient is g with the filled places 0
        # (a mask larger than the input broadcasts it: the where() below, as torch)
        m = mask._a
        v = value._a if isinstance(value, Tensor) else value
        xp = xp_of(input._a)
        with np.errstate(invalid="ignore", over="ignore"):
            return copy_op(
                input,
                lambda a: _filled(xp, m, v, a),
                lambda g: g.masked_fill(mask, 0),
                "MaskedFillBackward1" if isinstance(value, Tensor) else "MaskedFillBackward0",
            )
    r = where(mask, value, input)
    if r._a.dtype != input._a.dtype:
        r = r.to(input.dtype)
    return r


def masked_select(input, mask):
    """The elements of ``input`` where ``mask`` (both broadcast) is True, as a 1-D copy: one
    node, torch's ``MaskedSelectBackward0`` (the gradient goes back to the selected places,
    summed over broadcast dims)."""
    if not isinstance(mask, Tensor) or mask._a.dtype != np.bool_:
        raise RuntimeError("masked_select: expected BoolTensor for mask")
    check_same_device("masked_select", input, mask)
    shape = tuple(np.broadcast_shapes(input._a.shape, mask._a.shape))
    xp = xp_of(input._a)
    m = xp.broadcast_to(mask._a, shape)

    def bwd(g):
        full = g.new_zeros(shape).masked_scatter(_wrap(m), g)
        return sum_to_shape(full, input._a.shape)

    return copy_op(input, lambda a: xp.broadcast_to(a, shape)[m], bwd, "MaskedSelectBackward0")


def take(input, index):
    n = input._a.size
    if isinstance(index, Tensor) and index._a.dtype != np.int64:  # torch checks dtype first
        raise RuntimeError(
            f"take(): Expected a long tensor for index, but got {_scalar_name(index._a.dtype)}"
        )
    if isinstance(index, Tensor) and index._a.size:
        lo, hi = int(index._a.min()), int(index._a.max())
        if lo < -n or hi >= n:
            raise IndexOutOfRange(
                f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                f"{n} elements."
            )
    if not isinstance(index, Tensor):
        return getitem(input.reshape(-1), index)
    ia = index._a.astype(np.int64, copy=False)
    shape = input._a.shape

    def bwd(g):  # every pick adds its gradient back at its flat place
        flat = g.new_zeros((n,)).index_put(
            (_wrap(ia.reshape(-1) % max(n, 1)),), g.reshape(-1), True
        )
        return flat.reshape(shape)

    return copy_op(input, lambda a: a.reshape(-1)[ia], bwd, "TakeBackward0")


def take_along_dim(input, indices, dim=None):
    if dim is None:  # torch: a gather of the flattened input (no negative indices)
        return gather(input.reshape(-1), 0, indices.reshape(-1))
    shape = list(
        np.broadcast_shapes(
            tuple(s if i != wrap_dim(dim, input.ndim) else 1 for i, s in enumerate(input._a.shape)),
            tuple(
                s if i != wrap_dim(dim, input.ndim) else 1 for i, s in enumerate(indices._a.shape)
            ),
        )
    )
    d = wrap_dim(dim, input.ndim)
    n = input._a.shape[d]
    if indices._a.size and int(indices._a.min()) < 0:
        # torch wraps negative indices in take_along_dim (gather does not)
        _check_bounds(indices._a, n, d, allow_negative=True)
        indices = _wrap(xp_of(indices._a).where(indices._a < 0, indices._a + n, indices._a))
    ishape = list(shape)
    ishape[d] = indices._a.shape[d]
    xshape = list(shape)
    xshape[d] = input._a.shape[d]
    return gather(input.expand(xshape), d, indices.expand(ishape))


def nonzero(input, *, as_tuple=False):
    xp = xp_of(input._a)
    a = input._a
    nz = xp.nonzero(a if a.ndim else a.reshape(1))
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in nz)
    if a.ndim == 0:  # torch: one (1, 0) row for a nonzero scalar, none (0, 0) for zero
        return _wrap(xp.zeros((nz[0].shape[0], 0), np.int64))
    return _wrap(xp.stack(nz, axis=1).astype(np.int64))


def argwhere(input):
    return nonzero(input)
