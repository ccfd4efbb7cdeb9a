"""Autograd for sparse tensors: the few ``Function``s every sparse op is composed of.

A sparse op that maps values elementwise is written as ``build(values_of(s) <dense op>)``:
``SparseValues`` hands the values to the dense autograd (its backward turns the values'
gradient into a sparse gradient with the input's pattern) and ``BuildCoo``/``BuildCompressed`` make
the sparse result (their backward reads the incoming gradient, sparse or dense, at the
result's indices: torch's ``sparse_mask``). Gradients of sparse inputs are sparse with the
input's sparsity pattern, as torch's.
"""

from __future__ import annotations

import numpy as np

from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops.embedding import _embedding_indices
from . import _arrays as AR
from ._tensor import SparseTensor

_wrap = Tensor._make


def _pattern(s: SparseTensor) -> SparseTensor:
    """A values-less copy of ``s``'s pattern (what a backward needs, without the values)."""
    return s._with_values(None)


def sparse_grad(pat: SparseTensor, vals) -> SparseTensor:
    """The gradient of a sparse input with pattern ``pat`` given the gradient ``vals`` of
    each of its entries (entries at one position get the same value): a sparse tensor whose
    dense view is the gradient, as torch's. An uncoalesced pattern is coalesced so that
    duplicate entries are not counted twice."""
    if pat._lay != "coo":
        return pat._with_values(_wrap(vals.reshape(pat._vshape())))
    if pat._coal or pat._ind.shape[1] < 2:
        return pat._with_values(_wrap(vals))
    xp = xp_of(vals)
    sd = pat._ind.shape[0]
    ind, _, inv = AR.coalesce(pat._ind, xp.zeros(pat._ind.shape[1], np.int8), pat._sz[:sd])
    first = xp.empty(ind.shape[1], np.int64)
    first[inv[::-1]] = xp.arange(inv.shape[0] - 1, -1, -1)
    return SparseTensor._coo(ind, _wrap(vals[first]), pat._sz, True)


def grad_values_at(g: Tensor, ind, size, sparse_dim: int):
    """The array of gradient values at the positions ``ind`` of a tensor of ``size``."""
    if isinstance(g, SparseTensor):
        # element indices of CSC/BSR/BSC tensors are not in row-major order
        srt = g._coal and g._lay in ("coo", "csr")
        return AR.mask_values(g._coo_ind(), g._coo_vals(), srt, ind, tuple(size[:sparse_dim]))
    return g._a[tuple(ind)]


class SparseValues(Function):
    """``values()`` with autograd: the values' gradient becomes a sparse gradient."""

    _node_name = "ValuesBackward0"

    @staticmethod
    def forward(ctx, s):
        ctx.pat = _pattern(s)
        return _wrap(s._val._a)

    @staticmethod
    def backward(ctx, g):
        return (sparse_grad(ctx.pat, g._a),)


class BuildCoo(Function):
    _node_name = "SparseCooTensorWithDimsAndTensorsBackward0"

    @staticmethod
    def forward(ctx, values, ind, size, coalesced):
        ctx.p = (ind, size)
        return SparseTensor._coo(ind, _wrap(values._a), size, coalesced)

    @staticmethod
    def backward(ctx, g):
        ind, size = ctx.p
        return _wrap(grad_values_at(g, ind, size, ind.shape[0])), None, None, None


class BuildCompressed(Function):
    """A compressed (CSR/CSC/BSR/BSC, batched, hybrid) tensor from its values."""

    _node_name = "SparseCompressedTensorBackward0"

    @staticmethod
    def forward(ctx, values, cidx, pidx, size, lay="csr", blk=None):
        out = SparseTensor._compressed(lay, cidx, pidx, _wrap(values._a), size, blk)
        ctx.pat = _pattern(out)
        return out

    @staticmethod
    def backward(ctx, g):
        pat = ctx.pat
        ind = pat._coo_ind()
        v = grad_values_at(g, ind, pat._sz, ind.shape[0])
        return _wrap(v.reshape(pat._vshape())), None, None, None, None, None


def values_of(s: SparseTensor) -> Tensor:
    """The values of ``s`` as a tensor in the autograd graph."""
    return SparseValues.apply(s)


def rebuild(s: SparseTensor, values: Tensor, coalesced: bool | None = None) -> SparseTensor:
    """A sparse tensor with ``s``'s pattern and ``values`` (which may carry autograd)."""
    if s._lay == "coo":
        return BuildCoo.apply(values, s._ind, s._sz, s._coal if coalesced is None else coalesced)
    if tuple(values.shape) != s._vshape():  # (N, *dense) element values of a blocked tensor
        values = values.reshape(s._vshape())
    return BuildCompressed.apply(values, s._crow, s._col, s._sz, s._lay, s._blk)


def map_values(s: SparseTensor, fn) -> SparseTensor:
    """``fn`` applied to the values of ``s`` (a zero-preserving elementwise op)."""
    return rebuild(s, fn(values_of(s)))


class ToDense(Function):
    _node_name = "ToDenseBackward0"

    @staticmethod
    def forward(ctx, s):
        ind = s._coo_ind()
        ctx.p = (_pattern(s), ind)
        return _wrap(AR.scatter_dense(ind, s._coo_vals(), s._sz, unique=s._coal))

    @staticmethod
    def backward(ctx, g):
        pat, ind = ctx.p
        return (sparse_grad(pat, g._a[tuple(ind)]),)


class DenseToSparse(Function):
    _node_name = "ToSparseBackward0"

    @staticmethod
    def forward(ctx, x, sparse_dim):
        a = x._a
        xp = xp_of(a)
        if sparse_dim == 0:
            ind = xp.zeros((0, 1), np.int64)
            vals = a[None]
        else:
            ind, vals = AR.dense_nonzero(a, sparse_dim)
        return SparseTensor._coo(ind, _wrap(xp.ascontiguousarray(vals)), a.shape, True)

    @staticmethod
    def backward(ctx, g):
        return dense_array(g), None


def dense_array(g: Tensor):
    """The dense array of a gradient (sparse of any layout, or dense)."""
    if isinstance(g, SparseTensor):
        return _wrap(AR.scatter_dense(g._coo_ind(), g._coo_vals(), g._sz))
    return g


class ToCompressed(Function):
    """A dense or sparse tensor as a compressed layout (``to_sparse_csr``/``csc``/``bsr``/
    ``bsc``). The gradient of a sparse input is read at its pattern."""

    _node_name = "ToSparseCsrBackward0"

    @staticmethod
    def forward(ctx, x, lay, blk, nbatch, size):
        if isinstance(x, SparseTensor):
            ind, vals = x._coo_ind(), x._coo_vals()
            if x._lay == "coo" and not x._coal:
                ind, vals, _ = AR.coalesce(ind, vals, x._sz[: ind.shape[0]])
            ctx.pat = _pattern(x)
        elif blk is not None:
            ctx.pat = None
            c, p, v = AR.dense_to_blocked(x._a, lay, blk, nbatch)
            return SparseTensor._compressed(lay, c, p, _wrap(v), size, blk)
        else:
            ind, vals = AR.dense_nonzero(x._a, nbatch + 2)
            ctx.pat = None
        c, p, v = AR.coo_to_compressed(ind, vals, size, lay, blk, nbatch)
        return SparseTensor._compressed(lay, c, p, _wrap(v), size, blk)

    @staticmethod
    def backward(ctx, g):
        gd = dense_array(g)
        pat = ctx.pat
        if pat is not None:
            gd = sparse_grad(pat, gd._a[tuple(pat._coo_ind())])
        return gd, None, None, None, None


class Coalesce(Function):
    _node_name = "CoalesceBackward0"

    @staticmethod
    def forward(ctx, s):
        sd = s._ind.shape[0]
        ind, vals, inv = AR.coalesce(s._ind, s._val._a, s._sz[:sd])
        ctx.p = (_pattern(s), ind, inv)
        return SparseTensor._coo(ind, _wrap(vals), s._sz, True)

    @staticmethod
    def backward(ctx, g):
        pat, ind, inv = ctx.p
        if not isinstance(g, SparseTensor):  # the dense view is unchanged: so is a dense grad
            return (g,)
        v = grad_values_at(g, ind, pat._sz, ind.shape[0])
        return (sparse_grad(pat, v[inv]),)


def _scaled_grad(g, c, div: bool):
    if isinstance(g, SparseTensor):
        ga = g._val._a
        return g._with_values(_wrap(ga / c if div else ga * c))
    return _wrap(g._a / c if div else g._a * c)


class SparseScale(Function):
    """``sparse * c`` / ``sparse / c`` for a Python scalar ``c``: linear in the dense view, so
    a dense gradient stays dense (as torch's MulBackward0/DivBackward0)."""

    _node_name = "MulBackward0"

    @staticmethod
    def forward(ctx, s, c, div):
        ctx.p = (c, div)
        va = s._val._a
        return s._with_values(_wrap(va / c if div else va * c))

    @staticmethod
    def backward(ctx, g):
        c, div = ctx.p
        return _scaled_grad(g, c, div), None, None


class SparseDiv(SparseScale):
    _node_name = "DivBackward0"


class SparseNeg(SparseScale):
    _node_name = "NegBackward0"


class SparseAdd(Function):
    """``a + alpha * b`` of two sparse tensors; the gradient (sparse or dense) passes through
    to both, as torch's AddBackward0."""

    _node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b, alpha):
        from ._ops import add_sparse_arrays

        ctx.alpha = alpha
        return add_sparse_arrays(a, b, alpha)

    @staticmethod
    def backward(ctx, g):
        return g, (g if ctx.alpha == 1 else _scaled_grad(g, ctx.alpha, False)), None


class SparseSub(SparseAdd):
    _node_name = "SubBackward0"


def coalesce(s: SparseTensor) -> SparseTensor:
    if s._lay != "coo":
        raise RuntimeError(
            f"coalesce expected sparse coordinate tensor layout but got Sparse{s._lay.capitalize()}"
        )
    if s._coal:
        return s
    return Coalesce.apply(s)


def _up(a):
    """float16/bfloat16 arrays as float32: scipy.sparse has no half-precision products (the
    result is rounded back to the input's dtype)."""
    if a.dtype == np.float16 or a.dtype.name == "bfloat16":
        return a.astype(np.float32)
    return a


def _scipy_matrix(s: SparseTensor):
    """``s`` (2-D, no dense dims) as a scipy/cupyx CSR matrix, cached per values version."""
    val = s._val
    key = (id(val._a), val._vref[0])
    cached = s._spm
    if cached is not None and cached[0] == key:
        return cached[1]
    va = _up(val._a)
    sp = AR.scipy_sparse_of(xp_of(va))
    if s._lay == "csr":
        m = sp.csr_matrix((va, s._col, s._crow), shape=s._sz)
    elif s._lay == "csc":
        m = sp.csc_matrix((va, s._col, s._crow), shape=s._sz)
    elif s._lay == "bsr":  # scipy's CSR product is ~3x faster than its BSR one (16x16 blocks)
        m = sp.bsr_matrix((va, s._col, s._crow), shape=s._sz, blocksize=s._blk).tocsr()
    elif s._lay == "bsc":  # the transpose of the BSR matrix of the transposed blocks
        bt = s._blk[::-1]
        m = sp.bsr_matrix(
            (va.transpose(0, 2, 1), s._col, s._crow), shape=s._sz[::-1], blocksize=bt
        ).T.tocsr()
    else:
        m = sp.coo_matrix((va, (s._ind[0], s._ind[1])), shape=s._sz).tocsr()
    s._spm = (key, m)
    return m


def _check_mm_pair(op: str, shape1, shape2, dtype1, dtype2) -> None:
    """torch's errors for mat1 @ mat2 of 2-D shapes ``shape1``, ``shape2``: inner sizes, dtypes."""
    if shape1[1] != shape2[0]:
        raise RuntimeError(
            f"{op}: mat1 and mat2 shapes cannot be multiplied ({shape1[0]}x{shape1[1]} and "
            f"{shape2[0]}x{shape2[1]})"
        )
    if dtype1 != dtype2:
        raise RuntimeError(
            f"{op}: expected mat1 and mat2 to have the same dtype, but got: {dtype1} != {dtype2}"
        )


def _check_mm(s: SparseTensor, d: Tensor, op: str) -> None:
    if s.dense_dim() != 0 or len(s._sz) != 2:
        raise RuntimeError(
            f"{op}: expected a 2-D sparse matrix without dense dimensions, got size "
            f"{list(s._sz)} with sparse_dim {s.sparse_dim()}"
        )
    if d.ndim != 2:
        raise RuntimeError(f"{op}: expected a 2-D dense matrix, got a {d.ndim}-D tensor")
    _check_mm_pair(op, s._sz, d.shape, s.dtype, d.dtype)
    if s.device != d.device:
        raise RuntimeError(
            f"{op}: expected all tensors to be on the same device, but found {s.device} and "
            f"{d.device}"
        )


def sampled_rowdot(a, b, rows, cols, chunk: int | None = None):
    """``(a @ b.T)[rows, cols]`` without forming the product: row dot products, gathered in
    cache-sized chunks of about 128K elements per operand (one big gather was 7x slower at
    100k entries x 64; 4096-row chunks of 128 columns were 30x slower than 1024-row ones)."""
    xp = xp_of(a)
    # a gathered row of a strided view (the expanded gradient of a sum) costs ~10x one of a
    # contiguous array
    a, b = xp.ascontiguousarray(a), xp.ascontiguousarray(b)
    n = rows.shape[0]
    out = xp.empty(n, a.dtype)
    if chunk is None:
        chunk = max(64, (1 << 17) // max(1, a.shape[1] if a.ndim == 2 else 1))
    if xp is not np:  # pragma: no cover - GPU: one fused pass
        return xp.einsum("ij,ij->i", a[rows], b[cols]).astype(a.dtype, copy=False)
    for s in range(0, n, chunk):
        out[s : s + chunk] = np.einsum("ij,ij->i", a[rows[s : s + chunk]], b[cols[s : s + chunk]])
    return out


def _sparse_mm_backward(ctx, g, sparse_operand_grad):
    """The gradients of ``sparse @ dense`` (SparseMM's saved ``ctx.p``): the dense operand's is
    ``S^T @ gO``; ``sparse_operand_grad(pattern, gO, D)`` gives the sparse operand's."""
    pat, m, da = ctx.p
    ga = g._a
    xp = xp_of(ga)
    gs = gd = None
    if ctx.needs_input_grad[0]:
        gs = sparse_operand_grad(pat, ga, da)
    if ctx.needs_input_grad[1]:
        gd = _wrap(xp.ascontiguousarray(xp.asarray(m.T @ _up(ga), dtype=ga.dtype)))
    return gs, gd


class SparseMM(Function):
    """``sparse @ dense``: scipy.sparse (CPU) / cupyx.scipy.sparse (GPU). The sparse operand's
    gradient is sparse with its pattern: ``(gO @ D^T)`` sampled at its entries."""

    _node_name = "SparseAddmmBackward0"

    @staticmethod
    def forward(ctx, s, d):
        m = _scipy_matrix(s)
        da = d._a
        out = m @ _up(da)
        xp = xp_of(da)
        out = xp.asarray(out, dtype=da.dtype)
        if ctx.needs_input_grad and any(ctx.needs_input_grad):
            ctx.p = (_pattern(s), m, da)
        return _wrap(xp.ascontiguousarray(out))

    @staticmethod
    def backward(ctx, g):
        def sampled(pat, ga, da):
            ind = pat._coo_ind()
            gv = sampled_rowdot(_up(ga), _up(da), ind[0], ind[1])
            return sparse_grad(pat, gv.astype(ga.dtype, copy=False))

        return _sparse_mm_backward(ctx, g, sampled)


class SparseMMNamedMm(SparseMM):
    """``torch.mm``/``matmul``/``@``/``spmm``/``addmm`` with a sparse operand: torch names the
    node MmBackward0 and gives the sparse operand the full dense gradient ``gO @ D^T``."""

    _node_name = "MmBackward0"

    @staticmethod
    def backward(ctx, g):
        def dense(pat, ga, da):
            return _wrap((_up(ga) @ _up(da).T).astype(ga.dtype, copy=False))

        return _sparse_mm_backward(ctx, g, dense)


def from_scipy(m, size, csr: bool, dtype=None) -> SparseTensor:
    """A scipy/cupyx sparse matrix as a coalesced COO (or CSR) SparseTensor."""
    c = m.tocoo()
    c.sum_duplicates()
    xp = xp_of(c.data)
    ind = xp.stack([c.row.astype(np.int64), c.col.astype(np.int64)])
    data = xp.ascontiguousarray(c.data if dtype is None else c.data.astype(dtype))
    out = SparseTensor._coo(ind, _wrap(data), size, True)
    if csr:
        return SparseTensor._csr(AR.coo_to_csr(ind, size[0]), ind[1].copy(), out._val, size)
    return out


def _masked(p: SparseTensor, pat: SparseTensor) -> SparseTensor:
    """``p`` at the entries of ``pat`` (a gradient with the input's pattern)."""
    ind = pat._coo_ind()
    v = AR.mask_values(p._ind, p._val._a, True, ind, pat._sz)
    if pat._lay != "coo":
        return pat._with_values(_wrap(v.reshape(pat._vshape())))
    return sparse_grad(pat, v)


class SparseSparseMM(Function):
    """``sparse @ sparse`` (a sparse result); gradients ``G @ B^T`` and ``A^T @ G`` are sparse
    products too when ``G`` is sparse, as torch's."""

    _node_name = "SparseSparseMatmulBackward0"
    _mask = True  # torch.sparse.mm: gradients restricted to each input's pattern

    @staticmethod
    def forward(ctx, a, b):
        ma, mb = _scipy_matrix(a), _scipy_matrix(b)
        ctx.p = (ma, mb, _pattern(a), _pattern(b), a._val._a.dtype)
        return from_scipy(ma @ mb, (a._sz[0], b._sz[1]), a._lay != "coo", a._val._a.dtype)

    @staticmethod
    def backward(ctx, g):
        ma, mb, pa, pb, dt = ctx.p
        if isinstance(g, SparseTensor):  # sparse products, masked to each input's pattern
            gm = _scipy_matrix(g)
            ga = gb = None
            if ctx.needs_input_grad[0]:
                ga = from_scipy(gm @ mb.T, pa._sz, False, dt)
                ga = _masked(ga, pa) if ctx._forward_cls._mask else ga
            if ctx.needs_input_grad[1]:
                gb = from_scipy(ma.T @ gm, pb._sz, False, dt)
                gb = _masked(gb, pb) if ctx._forward_cls._mask else gb
            return ga, gb
        xp = xp_of(g._a)
        ga = gb = None
        gu = _up(g._a)
        if ctx.needs_input_grad[0]:
            ga = _wrap(xp.ascontiguousarray(xp.asarray((mb @ gu.T).T, dtype=g._a.dtype)))
        if ctx.needs_input_grad[1]:
            gb = _wrap(xp.ascontiguousarray(xp.asarray(ma.T @ gu, dtype=g._a.dtype)))
        return ga, gb


class SparseSparseMMUnmasked(SparseSparseMM):
    """``torch.mm``/``matmul``/``@`` of two sparse matrices: torch does not mask the
    gradients to the inputs' patterns there (``torch.sparse.mm`` does)."""

    _node_name = "SparseSparseMatmulBackward0"
    _mask = False


class SparseTranspose(Function):
    """Swap two sparse dims of a COO tensor; a dense gradient stays dense (as torch's)."""

    _node_name = "TransposeBackward0"

    @staticmethod
    def forward(ctx, s, d0, d1):
        ctx.p = (d0, d1)
        return _transpose_arrays(s, d0, d1)

    @staticmethod
    def backward(ctx, g):
        d0, d1 = ctx.p
        if isinstance(g, SparseTensor):
            if g._lay != "coo":
                g = SparseTensor._coo(g._coo_ind(), _wrap(g._coo_vals()), g._sz, False)
            gc = g
            return _transpose_arrays(gc, d0, d1), None, None
        return _wrap(g._a.swapaxes(d0, d1)), None, None


def _transpose_arrays(s, d0, d1):
    perm = list(range(s._ind.shape[0]))
    perm[d0], perm[d1] = perm[d1], perm[d0]
    size = list(s._sz)
    size[d0], size[d1] = size[d1], size[d0]
    return SparseTensor._coo(s._ind[perm], _wrap(s._val._a), tuple(size), False)


class EmbeddingSparse(Function):
    """``F.embedding(..., sparse=True)``: the weight's gradient is a sparse COO tensor with
    one (uncoalesced) row per looked-up index, as torch's ``embedding_sparse_backward``."""

    _node_name = "EmbeddingBackward0"

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        wa = weight._a
        idx = _embedding_indices(indices, wa.shape[0])
        ctx.p = (idx, wa.shape, padding_idx, scale_grad_by_freq)
        return _wrap(wa[idx])

    @staticmethod
    def backward(ctx, g):
        idx, (V, D), padding_idx, by_freq = ctx.p
        xp = xp_of(g._a)
        flat = idx.reshape(-1).astype(np.int64)
        gv = g._a.reshape(-1, D)
        if by_freq:
            raise RuntimeError(
                "embedding_backward: scale_grad_by_freq not supported with sparse gradients"
            )
        if padding_idx is not None:
            pad = int(padding_idx) % V if int(padding_idx) < 0 else int(padding_idx)
            keep = flat != pad
            flat = flat[keep]
            gv = gv[keep]
        gv = xp.ascontiguousarray(gv, dtype=g._a.dtype)
        return SparseTensor._coo(flat[None, :], _wrap(gv), (V, D), False), None, None, None


def _own(g: SparseTensor) -> SparseTensor:
    """A sparse gradient whose arrays the leaf may keep (and later change in place)."""
    return g._clone_arrays() if g.grad_fn is None else g.detach()


def accumulate_grad(var: Tensor, g: Tensor, create_graph: bool, hooks_done: bool = False) -> None:
    """AccumulateGrad with sparse gradients or sparse leaves, torch's rules: a sparse
    gradient is stored as is; sparse + sparse stays sparse; a dense ``.grad`` takes a sparse
    gradient in place; a dense gradient turns a sparse ``.grad`` dense."""
    if not hooks_done and var._hooks:
        for h in list(var._hooks):
            r = h(g)
            if r is not None:
                g = r
    cur = var._grad
    g_sp = isinstance(g, SparseTensor)
    if cur is None:
        if create_graph:
            var._grad = g
        elif g_sp:
            var._grad = _own(g)
        else:
            var._grad = _wrap(g._a.copy())
        return
    cur_sp = isinstance(cur, SparseTensor)
    if create_graph or cur._rg:
        var._grad = cur + g if cur_sp or not g_sp else g + cur
        return
    if cur_sp and g_sp:
        from ._ops import add_sparse_arrays

        var._grad = add_sparse_arrays(cur, g)
    elif g_sp:  # dense .grad += sparse gradient, in place
        AR.add_at(cur._a, g._coo_ind(), g._coo_vals())
        cur._vref[0] += 1
    else:  # sparse .grad, dense gradient: the sum is dense
        var._grad = _wrap(g._a + AR.scatter_dense(cur._coo_ind(), cur._coo_vals(), cur._sz))
