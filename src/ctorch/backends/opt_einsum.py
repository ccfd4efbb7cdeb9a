"""``torch.backends.opt_einsum``: whether the ``opt_einsum`` package is there, and its flags.

ctorch's ``einsum`` contracts through NumPy, which finds a contraction order itself; the flags
are recorded.
"""

from __future__ import annotations

import importlib.util
from typing import Any

__all__ = ["is_available", "get_opt_einsum", "enabled", "strategy"]

enabled: bool = True
strategy: str | None = "auto"


def is_available() -> bool:
    return importlib.util.find_spec("opt_einsum") is not None


def get_opt_einsum() -> Any:
    """The ``opt_einsum`` module when it is installed, else None."""
    if not is_available():
        return None
    import opt_einsum

    return opt_einsum
