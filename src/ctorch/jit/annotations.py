"""``torch.jit.annotations``: the typing names TorchScript code imports from here."""

from __future__ import annotations

from typing import Any, Dict, List, Optional, Tuple, Union  # noqa: F401, UP035

BroadcastingList1 = List  # noqa: UP006
BroadcastingList2 = List  # noqa: UP006
BroadcastingList3 = List  # noqa: UP006

__all__ = [
    "Any",
    "BroadcastingList1",
    "BroadcastingList2",
    "BroadcastingList3",
    "Dict",
    "List",
    "Optional",
    "Tuple",
    "Union",
]
