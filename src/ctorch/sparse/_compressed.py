"""Compressed sparse layouts (CSR, CSC, BSR, BSC; batched and hybrid): construction with
torch's invariant checks, conversions between every pair of layouts, accessors, transpose.

One code path serves the four layouts: a layout is "row compressed" (CSR, BSR) or "column
compressed" (CSC, BSC), blocked (BSR, BSC) or not. Element-level COO indices
(``SparseTensor._coo_ind``) bridge them to the COO and dense code.
"""

from __future__ import annotations

import numpy as np

from .._tensor import Tensor
from ..autograd.grad_mode import state
from ..ops._util import named
from . import _arrays as AR
from ._autograd import BuildCompressed, BuildCoo, ToCompressed, values_of
from ._tensor import SparseTensor

_wrap = Tensor._make
LAYOUTS = ("csr", "csc", "bsr", "bsc")
# torch's internal names of the layouts in error messages
_KIND = {"coo": "Sparse", "csr": "SparseCsr", "csc": "SparseCsc", "bsr": "SparseBsr"}
_KIND["bsc"] = "SparseBsc"
_KIND["strided"] = "Strided"
_TO = {
    lay: type(
        f"ToSparse{lay.capitalize()}",
        (ToCompressed,),
        {"_node_name": f"ToSparse{lay.capitalize()}Backward0"},
    )
    for lay in LAYOUTS
}
_TO_LAYOUT = type("ToSparseLayout", (ToCompressed,), {"_node_name": "ToSparseBackward1"})
_TO_COO = type("CompressedToCoo", (BuildCoo,), {"_node_name": "ToSparseBackward1"})
_TRANSPOSE = type("CompressedTranspose", (BuildCompressed,), {"_node_name": "TransposeBackward0"})


def index_names(lay: str) -> tuple[str, str, str, str]:
    """``(compressed indices, plain indices, compressed dim, plain dim)`` names of ``lay``."""
    if lay in AR.ROW_COMPRESSED:
        return "crow_indices", "col_indices", "rows", "cols"
    return "ccol_indices", "row_indices", "cols", "rows"


def layout_key(layout) -> str:
    """``"csr"``... for a ``ctorch.layout`` (``"strided"``, ``"coo"`` for the others)."""
    name = getattr(layout, "name", None) or str(layout).replace("torch.", "")
    return name.replace("sparse_", "")


_TORCH_DTYPE = {"int64": "Long", "int32": "Int", "int16": "Short", "int8": "Char"}
_TORCH_DTYPE.update({"uint8": "Byte", "float32": "Float", "float64": "Double", "bool": "Bool"})
_TORCH_DTYPE.update({"uint16": "UInt16", "uint32": "UInt32", "uint64": "UInt64"})


def _indices(x):
    """An index argument (tensor, array or list) as an array (empty lists as int64)."""
    if isinstance(x, SparseTensor):
        raise TypeError("sparse_compressed_tensor: indices must be dense tensors")
    if isinstance(x, Tensor):
        return x._a
    a = np.asarray(x)
    return a.astype(np.int64) if a.size == 0 else a


def _check_invariants(lay, c, p, nnz, size, nbatch, blk):
    cn, pn, cd, pd = index_names(lay)
    bh, bw = blk or (1, 1)
    row = lay in AR.ROW_COMPRESSED
    ncomp = size[nbatch] // bh if row else size[nbatch + 1] // bw
    nplain = size[nbatch + 1] // bw if row else size[nbatch] // bh
    what = {"rows": "rows", "cols": "columns"}[cd]
    what = what if blk is None else what[:-1] + " blocks"
    if c.shape[-1] != ncomp + 1:
        raise RuntimeError(
            f"{cn}.shape[-1] must be equal to the number of {what} + 1 (={ncomp + 1}), but "
            f"got {c.shape[-1]}"
        )
    if p.shape[-1] != nnz:
        raise RuntimeError(
            f"{pn}.shape[-1] must be equal to nnz (={nnz}) as defined by values.shape"
            f"[{nbatch}], but got {p.shape[-1]}"
        )
    if c.size and not bool((c[..., 0] == 0).all()):
        raise RuntimeError(f"`{cn}[..., 0] == 0` is not satisfied.")
    if c.size and not bool((c[..., -1] == nnz).all()):
        raise RuntimeError(f"`{cn}[..., -1] == nnz` is not satisfied.")
    d = np.diff(c, axis=-1)
    if d.size and bool(((d < 0) | (d > nplain)).any()):
        raise RuntimeError(f"`0 <= {cn}[..., 1:] - {cn}[..., :-1] <= n{pd}` is not satisfied.")
    if p.size and bool(((p < 0) | (p >= nplain)).any()):
        raise RuntimeError(f"`0 <= {pn} < n{pd}` is not satisfied.")
    if p.size:
        ind = AR.compressed_coo_ind("csr", c, p, None)
        key = (ind[-2] * max(nplain, 1) + ind[-1]).reshape(-1, nnz)
        if nnz > 1 and not bool((np.diff(key, axis=-1) > 0).all()):
            raise RuntimeError(
                f"`{pn}[..., {cn}[..., i - 1]:{cn}[..., i]] for all i = 1, ..., n{cd} are "
                "sorted and distinct along the last dimension values` is not satisfied."
            )


def sparse_compressed_tensor(
    compressed_indices,
    plain_indices,
    values,
    size=None,
    *,
    dtype=None,
    layout=None,
    device=None,
    pin_memory: bool = False,
    requires_grad: bool = False,
    check_invariants: bool | None = None,
) -> SparseTensor:
    """``torch.sparse_compressed_tensor``: a CSR/CSC/BSR/BSC tensor (``layout=``), batched
    (leading dims of the index arrays) and hybrid (trailing dims of the values). ctorch
    always checks the invariants (``check_invariants`` is accepted for torch's signature)."""
    from .._device import as_device
    from ._ops import _move, _values_tensor

    op = "sparse_compressed_tensor"
    lay = "none" if layout is None else layout_key(layout)
    if lay not in LAYOUTS:
        raise RuntimeError(
            f"{op} expected sparse compressed tensor layout but got {_KIND.get(lay, lay)}"
        )
    cn, pn, _, _ = index_names(lay)
    c = _indices(compressed_indices)
    p = _indices(plain_indices)
    if c.dtype != p.dtype:
        raise RuntimeError(
            f"{cn} and {pn} must have the same dtype, bot got "
            f"{_TORCH_DTYPE.get(c.dtype.name, c.dtype.name)} and "
            f"{_TORCH_DTYPE.get(p.dtype.name, p.dtype.name)}, respectively"
        )
    if c.dtype.kind not in "iu":
        raise RuntimeError(
            f"{cn} and {pn} must be an int32 or int64 type, but got: "
            f"{_TORCH_DTYPE.get(c.dtype.name, c.dtype.name)}"
        )
    c, p = c.astype(np.int64, copy=False), p.astype(np.int64, copy=False)
    if type(c) is not np.ndarray:  # indices are checked on the host
        c, p = c.get(), p.get()  # pragma: no cover - GPU only
    vals = _values_tensor(values, dtype)
    if device is not None:
        vals = vals.to(as_device(device))
    if c.ndim != p.ndim:
        raise RuntimeError(
            f"{cn} and {pn} dimensionalities must be equal but got {c.ndim} and {p.ndim}, "
            "respectively"
        )
    if c.ndim < 1:
        raise RuntimeError(f"{cn} must have dimensionality >= 1 but got {c.ndim}")
    nbatch = c.ndim - 1
    nblk = 2 if lay[0] == "b" else 0
    if vals.ndim <= nbatch + nblk:
        raise RuntimeError(
            "values must have dimensionality > sum of batch and block dimensionalities "
            f"(={nbatch} + {nblk}) but got {vals.ndim}"
        )
    vshape = tuple(vals.shape)
    blk = vshape[nbatch + 1 : nbatch + 3] if nblk else None
    dense = vshape[nbatch + 1 + nblk :]
    nnz = vshape[nbatch]
    bh, bw = blk or (1, 1)
    if size is None:
        ncomp = c.shape[-1] - 1
        nplain = int(p.max()) + 1 if p.size else 0
        if lay in AR.ROW_COMPRESSED:
            base = (ncomp * bh, nplain * bw)
        else:
            base = (nplain * bh, ncomp * bw)
        size = tuple(c.shape[:-1]) + base + dense
    size = tuple(int(s) for s in size)
    if len(size) != nbatch + 2 + len(dense):
        raise RuntimeError(
            "tensor dimensionality must be sum of batch, base, and dense dimensionalities "
            f"(={nbatch} + 2 + {len(dense)}) but got {len(size)}"
        )
    if any(s < 0 for s in size):
        raise RuntimeError(f"{op}: negative dimension in size {list(size)}")
    batch = list(size[:nbatch])
    if list(c.shape[:-1]) != batch or list(p.shape[:-1]) != batch or list(vshape[:nbatch]) != batch:
        raise RuntimeError(
            f"all batch dimensions of {cn} (={list(c.shape[:-1])}), {pn} (="
            f"{list(p.shape[:-1])}), and values (={list(vshape[:nbatch])}) must be equal to "
            f"tensor batch dimensions (={batch})"
        )
    if tuple(size[nbatch + 2 :]) != dense:
        raise RuntimeError(
            f"dimensions of values (={list(dense)}) beyond the batch, nnz and block dimensions "
            f"must be equal to tensor dense dimensions (={list(size[nbatch + 2 :])})"
        )
    for k, b in enumerate((bh, bw)):
        if b == 0 or size[nbatch + k] % b:
            raise RuntimeError(
                f"tensor shape[{nbatch + k}] (={size[nbatch + k]}) must be divisible with "
                f"blocksize[{k}] (={b}) as defined by values shape"
            )
    _check_invariants(lay, c, p, nnz, size, nbatch, blk)
    c, p = _move(c, vals.device), _move(p, vals.device)
    if state.enabled and vals._rg:
        out = BuildCompressed.apply(vals, c, p, size, lay, blk)
    else:
        out = SparseTensor._compressed(lay, c, p, _wrap(vals._a), size, blk)
    if requires_grad:
        out.requires_grad_(True)
    return out


def _constructor(lay: str):
    cn, pn, _, _ = index_names(lay)

    def ctor(
        compressed_indices,
        plain_indices,
        values,
        size=None,
        *,
        dtype=None,
        device=None,
        pin_memory: bool = False,
        requires_grad: bool = False,
        check_invariants: bool | None = None,
    ) -> SparseTensor:
        import ctorch

        return sparse_compressed_tensor(
            compressed_indices,
            plain_indices,
            values,
            size,
            dtype=dtype,
            layout=getattr(ctorch, "sparse_" + lay),
            device=device,
            requires_grad=requires_grad,
        )

    return named(
        ctor,
        f"sparse_{lay}_tensor",
        f"``torch.sparse_{lay}_tensor({cn}, {pn}, values, size=None, ...)``: "
        "``sparse_compressed_tensor`` with that layout.",
    )


sparse_csr_tensor = _constructor("csr")
sparse_csc_tensor = _constructor("csc")
sparse_bsr_tensor = _constructor("bsr")
sparse_bsc_tensor = _constructor("bsc")


# ------------------------------------------------------------------ conversions
def _blocksize(blocksize, fn: str):
    if blocksize is None:
        return None
    b = (blocksize, blocksize) if isinstance(blocksize, int) else tuple(int(v) for v in blocksize)
    if len(b) != 2:
        raise RuntimeError(f"{fn}: blocksize needs to be a tuple of size 2, but got {len(b)}")
    if b[0] <= 0 or b[1] <= 0:
        raise RuntimeError(f"{fn}: blocksize needs to be positive, but got {list(b)}")
    return b


def to_compressed(x: Tensor, lay: str, blocksize=None, dense_dim=None, _fn=None) -> SparseTensor:
    """``x.to_sparse_<lay>(...)`` for a dense or sparse ``x`` of any layout (``to_sparse(
    layout=)`` names its node ``ToSparseBackward1``, as torch)."""
    src = x._lay if isinstance(x, SparseTensor) else "strided"
    if src == "strided":
        fn = f"dense_to_sparse_{lay}"
    elif src in LAYOUTS:
        fn = f"sparse_compressed_to_sparse_{lay}"
    else:
        fn = f"coo_to_sparse_{lay}"
    blocked = lay[0] == "b"
    if blocked and blocksize is None:
        pre = {"strided": "dense", "coo": "sparse_coo"}.get(src, "sparse_compressed")
        raise RuntimeError(
            f"{pre}_to_sparse: conversion from {_KIND[src]} to {_KIND[lay]} without blocksize argument "
            "given is not supported"
        )
    blk = _blocksize(blocksize, fn) if blocked else None
    if src == "strided":
        nd = x.ndim
        dd = 0 if dense_dim is None else int(dense_dim)
        if not 0 <= dd <= nd - 2:
            raise RuntimeError(
                f"{fn}: dense_dim argument must be in [0,{max(nd - 2, 0)}] range, but {dd} is given"
            )
        nbatch = nd - 2 - dd
        if AR._prod(x.shape[:nbatch]) == 0:
            raise RuntimeError(
                f"to_sparse_{lay}: Expected product of batch dimensions to be non-zero."
            )
    else:
        if dense_dim is not None:
            raise RuntimeError(
                f"{f'to_sparse_{lay}' if src == lay else fn}: conversion from {_KIND[src]} to {_KIND[lay]} with dense_dim argument "
                "given is not supported"
            )
        if src in LAYOUTS:
            if src[0] == "b" and not blocked:
                raise RuntimeError(
                    f"{fn}: expected SparseCsr or SparseCsc layout but got {_KIND[src]}"
                )
            if src[0] == "b" and x._blk != blk:
                raise RuntimeError(
                    f"to_sparse_{lay}: conversion from {_KIND[src]} to {_KIND[lay]} with "
                    f"blocksize changed from {list(x._blk)} to {list(blk)} is not supported"
                )
            if src == lay:
                return x
        nbatch = x.ndim - x.dense_dim() - 2
        if nbatch < 0 or (src == "coo" and nbatch):  # torch: COO with sparse_dim 2 only
            raise RuntimeError(
                f"{fn}: conversion from {_KIND[src]} to {_KIND[lay]} for input tensors with "
                f"sparse_dim()!={2} is not supported"
            )
    size = tuple(x.shape)
    if x.ndim < 2:
        raise RuntimeError(f"{fn}: expected a tensor of at least 2 dims, got {x.ndim}-D")
    if blk is not None and (size[nbatch] % blk[0] or size[nbatch + 1] % blk[1]):
        raise RuntimeError(
            f"{fn}: tensor sparse size ({size[nbatch]},{size[nbatch + 1]}) must be divisible "
            f"by given blocksize ({blk[0]},{blk[1]})"
        )
    return (_fn or _TO[lay]).apply(x, lay, blk, nbatch, size)


def compressed_to_coo(s: SparseTensor) -> SparseTensor:
    """A compressed tensor as a COO tensor (batch dims become sparse dims) with the entries
    in storage order, as torch: coalesced only for CSR (row-major order)."""
    v = values_of(s).reshape((-1,) + s._sz[s._nbatch() + 2 :])
    return _TO_COO.apply(v, s._coo_ind(), s._sz, s._lay == "csr")


def to_sparse_any(x: Tensor, sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None):
    """``Tensor.to_sparse(sparse_dim=None, *, layout=None, blocksize=None, dense_dim=None)``."""
    import ctorch

    from ._ops import dense_to_sparse, to_dense, to_sparse

    lay = "coo" if layout is None else layout_key(layout)
    if lay in LAYOUTS:
        if sparse_dim is not None:
            raise TypeError("to_sparse(): sparse_dim is not supported with a compressed layout")
        return to_compressed(x, lay, blocksize, dense_dim, _TO_LAYOUT)
    if lay == "strided":
        return to_dense(x)
    if blocksize is not None:
        src = x._lay if isinstance(x, SparseTensor) else "strided"
        raise RuntimeError(
            f"{'dense_to_sparse' if src == 'strided' else 'to_sparse'}: conversion from "
            f"{_KIND[src]} to Sparse with blocksize argument given is not supported"
        )
    if isinstance(x, SparseTensor):
        return to_sparse(x, sparse_dim)
    return dense_to_sparse(x, sparse_dim, layout=ctorch.sparse_coo, dense_dim=dense_dim)


# ------------------------------------------------------------------ accessors, transpose
def _accessor(name: str, lays: tuple, what: str):
    def get(s: SparseTensor) -> Tensor:
        lay = s._lay if isinstance(s, SparseTensor) else "strided"
        if lay not in lays:
            raise RuntimeError(
                f"{name} expected sparse {what} compressed tensor layout but got {_KIND[lay]}"
            )
        return _wrap(s._crow if name.startswith(("crow", "ccol")) else s._col)

    get.__name__ = name
    return get


crow_indices = _accessor("crow_indices", ("csr", "bsr"), "row")
col_indices = _accessor("col_indices", ("csr", "bsr"), "row")
ccol_indices = _accessor("ccol_indices", ("csc", "bsc"), "column")
row_indices = _accessor("row_indices", ("csc", "bsc"), "column")

_FLIP = {"csr": "csc", "csc": "csr", "bsr": "bsc", "bsc": "bsr"}


def transpose_compressed(s: SparseTensor, d0: int, d1: int) -> SparseTensor:
    """Swapping the two sparse dims of a compressed tensor flips its compression (CSR <->
    CSC, BSR <-> BSC, blocks transposed); the arrays are shared."""
    nb = s._nbatch()
    kinds = ["Batch"] * nb + ["Sparse"] * 2 + ["Dense"] * s.dense_dim()
    if d0 == d1:
        return s
    if kinds[d0] != kinds[d1]:
        raise RuntimeError(
            "transpose(): can only transpose dimensions of the same type (Batch, Sparse, "
            f"Dense), got {d0}({kinds[d0]}) and {d1}({kinds[d1]})"
        )
    if s.dense_dim():
        raise RuntimeError(
            "transpose(): hybrid sparse compressed tensors with dense dimensions are not supported"
        )
    if kinds[d0] != "Sparse":
        from ._tensor import unsupported

        raise unsupported("transpose (of batch dims)", s)
    size = list(s._sz)
    size[nb], size[nb + 1] = size[nb + 1], size[nb]
    v = values_of(s)
    blk = s._blk
    if blk is not None:
        v = v.transpose(-2, -1)
        blk = blk[::-1]
    return _TRANSPOSE.apply(v.contiguous(), s._crow, s._col, tuple(size), _FLIP[s._lay], blk)
