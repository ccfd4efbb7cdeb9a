"""``torch.utils.dlpack``: exchange tensors with other array libraries through DLPack
(``from_dlpack`` accepts any object with ``__dlpack__`` or a legacy capsule; ``to_dlpack``
returns the capsule of a tensor, zero-copy)."""

from __future__ import annotations

import enum
from typing import Any

from .._creation import from_dlpack

__all__ = ["DLDeviceType", "from_dlpack", "to_dlpack"]


class DLDeviceType(enum.IntEnum):
    """DLPack's device type codes (as torch exposes them)."""

    kDLCPU = 1
    kDLCUDA = 2
    kDLCUDAHost = 3
    kDLOpenCL = 4
    kDLVulkan = 7
    kDLMetal = 8
    kDLVPI = 9
    kDLROCM = 10
    kDLROCMHost = 11
    kDLExtDev = 12
    kDLCUDAManaged = 13
    kDLOneAPI = 14
    kDLWebGPU = 15
    kDLHexagon = 16
    kDLMAIA = 17


def to_dlpack(tensor: Any) -> Any:
    """The DLPack capsule of ``tensor`` (shares its memory). On the CPU it is a versioned
    (DLPack 1.0) capsule, which torch, NumPy and CuPy read as writable; a legacy capsule
    imported by NumPy is read-only, so ``from_dlpack(to_dlpack(t))`` could not be written to."""
    from .._tensor import Tensor

    if not isinstance(tensor, Tensor):
        raise TypeError(f"to_dlpack: expected a Tensor, got {type(tensor).__name__}")
    if tensor.device.type == "cpu":
        return tensor.__dlpack__(max_version=(1, 0))
    return tensor.__dlpack__()
