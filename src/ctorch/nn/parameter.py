"""``nn.Parameter``: a Tensor that a Module registers as a learnable parameter."""

from __future__ import annotations

from typing import Any

import numpy as np

from .._tensor import Tensor

__all__ = ["Parameter", "Buffer", "UninitializedParameter", "is_lazy"]


def _rebuild_parameter(data: Tensor, requires_grad: bool, state: Any = None) -> Parameter:
    p = Parameter(data, requires_grad)
    if state:
        p.__dict__.update(state)
    return p


class Parameter(Tensor):
    """A Tensor that shares the array of ``data`` and requires grad by default.

    Assigning a Parameter as a Module attribute registers it in ``parameters()``.
    """

    def __new__(cls, data: Tensor | None = None, requires_grad: bool = True) -> Parameter:
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        elif not isinstance(data, Tensor):
            raise TypeError(
                f"Parameter(): argument 'data' must be Tensor, not {type(data).__name__}"
            )
        t = object.__new__(cls)
        Tensor._init_slots(t)
        t._a = data._a
        t._vref = data._vref
        if requires_grad:
            t.requires_grad_(True)
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
            p._grad = Tensor._make(self._grad._a.copy())
        if self.__dict__:
            p.__dict__.update(copy.deepcopy(self.__dict__, memo))
        memo[id(self)] = p
        return p


class Buffer(Tensor):
    """``nn.Buffer(data, persistent=True)``: a marker that registers a buffer on assignment."""

    def __new__(cls, data: Tensor | None = None, *, persistent: bool = True) -> Buffer:
        if data is None:
            data = Tensor._make(np.empty((0,), np.float32))
        t = object.__new__(cls)
        Tensor._init_slots(t)
        t._a = data._a
        t._vref = data._vref
        t._rg = data._rg
        t.__dict__["persistent"] = persistent
        return t

    def __init__(self, data: Tensor | None = None, *, persistent: bool = True) -> None:
        pass


class UninitializedParameter(Parameter):
    """Placeholder of lazy modules (ctorch has no lazy modules; kept for isinstance checks)."""


def is_lazy(param: Any) -> bool:
    return isinstance(param, UninitializedParameter)
