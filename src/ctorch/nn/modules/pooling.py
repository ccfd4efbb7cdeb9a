"""Max, average and adaptive pooling modules (torch's arguments and repr)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ..._tensor import Tensor
from ...ops import avg_pool as _AP
from ...ops import max_pool as _MP
from ...ops import pooling3d as _P3
from ...ops.im2col import _ntuple
from ._fn_module import _FnModule
from .utils import _single

__all__ = [
    "MaxPool1d",
    "MaxPool2d",
    "AvgPool1d",
    "AvgPool2d",
    "AdaptiveAvgPool1d",
    "AdaptiveAvgPool2d",
    "AdaptiveMaxPool1d",
    "AdaptiveMaxPool2d",
    "MaxUnpool2d",
    "LPPool2d",
    "MaxPool3d",
    "AvgPool3d",
    "AdaptiveAvgPool3d",
    "AdaptiveMaxPool3d",
]


class _PoolNd(_FnModule):
    """The window every max/average pool and unpool keeps: ``kernel_size``, ``stride``
    (``kernel_size`` when None) and ``padding``, each passed through ``form`` when given."""

    def __init__(
        self, kernel_size: Any, stride: Any, padding: Any, form: Callable[[Any], Any] | None = None
    ) -> None:
        super().__init__()
        if stride is None:
            stride = kernel_size
        if form is not None:
            kernel_size, stride, padding = form(kernel_size), form(stride), form(padding)
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding

    def extra_repr(self) -> str:
        return f"kernel_size={self.kernel_size}, stride={self.stride}, padding={self.padding}"


class _MaxPoolNd(_PoolNd):
    __constants__ = ["kernel_size", "stride", "padding", "dilation", "return_indices", "ceil_mode"]

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        dilation: Any = 1,
        return_indices: bool = False,
        ceil_mode: bool = False,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.dilation = dilation
        self.return_indices = return_indices
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            "kernel_size={kernel_size}, stride={stride}, padding={padding}, "
            "dilation={dilation}, ceil_mode={ceil_mode}".format(**self.__dict__)
        )

    def forward(self, input: Tensor) -> Any:
        return type(self)._fn(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.dilation,
            ceil_mode=self.ceil_mode,
            return_indices=self.return_indices,
        )


class MaxPool1d(_MaxPoolNd, fn=_MP.max_pool1d): ...


class MaxPool2d(_MaxPoolNd, fn=_MP.max_pool2d): ...


class AvgPool1d(_PoolNd):
    __constants__ = ["kernel_size", "stride", "padding", "ceil_mode", "count_include_pad"]

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
    ) -> None:
        super().__init__(kernel_size, stride, padding, _single)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad

    def forward(self, input: Tensor) -> Tensor:
        return _AP.avg_pool1d(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
        )


class AvgPool2d(_PoolNd, fn=_AP.avg_pool2d):
    __constants__ = [
        "kernel_size",
        "stride",
        "padding",
        "ceil_mode",
        "count_include_pad",
        "divisor_override",
    ]

    def __init__(
        self,
        kernel_size: Any,
        stride: Any = None,
        padding: Any = 0,
        ceil_mode: bool = False,
        count_include_pad: bool = True,
        divisor_override: int | None = None,
    ) -> None:
        super().__init__(kernel_size, stride, padding)
        self.ceil_mode = ceil_mode
        self.count_include_pad = count_include_pad
        self.divisor_override = divisor_override

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(
            input,
            self.kernel_size,
            self.stride,
            self.padding,
            self.ceil_mode,
            self.count_include_pad,
            self.divisor_override,
        )


class _AdaptivePoolNd(_FnModule):
    __constants__ = ["output_size"]

    def __init__(self, output_size: Any) -> None:
        super().__init__()
        self.output_size = output_size

    def extra_repr(self) -> str:
        return f"output_size={self.output_size}"

    def forward(self, input: Tensor) -> Any:
        return type(self)._fn(input, self.output_size)


class AvgPool3d(AvgPool2d, fn=_P3.avg_pool3d): ...


class AdaptiveAvgPool1d(_AdaptivePoolNd, fn=_AP.adaptive_avg_pool1d): ...


class AdaptiveAvgPool2d(_AdaptivePoolNd, fn=_AP.adaptive_avg_pool2d): ...


class _AdaptiveMaxPoolNd(_AdaptivePoolNd):
    __constants__ = ["output_size", "return_indices"]

    def __init__(self, output_size: Any, return_indices: bool = False) -> None:
        super().__init__(output_size)
        self.return_indices = return_indices

    def forward(self, input: Tensor) -> Any:
        return type(self)._fn(input, self.output_size, self.return_indices)


class AdaptiveMaxPool1d(_AdaptiveMaxPoolNd, fn=_MP.adaptive_max_pool1d): ...


class AdaptiveMaxPool2d(_AdaptiveMaxPoolNd, fn=_MP.adaptive_max_pool2d): ...


class AdaptiveAvgPool3d(_AdaptivePoolNd, fn=_P3.adaptive_avg_pool3d): ...


class AdaptiveMaxPool3d(_AdaptiveMaxPoolNd, fn=_P3.adaptive_max_pool3d): ...


class MaxPool3d(_MaxPoolNd, fn=_P3.max_pool3d): ...


class MaxUnpool2d(_PoolNd, fn=_MP.max_unpool2d):
    __constants__ = ["kernel_size", "stride", "padding"]
    _dims = 2

    def __init__(self, kernel_size: Any, stride: Any = None, padding: Any = 0) -> None:
        super().__init__(kernel_size, stride, padding, lambda v: _ntuple(v, self._dims))

    def forward(self, input: Tensor, indices: Tensor, output_size: Any = None) -> Tensor:
        return type(self)._fn(
            input, indices, self.kernel_size, self.stride, self.padding, output_size
        )


class MaxUnpool1d(MaxUnpool2d, fn=_MP.max_unpool1d):
    _dims = 1


class MaxUnpool3d(MaxUnpool2d, fn=_MP.max_unpool3d):
    _dims = 3


class LPPool2d(_FnModule, fn=_AP.lp_pool2d):
    __constants__ = ["norm_type", "kernel_size", "stride", "ceil_mode"]

    def __init__(
        self, norm_type: float, kernel_size: Any, stride: Any = None, ceil_mode: bool = False
    ) -> None:
        super().__init__()
        self.norm_type = norm_type
        self.kernel_size = kernel_size
        self.stride = stride
        self.ceil_mode = ceil_mode

    def extra_repr(self) -> str:
        return (
            "norm_type={norm_type}, kernel_size={kernel_size}, stride={stride}, "
            "ceil_mode={ceil_mode}".format(**self.__dict__)
        )

    def forward(self, input: Tensor) -> Tensor:
        return type(self)._fn(
            input, float(self.norm_type), self.kernel_size, self.stride, self.ceil_mode
        )


class LPPool1d(LPPool2d, fn=_AP.lp_pool1d): ...


class LPPool3d(LPPool2d, fn=_AP.lp_pool3d): ...
