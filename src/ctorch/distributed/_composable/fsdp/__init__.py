"""``torch.distributed._composable.fsdp``: FSDP2's older import path (the same objects as
``ctorch.distributed.fsdp``'s)."""

from __future__ import annotations

from ...fsdp import _fully_shard
from ...fsdp._fully_shard import *  # noqa: F403 - the FSDP2 names, as torch re-exports them

__all__ = list(_fully_shard.__all__)
