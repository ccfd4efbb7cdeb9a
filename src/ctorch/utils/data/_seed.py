"""Seeds drawn from ctorch generators (shared by samplers and the DataLoader)."""

from __future__ import annotations

from typing import Any


def draw_seed(generator: Any = None) -> int:
    """Draw a fresh seed from ``generator`` (ctorch's default generator if None) as torch
    does: ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``, so a seeded
    program's samplers and workers get torch's seeds."""
    import ctorch

    return int(ctorch.empty((), dtype=ctorch.int64).random_(generator=generator).item())
