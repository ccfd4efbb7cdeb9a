"""Indexing along one dimension with an index tensor: ``gather``, ``scatter`` (and its
``add``/``reduce`` forms), ``index_select``, ``index_add`` (``index_fill``/``index_copy`` are ``write_nodes.py``).

Subscripting (``x[...]``, masks, ``take``/``put``) is ``subscript.py``; sort/topk/median/unique
are ``sorting.py`` (issue #10 split them out of this module). This module keeps the name
``indexing`` because the ops other families import from it (``gather``, ``index_select``,
``index_add`` in pooling and embedding_bag) live here.
"""

from __future__ import annotations

import numpy as np

from .._backend import meta_xp, xp_of
from .._core._smallops import gather_backward_small as _gather_backward_small
from .._core._smallops import take_small as _take_small
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad as _no_grad
from ..autograd.grad_mode import state as _grad_state
from ._util import as_tensor_arg, wrap_dim

_wrap = Tensor._make


def _grid(index_shape, dim, idx, xp):
    """The open mesh of ``index_shape`` with ``idx`` along ``dim`` (what
    ``numpy.indices(shape, sparse=True)`` gives; CuPy's ``indices`` has no ``sparse``)."""
    nd = len(index_shape)
    grids = [
        xp.arange(n).reshape((1,) * d + (n,) + (1,) * (nd - d - 1))
        for d, n in enumerate(index_shape)
    ]
    grids[dim] = idx
    return tuple(grids)


class IndexOutOfRange(IndexError, RuntimeError):
    """An index outside its dimension: torch raises RuntimeError for gather/scatter/index_add
    and IndexError for others; this is both, so either ``except`` works."""


def _check_bounds(ia, n, dim, op=None, allow_negative=False):
    if not ia.size or type(ia) is MetaArray:  # (meta: no values to check)
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
    if not isinstance(index, Tensor) or index._a.dtype not in (np.int64, np.int32):
        raise RuntimeError(f"{op}(): Expected dtype int32/int64 for index")
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
        r = _take_small(x._a, index._a, dim, True, False)
        return _wrap(r if r is not None else x._a[_grid(index._a.shape, dim, index._a, xp)])

    @staticmethod
    def backward(ctx, g):
        if not ctx.shape:  # a 0-d self: its one element took every (0-d or 1-element) pick
            return g.sum().reshape(()), None, None
        if not _grad_state.enabled:  # no graph of the gradient: one compiled scatter-add
            r = _gather_backward_small(g._a, ctx.index._a, ctx.dim, ctx.shape)
            if r is not None:
                return _wrap(r), None, None
        z = g.new_zeros(ctx.shape)
        return scatter_add(z, ctx.dim, ctx.index, g), None, None


def gather(input, dim, index, *, sparse_grad=False):
    d = wrap_dim(dim, input._a.ndim, "gather")
    if type(index) is Tensor and _fn_mod._autocast is None:
        r = _take_small(input._a, index._a, d, True, True)  # small: checked and computed
        if r is not None:
            if not (_grad_state.enabled and input._rg):
                return _wrap(r)  # nothing to record
            return Gather.apply(input, d, index)
    _check_index("gather", input, d, index)
    return Gather.apply(input, d, index)


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
            if xp is np or xp is meta_xp:  # (meta: a no-op)
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


class _ScatterValue(Scatter):
    _node_name = "ScatterBackward1"  # torch's name for a scalar ``value``


class _ScatterAdd(Scatter):
    _node_name = "ScatterAddBackward0"


def scatter(input, dim, index, src=None, *, value=None, reduce=None):
    if src is None:
        src = value
    d = wrap_dim(dim, input._a.ndim, "scatter")
    _check_index("scatter", input, d, index, src)
    fn = Scatter if isinstance(src, Tensor) else _ScatterValue
    return fn.apply(input, d, index, src, False, reduce)


def scatter_add(input, dim, index, src):
    d = wrap_dim(dim, input._a.ndim, "scatter_add")
    _check_index("scatter_add", input, d, index, src)
    return _ScatterAdd.apply(input, d, index, src, True, None)


class _PickAlong(Gather):
    """The values at a keepdim-shaped ``index`` along ``dim``, squeezed there unless
    ``keepdim``: one node for kthvalue/mode-style selections (torch: ``KthvalueBackward0``)."""

    @staticmethod
    def forward(ctx, x, dim, index, keepdim):
        out = Gather.forward(ctx, x, dim, index)
        ctx.keepdim = keepdim
        if keepdim or x._a.ndim == 0:
            return out
        return _wrap(out._a.squeeze(dim))

    @staticmethod
    def backward(ctx, g):
        if not ctx.keepdim and ctx.shape:
            g = g.unsqueeze(ctx.dim)
        return (*Gather.backward(ctx, g), None)


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
            big = np.inf if out.dtype.kind in "fcV" else np.iinfo(out.dtype).max
            lo = -np.inf if out.dtype.kind in "fcV" else np.iinfo(out.dtype).min
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
        if out.dtype.kind in "fcV":
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
        ctx.save_for_backward(x, src)  # only the create_graph path reads them
        return _wrap(out if xp is np else xp.asarray(out))

    @staticmethod
    def backward(ctx, g):
        # torch's scatter_reduce_backward, on the host arrays; under create_graph the same
        # sums as differentiable ops of g (masks and counts are constants)
        if _grad_state.enabled:
            return _scatter_reduce_backward_graph(ctx, g)
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


def _scatter_reduce_backward_graph(ctx, g):
    from .double_backward import refuse

    dim, ia, reduce, include_self, xp = ctx.args
    x, s, out, count, sshape = ctx.arrays
    if reduce == "prod" or tuple(sshape) != ia.shape:
        with _no_grad():
            first = ScatterReduce.backward(ctx, g)
        msg = (
            f"ctorch: double backward of scatter_reduce (reduce={reduce!r}, or a src larger "
            "than index) is not implemented"
        )
        xt, st = ctx.saved_tensors
        gx, gs = refuse(msg, first[0], g, xt, st), refuse(msg, first[3], g, xt, st)
        return gx, None, None, gs, None, None
    dt = g._a.dtype
    idx = _wrap(xp.asarray(ia))

    def const(a):
        return _wrap(xp.asarray(np.asarray(a, dtype=dt)))

    touched = count > 0
    if reduce == "sum":
        gx, gs = g, g.gather(dim, idx)
    elif reduce == "mean":
        gx = g / const(np.maximum(count + (1 if include_self else 0), 1))
        gs = gx.gather(dim, idx)
    else:  # amax / amin
        grid = _grid(ia.shape, dim, ia, np)
        x_is = (x == out).astype(dt)
        s_is = (s == out[grid]).astype(dt)
        nd = x_is.copy()
        np.add.at(nd, grid, s_is)
        gd = g / const(nd)
        gx, gs = gd * const(x_is), gd.gather(dim, idx) * const(s_is)
    if not include_self:
        gx = gx * const(~touched)
    return gx, None, None, gs, None, None


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
        return _reduce_0d(scatter_reduce, input, index, src, reduce, include_self)
    return ScatterReduce.apply(input, d, index, src, reduce, include_self)


def _reduce_0d(fn, input, index, src, reduce, include_self):
    """``fn`` (scatter_reduce, index_reduce) of a 0-d ``input``: on the 1-element views of
    ``input``, ``index`` and ``src`` along dim 0, the result 0-d again."""
    return fn(
        input.reshape(1), 0, index.reshape(-1), src.reshape(-1), reduce, include_self=include_self
    ).reshape(())


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
    if (
        type(index) is Tensor
        and not (_grad_state.enabled and input._rg)
        and _fn_mod._autocast is None
    ):
        r = _take_small(input._a, index._a, d, False, False)  # small, nothing to record
        if r is not None:
            return _wrap(r)
    if not isinstance(index, Tensor):
        index = as_tensor_arg(index, input, "index_select")
    if index._a.ndim > 1:
        raise IndexError("index_select(): Index is supposed to be a vector")
    if index._a.dtype not in (np.int64, np.int32):
        raise RuntimeError("index_select(): Expected dtype int32 or int64 for index")
    index = index.reshape(-1)
    n = input._a.shape[d] if input._a.ndim else 1
    ia = index._a
    if ia.size and type(ia) is not MetaArray and (int(ia.min()) < 0 or int(ia.max()) >= n):
        # torch refuses negative indices here too (NumPy's take would wrap them)
        raise IndexOutOfRange("index out of range in self")
    if input._a.ndim == 0:  # torch: a 0-d self gives a 0-d result
        return index_select(input.reshape(1), 0, index).reshape(())
    return IndexSelect.apply(input, d, index)


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
        if xp is np or xp is meta_xp:  # (meta: a no-op)
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
    if index._a.dtype not in (np.int64, np.int32):
        from .binary import _scalar_name

        raise RuntimeError(
            "index_add_(): Expected dtype int32/int64 for index but got: "
            f"{_scalar_name(index._a.dtype)}"
        )
    _check_bounds(index._a, input._a.shape[d] if input._a.ndim else 1, d)
    return IndexAdd.apply(input, d, index, source, alpha)


def _index_vector(index, input, op):
    if not isinstance(index, Tensor):
        index = as_tensor_arg(index, input, op)
    if index._a.ndim > 1:
        raise IndexError(f"{op}_(): Index is supposed to be a vector")
    return index.reshape(-1)
