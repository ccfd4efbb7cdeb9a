"""Datasets and callbacks for the DataLoader worker tests.

They live in a plain module (not in the test file) so that spawned worker processes can import
them by name quickly, whatever pytest's import mode; the tests put this folder on sys.path.
"""

from __future__ import annotations

import os
import random
import time

import numpy as np

import ctorch
from ctorch.utils.data import Dataset, IterableDataset, get_worker_info


class RangeDataset(Dataset):
    """Item i is (float32 array [i, i], i)."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, i: int):
        if i >= self.n:
            raise IndexError(i)
        return np.full(2, i, dtype=np.float32), i


class TensorItemDataset(Dataset):
    """Items built from ctorch tensors, in nested structures."""

    def __len__(self) -> int:
        return 6

    def __getitem__(self, i: int):
        return {"x": ctorch.full((3,), float(i)), "pair": (ctorch.zeros(2), i), "name": f"s{i}"}


class FailingDataset(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        if i == 5:
            raise ValueError("bad sample 5 in the dataset")
        return i


class DyingDataset(Dataset):
    """The worker process exits abruptly (like a segfault) on item 3."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        if i == 3:
            os._exit(7)
        return i


class SlowDataset(Dataset):
    def __init__(self, delay: float) -> None:
        self.delay = delay

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        time.sleep(self.delay)
        return i


class SeedDataset(Dataset):
    """Reports which worker served it and what every RNG gives there."""

    def __len__(self) -> int:
        return 8

    def __getitem__(self, i: int):
        info = get_worker_info()
        return {
            "worker": -1 if info is None else info.id,
            "seed": -1 if info is None else info.seed,
            "torch": float(ctorch.rand(1).item()),
            "numpy": float(np.random.rand()),
            "random": random.random(),
        }


class KernelDataset(Dataset):
    """Runs a ctorch kernel (possibly OpenMP-parallel) inside the worker."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        return float(ctorch.ones(10**6).sum().item()) + i


class ShardedIterable(IterableDataset):
    """range(n), split between workers with get_worker_info()."""

    def __init__(self, n: int) -> None:
        self.n = n

    def __iter__(self):
        info = get_worker_info()
        if info is None:
            return iter(range(self.n))
        return iter(range(info.id, self.n, info.num_workers))


class UnpicklableBatchDataset(Dataset):
    def __len__(self) -> int:
        return 2

    def __getitem__(self, i: int):
        return i


def collate_unpicklable(batch):
    return lambda: batch  # a lambda cannot be pickled back to the parent


def record_init(worker_id: int) -> None:
    os.environ["CTORCH_TEST_INIT"] = str(worker_id)


class InitEnvDataset(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, i: int):
        return int(os.environ.get("CTORCH_TEST_INIT", "-1"))


def failing_init(worker_id: int) -> None:
    raise RuntimeError(f"init failed in worker {worker_id}")
