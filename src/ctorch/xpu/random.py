"""``torch.xpu.random`` without an XPU: seeding is a no-op (torch queues it for a device
that never comes), reading a generator's state needs a device."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from ._state import _lazy_init

__all__ = [
    "get_rng_state",
    "get_rng_state_all",
    "initial_seed",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "seed_all",
    "set_rng_state",
    "set_rng_state_all",
]


def manual_seed(seed: int) -> None:
    int(seed)


def manual_seed_all(seed: int) -> None:
    int(seed)


def seed() -> None:
    pass


def seed_all() -> None:
    pass


def initial_seed() -> int:
    _lazy_init()


def get_rng_state(device: Any = "xpu") -> Any:
    _lazy_init()


def get_rng_state_all() -> list:
    return []


def set_rng_state(new_state: Any, device: Any = "xpu") -> None:
    pass


def set_rng_state_all(new_states: Iterable[Any]) -> None:
    for _ in new_states:
        pass
