"""``NestedTensor``: torch's nested tensors, a ``Tensor`` subclass over component tensors.

Two layouts, as torch:

- ``strided`` (``torch.nested.nested_tensor``'s default): a tuple of component tensors
  (``_comps``), any number of irregular dims. Every op runs per component.
- ``jagged`` (NJT): one ``values`` tensor ``(sum_j, *regular)`` plus ``offsets`` (and
  ``lengths`` for a non-contiguous narrow), one ragged dim (``_ragged_idx``; 1 after
  construction, another after ``transpose``). Ops whose rows are independent (elementwise,
  linear, reductions and softmax over regular dims, matmul with a dense right-hand side) run
  once on ``values``; the rest run per component (views of ``values``) and concatenate.

Autograd needs nothing of its own: a nested op is ordinary ctorch ops on the components (or
on ``values``), so gradients reach the component tensors (or ``values``) through the usual
graph; ``NestedTensor.grad`` gathers them into a nested tensor. The inherited ``_a`` slot holds
a stand-in that raises ``NotImplementedError`` naming the op when a dense op reaches it, and
Tensor methods nested tensors do not support are replaced by stubs raising the same.
"""

from __future__ import annotations

import itertools

import numpy as np

from .. import _dtype as D
from .._size import Size
from .._subclass import caller_op
from .._tensor import NestedInput, Tensor
from .._torch_function import _disabled_torch_function_impl

__all__ = ["NestedTensor", "unsupported"]


def unsupported(op: str) -> NotImplementedError:
    """torch's error for an op without a nested kernel (a ``NotImplementedError``)."""
    return NestedInput(
        f"Could not run 'aten::{op}' with arguments from the 'NestedTensorCPU' backend: "
        f"'{op}' is not supported for nested tensors in ctorch (supported: elementwise "
        "ops, sum/mean over regular dims, softmax, matmul/bmm, linear, transpose, "
        "scaled_dot_product_attention, unbind, to_padded_tensor)"
    )


def _caller_op() -> str:
    """The outermost ctorch function on the stack below user code (the op the user called)."""
    return caller_op("ctorch.nested")


class _NoDense:
    """The ``_a`` of a nested tensor: any use by a dense op raises ``unsupported``."""

    __slots__ = ()

    def _raise(self, *args, **kwargs):
        return unsupported(_caller_op())

    def __getattr__(self, name):
        raise self._raise()

    def __array__(self, *args, **kwargs):
        raise self._raise()

    def __getitem__(self, key):
        raise self._raise()

    def __len__(self):
        raise self._raise()

    def __bool__(self):
        raise self._raise()


_NODENSE = _NoDense()


class NestedInt:
    """A ragged size (torch's ``j1``): equal only to itself; ``int()`` raises."""

    _counter = itertools.count(1)
    __slots__ = ("n",)

    def __init__(self) -> None:
        self.n = next(NestedInt._counter)

    def __repr__(self) -> str:
        return f"j{self.n}"

    def __eq__(self, other) -> bool:
        return other is self

    def __ne__(self, other) -> bool:
        return other is not self

    def __hash__(self) -> int:
        return hash(("ctorch.NestedInt", self.n))

    def __int__(self):
        raise TypeError(f"{self!r} is a ragged (nested) size and has no int value")

    __index__ = __int__


def _nested_int(offsets: Tensor) -> NestedInt:
    """The ragged size tied to an offsets tensor (the same offsets give the same ``j``)."""
    j = offsets.__dict__.get("_ct_nested_int")
    if j is None:
        j = offsets.__dict__["_ct_nested_int"] = NestedInt()
    return j


def _wrap(dim: int, n: int, op: str) -> int:
    if not -n <= dim < n:
        raise IndexError(
            f"Dimension out of range (expected to be in range of [{-n}, {n - 1}], but got {dim})"
        )
    return dim % n


_SIZES_MSG = "Internal error: NestedTensorImpl doesn't support sizes. Please file an issue."


class NestedTensor(Tensor):
    """A nested tensor (``torch.nested``): ``layout`` ``ctorch.strided`` (components) or
    ``ctorch.jagged`` (values + offsets). Made by ``ctorch.nested.nested_tensor`` and
    friends."""

    __slots__ = ("_lay", "_comps", "_val", "_off", "_len", "_ridx", "_j", "_leaf")
    # not a torch subclass: ops keep their own semantics (no __torch_function__ dispatch)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, *args, **kwargs):
        raise TypeError(
            "NestedTensor is made by ctorch.nested.nested_tensor, as_nested_tensor, narrow or "
            "nested_tensor_from_jagged"
        )

    # ---------------------------------------------------------------- construction
    @staticmethod
    def _blank(lay: str) -> NestedTensor:
        t = object.__new__(NestedTensor)
        Tensor._init_slots(t)
        t._a = _NODENSE
        t._lay = lay
        t._comps = t._val = t._off = t._len = t._j = None
        t._ridx = 1
        t._leaf = False
        return t

    @staticmethod
    def _strided(comps) -> NestedTensor:
        t = NestedTensor._blank("strided")
        t._comps = tuple(comps)
        return t

    @staticmethod
    def _jagged(values: Tensor, offsets: Tensor, lengths=None, ridx: int = 1, j=None):
        t = NestedTensor._blank("jagged")
        t._val = values
        t._off = offsets
        t._len = lengths
        t._ridx = ridx
        t._j = j if j is not None else _nested_int(offsets)
        return t

    def _like(self, values: Tensor, ridx: int | None = None) -> NestedTensor:
        """A jagged tensor with self's offsets/lengths/ragged size over new ``values``."""
        return NestedTensor._jagged(
            values, self._off, self._len, self._ridx if ridx is None else ridx, self._j
        )

    # ---------------------------------------------------------------- structure
    def _bounds(self):
        """``[(start, length)]`` of each component's rows in ``values`` (jagged)."""
        off = self._off._a
        if self._len is None:
            return [(int(off[i]), int(off[i + 1] - off[i])) for i in range(len(off) - 1)]
        ln = self._len._a
        return [(int(off[i]), int(ln[i])) for i in range(len(ln))]

    def _components(self) -> tuple:
        if self._lay == "strided":
            return self._comps
        r = self._ridx - 1
        out = []
        for s, n in self._bounds():
            c = self._val.narrow(0, s, n)
            out.append(c.movedim(0, r) if r else c)
        return tuple(out)

    def _rebuild(self, comps, ridx: int | None = None) -> NestedTensor:
        """A nested tensor of self's layout over new components (same ragged lengths)."""
        if self._lay == "strided":
            return NestedTensor._strided(comps)
        from ..ops.join import cat

        r = (self._ridx if ridx is None else ridx) - 1
        vals = cat([c.movedim(r, 0) if r else c for c in comps], 0)
        if self._len is None:
            return self._like(vals, ridx)
        # a narrowed (non-contiguous) tensor: the new values are packed
        lens = [c.shape[r] for c in comps]
        off = Tensor._make(np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))
        return NestedTensor._jagged(vals, off, None, self._ridx if ridx is None else ridx, self._j)

    def _nbatch(self) -> int:
        if self._lay == "strided":
            return len(self._comps)
        return len(self._off._a) - 1 if self._len is None else len(self._len._a)

    def _cdims(self) -> int:
        """Dims of each component (``dim() - 1``)."""
        if self._lay == "strided":
            return self._comps[0].dim() if self._comps else 0
        return self._val.dim()

    # ---------------------------------------------------------------- metadata
    is_nested = True

    @property
    def layout(self):
        import ctorch

        return ctorch.jagged if self._lay == "jagged" else ctorch.strided

    def _jagged_shape(self) -> tuple:
        reg = tuple(self._val.shape[1:])
        r = self._ridx - 1
        return (self._nbatch(),) + reg[:r] + (self._j,) + reg[r:]

    @property
    def shape(self) -> Size:
        if self._lay == "strided":
            raise RuntimeError(_SIZES_MSG)
        return tuple.__new__(Size, self._jagged_shape())

    def size(self, dim: int | None = None):
        if dim is None:
            return self.shape
        d = _wrap(dim, self.dim(), "size")
        if self._lay == "jagged":
            return self._jagged_shape()[d]
        if d == 0:
            return len(self._comps)
        sizes = {c.shape[d - 1] for c in self._comps}
        if len(sizes) != 1:
            raise RuntimeError(f"Given dimension {d} is irregular and does not have a size.")
        return sizes.pop()

    def dim(self) -> int:
        return self._cdims() + 1

    ndimension = dim

    @property
    def ndim(self) -> int:
        return self.dim()

    def __len__(self) -> int:
        if self._lay == "strided":
            raise RuntimeError(_SIZES_MSG)
        return self._nbatch()

    def numel(self) -> int:
        if self._lay == "jagged" and self._len is None:
            return self._val.numel()
        return sum(c.numel() for c in self._components())

    nelement = numel

    def _first(self) -> Tensor:
        return self._val if self._lay == "jagged" else (self._comps[0] if self._comps else None)

    @property
    def dtype(self):
        f = self._first()
        return D.float32 if f is None else f.dtype

    @property
    def device(self):
        import ctorch

        f = self._first()
        return ctorch.device("cpu") if f is None else f.device

    @property
    def is_cuda(self) -> bool:
        f = self._first()
        return f is not None and f.is_cuda

    @property
    def is_cpu(self) -> bool:
        return not self.is_cuda

    def is_floating_point(self) -> bool:
        return self.dtype.is_floating_point

    def is_complex(self) -> bool:
        return self.dtype.is_complex

    def element_size(self) -> int:
        return self.dtype.itemsize

    def is_contiguous(self, memory_format=None) -> bool:
        if self._lay == "strided":
            return all(c.is_contiguous() for c in self._comps)
        return self._len is None and self.values().is_contiguous()

    # ---------------------------------------------------------------- jagged accessors
    def _need_jagged(self, op: str) -> None:
        if self._lay != "jagged":
            raise RuntimeError(
                f"{op}(): only supported for nested tensors with layout=torch.jagged"
            )

    def values(self) -> Tensor:
        """The jagged ``values`` buffer: the logical shape without the batch dim, the ragged
        dim packed (``(sum_j, *regular)`` after construction); a view, so writes reach the
        nested tensor."""
        if self._lay == "strided":
            # torch: a strided nested tensor's buffer, flattened
            from ..ops.join import cat

            return (
                cat([c.reshape(-1) for c in self._comps])
                if self._comps
                else Tensor._make(np.zeros(0, np.float32))
            )
        r = self._ridx - 1
        if r:  # torch's values keep the ragged dim where the logical shape has it
            return self._val.movedim(0, r)
        if self._val._rg:
            return self._val.view(tuple(self._val.shape))
        return self._val

    def offsets(self) -> Tensor:
        self._need_jagged("offsets")
        return self._off

    def lengths(self):
        self._need_jagged("lengths")
        return self._len

    @property
    def _ragged_idx(self) -> int:
        self._need_jagged("_ragged_idx")
        return self._ridx

    # ---------------------------------------------------------------- autograd state
    @property
    def requires_grad(self) -> bool:
        if self._lay == "jagged":
            return self._val._rg
        return any(c._rg for c in self._comps)

    @requires_grad.setter
    def requires_grad(self, value: bool) -> None:
        self.requires_grad_(value)

    def requires_grad_(self, requires_grad: bool = True) -> NestedTensor:
        if self._lay == "jagged":
            self._val.requires_grad_(requires_grad)
        else:
            for c in self._comps:
                c.requires_grad_(requires_grad)
        self._leaf = bool(requires_grad) and self.grad_fn is None
        return self

    @property
    def grad_fn(self):
        if self._lay == "jagged":
            return self._val.grad_fn if not self._leaf else None
        for c in self._comps:
            if c.grad_fn is not None and not self._leaf:
                return c.grad_fn
        return None

    @grad_fn.setter
    def grad_fn(self, value) -> None:  # _init_slots writes None
        pass

    @property
    def is_leaf(self) -> bool:
        return self.grad_fn is None

    @property
    def grad(self):
        """The components' gradients as a nested tensor (None before any backward)."""
        if self._lay == "jagged":
            g = self._val._grad
            return None if g is None else self._like(g)
        gs = [c._grad for c in self._comps]
        if all(g is None for g in gs):
            return None
        return NestedTensor._strided(
            [
                Tensor._make(np.zeros_like(c._a)) if g is None else g
                for c, g in zip(self._comps, gs, strict=True)
            ]
        )

    @grad.setter
    def grad(self, value) -> None:
        if value is None:
            if self._lay == "jagged":
                self._val._grad = None
            else:
                for c in self._comps:
                    c._grad = None
            return
        raise RuntimeError("assigning .grad of a nested tensor is not supported in ctorch")

    def backward(self, gradient=None, retain_graph=None, create_graph=False, inputs=None):
        if gradient is None:
            raise RuntimeError("grad can be implicitly created only for scalar outputs")
        from ..autograd import backward

        if not isinstance(gradient, NestedTensor):
            raise RuntimeError("backward of a nested tensor needs a nested gradient")
        if self._lay == "jagged":
            backward([self._val], [gradient._val], retain_graph, create_graph, inputs=inputs)
        else:
            backward(
                list(self._comps),
                list(gradient._components()),
                retain_graph,
                create_graph,
                inputs=inputs,
            )

    def detach(self) -> NestedTensor:
        return self._map_fn(lambda x: x.detach())

    def clone(self, *, memory_format=None) -> NestedTensor:
        return self._map_fn(lambda x: x.clone())

    def contiguous(self, memory_format=None) -> NestedTensor:
        if self.is_contiguous():
            return self
        if self._lay == "strided":
            return NestedTensor._strided([c.contiguous() for c in self._comps])
        if self._len is not None:  # with holes: pack the components
            return self._percomp(lambda c: c, packed=True)
        # torch's values (ragged dim where the logical shape has it) made contiguous; stored
        # with the ragged dim first, as always
        r = self._ridx - 1
        v = self.values().contiguous()
        return self._like(v.movedim(r, 0) if r else v)

    def to(self, *args, **kwargs) -> NestedTensor:
        return self._map_fn(lambda x: x.to(*args, **kwargs))

    def float(self) -> NestedTensor:
        return self.to(D.float32)

    def double(self) -> NestedTensor:
        return self.to(D.float64)

    def half(self) -> NestedTensor:
        return self.to(D.float16)

    def cpu(self) -> NestedTensor:
        return self._map_fn(lambda x: x.cpu())

    def cuda(self, *args, **kwargs) -> NestedTensor:
        return self._map_fn(lambda x: x.cuda(*args, **kwargs))

    def type_as(self, other) -> NestedTensor:
        return self.to(other.dtype)

    # ---------------------------------------------------------------- mapping helpers
    def _map_fn(self, fn) -> NestedTensor:
        """An op whose rows are independent and that keeps every shape: once on values."""
        if self._lay == "jagged":
            return self._like(fn(self._val))
        return NestedTensor._strided([fn(c) for c in self._comps])

    def _percomp(self, fn, packed: bool = False, ridx: int | None = None) -> NestedTensor:
        comps = [fn(c) for c in self._components()]
        if self._lay == "jagged" and packed:
            nt = NestedTensor._jagged(self._val, self._off, None, self._ridx, self._j)
            return nt._rebuild_packed(comps)
        return self._rebuild(comps, ridx)

    def _rebuild_packed(self, comps) -> NestedTensor:
        from ..ops.join import cat

        r = self._ridx - 1
        vals = cat([c.movedim(r, 0) if r else c for c in comps], 0)
        lens = [c.shape[r] for c in comps]
        off = Tensor._make(np.concatenate([[0], np.cumsum(lens)]).astype(np.int64))
        return NestedTensor._jagged(vals, off, None, self._ridx, self._j)

    def _values_dim(self, d: int) -> int:
        """Logical dim ``d`` (wrapped, > 0) -> the matching dim of ``values``; the ragged dim
        maps to 0 (values hold the ragged dim first, then the regular dims in order)."""
        if d == self._ridx:
            return 0
        return d if d < self._ridx else d - 1

    # ---------------------------------------------------------------- repr
    def __repr__(self) -> str:
        if self._lay == "jagged":
            sz = ", ".join(str(s) for s in self._jagged_shape())
            return (
                f"NestedTensor(size=({sz}), offsets={self._off!r}, "
                f"contiguous={self.is_contiguous()})"
            )
        if not self._comps:
            return "nested_tensor([\n\n])"
        body = ",\n".join("  " + repr(c).replace("\n", "\n  ") for c in self._comps)
        return f"nested_tensor([\n{body}\n])"

    __str__ = __repr__

    def __format__(self, spec) -> str:
        return format(repr(self), spec)

    __hash__ = Tensor.__hash__
