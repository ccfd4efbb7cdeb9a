"""Small top-level names of torch that programs call directly (``torch._assert``)."""

from __future__ import annotations

from typing import Any

__all__ = ["_assert"]


def _assert(condition: Any, message: str) -> None:
    """``torch._assert``: ``assert condition, message`` that stays a call (so tracing keeps it)."""
    if not condition:
        raise AssertionError(message)
