"""``torch.mps``: Apple's Metal backend. ctorch has no MPS device, so, as torch does on a machine
without one, ``device_count()`` is 0, ``is_available()`` False, and every call that needs the
device raises torch's RuntimeError. Device-agnostic code that checks availability first runs."""

from __future__ import annotations

from typing import Any

__all__ = [
    "current_allocated_memory",
    "device_count",
    "driver_allocated_memory",
    "empty_cache",
    "get_rng_state",
    "is_available",
    "manual_seed",
    "recommended_max_memory",
    "seed",
    "set_per_process_memory_fraction",
    "set_rng_state",
    "synchronize",
]


def _no_mps(what: str) -> RuntimeError:
    return RuntimeError(f"Cannot execute {what}() without MPS backend.")


def is_available() -> bool:
    return False


def device_count() -> int:
    return 0


def manual_seed(seed: int) -> None:
    """torch ignores the seed when there is no MPS device; so does ctorch."""
    int(seed)


def synchronize() -> None:
    raise _no_mps("deviceSynchronize")


def empty_cache() -> None:
    raise _no_mps("emptyCache")


def current_allocated_memory() -> int:
    raise _no_mps("getCurrentAllocatedMemory")


def driver_allocated_memory() -> int:
    raise _no_mps("getDriverAllocatedMemory")


def recommended_max_memory() -> int:
    raise _no_mps("getRecommendedMaxMemory")


def set_per_process_memory_fraction(fraction: float) -> None:
    raise _no_mps("setMemoryFraction")


def get_rng_state(device: Any = "mps") -> Any:
    raise _no_mps("getDefaultGenerator")


def set_rng_state(new_state: Any, device: Any = "mps") -> None:
    raise _no_mps("getDefaultGenerator")


def seed() -> None:
    raise _no_mps("getDefaultGenerator")
