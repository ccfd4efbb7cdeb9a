"""``SparseTensor``: COO and CSR tensors, a ``Tensor`` subclass that holds no dense array.

A sparse tensor is a ``ctorch.Tensor`` (``isinstance`` holds, autograd records it like any
tensor) whose storage is an index array and a values tensor:

- COO (``layout=torch.sparse_coo``): ``_ind`` int64 ``(sparse_dim, nnz)``, ``_val`` a dense
  ``Tensor`` ``(nnz, *dense_shape)`` (hybrid tensors when ``dense_dim > 0``), ``_coal``;
- compressed (``torch.sparse_csr``/``sparse_csc``/``sparse_bsr``/``sparse_bsc``): ``_crow``
  ``(*batch, ncompressed + 1)`` and ``_col`` ``(*batch, nnz)`` int64, ``_blk`` the block size
  (BSR/BSC), ``_val`` ``(*batch, nnz, *block, *dense)``.

``shape``/``dtype``/``device``/``requires_grad``/``is_sparse``/``layout`` come from that
metadata, so generic code (autocast, dtype checks, optimizers) never touches dense storage.
The inherited ``_a`` slot holds a ``_NoDense`` stand-in: a dense op that reaches for the
array raises ``NotImplementedError`` naming the op (as torch's "Could not run 'aten::exp'
with arguments from the 'SparseCPU' backend"), never an ``AttributeError`` from deep inside.
Tensor methods that sparse tensors do not support are replaced by stubs raising the same.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._device import device
from .._size import Size
from .._subclass import caller_op
from .._subclass import install_stubs as _install_stubs
from .._tensor import Tensor
from .._torch_function import _disabled_torch_function_impl
from . import _arrays as AR

__all__ = ["SparseTensor", "unsupported"]

_ndarray = np.ndarray


def _layout_name(lay: str) -> str:
    return "sparse_" + lay


def _backend_name(t) -> str:
    base = "SparseCPU" if t is None or not t.is_cuda else "SparseCUDA"
    if t is not None and t._lay != "coo":
        base = base.replace("Sparse", "SparseCsr")
    return base


def unsupported(op: str, t=None) -> NotImplementedError:
    """torch's error for an op that has no sparse kernel."""
    lay = "coo" if t is None else t._lay
    return NotImplementedError(
        f"Could not run 'aten::{op}' with arguments from the '{_backend_name(t)}' backend: "
        f"'{op}' does not support sparse tensors (layout=torch.{_layout_name(lay)}); "
        "convert with .to_dense() first"
    )


def _caller_op() -> str:
    """The name of the outermost ctorch function on the stack (the op the user called)."""
    return caller_op("ctorch.sparse")


class _NoDense:
    """The ``_a`` of a sparse tensor: any use by a dense op raises ``unsupported``."""

    __slots__ = ("lay",)

    def __init__(self, lay: str) -> None:
        self.lay = lay

    def _raise(self, *args, **kwargs):
        op = _caller_op()
        return NotImplementedError(
            f"Could not run 'aten::{op}' with arguments from the "
            f"'{'SparseCPU' if self.lay == 'coo' else 'SparseCsrCPU'}' backend: '{op}' does "
            f"not support sparse tensors (layout=torch.{_layout_name(self.lay)}); convert "
            "with .to_dense() first"
        )

    def __getattr__(self, name):
        raise self._raise()

    def __array__(self, *args, **kwargs):
        raise self._raise()

    def __getitem__(self, key):
        raise self._raise()

    def __setitem__(self, key, value):
        raise self._raise()

    def __len__(self):
        raise self._raise()

    def __iter__(self):
        raise self._raise()

    def __bool__(self):
        raise self._raise()

    def __float__(self):
        raise self._raise()

    def __index__(self):
        raise self._raise()

    def __add__(self, other):
        raise self._raise()

    __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = __truediv__ = __rtruediv__ = __add__
    __matmul__ = __rmatmul__ = __pow__ = __neg__ = __abs__ = __lt__ = __gt__ = __add__
    __le__ = __ge__ = __iadd__ = __imul__ = __isub__ = __itruediv__ = __add__


class SparseTensor(Tensor):
    """A sparse COO or compressed (CSR/CSC/BSR/BSC) tensor (``torch.sparse_coo_tensor`` /
    ``torch.sparse_compressed_tensor``).

    Compressed layouts share one representation: ``_crow`` holds the compressed indices
    (``crow_indices`` of CSR/BSR, ``ccol_indices`` of CSC/BSC), ``(*batch, ncompressed + 1)``,
    ``_col`` the plain ones (``col_indices``/``row_indices``), ``(*batch, nnz)``, ``_blk`` the
    block size of BSR/BSC (``None`` otherwise) and ``_val`` ``(*batch, nnz, *block, *dense)``."""

    __slots__ = ("_lay", "_ind", "_val", "_sz", "_coal", "_crow", "_col", "_spm", "_blk")
    # not a torch subclass: ops keep their own semantics (no __torch_function__ dispatch)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, *args, **kwargs):
        raise TypeError(
            "SparseTensor is made by ctorch.sparse_coo_tensor, ctorch.sparse_compressed_tensor or "
            "Tensor.to_sparse()"
        )

    # ---------------------------------------------------------------- construction
    @staticmethod
    def _coo(ind, val: Tensor, size, coalesced: bool) -> SparseTensor:
        t = object.__new__(SparseTensor)
        Tensor._init_slots(t)
        t._a = _NoDense("coo")
        t._lay = "coo"
        t._ind = ind
        t._val = val
        t._sz = tuple(int(s) for s in size)
        t._coal = bool(coalesced)
        t._crow = t._col = t._blk = None
        t._spm = None
        return t

    @staticmethod
    def _compressed(lay: str, cidx, pidx, val: Tensor, size, blk=None) -> SparseTensor:
        """A compressed tensor of layout ``lay`` (``"csr"``, ``"csc"``, ``"bsr"``, ``"bsc"``)."""
        t = object.__new__(SparseTensor)
        Tensor._init_slots(t)
        t._a = _NoDense(lay)
        t._lay = lay
        t._ind = None
        t._crow = cidx
        t._col = pidx
        t._val = val
        t._sz = tuple(int(s) for s in size)
        t._coal = True
        t._spm = None
        t._blk = None if blk is None else (int(blk[0]), int(blk[1]))
        return t

    @staticmethod
    def _csr(crow, col, val: Tensor, size) -> SparseTensor:
        return SparseTensor._compressed("csr", crow, col, val, size)

    def _with_values(self, val: Tensor) -> SparseTensor:
        """A tensor with this one's pattern and new values (no autograd)."""
        if self._lay == "coo":
            return SparseTensor._coo(self._ind, val, self._sz, self._coal)
        return SparseTensor._compressed(self._lay, self._crow, self._col, val, self._sz, self._blk)

    def _nbatch(self) -> int:
        """The number of leading batch dims of a compressed tensor (0 for COO)."""
        return 0 if self._lay == "coo" else self._col.ndim - 1

    def _vshape(self) -> tuple:
        """The shape of the values array (computed from the indices: patterns have none)."""
        if self._lay == "coo":
            return (self._ind.shape[1],) + self._sz[self._ind.shape[0] :]
        nb = self._nbatch()
        return tuple(self._col.shape) + (self._blk or ()) + self._sz[nb + 2 :]

    def _coo_ind(self):
        """The ``(sparse_dim, N)`` element indices (batch dims count as sparse dims; a block
        contributes its ``bh * bw`` elements), in the order of ``_coo_vals()``."""
        if self._lay == "coo":
            return self._ind
        return AR.compressed_coo_ind(self._lay, self._crow, self._col, self._blk)

    def _coo_vals(self):
        """The values array as ``(N, *dense)``, matching ``_coo_ind()``."""
        va = self._val._a
        if self._lay == "coo":
            return va
        return va.reshape((-1,) + tuple(self._sz[self._nbatch() + 2 :]))

    # ---------------------------------------------------------------- metadata
    @property
    def shape(self) -> Size:
        return Size(self._sz)

    def size(self, dim: int | None = None):
        if dim is None:
            return Size(self._sz)
        from .._tensor import _wrap_dim

        return self._sz[_wrap_dim(dim, len(self._sz), "size")]

    @property
    def dtype(self) -> D.dtype:
        return self._val.dtype

    @property
    def device(self) -> device:
        return self._val.device

    @property
    def is_cuda(self) -> bool:
        return self._val.is_cuda

    @property
    def is_cpu(self) -> bool:
        return not self._val.is_cuda

    @property
    def is_meta(self) -> bool:  # (torch: False for a sparse tensor; load_state_dict asks)
        return self._val.is_meta

    @property
    def is_sparse(self) -> bool:
        return self._lay == "coo"

    @property
    def is_sparse_csr(self) -> bool:
        return self._lay == "csr"

    @property
    def layout(self):
        import ctorch

        return getattr(ctorch, "sparse_" + self._lay)

    @property
    def ndim(self) -> int:
        return len(self._sz)

    def dim(self) -> int:
        return len(self._sz)

    ndimension = dim

    def numel(self) -> int:
        return int(np.prod(self._sz, dtype=np.int64))

    nelement = numel

    def element_size(self) -> int:
        return self._val.element_size()

    @property
    def itemsize(self) -> int:
        return self._val.itemsize

    def is_floating_point(self) -> bool:
        return self._val.is_floating_point()

    def is_complex(self) -> bool:
        return self._val.is_complex()

    def is_signed(self) -> bool:
        return self._val.is_signed()

    def sparse_dim(self) -> int:
        return int(self._ind.shape[0]) if self._lay == "coo" else 2

    def dense_dim(self) -> int:
        return len(self._sz) - self.sparse_dim() - self._nbatch()

    def _nnz(self) -> int:
        return int(self._val.shape[0]) if self._lay == "coo" else int(self._col.shape[-1])

    def nnz(self) -> int:
        return self._nnz()

    def is_coalesced(self) -> bool:
        if self._lay != "coo":
            raise RuntimeError(
                "is_coalesced expected sparse coordinate tensor layout but got "
                f"Sparse{self._lay.capitalize()}"
            )
        return self._coal

    def _coalesced_(self, coalesced: bool) -> SparseTensor:
        self._coal = bool(coalesced)
        return self

    def stride(self, dim: int | None = None):
        raise RuntimeError(
            f"Sparse{'' if self._lay == 'coo' else ' ' + self._lay.upper()} tensors do not have strides"
        )

    def is_contiguous(self, memory_format=None) -> bool:
        raise RuntimeError(
            f"Sparse{'' if self._lay == 'coo' else ' ' + self._lay.upper()} tensors do not have is_contiguous"
        )

    def data_ptr(self) -> int:
        raise RuntimeError(
            "Cannot access data pointer of Tensor that doesn't have storage "
            f"(layout=torch.{_layout_name(self._lay)})"
        )

    def storage_offset(self) -> int:
        raise RuntimeError(
            f"Cannot access storage of Sparse{'' if self._lay == 'coo' else 'Csr'}TensorImpl"
        )

    @property
    def nbytes(self) -> int:
        raise RuntimeError("nbytes is not defined for sparse tensors")

    def __len__(self) -> int:
        if not self._sz:
            raise TypeError("len() of a 0-d tensor")
        return self._sz[0]

    __hash__ = Tensor.__hash__

    # ---------------------------------------------------------------- detach / data
    def detach(self) -> SparseTensor:
        t = self._with_values(self._val.detach())
        t._vref = self._vref
        return t

    @property
    def data(self) -> SparseTensor:
        return self.detach()

    @data.setter
    def data(self, value) -> None:
        if not isinstance(value, SparseTensor):
            raise RuntimeError(
                "data set to a tensor that requires gradients must have the same layout"
            )
        for s in SparseTensor.__slots__:
            if s != "_spm":
                setattr(self, s, getattr(value, s))
        self._a = value._a
        self._spm = None

    def _add_retained_grad(self, g: Tensor) -> None:
        self._grad = g if self._grad is None else self._grad + g

    def _accumulate_grad(self, g: Tensor, create_graph: bool) -> None:
        from ._autograd import accumulate_grad

        accumulate_grad(self, g, create_graph)

    # ---------------------------------------------------------------- protocols
    def __repr__(self, *, tensor_contents=None) -> str:
        from ._repr import sparse_repr

        return sparse_repr(self)

    __str__ = __repr__

    def __array__(self, dtype=None, copy=None):
        raise TypeError(
            f"can't convert a sparse tensor (layout=torch.{_layout_name(self._lay)}) to a "
            "NumPy array: call .to_dense() first"
        )

    def __reduce_ex__(self, proto):
        from ._serialize import reduce_sparse

        return reduce_sparse(self)

    def __deepcopy__(self, memo):
        if not self.is_leaf:
            raise RuntimeError(
                "Only Tensors created explicitly by the user (graph leaves) support the "
                "deepcopy protocol at the moment."
            )
        if id(self) in memo:
            return memo[id(self)]
        t = self._clone_arrays()
        t._rg = self._rg
        if self._grad is not None:
            import copy

            t._grad = copy.deepcopy(self._grad, memo)
        memo[id(self)] = t
        return t

    def _clone_arrays(self) -> SparseTensor:
        val = Tensor._make(self._val._a.copy())
        if self._lay == "coo":
            return SparseTensor._coo(self._ind.copy(), val, self._sz, self._coal)
        return SparseTensor._compressed(
            self._lay, self._crow.copy(), self._col.copy(), val, self._sz, self._blk
        )


def _cupy():
    import cupy

    return cupy


# Inherited Tensor members that work unchanged on sparse tensors (autograd state, hooks).
_KEEP = {
    "backward",
    "register_hook",
    "register_post_accumulate_grad_hook",
    "requires_grad",
    "requires_grad_",
    "is_leaf",
    "grad",
    "grad_fn",
    "retains_grad",
    "retain_grad",
    "detach_",
    "output_nr",
    "name",
}
# Dunders that reach dense storage: stubbed so they raise ``unsupported`` naming the op.
_DUNDERS = {
    "__getitem__": "index",
    "__setitem__": "index_put_",
    "__iter__": "unbind",
    "__bool__": "is_nonzero",
    "__float__": "_local_scalar_dense",
    "__int__": "_local_scalar_dense",
    "__index__": "_local_scalar_dense",
    "__complex__": "_local_scalar_dense",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__eq__": "eq",
    "__ne__": "ne",
    "__and__": "bitwise_and",
    "__or__": "bitwise_or",
    "__xor__": "bitwise_xor",
    "__invert__": "bitwise_not",
    "__mod__": "remainder",
    "__floordiv__": "floor_divide",
    "__rfloordiv__": "floor_divide",
    "__rmod__": "remainder",
    "__rpow__": "pow",
    "__rtruediv__": "div",
    "__iand__": "bitwise_and_",
    "__ior__": "bitwise_or_",
    "__ixor__": "bitwise_xor_",
    "__imod__": "remainder_",
    "__ifloordiv__": "floor_divide_",
    "__ipow__": "pow_",
    "__dlpack__": "to_dlpack",
    "__format__": "format",
}


def _stub_method(op: str):
    def stub(self, *args, **kwargs):
        raise unsupported(op, self)

    stub.__name__ = op
    stub.__doc__ = f"Not supported on sparse tensors (raises NotImplementedError, as torch's {op})."
    return stub


def _stub_property(op: str):
    def getter(self):
        raise unsupported(op, self)

    return property(getter)


def install_stubs() -> None:
    """Replace every public Tensor member that SparseTensor does not define by a stub that
    raises ``unsupported``. Called once ctorch has attached all its methods."""
    _install_stubs(SparseTensor, _KEEP, _DUNDERS, _stub_method, _stub_property)
