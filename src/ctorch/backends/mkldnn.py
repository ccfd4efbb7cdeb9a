"""``torch.backends.mkldnn``: ctorch does not use oneDNN; the flags are recorded."""

from __future__ import annotations

import contextlib

from ._flags import flag_scope, set_module_flags

__all__ = ["is_available", "enabled", "deterministic", "flags", "set_flags"]

enabled: bool = False
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    return False


def set_flags(
    _enabled: bool | None = None, _deterministic: bool | None = None, _allow_tf32=None
) -> tuple:
    return set_module_flags(
        globals(),
        enabled=(_enabled, bool),
        deterministic=(_deterministic, bool),
        allow_tf32=(_allow_tf32, bool),
    )


def flags(
    enabled: bool = False, deterministic: bool = False, allow_tf32=True
) -> contextlib.AbstractContextManager[None]:
    return flag_scope(set_flags, enabled, deterministic, allow_tf32)
