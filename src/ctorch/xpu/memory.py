"""``torch.xpu.memory`` without an XPU: the counters read zero, the queries that need a
device raise torch's error (see ``ctorch.xpu``)."""

from __future__ import annotations

import collections
from typing import Any

from ._state import _lazy_init

__all__ = [
    "empty_cache",
    "get_per_process_memory_fraction",
    "max_memory_allocated",
    "max_memory_reserved",
    "mem_get_info",
    "memory_allocated",
    "memory_reserved",
    "memory_snapshot",
    "memory_stats",
    "memory_stats_as_nested_dict",
    "reset_accumulated_memory_stats",
    "reset_peak_memory_stats",
    "set_per_process_memory_fraction",
]


def empty_cache() -> None:
    """A no-op without a device (torch checks ``is_initialized()`` first)."""


def memory_stats(device: Any = None) -> dict[str, Any]:
    return collections.OrderedDict()


def memory_stats_as_nested_dict(device: Any = None) -> dict[str, Any]:
    return {}


def memory_allocated(device: Any = None) -> int:
    return 0


def max_memory_allocated(device: Any = None) -> int:
    return 0


def memory_reserved(device: Any = None) -> int:
    return 0


def max_memory_reserved(device: Any = None) -> int:
    return 0


def memory_snapshot(mempool_id: Any = None) -> list[dict[str, Any]]:
    return []


def reset_peak_memory_stats(device: Any = None) -> None:
    _lazy_init()  # torch 2.13's CPU wheel fails here too (an AttributeError of its own)


def reset_accumulated_memory_stats(device: Any = None) -> None:
    _lazy_init()


def mem_get_info(device: Any = None) -> tuple[int, int]:
    _lazy_init()


def get_per_process_memory_fraction(device: Any = None) -> float:
    _lazy_init()


def set_per_process_memory_fraction(fraction: float, device: Any = None) -> None:
    _lazy_init()
