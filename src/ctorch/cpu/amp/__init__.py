"""``torch.cpu.amp``: the legacy spelling of CPU autocast."""

from __future__ import annotations

from typing import Any

from ... import _dtype as D
from ...amp import autocast_mode as _am

__all__ = ["autocast"]


class autocast(_am.autocast):
    """``torch.cpu.amp.autocast(args...)``: ``torch.amp.autocast("cpu", args...)`` (deprecated)."""

    def __init__(
        self, enabled: bool = True, dtype: Any = D.bfloat16, cache_enabled: bool = True
    ) -> None:
        _am._warn_legacy("autocast", "cpu")
        super().__init__("cpu", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)
