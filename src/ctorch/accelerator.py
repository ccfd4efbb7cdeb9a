"""ctorch.accelerator (torch >= 2.6 idiom): the current accelerator is CUDA when usable."""

from __future__ import annotations

from ._device import device

__all__ = [
    "is_available",
    "current_accelerator",
    "device_count",
    "current_device_index",
    "set_device_index",
    "synchronize",
]


def _cuda():
    from . import cuda

    return cuda


def is_available() -> bool:
    return _cuda().is_available()


def current_accelerator(check_available: bool = False):
    """``device('cuda')`` when a GPU is usable, else None (as torch on a CPU-only machine)."""
    return device("cuda") if is_available() else None


def device_count() -> int:
    return _cuda().device_count() if is_available() else 0


def current_device_index() -> int:
    return _cuda().current_device() if is_available() else -1


def set_device_index(index) -> None:
    if is_available():
        _cuda().set_device(index)


set_device_idx = set_device_index
current_device_idx = current_device_index


def synchronize(device=None) -> None:
    if is_available():
        _cuda().synchronize()
