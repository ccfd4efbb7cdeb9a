"""Layers of issues #13/#14 built on the functionals: ConvTranspose3d (+ its lazy form),
FractionalMaxPool2d/3d, ChannelShuffle and CrossMapLRN2d."""

from __future__ import annotations

from typing import Any

import numpy as np

from ..._tensor import Tensor
from ...ops import fractional_pool as _FP
from ...ops import math_nodes as _MN
from ...ops.conv_transpose3d import conv_transpose3d
from .conv import _ConvTransposeForwardNd
from .lazy import _LazyConvTransposeNd
from .module import Module
from .normalization import LocalResponseNorm

__all__ = [
    "ConvTranspose3d",
    "LazyConvTranspose3d",
    "FractionalMaxPool2d",
    "FractionalMaxPool3d",
    "ChannelShuffle",
    "CrossMapLRN2d",
]


class ConvTranspose3d(_ConvTransposeForwardNd):
    """Transposed 3-D convolution (the gradient of Conv3d w.r.t. its input)."""

    _dims = 3
    _conv = staticmethod(conv_transpose3d)


class LazyConvTranspose3d(_LazyConvTransposeNd, ConvTranspose3d, becomes=ConvTranspose3d): ...


class FractionalMaxPool2d(Module):
    """Fractional max pooling: pseudo-random window starts per (sample, channel) plane."""

    __constants__ = ["kernel_size", "return_indices", "output_size", "output_ratio"]
    _dims = 2
    _pool = staticmethod(_FP.fractional_max_pool2d)

    def __init__(
        self,
        kernel_size: Any,
        output_size: Any = None,
        output_ratio: Any = None,
        return_indices: bool = False,
        _random_samples: Any = None,
    ) -> None:
        super().__init__()
        n = self._dims
        self.kernel_size = _as_tuple(kernel_size, n)
        self.return_indices = return_indices
        self.register_buffer("_random_samples", _random_samples)
        self.output_size = _as_tuple(output_size, n) if output_size is not None else None
        self.output_ratio = _as_tuple(output_ratio, n) if output_ratio is not None else None
        if output_size is None and output_ratio is None:
            raise ValueError(
                f"FractionalMaxPool{n}d requires specifying either an output size, or a "
                "pooling ratio"
            )
        if output_size is not None and output_ratio is not None:
            raise ValueError("only one of output_size and output_ratio may be specified")
        if self.output_ratio is not None and not all(0 < r < 1 for r in self.output_ratio):
            raise ValueError(f"output_ratio must be between 0 and 1 (got {output_ratio})")

    def forward(self, input: Tensor) -> Any:
        return type(self)._pool(
            input,
            self.kernel_size,
            self.output_size,
            self.output_ratio,
            self.return_indices,
            _random_samples=self._random_samples,
        )


class FractionalMaxPool3d(FractionalMaxPool2d):
    _dims = 3
    _pool = staticmethod(_FP.fractional_max_pool3d)


def _as_tuple(v: Any, n: int) -> tuple:
    return tuple(v) if isinstance(v, (tuple, list)) else (v,) * n


class ChannelShuffle(Module):
    """Regroups the channels of (N, g*k, *) as ShuffleNet does."""

    def __init__(self, groups: int) -> None:
        super().__init__()
        self.groups = groups

    def forward(self, input: Tensor) -> Tensor:
        return _MN.channel_shuffle(input, self.groups)

    def extra_repr(self) -> str:
        return f"groups={self.groups}"


def _cross_map_window(channels: int, size: int) -> np.ndarray:
    """(C, C) 0/1 matrix: row c marks the channels whose squares torch's legacy CrossMapLRN2d
    adds into channel c's scale. Its running-window recurrence is replayed on unit vectors,
    so the quirk of the original (channel 0 is never dropped from the window) is kept."""
    sq = np.eye(channels)
    scale = np.zeros((channels, channels))
    pre_pad = int((size - 1) / 2 + 1)
    for c in range(min(pre_pad, channels)):
        scale[0] += sq[c]
    for c in range(1, channels):
        scale[c] = scale[c - 1]
        if c < channels - pre_pad + 1:
            scale[c] += sq[c + pre_pad - 1]
        if c > pre_pad:
            scale[c] -= sq[c - pre_pad]
    return scale


class CrossMapLRN2d(LocalResponseNorm):
    """Legacy Lua-torch local response normalisation across channels (4-D input only); the
    arguments and repr are LocalResponseNorm's, the window is the legacy one above."""

    def __init__(self, size: int, alpha: float = 1e-4, beta: float = 0.75, k: float = 1) -> None:
        super().__init__(size, alpha, beta, k)  # torch's default k here is the int 1

    def forward(self, input: Tensor) -> Tensor:
        if input.dim() != 4:
            raise ValueError(f"CrossMapLRN2d: Expected input to be 4D, got {input.dim()}D instead.")
        win = _cross_map_window(input.shape[1], self.size)
        summed = (input * input).permute(0, 2, 3, 1) @ input.new_tensor(win.T)
        scale = summed.permute(0, 3, 1, 2) * (self.alpha / self.size) + self.k
        return input * scale.pow(-self.beta)
