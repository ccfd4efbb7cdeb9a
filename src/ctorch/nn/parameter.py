"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._creation import _factory_requires_grad
from .._tensor import Tensor
from .._torch_function import _disabled_torch_function_impl

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "UninitializedBuffer", "is_lazy"]


def _rebuild_parameter(data: Tensor, requires_grad: bool, state: Any = None) -> Parameter:
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


def _sharing(cls: type, data: Tensor) -> Any:
    """A new ``cls`` (a Tensor subclass) over ``data``'s storage and version counter."""
    t = object.__new__(cls)
    Tensor._init_slots(t)
    t._a = data._a
    t._vref = data._vref
    return t


class Parameter(Tensor):
    """A Tensor that shares the array of ``data`` and requires grad by default.

    Assigning a Parameter as a Module attribute registers it in ``parameters()``.
    """

    # torch: ops on a Parameter return plain Tensors (no __torch_function__ dispatch)
    __torch_function__ = _disabled_torch_function_impl

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        elif not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        elif cls is Parameter and hasattr(data, "_as_parameter"):
            return data._as_parameter(data, requires_grad)  # a DTensor stays one
        t = _sharing(cls, data)
        if requires_grad:
            _factory_requires_grad(t)  # (torch's Parameter words the dtype error so)
        return t

    def __init__(self, data: Tensor | None = None, requires_grad: bool = True) -> None:
        pass

    def __repr__(self) -> str:
        return "Parameter containing:\n" + super().__repr__()

    __str__ = __repr__

    def __reduce_ex__(self, proto):
        data = Tensor._make(self._a)
        return (_rebuild_parameter, (data, self._rg, dict(self.__dict__) or None))

    def __deepcopy__(self, memo):
        if id(self) in memo:
            return memo[id(self)]
        import copy

        p = Parameter(Tensor._make(self._a.copy()), self._rg)
        if self._grad is not None:
            p._grad = (
                self._grad.__deepcopy__(memo)  # a sparse gradient (#13)
                if self._grad.is_sparse
                else Tensor._make(self._grad._a.copy())
            )
        if self.__dict__:
            p.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)``: a marker that registers a buffer on assignment."""

    __torch_function__ = _disabled_torch_function_impl  # as torch.nn.Buffer

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        t = _sharing(cls, data)
        t._rg = data._rg
        t.__dict__["persistent"] = persistent
        return t

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass


class UninitializedTensorMixin:
    """A tensor of lazy modules whose shape is not known yet: it holds an empty array of the
    requested dtype/device until ``materialize(shape)`` turns it into ``cls_to_become``."""

    __slots__ = ()
    cls_to_become: type = Tensor

    def materialize(self, shape: Any, device: Any = None, dtype: Any = None) -> None:
        import ctorch

        if device is None:
            device = self.device
        if dtype is None:
            dtype = self.dtype
        shape = tuple(shape) if isinstance(shape, (tuple, list)) else (shape,)
        self._a = ctorch.empty(shape, device=device, dtype=dtype)._a
        self.__class__ = self.cls_to_become

    @property
    def shape(self) -> Any:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. This error usually "
            "happens in `load_state_dict` when trying to load an uninitialized parameter into "
            "an initialized one. Call `forward` to initialize the parameters before accessing "
            "their attributes."
        )

    def size(self, dim: Any = None) -> Any:
        return self.shape

    def numel(self) -> int:
        raise RuntimeError(
            "Can't access the shape of an uninitialized parameter or buffer. Call `forward` to "
            "initialize the parameters before accessing their attributes."
        )

    def __repr__(self) -> str:
        return f"<{self.__class__.__name__}>"

    __str__ = __repr__

    def __reduce_ex__(self, proto: Any) -> Any:
        return (self.__class__, (self.requires_grad,) if isinstance(self, Parameter) else ())


class UninitializedParameter(UninitializedTensorMixin, Parameter):
    """The parameter of a lazy module before its first forward (``torch.nn.UninitializedParameter``)."""

    cls_to_become = Parameter

    def __new__(
        cls, requires_grad: bool = True, device: Any = None, dtype: Any = None
    ) -> UninitializedParameter:
        import ctorch

        data = ctorch.empty(0, device=device, dtype=dtype)
        return Parameter.__new__(cls, data, requires_grad)

    def __init__(self, requires_grad: bool = True, device: Any = None, dtype: Any = None) -> None:
        pass

    def __deepcopy__(self, memo: Any) -> UninitializedParameter:
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


class UninitializedBuffer(UninitializedTensorMixin, Tensor):
    """A buffer of a lazy module before its first forward (``torch.nn.UninitializedBuffer``)."""

    __slots__ = ()
    cls_to_become = Tensor
    __torch_function__ = _disabled_torch_function_impl

    def __new__(
        cls, requires_grad: bool = False, device: Any = None, dtype: Any = None
    ) -> UninitializedBuffer:
        import ctorch

        data = ctorch.empty(0, device=device, dtype=dtype)
        t = _sharing(cls, data)
        if requires_grad:
            t.requires_grad_(True)
        return t

    def __init__(self, requires_grad: bool = False, device: Any = None, dtype: Any = None) -> None:
        pass

    def __deepcopy__(self, memo: Any) -> UninitializedBuffer:
        if id(self) not in memo:
            memo[id(self)] = type(self)(self.requires_grad, self.device, self.dtype)
        return memo[id(self)]


def is_lazy(param: Any) -> bool:
    return isinstance(param, UninitializedTensorMixin)
