"""``torch.distributed.fsdp``: FullyShardedDataParallel (FSDP1) and fully_shard (FSDP2) over
ctorch.distributed's collectives. See ``docs/distributed.md``."""

from __future__ import annotations

from . import _fully_shard, api
from ._fully_shard import *  # noqa: F403 - FSDP2's names (their list: _fully_shard.__all__)
from .api import *  # noqa: F403 - FSDP1's enums and configs (api.__all__)
from .fully_sharded_data_parallel import FullyShardedDataParallel

FSDP = FullyShardedDataParallel

__all__ = [*_fully_shard.__all__, *api.__all__, "FSDP", "FullyShardedDataParallel"]
