"""Seeds drawn from ctorch generators (shared by samplers and the DataLoader)."""

from __future__ import annotations

from typing import Any

_SEED_HIGH = 2**62


def draw_seed(generator: Any = None) -> int:
    """Draw a fresh 62-bit seed from ``generator`` (ctorch's default generator if None).

    torch does ``torch.empty((), dtype=torch.int64).random_(generator=g).item()``; ctorch draws
    with ``randint`` so that ``ctorch.manual_seed(s)`` makes every derived seed reproducible.
    """
    import ctorch

    kwargs = {} if generator is None else {"generator": generator}
    return int(ctorch.randint(0, _SEED_HIGH, (1,), dtype=ctorch.int64, **kwargs).item())
