"""In-place operations on sparse tensors (no autograd): what optimizers and
``load_state_dict`` use (``zero_``, ``mul_``, ``add_``, ``copy_``, ``dense.add_(sparse)``)."""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.grad_mode import state
from ._arrays import add_at
from ._ops import _is_scalar, _move, _same_size, add_sparse_arrays
from ._tensor import SparseTensor, unsupported

_wrap = Tensor._make


# ------------------------------------------------------------------ in-place (optimizers)
def _check_inplace(s, op):
    if s._rg and s.grad_fn is None and state.enabled:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )


def zero_(s: SparseTensor) -> SparseTensor:
    _check_inplace(s, "zero_")
    xp = xp_of(s._val._a)
    va = s._val._a
    nb = s._nbatch()  # compressed values are (*batch, nnz, ...)
    s._val = _wrap(xp.zeros(va.shape[:nb] + (0,) + va.shape[nb + 1 :], va.dtype))
    if s._lay == "coo":
        s._ind = xp.zeros((s._ind.shape[0], 0), np.int64)
        s._coal = True
    else:
        s._crow = xp.zeros_like(s._crow)
        s._col = xp.zeros(s._col.shape[:-1] + (0,), np.int64)
    s._spm = None
    s._vref[0] += 1
    return s


def mul_(s: SparseTensor, c) -> SparseTensor:
    _check_inplace(s, "mul_")
    if not _is_scalar(c):
        raise unsupported("mul_", s)
    c = c.item() if isinstance(c, Tensor) else c
    a = s._val._a
    a *= a.dtype.type(c) if a.dtype.kind == "f" else c
    s._val._vref[0] += 1
    s._vref[0] += 1
    return s


def div_(s: SparseTensor, c) -> SparseTensor:
    if not _is_scalar(c):
        raise unsupported("div_", s)
    c = c.item() if isinstance(c, Tensor) else c
    a = s._val._a
    a /= a.dtype.type(c) if a.dtype.kind == "f" else c
    s._val._vref[0] += 1
    s._vref[0] += 1
    return s


def add_(s: SparseTensor, other, *, alpha=1) -> SparseTensor:
    _check_inplace(s, "add_")
    if not isinstance(other, SparseTensor):
        raise RuntimeError("add_(sparse, dense) is not supported; use dense.add_(sparse)")
    _same_size(s, other, "add_")
    r = add_sparse_arrays(s, other, alpha)
    for name in ("_ind", "_val", "_coal", "_crow", "_col", "_blk"):
        setattr(s, name, getattr(r, name))
    s._spm = None
    s._vref[0] += 1
    return s


def dense_add_sparse_(x: Tensor, other: SparseTensor, alpha=1) -> Tensor:
    """``dense.add_(sparse, alpha=)`` in place, without autograd (optimizer updates)."""
    xa = x._a
    v = other._coo_vals()
    if alpha != 1:
        v = v * alpha
    add_at(xa, other._coo_ind(), v)
    x._vref[0] += 1
    return x


def copy_(s: SparseTensor, src, non_blocking: bool = False) -> SparseTensor:
    """``sparse.copy_(sparse)``: take ``src``'s size, pattern and values (converted to this
    tensor's dtype and device), as torch (``load_state_dict`` of sparse buffers)."""
    if not isinstance(src, SparseTensor) or src._lay != s._lay:
        raise RuntimeError(
            "copy_(): a sparse tensor can only be copied from a sparse tensor of the same "
            f"layout, got {src.layout if isinstance(src, Tensor) else type(src).__name__}"
        )
    _check_inplace(s, "copy_")
    dev = s.device
    val = src._val.detach().to(device=dev, dtype=s.dtype, copy=True)
    if s._lay == "coo":
        s._ind = _move(src._ind, dev).copy()
        s._coal = src._coal
    else:
        s._crow = _move(src._crow, dev).copy()
        s._col = _move(src._col, dev).copy()
        s._blk = src._blk
    s._val = _wrap(val._a)
    s._sz = src._sz
    s._spm = None
    s._vref[0] += 1
    return s
