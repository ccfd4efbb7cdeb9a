"""``torch.backends.mkldnn``: ctorch does not use oneDNN; the flags are recorded."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

__all__ = ["is_available", "enabled", "deterministic", "flags", "set_flags"]

enabled: bool = False
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    return False


def set_flags(
    _enabled: bool | None = None, _deterministic: bool | None = None, _allow_tf32=None
) -> tuple:
    global enabled, deterministic, allow_tf32
    orig = (enabled, deterministic, allow_tf32)
    if _enabled is not None:
        enabled = bool(_enabled)
    if _deterministic is not None:
        deterministic = bool(_deterministic)
    if _allow_tf32 is not None:
        allow_tf32 = bool(_allow_tf32)
    return orig


@contextlib.contextmanager
def flags(enabled: bool = False, deterministic: bool = False, allow_tf32=True) -> Iterator[None]:
    orig = set_flags(enabled, deterministic, allow_tf32)
    try:
        yield
    finally:
        set_flags(*orig)
