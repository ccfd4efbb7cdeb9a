"""Padding modules: zero, constant, reflection, replication, circular (1-D, 2-D and 3-D)."""

from __future__ import annotations

from typing import Any

from ..._tensor import Tensor
from ...ops import spatial as _S
from .module import Module
from .utils import _ntuple

__all__ = [
    "ZeroPad1d",
    "ZeroPad2d",
    "ConstantPad1d",
    "ConstantPad2d",
    "ReflectionPad1d",
    "ReflectionPad2d",
    "ReplicationPad1d",
    "ReplicationPad2d",
    "CircularPad1d",
    "CircularPad2d",
    "ZeroPad3d",
    "ConstantPad3d",
    "ReflectionPad3d",
    "ReplicationPad3d",
    "CircularPad3d",
]


class _ConstantPadNd(Module):
    __constants__ = ["padding", "value"]
    _n = 0  # how many padding values the subclass takes: two per padded dimension

    def __init__(self, padding: Any, value: float) -> None:
        super().__init__()
        self.value = value
        self.padding = _ntuple(self._n)(padding)

    def forward(self, input: Tensor) -> Tensor:
        return _S.pad(input, self.padding, "constant", self.value)

    def extra_repr(self) -> str:
        return f"padding={self.padding}, value={self.value}"


class ConstantPad1d(_ConstantPadNd):
    _n = 2


class ConstantPad2d(_ConstantPadNd):
    _n = 4


class _ZeroPad:
    """ZeroPad{1,2,3}d: their ConstantPad with the value 0, shown without it."""

    def __init__(self, padding: Any) -> None:
        super().__init__(padding, 0.0)  # type: ignore[call-arg]

    def extra_repr(self) -> str:
        return f"{self.padding}"  # type: ignore[attr-defined]


class ZeroPad1d(_ZeroPad, ConstantPad1d):
    pass


class ZeroPad2d(_ZeroPad, ConstantPad2d):
    pass


class _ModePadNd(Module):
    __constants__ = ["padding"]
    _mode = "reflect"
    _n = 0  # how many padding values the subclass takes: two per padded dimension

    def __init__(self, padding: Any) -> None:
        super().__init__()
        self.padding = _ntuple(self._n)(padding)

    def forward(self, input: Tensor) -> Tensor:
        return _S.pad(input, self.padding, self._mode)

    def extra_repr(self) -> str:
        return f"{self.padding}"


class ReflectionPad1d(_ModePadNd):
    _n = 2


class ReflectionPad2d(_ModePadNd):
    _n = 4


class ReplicationPad1d(_ModePadNd):
    _mode = "replicate"
    _n = 2


class ReplicationPad2d(_ModePadNd):
    _mode = "replicate"
    _n = 4


class CircularPad1d(_ModePadNd):
    _mode = "circular"
    _n = 2


class CircularPad2d(_ModePadNd):
    _mode = "circular"
    _n = 4


class ConstantPad3d(_ConstantPadNd):
    _n = 6


class ZeroPad3d(_ZeroPad, ConstantPad3d):
    pass


class ReflectionPad3d(_ModePadNd):
    _n = 6


class ReplicationPad3d(_ModePadNd):
    _mode = "replicate"
    _n = 6


class CircularPad3d(_ModePadNd):
    _mode = "circular"
    _n = 6
