"""``torch.fx._symbolic_trace``: the one helper programs import from it."""

from __future__ import annotations


def is_fx_tracing() -> bool:
    """False: ctorch never traces symbolically."""
    return False
