"""ctorch.multiprocessing: Python's multiprocessing plus torch's ``spawn(fn, args, nprocs)`` /
``start_processes`` (module ``ctorch.multiprocessing.spawn``). Tensors pickle as NumPy
arrays, except those in shared memory (``share_memory_()``, ``Module.share_memory()``), which
travel as file descriptors to the same memory (``ctorch._shared``, torch's
``file_descriptor`` strategy): Hogwild workers update the parent's model."""

from __future__ import annotations

import multiprocessing as _mp
import sys
from multiprocessing import *  # noqa: F403

from .spawn import (
    ProcessContext,
    ProcessException,
    ProcessExitedException,
    ProcessRaisedException,
    SpawnContext,
    spawn,
    start_processes,
)

__all__ = [
    *_mp.__all__,
    "spawn",
    "start_processes",
    "ProcessContext",
    "ProcessException",
    "ProcessRaisedException",
    "ProcessExitedException",
    "SpawnContext",
    "get_sharing_strategy",
    "set_sharing_strategy",
    "get_all_sharing_strategies",
]

_sharing_strategy = "file_descriptor" if sys.platform != "darwin" else "file_system"


def get_all_sharing_strategies() -> set[str]:
    return {"file_descriptor", "file_system"} if sys.platform != "darwin" else {"file_system"}


def get_sharing_strategy() -> str:
    """Shared tensors always travel as descriptors (``file_descriptor``); the setting is kept."""
    return _sharing_strategy


def set_sharing_strategy(new_strategy: str) -> None:
    global _sharing_strategy
    if new_strategy not in get_all_sharing_strategies():
        raise AssertionError(
            f"invalid sharing strategy {new_strategy!r}, expected one of "
            f"{get_all_sharing_strategies()}"
        )
    _sharing_strategy = new_strategy
