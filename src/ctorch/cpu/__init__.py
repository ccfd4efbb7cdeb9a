"""``ctorch.cpu`` (``torch.cpu``): the CPU device module; ``ctorch.cpu.amp`` holds the legacy
CPU autocast spelling."""

from __future__ import annotations

from . import amp

__all__ = ["amp", "is_available", "device_count", "current_device", "synchronize"]


def is_available() -> bool:
    return True


def device_count() -> int:
    return 1


def current_device() -> str:
    return "cpu"


def synchronize(device=None) -> None:
    pass
