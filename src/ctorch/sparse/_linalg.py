"""Matrix products and reductions with sparse operands (``torch.sparse.mm``/``addmm``/
``sum``/``softmax``/``log_softmax``/``sampled_addmm``, ``torch.mm``/``matmul``/``spmm``)."""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor, _wrap_dim
from . import _arrays as AR
from ._autograd import (
    BuildCompressed,
    BuildCoo,
    SparseMM,
    SparseMMNamedMm,
    SparseSparseMM,
    SparseSparseMMUnmasked,
    _check_mm,
    _check_mm_pair,
    coalesce,
    values_of,
)
from ._ops import to_sparse, transpose
from ._tensor import SparseTensor

_wrap = Tensor._make


def _mm(a, b, fn, op):
    if isinstance(a, SparseTensor) and isinstance(b, SparseTensor):
        return _spsp(a, b, op, fn is SparseMM)
    if isinstance(a, SparseTensor):
        _check_mm(a, b, op)
        return fn.apply(a, b)
    if isinstance(b, SparseTensor):
        if a.ndim != 2:
            raise RuntimeError(f"{op}: expected a 2-D dense matrix, got a {a.ndim}-D tensor")
        bt = transpose(to_sparse(b), 0, 1)
        _check_mm(bt, a.t(), op)
        return fn.apply(bt, a.t()).t()
    raise TypeError(f"{op}: expected a sparse operand")


def _spsp(a, b, op, masked):
    for s in (a, b):
        if len(s._sz) != 2 or s.dense_dim() != 0:
            raise RuntimeError(f"{op}: expected 2-D sparse matrices, got size {list(s._sz)}")
    _check_mm_pair(op, a._sz, b._sz, a.dtype, b.dtype)
    return (SparseSparseMM if masked else SparseSparseMMUnmasked).apply(a, b)


def mm(mat1, mat2):
    """``torch.mm`` with a sparse operand (node ``MmBackward0`` as torch)."""
    return _mm(mat1, mat2, SparseMMNamedMm, "mm")


def sparse_mm(mat1, mat2, reduce: str | None = None):
    """``torch.sparse.mm``: sparse @ dense (or dense @ sparse), gradients to both operands;
    the sparse operand's gradient is sparse with its pattern."""
    if reduce not in (None, "sum"):
        raise NotImplementedError(f"torch.sparse.mm: reduce={reduce!r} is not supported by ctorch")
    return _mm(mat1, mat2, SparseMM, "sparse.mm")


spmm = mm


def matmul(a, b):
    """``torch.matmul``/``@`` with a 2-D sparse operand and a 1-D or 2-D dense one."""
    sp, other = (a, b) if isinstance(a, SparseTensor) else (b, a)
    if isinstance(other, SparseTensor):
        return mm(a, b)
    if sp.ndim != 2:
        raise RuntimeError(f"matmul: sparse operands must be 2-D, got {sp.ndim}-D")
    if other.ndim == 1:
        if sp is a:
            return mm(a, b.unsqueeze(1)).squeeze(1)
        return mm(a.unsqueeze(0), b).squeeze(0)
    if other.ndim != 2:
        raise RuntimeError(
            f"matmul: a sparse matrix multiplies 1-D or 2-D dense tensors, got {other.ndim}-D"
        )
    return mm(a, b)


def addmm(input, mat1, mat2, *, beta=1, alpha=1, _named=False):
    """``torch.sparse.addmm`` (and ``torch.addmm(input, sparse, dense)`` with ``_named``, whose
    sparse operand gets a dense gradient): ``beta * input + alpha * (mat1 @ mat2)``."""
    if isinstance(input, SparseTensor):
        input = input.to_dense()
    prod = mm(mat1, mat2) if _named else sparse_mm(mat1, mat2)
    if alpha != 1:
        prod = prod * alpha
    if beta == 0:
        return prod
    return prod + (input if beta == 1 else input * beta)


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """``torch.sparse.sampled_addmm``: ``beta * input + alpha * (mat1 @ mat2)`` evaluated only
    at the entries of the CSR tensor ``input`` (a CSR result)."""
    if out is not None:
        raise NotImplementedError("sparse.sampled_addmm: out= is not supported by ctorch")
    if not isinstance(input, SparseTensor) or input._lay != "csr":
        raise RuntimeError(
            "sampled_addmm: Expected input to be a sparse CSR tensor (layout=torch.sparse_csr)"
        )
    if mat1.ndim != 2 or mat2.ndim != 2:
        raise RuntimeError("sampled_addmm: Expected mat1 and mat2 to be 2-D dense matrices")
    if mat1.shape[1] != mat2.shape[0] or (mat1.shape[0], mat2.shape[1]) != input._sz:
        raise RuntimeError(
            f"sampled_addmm: mat1 {list(mat1.shape)} @ mat2 {list(mat2.shape)} does not match "
            f"input of size {list(input._sz)}"
        )
    ind = input._coo_ind()
    rows, cols = _wrap(ind[0]), _wrap(ind[1])
    prod = (mat1[rows] * mat2.t()[cols]).sum(-1)
    v = prod * alpha if alpha != 1 else prod
    if beta != 0:
        vi = values_of(input)
        v = v + (vi if beta == 1 else vi * beta)
    return BuildCompressed.apply(v, input._crow, input._col, input._sz)


def sparse_sum(input, dim=None, dtype=None):
    """``torch.sparse.sum``: all dims give a 0-d dense tensor; sparse dims reduce to a sparse
    tensor (dense once no sparse dim is left)."""
    if not isinstance(input, SparseTensor):
        return input.sum(dim, dtype=dtype) if dim is not None else input.sum(dtype=dtype)
    s = to_sparse(input) if input._lay != "coo" else input
    v = values_of(s)
    if dtype is not None:
        v = v.to(dtype)
    if dim is None:
        return v.sum()
    nd = len(s._sz)
    dims = (dim,) if isinstance(dim, int) else tuple(dim)
    dims = sorted({_wrap_dim(d, nd, "sparse.sum") for d in dims})
    if len(dims) == nd:
        return v.sum()
    sd = s._ind.shape[0]
    dense_red = tuple(d - sd + 1 for d in dims if d >= sd)
    if dense_red:
        v = v.sum(dense_red)
    keep = [d for d in range(sd) if d not in dims]
    size = tuple(s._sz[d] for d in range(nd) if d not in dims)
    if not keep:
        return v.sum(0)
    out = BuildCoo.apply(v, s._ind[keep], size, False)
    return coalesce(out)


def sum_method(self: SparseTensor, dim=None, keepdim: bool = False, *, dtype=None):
    if keepdim:
        raise RuntimeError("sum: keepdim=True is not supported for sparse tensors")
    return sparse_sum(self, dim, dtype)


def _softmax(input, dim, dtype, log: bool):
    import ctorch

    op = "sparse.log_softmax" if log else "sparse.softmax"
    if not isinstance(input, SparseTensor):
        f = ctorch.log_softmax if log else ctorch.softmax
        return f(input, dim, dtype=dtype)
    if input._lay != "coo":
        raise NotImplementedError(f"{op}: CSR input is not supported by ctorch; use COO")
    sd = input._ind.shape[0]
    if input.dense_dim() != 0:
        raise NotImplementedError(f"{op}: hybrid COO tensors are not supported by ctorch")
    d = _wrap_dim(dim, len(input._sz), op)
    s = coalesce(input)
    v = values_of(s)
    if dtype is not None:
        v = v.to(dtype)
    ind = s._ind
    xp = xp_of(ind)
    other = [k for k in range(sd) if k != d]
    lin = AR.linearize(ind[other], tuple(s._sz[k] for k in other))
    if lin.shape[0] == 0:
        return s._with_values(v) if not v._rg else BuildCoo.apply(v, ind, s._sz, True)
    _, ginv = xp.unique(lin, return_inverse=True)
    ginv = ginv.reshape(-1).astype(np.int64)
    G = int(ginv.max()) + 1
    va = v._a
    m = xp.full(G, -np.inf, va.dtype)
    if xp is np:
        np.maximum.at(m, ginv, va)
    else:  # pragma: no cover - GPU only
        import cupyx

        cupyx.scatter_max(m, ginv, va)
    m = xp.where(xp.isfinite(m), m, 0).astype(va.dtype)
    g = _wrap(ginv)
    shifted = v - _wrap(m[ginv])
    e = shifted.exp()
    tot = ctorch.zeros(G, dtype=e.dtype, device=e.device).index_add(0, g, e)
    out = shifted - tot.log()[g] if log else e / tot[g]
    return BuildCoo.apply(out, ind, s._sz, True)


def softmax(input, dim: int, dtype=None):
    """``torch.sparse.softmax``: softmax over the specified entries along ``dim`` (missing
    entries count as -inf, so they stay zero)."""
    return _softmax(input, dim, dtype, False)


def log_softmax(input, dim: int, dtype=None):
    return _softmax(input, dim, dtype, True)
