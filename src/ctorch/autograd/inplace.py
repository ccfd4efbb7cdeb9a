"""In-place operations on tensors in the graph: ``inplace`` (run an op, write its result into
the tensor, record the write for autograd), the CopySlices node for writes through views, and
the rebase of views whose base was modified (torch's view/base semantics).

Ops call ``inplace(self, name, compute, other)``; the array copies go through the backend, so
this module never touches kernels. Two function-level imports reach up into ``ops`` (noted where
they stand): dtype conversion and the index-put gradient are ops, and ops import this module.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._tensor import Tensor
from . import function as _F
from .function import Function
from .grad_mode import _INPLACE_MSG, INFERENCE_VERSION, state

_wrap = Tensor._make
_nd = np.ndarray


_NO_GRAD_VIEW_MSG = (
    "A view was created in no_grad mode and {what} modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
    "to be tracked)."
)


def check_writable(t: Tensor, op: str) -> None:
    if t._vref is INFERENCE_VERSION and not state.inference:
        raise RuntimeError(_INPLACE_MSG)
    a = t._a
    if type(a) is _nd and not a.flags.writeable:
        if any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape, strict=True)):
            # an expand()ed view (NumPy's broadcast view is read-only): torch's message
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )
        raise RuntimeError(
            f"{op}: cannot modify this tensor in place: its memory is a read-only NumPy array "
            "(e.g. from_numpy of a read-only array). Use .clone() first, or make the array "
            "writeable on the NumPy side."
        )
    base = t._base
    if base is not None and state.enabled and base._rg:
        fn = t.grad_fn
        if (fn is None or type(fn) is _NoGradViewBackward) and getattr(t, "_vng", False):
            raise RuntimeError(_NO_GRAD_VIEW_MSG.format(what="is being"))


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "V": 2, "c": 3}  # V: bfloat16
    return order[src.kind] <= order[dst.kind]


def inplace(self: Tensor, op: str, compute, other=None):
    """Run ``compute()`` (an out-of-place op returning a Tensor) and write the result into
    ``self``; with autograd, ``self`` takes the new graph node (torch's rebase)."""
    check_writable(self, op)
    graph = state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))
    if graph and self.grad_fn is None and self._rg:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if graph:
        nodes = []
        prev = _F.record_nodes(nodes)
        try:
            r = compute()
        finally:
            _F.record_nodes(prev)
        if nodes:
            # ops that saved ``self`` for backward must keep its pre-op values
            snap = Tensor._make(self._a.copy())
            snap._rg, snap.grad_fn, snap._output_nr = self._rg, self.grad_fn, self._output_nr
            _F.resave_input(nodes, self, snap)
    else:
        r = compute()
    ra = r._a
    if not _can_cast(ra.dtype, self._a.dtype):
        raise RuntimeError(
            f"{op}: result type {D.from_numpy_dtype(ra.dtype)} can't be cast to the desired "
            f"output type {self.dtype}"
        )
    if ra.shape != self._a.shape:
        try:
            np.broadcast_shapes(ra.shape, self._a.shape)
            ok = np.broadcast_shapes(ra.shape, self._a.shape) == self._a.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"{op}: output with shape {list(self._a.shape)} doesn't match the broadcast "
                f"shape {list(ra.shape)}"
            )
    if ra is not self._a:
        xp_of(self._a).copyto(self._a, ra, casting="unsafe")
    self._vref[0] += 1
    if graph:
        base = self._base
        if base is not None and r._rg:
            _rebase_view(self, r)
            _rebase_other_views(base, self)
        else:
            self.grad_fn = r.grad_fn
            self._output_nr = r._output_nr
            self._rg = r._rg
            if self._views and self._rg:
                _rebase_other_views(self, None)
    return self


class _CopySlices(Function):
    """An in-place op on a view: the base takes the result at the view's elements (torch's
    CopySlices). ``idx``: flat positions of the view's elements in the (contiguous) base."""

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, r, idx, mask):
        ctx.idx, ctx.mask = idx, mask
        return _wrap(base._a)  # already holds the result

    @staticmethod
    def backward(ctx, g):
        gb = g * _wrap(ctx.mask) if ctx.needs_input_grad[0] else None
        gr = g.reshape(-1)[_wrap(ctx.idx)] if ctx.needs_input_grad[1] else None
        return gb, gr, None, None


class _Copy(Function):
    """``dst.copy_(src)`` with autograd (torch's CopyBackwards): the result is ``src``
    (cast, moved and broadcast to ``dst``); ``dst``'s old value gets a zero gradient, so it
    stays in the graph, as in torch."""

    _node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        from ..ops.conversion import to_impl  # ops import this module: bind at call time

        ctx.src_shape, ctx.src_dtype, ctx.src_device = src._a.shape, src.dtype, src.device
        return to_impl(src, dst.dtype, dst.device, False).expand(dst.shape)

    @staticmethod
    def backward(ctx, g):
        gd = gs = None
        if ctx.needs_input_grad[0]:
            gd = _wrap(xp_of(g._a).zeros_like(g._a))
        if ctx.needs_input_grad[1]:
            from ..ops._util import sum_to_shape  # ops import this module: bind at call time
            from ..ops.conversion import to_impl  # (same)

            gs = to_impl(sum_to_shape(g, ctx.src_shape), ctx.src_dtype, ctx.src_device, False)
        return gd, gs


def _data_ptr(a) -> int:
    return a.__array_interface__["data"][0] if type(a) is _nd else a.data.ptr


def _flat_positions(ba, va):
    """Positions, in ``ba``'s C-order flattening, of the elements of ``va`` (an array over
    ``ba``'s memory), shaped like ``va``: a NumPy int64 array. Any strides, including a
    non-contiguous or flipped base. None when some element of ``va`` is not an element of
    ``ba`` (the base's memory was swapped, e.g. by ``.data =``)."""
    item = ba.itemsize
    addr = np.asarray(_data_ptr(va) - _data_ptr(ba), dtype=np.int64)
    for n, st in zip(va.shape, va.strides, strict=True):
        addr = np.add.outer(addr, np.arange(n, dtype=np.int64) * st)
    if addr.size == 0:
        return addr
    if ba.flags.c_contiguous:
        if addr.min() < 0 or addr.max() >= ba.size * item or np.any(addr % item):
            return None
        return addr // item
    baddr = np.asarray(0, dtype=np.int64)
    for n, st in zip(ba.shape, ba.strides, strict=True):
        baddr = np.add.outer(baddr, np.arange(n, dtype=np.int64) * st)
    baddr = baddr.reshape(-1)
    order = np.argsort(baddr, kind="stable")
    sorted_addr = baddr[order]
    i = np.minimum(np.searchsorted(sorted_addr, addr), sorted_addr.size - 1)
    if not np.array_equal(sorted_addr[i], addr):
        return None
    return order[i]


def _to_xp(idx, like):
    return idx if type(like) is _nd else xp_of(like).asarray(idx)


class _AsStridedView(Function):
    """A view's new history after its base (or another view of it) was modified in place:
    the view's elements read from the base's new value (torch's AsStridedBackward0). Only
    the node matters; ``forward`` wraps the view's own array."""

    _node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, va, pos=None):
        ba = base._a
        if pos is None:
            pos = _flat_positions(ba, va)
        if pos is None:
            raise RuntimeError(
                "in-place operation on a view whose memory is no longer part of its base's "
                "(the base's storage was replaced, e.g. through .data): autograd cannot "
                "route its gradient; take the view again after the replacement"
            )
        ctx.pos = _to_xp(pos.reshape(-1), ba)
        ctx.bshape, ctx.vshape = ba.shape, va.shape
        return _wrap(va)

    @staticmethod
    def backward(ctx, g):
        from ..ops.subscript import _IndexBackward  # ops import this module: bind at call time

        n = 1
        for d in ctx.bshape:
            n *= d
        flat = _IndexBackward.apply(g.reshape(-1), (ctx.pos,), True, (n,))
        return flat.reshape(ctx.bshape), None, None


class _NoGradViewFn(Function):
    """grad_fn of a view taken under no_grad whose base (or another view of it) was then
    modified in place with grad mode on. torch raises when the view's grad_fn is next read;
    ctorch raises when a gradient reaches it, with torch's message."""

    _node_name = "NoGradViewBackward"

    @staticmethod
    def forward(ctx, base, va):
        return _wrap(va)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            _NO_GRAD_VIEW_MSG.format(what="its base or another view of its base has been")
        )


_NoGradViewBackward = _NoGradViewFn._backward_cls


def _rebase_other_views(base: Tensor, skip) -> None:
    """After an in-place op recorded on ``base`` (or on its view ``skip``), give every other
    live view of ``base`` a grad_fn through the base's new history (torch's view rebase).
    torch does this lazily when a view's version no longer matches its grad_fn; ctorch at
    once, since ``grad_fn`` is a plain slot read on every op."""
    vs = base._views
    if not vs:
        return
    alive = []
    for ref in list(vs):
        v = ref()
        if v is None:
            continue
        alive.append(ref)
        if (
            v is skip
            or v._a.dtype != base._a.dtype
            or not (v.is_floating_point() or v.is_complex())
        ):
            continue
        fn = v.grad_fn
        if type(fn) is _NoGradViewBackward:
            continue
        if fn is None and getattr(v, "_vng", False):
            t = _NoGradViewFn.apply(base, v._a)
        else:
            pos = _flat_positions(base._a, v._a)
            if pos is None:  # the base's storage was replaced: no longer its view
                continue
            t = _AsStridedView.apply(base, v._a, pos)
        v.grad_fn, v._output_nr, v._rg = t.grad_fn, 0, True
    vs[:] = alive


def _rebase_view(view: Tensor, r: Tensor) -> None:
    base = view._base
    ba, va = base._a, view._a
    if base.grad_fn is None and base._rg:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    if ba.dtype != va.dtype:
        raise RuntimeError(
            "in-place operation on a dtype-reinterpreting view (view(dtype)) of a tensor that "
            "is part of the autograd graph is not supported; apply it on a .clone()"
        )
    pos = _flat_positions(ba, va)
    if pos is None:
        raise RuntimeError(
            "in-place operation on a view whose memory is no longer part of its base's "
            "(the base's storage was replaced, e.g. through .data): autograd cannot route "
            "its gradient; take the view again after the replacement"
        )
    xp = xp_of(ba)
    mask = xp.ones(ba.shape, ba.dtype)
    idx = _to_xp(pos, ba)
    mask.reshape(-1)[idx.reshape(-1)] = 0
    nb = _CopySlices.apply(base, r, idx, mask)
    base.grad_fn, base._output_nr, base._rg = nb.grad_fn, 0, True
    vv = _AsStridedView.apply(base, va, pos)  # the view, read back from the new base
    view.grad_fn, view._output_nr, view._rg = vv.grad_fn, 0, True
