"""``torch.backends.openmp``: whether ctorch's kernels were built with OpenMP."""

from __future__ import annotations

__all__ = ["is_available"]


def is_available() -> bool:
    from .._core._threads import has_openmp

    return bool(has_openmp())
