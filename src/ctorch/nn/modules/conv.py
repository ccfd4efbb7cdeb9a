"""Conv1d, Conv2d, ConvTranspose1d, ConvTranspose2d (torch's arguments, names, init, repr)."""

from __future__ import annotations

import math
from typing import Any

from ..._tensor import Tensor
from ...ops import conv as _C
from ...ops.spatial import pad as _pad
from .. import init
from ._affine import register_weight_and_bias
from .module import Module

__all__ = ["Conv1d", "Conv2d", "Conv3d", "ConvTranspose1d", "ConvTranspose2d"]

_PADDING_MODES = ("zeros", "reflect", "replicate", "circular")


def _tuple(v: Any, n: int) -> tuple:
    if isinstance(v, (tuple, list)):
        return tuple(v) if len(v) != 1 or n == 1 else tuple(v) * n
    return (v,) * n


class _ConvNd(Module):
    __constants__ = [
        "stride",
        "padding",
        "dilation",
        "groups",
        "padding_mode",
        "output_padding",
        "in_channels",
        "out_channels",
        "kernel_size",
    ]

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: tuple,
        stride: tuple,
        padding: tuple | str,
        dilation: tuple,
        transposed: bool,
        output_padding: tuple,
        groups: int,
        bias: bool,
        padding_mode: str,
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        factory_kwargs = {"device": device, "dtype": dtype}
        super().__init__()
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        valid_padding_strings = {"same", "valid"}
        if isinstance(padding, str):
            if padding not in valid_padding_strings:
                raise ValueError(
                    f"Invalid padding string {padding!r}, should be one of {valid_padding_strings}"
                )
            if padding == "same" and any(s != 1 for s in stride):
                raise ValueError("padding='same' is not supported for strided convolutions")
        if padding_mode not in _PADDING_MODES:
            raise ValueError(
                f"padding_mode must be one of {list(_PADDING_MODES)}, but got "
                f"padding_mode='{padding_mode}'"
            )
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.transposed = transposed
        self.output_padding = output_padding
        self.groups = groups
        self.padding_mode = padding_mode
        if isinstance(self.padding, str):
            self._reversed_padding_repeated_twice = [0, 0] * len(kernel_size)
            if padding == "same":
                for d, k, i in zip(
                    dilation, kernel_size, range(len(kernel_size) - 1, -1, -1), strict=True
                ):
                    total = d * (k - 1)
                    left = total // 2
                    self._reversed_padding_repeated_twice[2 * i] = left
                    self._reversed_padding_repeated_twice[2 * i + 1] = total - left
        else:
            self._reversed_padding_repeated_twice = [
                p for p in reversed(self.padding) for _ in range(2)
            ]
        if transposed:
            shape = (in_channels, out_channels // groups, *kernel_size)
        else:
            shape = (out_channels, in_channels // groups, *kernel_size)
        register_weight_and_bias(self, shape, out_channels, bias, factory_kwargs)
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # kaiming_uniform_(a=sqrt(5)) = U(-1/sqrt(fan_in), 1/sqrt(fan_in)), as torch
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self) -> str:
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}"
        if self.padding != (0,) * len(self.kernel_size):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias is None:
            s += ", bias=False"
        if self.padding_mode != "zeros":
            s += ", padding_mode={padding_mode}"
        return s.format(**self.__dict__)

    def __setstate__(self, state: dict) -> None:
        super().__setstate__(state)
        if not hasattr(self, "padding_mode"):
            self.padding_mode = "zeros"


class _ConvForwardNd(_ConvNd):
    """Conv1d/2d/3d: one constructor and forward, told apart by ``_dims`` and ``_conv``."""

    _dims = 0
    _conv: Any = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        dilation: Any = 1,
        groups: int = 1,
        bias: bool = True,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        n = self._dims
        super().__init__(
            in_channels,
            out_channels,
            _tuple(kernel_size, n),
            _tuple(stride, n),
            padding if isinstance(padding, str) else _tuple(padding, n),
            _tuple(dilation, n),
            False,
            (0,) * n,
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def _conv_forward(self, input: Tensor, weight: Tensor, bias: Tensor | None) -> Tensor:
        conv = type(self)._conv
        if self.padding_mode != "zeros":
            return conv(
                _pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode),
                weight,
                bias,
                self.stride,
                (0,) * self._dims,
                self.dilation,
                self.groups,
            )
        return conv(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input: Tensor) -> Tensor:
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvForwardNd):
    """1-D convolution over (N, C, L) input."""

    _dims = 1
    _conv = staticmethod(_C.conv1d)


class Conv2d(_ConvForwardNd):
    """2-D convolution over (N, C, H, W) input."""

    _dims = 2
    _conv = staticmethod(_C.conv2d)


class Conv3d(_ConvForwardNd):
    """3-D convolution over (N, C, D, H, W) input (composed of 2-D convolutions)."""

    _dims = 3
    _conv = staticmethod(_C.conv3d)


class _ConvTransposeNd(_ConvNd):
    def _output_padding(
        self,
        input: Tensor,
        output_size: Any,
        stride: tuple,
        padding: tuple,
        kernel_size: tuple,
        num_spatial_dims: int,
        dilation: tuple | None = None,
    ) -> tuple:
        if output_size is None:
            return tuple(self.output_padding)
        output_size = list(output_size)
        has_batch = input.dim() == num_spatial_dims + 2
        if len(output_size) in (num_spatial_dims + 2, num_spatial_dims + 1):
            output_size = output_size[-num_spatial_dims:]
        if len(output_size) != num_spatial_dims:
            raise ValueError(
                f"ConvTranspose{num_spatial_dims}D: for {input.dim()}D input, "
                f"output_size must have {num_spatial_dims} or "
                f"{num_spatial_dims + (2 if has_batch else 1)} elements (got "
                f"{len(output_size)})"
            )
        res = []
        for d in range(num_spatial_dims):
            dim_size = input.shape[d + (2 if has_batch else 1)]
            dil = 1 if dilation is None else dilation[d]
            min_size = (dim_size - 1) * stride[d] - 2 * padding[d] + dil * (kernel_size[d] - 1) + 1
            max_size = min_size + stride[d] - 1
            if not (min_size <= output_size[d] <= max_size):
                raise ValueError(
                    f"requested an output size of {output_size}, but valid sizes "
                    f"range from {min_size} to {max_size} (for an input of "
                    f"{list(input.shape[2:])})"
                )
            res.append(int(output_size[d] - min_size))
        return tuple(res)


class _ConvTransposeForwardNd(_ConvTransposeNd):
    """ConvTranspose1d/2d: one constructor and forward, told apart by ``_dims`` and
    ``_conv``."""

    _dims = 0
    _conv: Any = None

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Any,
        stride: Any = 1,
        padding: Any = 0,
        output_padding: Any = 0,
        groups: int = 1,
        bias: bool = True,
        dilation: Any = 1,
        padding_mode: str = "zeros",
        device: Any = None,
        dtype: Any = None,
    ) -> None:
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        n = self._dims
        super().__init__(
            in_channels,
            out_channels,
            _tuple(kernel_size, n),
            _tuple(stride, n),
            _tuple(padding, n),
            _tuple(dilation, n),
            True,
            _tuple(output_padding, n),
            groups,
            bias,
            padding_mode,
            device,
            dtype,
        )

    def forward(self, input: Tensor, output_size: Any = None) -> Tensor:
        op = self._output_padding(
            input,
            output_size,
            self.stride,
            self.padding,
            self.kernel_size,
            self._dims,
            self.dilation,
        )
        return type(self)._conv(
            input, self.weight, self.bias, self.stride, self.padding, op, self.groups, self.dilation
        )


class ConvTranspose1d(_ConvTransposeForwardNd):
    """Transposed 1-D convolution."""

    _dims = 1
    _conv = staticmethod(_C.conv_transpose1d)


class ConvTranspose2d(_ConvTransposeForwardNd):
    """Transposed 2-D convolution (the gradient of Conv2d w.r.t. its input)."""

    _dims = 2
    _conv = staticmethod(_C.conv_transpose2d)
