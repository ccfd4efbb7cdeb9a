"""Sparse creation, conversion and elementwise arithmetic (torch's COO/CSR semantics)."""

from __future__ import annotations

import numbers

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._device import as_device
from .._tensor import Tensor
from ..autograd.grad_mode import state
from . import _arrays as AR
from ._autograd import (
    BuildCompressed,
    BuildCoo,
    DenseToSparse,
    SparseAdd,
    SparseDiv,
    SparseNeg,
    SparseScale,
    SparseSub,
    SparseTranspose,
    ToDense,
    coalesce,
    map_values,
    rebuild,
    values_of,
)
from ._tensor import SparseTensor, unsupported

_wrap = Tensor._make


def _index_array(x, what: str, op: str):
    """``x`` (a Tensor, array or nested list) as an int64 array."""
    if isinstance(x, SparseTensor):
        raise TypeError(f"{op}: {what} must be a dense tensor, got a sparse one")
    a = x._a if isinstance(x, Tensor) else np.asarray(x)
    if a.dtype.kind == "f" or a.dtype.kind == "b":
        a = a.astype(np.int64)
    elif a.dtype.kind not in "iu":
        raise RuntimeError(f"{op}: {what} must be an integer tensor, got dtype {a.dtype}")
    return a if a.dtype == np.int64 else a.astype(np.int64)


def _values_tensor(values, dtype) -> Tensor:
    import ctorch

    if not isinstance(values, Tensor):
        values = ctorch.tensor(values, dtype=dtype)
    elif isinstance(values, SparseTensor):
        raise TypeError("values must be a dense tensor, got a sparse one")
    if dtype is not None and values.dtype != D._as_dtype(dtype):
        values = values.to(D._as_dtype(dtype))
    return values


def _move(a, dev):
    """An index array on the device ``dev``."""
    if dev.type == "cpu":
        return a if type(a) is np.ndarray else a.get()
    import cupy  # pragma: no cover - GPU only

    with cupy.cuda.Device(dev.index or 0):  # pragma: no cover
        return cupy.asarray(a)  # pragma: no cover


def sparse_coo_tensor(
    indices,
    values,
    size=None,
    *,
    dtype=None,
    device=None,
    pin_memory: bool = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
    is_coalesced: bool | None = None,
) -> SparseTensor:
    """``torch.sparse_coo_tensor``: a COO tensor from ``(sparse_dim, nnz)`` indices and
    ``(nnz, *dense_shape)`` values (the values are shared, not copied)."""
    op = "sparse_coo_tensor"
    ind = _index_array(indices, "indices", op)
    vals = _values_tensor(values, dtype)
    if device is not None:
        vals = vals.to(as_device(device))
    if ind.ndim != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(ind.shape)}")
    if vals.ndim == 0:
        raise RuntimeError("values must be at least 1-dimensional (nnz x dense_shape)")
    sd, nnz = ind.shape
    if vals.shape[0] != nnz:
        raise RuntimeError(
            "indices and values must have same nnz, but got nnz from indices: "
            f"{nnz}, nnz from values: {vals.shape[0]}"
        )
    dense_shape = tuple(vals.shape[1:])
    if size is None:
        if nnz:
            sparse_shape = tuple(int(m) + 1 for m in ind.max(axis=1))
        else:
            sparse_shape = (0,) * sd
        size = sparse_shape + dense_shape
    else:
        size = tuple(int(s) for s in size)
        if len(size) != sd + len(dense_shape):
            raise RuntimeError(
                "'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = "
                f"{len(size)}, sparse_dim = {sd}, dense_dim = {len(dense_shape)}"
            )
        if tuple(size[sd:]) != dense_shape:
            raise RuntimeError(
                f"values has incorrect size, expected {list(size[sd:])} for the dense "
                f"dimensions, got {list(dense_shape)}"
            )
        if nnz:
            lo = ind.min(axis=1)
            hi = ind.max(axis=1)
            for d in range(sd):
                if int(lo[d]) < 0:
                    raise RuntimeError(f"{op}: found negative index {int(lo[d])} for dim {d}")
                if int(hi[d]) >= size[d]:
                    raise RuntimeError(
                        f"{op}: size is inconsistent with indices: for dim {d}, size is "
                        f"{size[d]} but found index {int(hi[d])}"
                    )
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: negative dimension in size {list(size)}")
    ind = _move(ind, vals.device)
    coal = nnz <= 1 if is_coalesced is None else bool(is_coalesced)
    if state.enabled and vals._rg:
        out = BuildCoo.apply(vals, ind, size, coal)
    else:
        out = SparseTensor._coo(ind, _wrap(vals._a), size, coal)
    if requires_grad:
        out.requires_grad_(True)
    return out


# ------------------------------------------------------------------ conversions
def dense_to_sparse(
    x: Tensor, sparse_dim: int | None = None, *, layout=None, blocksize=None, dense_dim=None
):
    """``Tensor.to_sparse([sparse_dim], layout=)`` on a dense tensor."""
    import ctorch

    if (layout is not None and layout is not ctorch.sparse_coo) or blocksize is not None:
        from ._compressed import to_sparse_any

        return to_sparse_any(x, sparse_dim, layout=layout, blocksize=blocksize, dense_dim=dense_dim)
    nd = x.ndim
    if sparse_dim is None:
        sparse_dim = nd - (dense_dim or 0)
    if not 0 <= sparse_dim <= nd:
        raise RuntimeError(
            f"sparse_dim argument must be in [0, {nd}] range, but {sparse_dim} is given"
        )
    if sparse_dim == 0 and nd == 0:
        sparse_dim = 0
    return DenseToSparse.apply(x, sparse_dim)


def to_sparse(
    s: SparseTensor, sparse_dim: int | None = None, *, layout=None, blocksize=None, dense_dim=None
):
    if layout is not None or blocksize is not None or dense_dim is not None:
        from ._compressed import to_sparse_any

        return to_sparse_any(s, sparse_dim, layout=layout, blocksize=blocksize, dense_dim=dense_dim)
    if s._lay == "coo":
        if sparse_dim is not None and sparse_dim != s.sparse_dim():
            raise RuntimeError(
                f"to_sparse: conversion from Sparse to Sparse with sparse_dim argument != "
                f"self.sparse_dim() is not supported ({sparse_dim} vs {s.sparse_dim()})"
            )
        return s
    if sparse_dim is not None and sparse_dim != s._nbatch() + 2:
        raise RuntimeError(
            f"sparse_compressed_to_sparse: conversion from {s._lay.capitalize()} to Sparse with "
            f"sparse_dim argument != {s._nbatch() + 2} is not supported"
        )
    from ._compressed import compressed_to_coo

    return compressed_to_coo(s)


def to_sparse_csr(s, dense_dim=None):
    from ._compressed import to_compressed

    return to_compressed(s, "csr", None, dense_dim)


def to_dense(s, dtype=None, *, masked_grad=None) -> Tensor:
    out = ToDense.apply(s) if isinstance(s, SparseTensor) else s
    return out if dtype is None else out.to(dtype)


def sparse_mask(x: Tensor, mask: SparseTensor) -> SparseTensor:
    """``dense.sparse_mask(mask)``: ``x``'s entries at ``mask``'s indices."""
    if isinstance(x, SparseTensor):
        m = mask if mask._lay == "coo" else to_sparse(mask)
        src = x if x._lay == "coo" else to_sparse(x)
        v = AR.mask_values(src._coo_ind(), src._val._a, src._coal, m._ind, m._sz[: m.sparse_dim()])
        return m._with_values(_wrap(v))
    if tuple(x.shape) != mask._sz:
        raise RuntimeError(
            f"sparse_mask(): operands have incompatible sizes; self has size {list(x.shape)} "
            f"but mask has size {list(mask._sz)}"
        )
    ind = mask._coo_ind()
    import ctorch

    v = x[tuple(ctorch.from_numpy(i) if type(i) is np.ndarray else _wrap(i) for i in ind)]
    return rebuild(mask, v)


# ------------------------------------------------------------------ arithmetic
def _is_scalar(o) -> bool:
    return isinstance(o, numbers.Number) or (
        isinstance(o, Tensor) and not isinstance(o, SparseTensor) and o.ndim == 0
    )


def _same_size(a, b, op):
    if tuple(a.shape) != tuple(b.shape):
        raise RuntimeError(
            f"{op}: expected 'self' and 'other' to have same size, but self has size "
            f"{list(a.shape)} while other has size {list(b.shape)}"
        )


def add_sparse_arrays(a: SparseTensor, b: SparseTensor, alpha=1) -> SparseTensor:
    """``a + alpha * b`` for sparse tensors without autograd (gradient accumulation)."""
    if a._lay != "coo" or b._lay != "coo":  # via element-level COO, back to a's layout
        a2, b2 = (
            t
            if t._lay == "coo"
            else SparseTensor._coo(t._coo_ind(), _wrap(t._coo_vals()), t._sz, False)
            for t in (a, b)
        )
        c = coalesce(add_sparse_arrays(a2, b2, alpha))
        if a._lay == "coo":
            return c
        ci, pi, v = AR.coo_to_compressed(c._ind, c._val._a, c._sz, a._lay, a._blk, a._nbatch())
        return SparseTensor._compressed(a._lay, ci, pi, _wrap(v), c._sz, a._blk)
    xp = xp_of(a._ind)
    va, vb = a._val._a, b._val._a
    if alpha != 1:
        vb = vb * alpha
    dt = np.promote_types(va.dtype, vb.dtype)
    ind = xp.concatenate([a._ind, b._ind], axis=1)
    val = xp.concatenate([va.astype(dt, copy=False), vb.astype(dt, copy=False)])
    out = SparseTensor._coo(ind, _wrap(val), a._sz, False)
    if a._coal and b._coal:
        sd = ind.shape[0]
        i2, v2, _ = AR.coalesce(ind, val, a._sz[:sd])
        out = SparseTensor._coo(i2, _wrap(v2), a._sz, True)
    return out


def _add_ss(a: SparseTensor, b: SparseTensor, alpha, op):
    _same_size(a, b, op)
    if a.sparse_dim() != b.sparse_dim():
        raise RuntimeError(
            f"{op}: expected the same sparse_dim, got {a.sparse_dim()} and {b.sparse_dim()}"
        )
    if a._lay != b._lay:
        raise RuntimeError(f"{op}: expected both sparse operands to have the same layout")
    if a.dtype != b.dtype and state.enabled and (a._rg or b._rg):
        import ctorch

        dt = ctorch.promote_types(a.dtype, b.dtype)
        a, b = a.to(dt), b.to(dt)
    return (SparseSub if op == "sub" else SparseAdd).apply(a, b, alpha)


def add(a, b, *, alpha=1):
    """``torch.add`` with a sparse operand: sparse + sparse is sparse, dense + sparse dense."""
    if isinstance(a, SparseTensor):
        if isinstance(b, SparseTensor):
            return _add_ss(a, b, alpha, "add")
        raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
    # dense + sparse -> dense
    _same_size(a, b, "add")
    d = to_dense(b)
    return a + (d if alpha == 1 else d * alpha)


def sub(a, b, *, alpha=1):
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        return _add_ss(a, b, -alpha, "sub")
    return add(a, b, alpha=-alpha) if isinstance(b, SparseTensor) else add(a, b * -alpha)


def _intersect(a: SparseTensor, b: SparseTensor):
    A, B = coalesce(a), coalesce(b)
    sd = A._ind.shape[0]
    la = AR.linearize(A._ind, A._sz[:sd])
    lb = AR.linearize(B._ind, B._sz[:sd])
    xp = xp_of(la)
    if lb.shape[0] == 0 or la.shape[0] == 0:
        ia = xp.zeros(0, np.int64)
        ib = ia
    else:
        pos = xp.minimum(xp.searchsorted(lb, la), lb.shape[0] - 1)
        hit = lb[pos] == la
        ia = xp.nonzero(hit)[0]
        ib = pos[ia]
    return A, B, ia, ib


def mul(a, b):
    """``torch.mul`` with a sparse operand (sparse * scalar, sparse * dense, sparse * sparse
    of the same size): the result is sparse."""
    if not isinstance(a, SparseTensor):
        a, b = b, a
    if isinstance(b, numbers.Number) and not isinstance(b, bool):
        return SparseScale.apply(a, b, False)
    if _is_scalar(b):
        return map_values(a, lambda v: v * b)
    if isinstance(b, SparseTensor):
        _same_size(a, b, "mul")
        if a._lay != "coo" or b._lay != "coo":
            return to_sparse(mul(to_sparse(a), to_sparse(b)), layout=a.layout, blocksize=a._blk)
        A, B, ia, ib = _intersect(a, b)
        v = values_of(A)[_wrap(ia)] * values_of(B)[_wrap(ib)]
        return BuildCoo.apply(v, A._ind[:, ia], A._sz, True)
    if not isinstance(b, Tensor):
        raise TypeError(f"mul(): unsupported operand type {type(b).__name__} with a sparse tensor")
    _same_size(a, b, "mul")
    ind = a._coo_ind()
    return rebuild(a, values_of(a) * b[tuple(_wrap(i) for i in ind)])


def div(a, b, *, rounding_mode=None):
    if not isinstance(a, SparseTensor) or not _is_scalar(b):
        raise unsupported("div", a if isinstance(a, SparseTensor) else b)
    if rounding_mode is None and isinstance(b, numbers.Number) and not isinstance(b, bool):
        if a.is_floating_point() or a.is_complex():
            return SparseDiv.apply(a, b, True)
    return map_values(a, lambda v: v.div(b, rounding_mode=rounding_mode))


def pow_(a, exponent):
    if not isinstance(exponent, numbers.Number) or exponent <= 0:
        raise RuntimeError(
            f"pow: sparse tensors support only positive scalar exponents (zero stays zero), "
            f"got {exponent!r}"
        )
    return map_values(coalesce(a) if a._lay == "coo" else a, lambda v: v.pow(exponent))


def transpose(s: SparseTensor, dim0: int, dim1: int) -> SparseTensor:
    from .._tensor import _wrap_dim

    nd = len(s._sz)
    d0, d1 = _wrap_dim(dim0, nd, "transpose"), _wrap_dim(dim1, nd, "transpose")
    if s._lay != "coo":
        from ._compressed import transpose_compressed

        return transpose_compressed(s, d0, d1)
    sd = s._ind.shape[0]
    if d0 == d1:
        return s
    if d0 >= sd or d1 >= sd:
        raise RuntimeError(
            "transpose: sparse COO tensors support transposing only sparse dimensions "
            f"(sparse_dim = {sd}), got dims {dim0} and {dim1}"
        )
    return SparseTranspose.apply(s, d0, d1)


def t(s: SparseTensor) -> SparseTensor:
    if s.ndim > 2:
        raise RuntimeError(f"t() expects a tensor with <= 2 dimensions, but self is {s.ndim}D")
    return s if s.ndim < 2 else transpose(s, 0, 1)


def clone(s: SparseTensor, *, memory_format=None) -> SparseTensor:
    v = values_of(s).clone()
    if s._lay == "coo":
        return BuildCoo.apply(v, s._ind.copy(), s._sz, s._coal)
    return BuildCompressed.apply(v, s._crow.copy(), s._col.copy(), s._sz, s._lay, s._blk)


def to(s: SparseTensor, *args, **kwargs) -> SparseTensor:
    v = values_of(s)
    nv = v.to(*args, **kwargs)
    if nv is v:
        return s
    dev = nv.device
    if s._lay == "coo":
        return BuildCoo.apply(nv, _move(s._ind, dev), s._sz, s._coal)
    return BuildCompressed.apply(nv, _move(s._crow, dev), _move(s._col, dev), s._sz, s._lay, s._blk)


def neg(s: SparseTensor) -> SparseTensor:
    """``-sparse``: linear, so a dense gradient stays dense (NegBackward0)."""
    return SparseNeg.apply(s, -1, False)
