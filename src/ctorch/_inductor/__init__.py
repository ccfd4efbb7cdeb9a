"""``torch._inductor``: importable so that programs can set its ``config`` flags."""

from __future__ import annotations

from . import config

__all__ = ["config"]
