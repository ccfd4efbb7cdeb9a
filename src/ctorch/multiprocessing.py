"""ctorch.multiprocessing: Python's multiprocessing plus torch's ``spawn(fn, args, nprocs)``
helper. Tensors pickle as NumPy arrays, except those in shared memory (``share_memory_()``,
``Module.share_memory()``), which travel as file descriptors to the same memory
(``ctorch._shared``): Hogwild workers update the parent's model."""

from __future__ import annotations

import multiprocessing as _mp
from multiprocessing import *  # noqa: F403

__all__ = [*_mp.__all__, "spawn", "start_processes", "ProcessRaisedException"]


class ProcessRaisedException(Exception):
    pass


def start_processes(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    ctx = _mp.get_context(start_method)
    procs = []
    for i in range(nprocs):
        p = ctx.Process(target=fn, args=(i, *args), daemon=daemon)
        p.start()
        procs.append(p)
    if not join:
        return procs
    for i, p in enumerate(procs):
        p.join()
        if p.exitcode != 0:
            raise ProcessRaisedException(f"process {i} terminated with exit code {p.exitcode}")
    return None


def spawn(fn, args=(), nprocs=1, join=True, daemon=False, start_method="spawn"):
    """Run ``fn(i, *args)`` in ``nprocs`` processes (torch.multiprocessing.spawn)."""
    return start_processes(fn, args, nprocs, join, daemon, start_method)


def get_sharing_strategy() -> str:
    return "file_system"


def set_sharing_strategy(strategy: str) -> None:
    pass
