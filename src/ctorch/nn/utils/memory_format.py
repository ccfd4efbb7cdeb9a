"""``nn.utils.convert_conv2d_weight_memory_format`` and its 3-D twin.

These walk the module as torch does, give each convolution's weight the format (a
channels-last weight makes the convolution's output channels-last, as torch's), and return
the module.
"""

from __future__ import annotations

from typing import Any

__all__ = ["convert_conv2d_weight_memory_format", "convert_conv3d_weight_memory_format"]


def _convert(module: Any, memory_format: Any, kinds: tuple[str, ...]) -> Any:
    if type(module).__name__ in kinds:
        w = module.weight.detach().clone(memory_format=memory_format)
        module.weight.data = w.resize_(w.size(), memory_format=memory_format)
    for child in module.children():
        _convert(child, memory_format, kinds)
    return module


def convert_conv2d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """``module`` with its Conv2d/ConvTranspose2d weights in ``memory_format``."""
    return _convert(module, memory_format, ("Conv2d", "ConvTranspose2d"))


def convert_conv3d_weight_memory_format(module: Any, memory_format: Any) -> Any:
    """``module`` with its Conv3d/ConvTranspose3d weights in ``memory_format``."""
    return _convert(module, memory_format, ("Conv3d", "ConvTranspose3d"))
