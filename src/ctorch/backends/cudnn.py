"""``torch.backends.cudnn``: ctorch has no cuDNN; the flags are recorded and read back.

``benchmark``/``deterministic``/``enabled``/``allow_tf32`` are plain module attributes, settable
as torch programs do (``cudnn.benchmark = True``); ``flags(...)`` sets them for a block.
ctorch's convolutions (CPU kernels and the CuPy path) are deterministic whatever
``deterministic`` says, and, as in torch, this flag is separate from
``torch.use_deterministic_algorithms``.
"""

from __future__ import annotations

import contextlib

from ._flags import flag_scope, set_module_flags

__all__ = ["enabled", "benchmark", "deterministic", "allow_tf32", "is_available", "version"]

enabled: bool = True
benchmark: bool = False
benchmark_limit: int = 10
deterministic: bool = False
allow_tf32: bool = True


def is_available() -> bool:
    """False: ctorch does not use cuDNN."""
    return False


def is_acceptable(tensor) -> bool:
    return False


def version() -> int | None:
    """None, as torch reports without cuDNN."""
    return None


def set_flags(
    _enabled: bool | None = None,
    _benchmark: bool | None = None,
    _benchmark_limit: int | None = None,
    _deterministic: bool | None = None,
    _allow_tf32: bool | None = None,
) -> tuple:
    return set_module_flags(
        globals(),
        enabled=(_enabled, bool),
        benchmark=(_benchmark, bool),
        benchmark_limit=(_benchmark_limit, int),
        deterministic=(_deterministic, bool),
        allow_tf32=(_allow_tf32, bool),
    )


def flags(
    enabled: bool = False,
    benchmark: bool = False,
    benchmark_limit: int = 10,
    deterministic: bool = False,
    allow_tf32: bool = True,
) -> contextlib.AbstractContextManager[None]:
    """Set the cuDNN flags for the ``with`` block (torch's defaults when not given)."""
    return flag_scope(set_flags, enabled, benchmark, benchmark_limit, deterministic, allow_tf32)
