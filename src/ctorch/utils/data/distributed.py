"""DistributedSampler: each rank iterates a disjoint share of the dataset
(``torch.utils.data.distributed.DistributedSampler``).

The index arithmetic is torch's: without ``drop_last`` the index list is padded to a multiple
of ``num_replicas`` by repeating its beginning; with it, the tail is cut so every rank gets
the same count; rank ``r`` takes ``indices[r::num_replicas]``. With ``shuffle`` the order is a
permutation drawn from a ``ctorch.Generator`` seeded with ``seed + epoch``, so every rank draws
the same permutation and call :meth:`set_epoch` to change it each epoch. The permutation is
ctorch's ``randperm``, not necessarily the one torch draws for the same seed.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sized
from typing import TypeVar

from .sampler import Sampler

__all__ = ["DistributedSampler"]

T_co = TypeVar("T_co", covariant=True)


class DistributedSampler(Sampler[T_co]):
    """Restricts data loading to this rank's share (use with ``DataLoader(sampler=...)``).

    ``num_replicas`` and ``rank`` default to the default process group's world size and rank
    (``ctorch.distributed.init_process_group`` must have been called).
    """

    def __init__(
        self,
        dataset: Sized,
        num_replicas: int | None = None,
        rank: int | None = None,
        shuffle: bool = True,
        seed: int = 0,
        drop_last: bool = False,
    ) -> None:
        if num_replicas is None or rank is None:
            from ... import distributed as dist

            if not dist.is_initialized():
                raise RuntimeError(
                    "DistributedSampler: num_replicas/rank not given and the default process "
                    "group has not been initialized, please make sure to call "
                    "init_process_group (or pass num_replicas and rank)."
                )
            if num_replicas is None:
                num_replicas = dist.get_world_size()
            if rank is None:
                rank = dist.get_rank()
        if num_replicas <= 0:
            raise ValueError(f"num_replicas should be a positive integer, got {num_replicas}")
        if rank >= num_replicas or rank < 0:
            raise ValueError(
                f"Invalid rank {rank}, rank should be in the interval [0, {num_replicas - 1}]"
            )
        self.dataset = dataset
        self.num_replicas = num_replicas
        self.rank = rank
        self.epoch = 0
        self.drop_last = drop_last
        n = len(dataset)
        if self.drop_last and n % self.num_replicas != 0:
            self.num_samples = math.ceil((n - self.num_replicas) / self.num_replicas)
        else:
            self.num_samples = math.ceil(n / self.num_replicas)
        self.total_size = self.num_samples * self.num_replicas
        self.shuffle = shuffle
        self.seed = seed

    def __iter__(self) -> Iterator[T_co]:
        n = len(self.dataset)
        if self.shuffle:
            import ctorch

            g = ctorch.Generator()
            g.manual_seed(self.seed + self.epoch)
            indices = ctorch.randperm(n, generator=g).tolist()
        else:
            indices = list(range(n))
        if not self.drop_last:
            padding_size = self.total_size - len(indices)
            if padding_size <= len(indices):
                indices += indices[:padding_size]
            else:
                indices += (indices * math.ceil(padding_size / len(indices)))[:padding_size]
        else:
            indices = indices[: self.total_size]
        assert len(indices) == self.total_size
        indices = indices[self.rank : self.total_size : self.num_replicas]
        assert len(indices) == self.num_samples
        return iter(indices)

    def __len__(self) -> int:
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Set the epoch, which (with ``seed``) picks the shuffle order: call it at the start
        of every epoch, before creating the DataLoader iterator."""
        self.epoch = epoch
