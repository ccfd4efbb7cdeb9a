"""Indexing: __getitem__/__setitem__ (ints, slices, None, ..., integer and boolean tensors),
gather/scatter, index_select, masked ops, sort/argsort/topk, nonzero."""

from __future__ import annotations

import numbers

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._dispatch import xp_of
from ._util import as_tensor_arg, check_same_device, return_type, wrap_dim

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
        # CuPy does not bounds-check advanced indices: check here
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


class _Index(Function):
    _node_name = "IndexBackward0"

    @staticmethod
    def forward(ctx, x, index, adv):
        ctx.index, ctx.adv, ctx.shape = index, adv, x._a.shape
        r = x._a[index]
        if adv:
            return _wrap(r if hasattr(r, "shape") else np.asarray(r))
        return x._view_of(r)

    @staticmethod
    def backward(ctx, g):
        return _IndexBackward.apply(g, ctx.index, ctx.adv, ctx.shape), None, None


class _Select(_Index):
    _node_name = "SelectBackward0"


class _Slice(_Index):
    _node_name = "SliceBackward0"


class _Unsqueeze(_Index):
    _node_name = "UnsqueezeBackward0"


class _Alias(_Index):
    _node_name = "AliasBackward0"


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
            if xp is np:
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
    if state.enabled and t._rg:
        return _Index.apply(t, index, adv)
    r = t._a[index]
    return _wrap(r) if adv else t._view_of(r)


def _index_error(e, a):
    msg = str(e)
    if msg.startswith("boolean index did not match"):
        return IndexError(
            f"The shape of the mask does not match the shape of the indexed tensor "
            f"{list(a.shape)}: {msg}"
        )
    return IndexError(f"{msg} (indexing a tensor of shape {tuple(a.shape)})")


def getitem(self: Tensor, idx):
    a = self._a
    index, adv = _conv_index(idx, a)
    if state.enabled and self._rg:
        return _index_fn(index, adv).apply(self, index, adv)
    try:
        r = a[index]
    except IndexError as e:
        raise _index_error(e, a) from None
    if adv:
        return _wrap(r)
    return self._view_of(r)


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
                gx = (
                    _IndexPut.apply(g, 0.0, ctx.index, ctx.adv, False)
                    if state.enabled
                    else _wrap(_zero_at(g._a, ctx.index))
                )
        gv = None
        if ctx.vshape is not None and ctx.needs_input_grad[1]:
            from ._util import sum_to_shape

            gv = sum_to_shape(_apply_index(g, ctx.index, ctx.adv), ctx.vshape)
        return gx, gv, None, None, None


def _zero_at(a, index):
    out = a.copy()
    out[index] = 0
    return out


def setitem(self: Tensor, idx, value) -> None:
    from ..autograd.inplace import check_writable, inplace

    check_writable(self, "__setitem__")
    a = self._a
    index, adv = _conv_index(idx, a)
    if isinstance(value, Tensor):
        check_same_device("__setitem__", self, value)
    elif not isinstance(value, (numbers.Number, np.generic)):
        value = as_tensor_arg(value, self, "__setitem__")
    if state.enabled and (self._rg or (isinstance(value, Tensor) and value._rg)):
        if isinstance(value, Tensor) and value._a.dtype != a.dtype:
            value = value.to(self.dtype)
        inplace(self, "__setitem__", lambda: _IndexPut.apply(self, value, index, adv, False), value)
        return
    v = value._a if isinstance(value, Tensor) else value
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
    if state.enabled and (input._rg or values._rg):
        return _IndexPut.apply(input, values, index, adv, accumulate)
    return _IndexPut.forward(_N(), input, values, index, adv, accumulate)


def index_put_(input, indices, values, accumulate=False):
    from ..autograd.inplace import inplace

    return inplace(
        input, "index_put_", lambda: index_put(input, indices, values, accumulate), values
    )


class _N:
    needs_input_grad = (False,) * 8

    def save_for_backward(self, *a):
        pass

    def mark_non_differentiable(self, *a):
        pass


# ------------------------------------------------------------------ gather / scatter
def _grid(index_shape, dim, idx, xp):
    grids = list(xp.indices(index_shape, sparse=True))
    grids[dim] = idx
    return tuple(grids)


class IndexOutOfRange(IndexError, RuntimeError):
    """An index outside its dimension: torch raises RuntimeError for gather/scatter/index_add
    and IndexError for others; this is both, so either ``except`` works."""


def _check_bounds(ia, n, dim, op=None, allow_negative=False):
    if not ia.size:
        return
    lo, hi = int(ia.min()), int(ia.max())
    low = -n if allow_negative else 0
    if lo < low or hi >= n:
        bad = lo if lo < low else hi
        raise IndexOutOfRange(
            (f"{op}(): " if op else "") + f"index {bad} is out of bounds for dimension {dim} "
            f"with size {n}"
        )


def _check_index(op, input, dim, index, src=None):
    if not isinstance(index, Tensor) or index._a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}(): Expected dtype int64 for index")
    if index._a.ndim != input._a.ndim and not (index._a.ndim <= 1 and input._a.ndim <= 1):
        raise RuntimeError("Index tensor must have the same number of dimensions as input tensor")
    ishape, xshape = index._a.shape, input._a.shape
    if index._a.ndim == input._a.ndim:
        # torch's checks: index no larger than self off `dim` (and than src everywhere); src is
        # never broadcast to the index
        other = any(ishape[d] > xshape[d] for d in range(len(ishape)) if d != dim)
        if op == "gather":
            for d in range(len(ishape)):
                if d != dim and ishape[d] > xshape[d]:
                    raise RuntimeError(
                        f"Size does not match at dimension {d} expected index {list(ishape)} to "
                        f"be no larger than self {list(xshape)} apart from dimension {dim}"
                    )
        elif isinstance(src, Tensor):
            sshape = src._a.shape
            if src._a.ndim != index._a.ndim and not (src._a.ndim <= 1 and index._a.ndim <= 1):
                raise RuntimeError(
                    "Index tensor must have the same number of dimensions as src tensor"
                )
            if other or (
                src._a.ndim == index._a.ndim
                and any(i > s for i, s in zip(ishape, sshape, strict=True))
            ):
                raise RuntimeError(
                    f"Expected index {list(ishape)} to be no larger than self {list(xshape)} "
                    f"apart from dimension {dim} and to be no larger size than src "
                    f"{list(sshape)}"
                )
        elif other:
            raise RuntimeError(
                f"Expected index {list(ishape)} to be no larger than self {list(xshape)} apart "
                f"from dimension {dim}"
            )
    if isinstance(src, Tensor) and src._a.dtype != input._a.dtype:
        raise RuntimeError("scatter(): Expected self.dtype to be equal to src.dtype")
    n = input._a.shape[dim] if input._a.ndim else 1
    _check_bounds(index._a, n, dim)


class Gather(Function):
    _node_name = "GatherBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.shape = dim, index, x._a.shape
        xp = xp_of(x._a)
        if x._a.ndim == 0:  # torch: a 0-d self takes a 0-d or one-element index
            return _wrap(x._a.reshape(1)[index._a.reshape(-1)].reshape(index._a.shape))
        return _wrap(x._a[_grid(index._a.shape, dim, index._a, xp)])

    @staticmethod
    def backward(ctx, g):
        z = g.new_zeros(ctx.shape)
        return scatter_add(z, ctx.dim, ctx.index, g), None, None


def gather(input, dim, index, *, sparse_grad=False):
    d = wrap_dim(dim, input._a.ndim, "gather")
    _check_index("gather", input, d, index)
    if state.enabled and input._rg:
        return Gather.apply(input, d, index)
    return Gather.forward(_N(), input, d, index)


class Scatter(Function):
    _node_name = "ScatterBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, add, reduce):
        ctx.dim, ctx.index, ctx.add = dim, index, add
        ctx.src_is_t = isinstance(src, Tensor)
        xp = xp_of(x._a)
        out = x._a.copy()
        ia = index._a
        grid = _grid(ia.shape, dim, ia, xp)
        if isinstance(src, Tensor):
            sa = src._a[tuple(slice(0, s) for s in ia.shape)]
            if sa.dtype != out.dtype:
                sa = sa.astype(out.dtype)
        else:
            sa = src
        if add or reduce == "add" or reduce == "sum":
            if xp is np:
                np.add.at(out, grid, sa)
            else:
                import cupyx

                cupyx.scatter_add(out, grid, sa)
        elif reduce in ("multiply", "prod"):
            np.multiply.at(out, grid, sa)
        elif reduce == "amax":
            np.maximum.at(out, grid, sa)
        elif reduce == "amin":
            np.minimum.at(out, grid, sa)
        else:
            out[grid] = sa
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gx = g if ctx.add else scatter(g, ctx.dim, ctx.index, 0.0)
        gs = gather(g, ctx.dim, ctx.index) if ctx.src_is_t else None
        return gx, None, None, gs, None, None


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = wrap_dim(dim, input._a.ndim, "scatter")
    _check_index("scatter", input, d, index, src)
    if state.enabled and (input._rg or (isinstance(src, Tensor) and src._rg)):
        return Scatter.apply(input, d, index, src, False, reduce)
    return Scatter.forward(_N(), input, d, index, src, False, reduce)


def scatter_add(input, dim, index, src):
    d = wrap_dim(dim, input._a.ndim, "scatter_add")
    _check_index("scatter_add", input, d, index, src)
    if state.enabled and (input._rg or src._rg):
        return Scatter.apply(input, d, index, src, True, None)
    return Scatter.forward(_N(), input, d, index, src, True, None)


_REDUCE_IDENTITY = {"sum": 0, "mean": 0, "prod": 1}


def _scatter_reduce_np(x, dim, ia, sa, reduce, include_self):
    """out, count: torch's scatter_reduce on NumPy arrays. ``count`` is how many src values
    landed on each element (0: untouched, left as it is)."""
    out = x.copy()
    grid = _grid(ia.shape, dim, ia, np)
    count = np.zeros(x.shape, np.int64)
    np.add.at(count, grid, 1)
    touched = count > 0
    if not include_self:
        if reduce in _REDUCE_IDENTITY:
            out[touched] = _REDUCE_IDENTITY[reduce]
        elif out.dtype.kind == "b":
            out[touched] = reduce == "amin"
        else:
            big = np.inf if out.dtype.kind in "fc" else np.iinfo(out.dtype).max
            lo = -np.inf if out.dtype.kind in "fc" else np.iinfo(out.dtype).min
            out[touched] = lo if reduce == "amax" else big
    ufunc = {
        "sum": np.add,
        "mean": np.add,
        "prod": np.multiply,
        "amax": np.maximum,
        "amin": np.minimum,
    }[reduce]
    with np.errstate(invalid="ignore"):  # NaN propagates, as in torch
        ufunc.at(out, grid, sa)
    if reduce == "mean":
        n = np.maximum(count + (1 if include_self else 0), 1)
        if out.dtype.kind in "fc":
            out /= n.astype(out.dtype)
        else:
            out //= n.astype(out.dtype)
    return out, count


class ScatterReduce(Function):
    _node_name = "ScatterReduceBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, reduce, include_self):
        xp = xp_of(x._a)
        ia = index._a
        sa = src._a[tuple(slice(0, n) for n in ia.shape)]
        if sa.dtype != x._a.dtype:
            sa = sa.astype(x._a.dtype)
        host = (lambda a: a) if xp is np else xp.asnumpy
        xa, ia_h, sa_h = host(x._a), host(ia), host(sa)
        out, count = _scatter_reduce_np(xa, dim, ia_h, sa_h, reduce, include_self)
        ctx.args = (dim, ia_h, reduce, include_self, xp)
        ctx.arrays = (xa, sa_h, out, count, src._a.shape)
        return _wrap(out if xp is np else xp.asarray(out))

    @staticmethod
    def backward(ctx, g):
        # torch's scatter_reduce_backward, on the host arrays (first order only)
        dim, ia, reduce, include_self, xp = ctx.args
        x, s, out, count, sshape = ctx.arrays
        ga = g._a if xp is np else xp.asnumpy(g._a)
        grid = _grid(ia.shape, dim, ia, np)
        touched = count > 0
        if reduce == "sum":
            gx, gs = ga.copy(), ga[grid]
        elif reduce == "mean":
            n = np.maximum(count + (1 if include_self else 0), 1).astype(ga.dtype)
            gx = ga / n
            gs = gx[grid]
        elif reduce == "prod":
            masked_x = np.where(x == 0, 1, x)
            mx_res, _ = _scatter_reduce_np(masked_x, dim, ia, s, reduce, include_self)
            gx = ga * mx_res / masked_x
            s_zero = s == 0
            nz = np.zeros(x.shape, np.int64)
            np.add.at(nz, grid, s_zero.astype(np.int64))
            single = s_zero & (nz[grid] == 1)
            ms_res, _ = _scatter_reduce_np(x, dim, ia, np.where(single, 1, s), reduce, include_self)
            gs = np.where(single, (ga * ms_res)[grid], (ga * out)[grid] / np.where(s_zero, 1, s))
        else:  # amax / amin: shared evenly by every element equal to the result
            x_is = (x == out).astype(ga.dtype)
            s_is = (s == out[grid]).astype(ga.dtype)
            nd = x_is.copy()
            np.add.at(nd, grid, s_is)
            gd = ga / nd
            gx = x_is * gd
            gs = s_is * gd[grid]
        if not include_self:
            gx = np.where(touched, 0, gx)
        gsrc = np.zeros(sshape, ga.dtype)
        gsrc[tuple(slice(0, n) for n in ia.shape)] = gs
        back = (lambda a: a) if xp is np else xp.asarray
        return _wrap(back(gx.astype(ga.dtype))), None, None, _wrap(back(gsrc)), None, None


def scatter_reduce(input, dim, index, src, reduce, *, include_self=True):
    if reduce not in ("sum", "prod", "mean", "amax", "amin"):
        raise RuntimeError(
            f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}"
        )
    d = wrap_dim(dim, input._a.ndim, "scatter_reduce")
    if not isinstance(src, Tensor):
        raise TypeError("scatter_reduce(): argument 'src' must be Tensor")
    _check_index("scatter_reduce", input, d, index, src)
    if input._a.ndim == 0:
        out = scatter_reduce(
            input.reshape(1),
            0,
            index.reshape(-1),
            src.reshape(-1),
            reduce,
            include_self=include_self,
        )
        return out.reshape(())
    if state.enabled and (input._rg or src._rg):
        return ScatterReduce.apply(input, d, index, src, reduce, include_self)
    return ScatterReduce.forward(_N(), input, d, index, src, reduce, include_self)


class IndexSelect(Function):
    _node_name = "IndexSelectBackward0"

    @staticmethod
    def forward(ctx, x, dim, index):
        ctx.dim, ctx.index, ctx.shape = dim, index, x._a.shape
        xp = xp_of(x._a)
        return _wrap(xp.take(x._a, index._a, axis=dim))

    @staticmethod
    def backward(ctx, g):
        return index_add(g.new_zeros(ctx.shape), ctx.dim, ctx.index, g), None, None


def index_select(input, dim, index):
    d = wrap_dim(dim, input._a.ndim, "index_select")
    if not isinstance(index, Tensor):
        index = as_tensor_arg(index, input, "index_select")
    if index._a.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    index = index.reshape(-1)
    n = input._a.shape[d] if input._a.ndim else 1
    if index._a.size and (int(index._a.min()) < 0 or int(index._a.max()) >= n):
        # torch refuses negative indices here too (NumPy's take would wrap them)
        raise IndexOutOfRange("index out of range in self")
    if input._a.ndim == 0:  # torch: a 0-d self gives a 0-d result
        return index_select(input.reshape(1), 0, index).reshape(())
    if state.enabled and input._rg:
        return IndexSelect.apply(input, d, index)
    return IndexSelect.forward(_N(), input, d, index)


class IndexAdd(Function):
    _node_name = "IndexAddBackward0"

    @staticmethod
    def forward(ctx, x, dim, index, src, alpha):
        ctx.dim, ctx.index, ctx.alpha = dim, index, alpha
        xp = xp_of(x._a)
        out = x._a.copy()
        sl = [slice(None)] * out.ndim
        sl[dim] = index._a
        v = src._a if alpha == 1 else src._a * alpha
        if xp is np:
            np.add.at(out, tuple(sl), v.astype(out.dtype, copy=False))
        else:
            import cupyx

            cupyx.scatter_add(out, tuple(sl), v.astype(out.dtype, copy=False))
        return _wrap(out)

    @staticmethod
    def backward(ctx, g):
        gs = index_select(g, ctx.dim, ctx.index)
        if ctx.alpha != 1:
            gs = gs * ctx.alpha
        return g, None, None, gs, None


def index_add(input, dim, index, source, *, alpha=1):
    d = wrap_dim(dim, input._a.ndim, "index_add")
    index = _index_vector(index, input, "index_add")
    _check_bounds(index._a, input._a.shape[d] if input._a.ndim else 1, d)
    if state.enabled and (input._rg or source._rg):
        return IndexAdd.apply(input, d, index, source, alpha)
    return IndexAdd.forward(_N(), input, d, index, source, alpha)


def _index_vector(index, input, op):
    if not isinstance(index, Tensor):
        index = as_tensor_arg(index, input, op)
    if index._a.ndim > 1:
        raise IndexError(f"{op}_(): Index is supposed to be a vector")
    return index.reshape(-1)


def index_fill(input, dim, index, value):
    d = wrap_dim(dim, input._a.ndim)
    if isinstance(index, Tensor):
        # torch wraps negative indices here, but not past -size
        _check_bounds(index._a, input._a.shape[d] if input._a.ndim else 1, d, allow_negative=True)
    sl = [slice(None)] * input._a.ndim
    sl[d] = index
    out = input.clone()
    out[tuple(sl)] = value
    return out


def index_copy(input, dim, index, source):
    d = wrap_dim(dim, input._a.ndim)
    index = _index_vector(index, input, "index_copy")
    _check_bounds(index._a, input._a.shape[d] if input._a.ndim else 1, d, "index_copy_")
    sl = [slice(None)] * input._a.ndim
    sl[d] = index
    out = input.clone()
    out[tuple(sl)] = source
    return out


def masked_fill(input, mask, value):
    from .compare import where

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
        value = int(value) if input._a.dtype.kind != "b" else bool(value)
    try:
        np.broadcast_shapes(mask._a.shape, input._a.shape)
    except ValueError:
        raise RuntimeError(
            f"masked_fill: the shape of the mask {tuple(mask.shape)} must be broadcastable to the "
            f"shape of the input {tuple(input.shape)}"
        ) from None
    r = where(mask, value, input)
    if r._a.dtype != input._a.dtype:
        r = r.to(input.dtype)
    return r


def masked_select(input, mask):
    shape = np.broadcast_shapes(input._a.shape, mask._a.shape)
    return getitem(input.expand(shape), mask.expand(shape))


def masked_scatter(input, mask, source):
    out = input.clone()
    n = int(mask.sum())
    out[mask] = source.flatten()[:n]
    return out


def take(input, index):
    n = input._a.size
    if isinstance(index, Tensor) and index._a.size:
        lo, hi = int(index._a.min()), int(index._a.max())
        if lo < -n or hi >= n:
            raise IndexOutOfRange(
                f"out of range: tried to access index {lo if lo < -n else hi} on a tensor of "
                f"{n} elements."
            )
    return getitem(input.reshape(-1), index)


def put(input, index, source, accumulate=False):
    """torch.put: write ``source`` at flat indices of ``input`` (negatives wrap, as torch)."""
    n = input._a.size
    if not isinstance(index, Tensor) or index._a.dtype.kind not in "iu":
        raise RuntimeError("put_(): Expected a long tensor for index")
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
    flat = index_put(input.reshape(-1), (index.reshape(-1),), source.reshape(-1), accumulate)
    return flat.reshape(input.shape)


def take_along_dim(input, indices, dim=None):
    if dim is None:
        return take(input, indices.reshape(-1))
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
    nz = xp.nonzero(input._a if input._a.ndim else input._a.reshape(1))
    if as_tuple:
        return tuple(_wrap(i.astype(np.int64)) for i in nz)
    return _wrap(xp.stack(nz, axis=1).astype(np.int64) if nz else xp.zeros((0, 0), np.int64))


def argwhere(input):
    return nonzero(input)


# ------------------------------------------------------------------ sort / topk
sort_result = return_type("sort")
topk_result = return_type("topk")


def _argsort(a, ax, descending, stable=True):
    xp = xp_of(a)
    if descending:
        if a.dtype.kind == "b":
            a = a.astype(np.int8)
        if a.dtype.kind == "u":
            a = a.astype(np.int64)
        key = -a
        if a.dtype.kind == "f":
            key = xp.where(xp.isnan(a), -xp.inf, key)
        return xp.argsort(key, axis=ax, kind="stable") if xp is np else xp.argsort(key, axis=ax)
    return xp.argsort(a, axis=ax, kind="stable") if xp is np else xp.argsort(a, axis=ax)


def sort(input, dim=-1, descending=False, stable=False):
    if input._a.ndim == 0:
        return sort_result(input.clone(), _wrap(np.zeros((), np.int64)))
    d = wrap_dim(dim, input._a.ndim, "sort")
    idx = _wrap(_argsort(input._a, d, descending).astype(np.int64))
    return sort_result(gather(input, d, idx), idx)


def argsort(input, dim=-1, descending=False, stable=False):
    return sort(input.detach(), dim, descending, stable).indices


def msort(input):
    return sort(input, 0).values


def topk(input, k, dim=-1, largest=True, sorted=True):  # noqa: A002
    d = wrap_dim(dim, input._a.ndim, "topk")
    n = input._a.shape[d] if input._a.ndim else 1
    if not 0 <= k <= n:
        raise RuntimeError(f"selected index k out of range (k={k}, size {n} at dim {d})")
    idx = _argsort(input._a, d, largest)
    idx = _wrap(xp_of(idx).take(idx, np.arange(k), axis=d).astype(np.int64))
    return topk_result(gather(input, d, idx), idx)


def kthvalue(input, k, dim=-1, keepdim=False):
    d = wrap_dim(dim, input._a.ndim, "kthvalue")
    n = input._a.shape[d] if input._a.ndim else 1
    if not 1 <= k <= n:  # narrow(k - 1) would wrap k=0 to the last element
        raise RuntimeError(f"kthvalue(): selected number k out of range for dimension {d}")
    s = sort(input, d)
    v = s.values.narrow(d, k - 1, 1) if input._a.ndim else s.values
    i = s.indices.narrow(d, k - 1, 1) if input._a.ndim else s.indices
    if not keepdim and input._a.ndim:
        v, i = v.squeeze(d), i.squeeze(d)
    return kthvalue_result(v, i)


kthvalue_result = return_type("kthvalue")
median_result = return_type("median")
nanmedian_result = return_type("nanmedian")


def _median(input, dim, keepdim, ignore_nan, name):
    """torch's lower median. ``median``: a NaN anywhere in the slice gives NaN (the first NaN's
    index); ``nanmedian``: the median of the non-NaN values (NaN when all are NaN). Sorting puts
    NaN last and is stable, so both are one position of the sorted slice."""
    flat = dim is None
    x = input.reshape(-1) if flat else input
    d = 0 if flat else wrap_dim(dim, x._a.ndim, name)
    if x._a.ndim == 0:
        x = x.reshape(1)
    n = x._a.shape[d]
    if n == 0 and flat and x._a.dtype.kind in "fc":
        return _wrap(xp_of(x._a).asarray(np.nan, dtype=x._a.dtype))  # torch: NaN
    if n == 0:
        raise IndexError(
            f"{name}(): Expected reduction dim {d} to have non-zero size."
            if not flat
            else f"{name}() input tensor cannot be empty"
        )
    s = sort(x, d)
    xp = xp_of(x._a)
    if x._a.dtype.kind in "fc":
        nn = (~xp.isnan(x._a)).sum(axis=d, keepdims=True)
    else:
        nn = xp.full([1 if i == d else m for i, m in enumerate(x._a.shape)], n)
    if ignore_nan:
        pos = xp.maximum(nn - 1, 0) // 2
    else:  # any NaN -> the first NaN (sorted to position nn)
        pos = xp.where(nn < n, nn, (n - 1) // 2)
    pos = _wrap(xp.asarray(pos, dtype=np.int64))
    v, i = gather(s.values, d, pos), gather(s.indices, d, pos)
    if flat:
        v = v.detach().reshape(())
        if state.enabled and input._rg:
            return _EvenMedian.apply(input, v)
        return v
    if not keepdim:
        v, i = v.squeeze(d), i.squeeze(d)
    if input._a.ndim == 0:
        v, i = v.reshape(()), i.reshape(())
    return (nanmedian_result if ignore_nan else median_result)(v, i)


class _EvenMedian(Function):
    """Full-reduction median/nanmedian: like torch, the gradient is shared evenly by every
    element equal to the result (every NaN when the result is NaN)."""

    _node_name = "MedianBackward0"

    @staticmethod
    def forward(ctx, x, v):
        ctx.save_for_backward(x)
        ctx.v = v
        return v.clone()

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        xp = xp_of(x._a)
        v = ctx.v._a
        mask = xp.isnan(x._a) if (v.dtype.kind in "fc" and xp.isnan(v)) else (x._a == v)
        w = _wrap((mask / mask.sum()).astype(x._a.dtype))
        return g * w, None


def median(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, False, "median")


def nanmedian(input, dim=None, keepdim=False):
    return _median(input, dim, keepdim, True, "nanmedian")


def unique(input, sorted=True, return_inverse=False, return_counts=False, dim=None):  # noqa: A002
    xp = xp_of(input._a)
    if dim is not None:
        raise NotImplementedError("unique(dim=...) is not implemented")
    res = xp.unique(input._a, return_inverse=return_inverse, return_counts=return_counts)
    if not isinstance(res, tuple):
        return _wrap(res)
    out = [_wrap(res[0])]
    i = 1
    if return_inverse:
        out.append(_wrap(res[i].reshape(input._a.shape).astype(np.int64)))
        i += 1
    if return_counts:
        out.append(_wrap(res[i].astype(np.int64)))
    return tuple(out)


def bincount(input, weights=None, minlength=0):
    xp = xp_of(input._a)
    w = weights._a if weights is not None else None
    return _wrap(xp.bincount(input._a, w, minlength))


def searchsorted(sorted_sequence, values, *, right=False, side=None):
    xp = xp_of(sorted_sequence._a)
    side = side or ("right" if right else "left")
    v = values._a if isinstance(values, Tensor) else values
    if sorted_sequence._a.ndim == 1:
        return _wrap(xp.asarray(xp.searchsorted(sorted_sequence._a, v, side=side), dtype=np.int64))
    rows = [
        xp.searchsorted(s, vv, side=side)
        for s, vv in zip(
            sorted_sequence._a.reshape(-1, sorted_sequence._a.shape[-1]),
            v.reshape(-1, v.shape[-1]),
            strict=False,
        )
    ]
    return _wrap(xp.stack(rows).reshape(v.shape).astype(np.int64))


def bucketize(input, boundaries, *, right=False):
    xp = xp_of(input._a)
    return _wrap(
        xp.searchsorted(boundaries._a, input._a, side="left" if not right else "right").astype(
            np.int64
        )
    )
