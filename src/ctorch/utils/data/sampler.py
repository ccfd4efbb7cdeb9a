"""Samplers: iterables of dataset indices (``torch.utils.data.sampler``)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence, Sized
from typing import Any, Generic, TypeVar

from ._seed import draw_seed

T_co = TypeVar("T_co", covariant=True)

__all__ = [
    "Sampler",
    "SequentialSampler",
    "RandomSampler",
    "SubsetRandomSampler",
    "WeightedRandomSampler",
    "BatchSampler",
]


class Sampler(Generic[T_co]):
    """Base class: subclasses implement ``__iter__`` (and ideally ``__len__``)."""

    def __init__(self, data_source: Sized | None = None) -> None:
        pass

    def __iter__(self) -> Iterator[T_co]:
        raise NotImplementedError


class SequentialSampler(Sampler[int]):
    """Yields ``0 .. len(data_source) - 1`` in order."""

    data_source: Sized

    def __init__(self, data_source: Sized) -> None:
        self.data_source = data_source

    def __iter__(self) -> Iterator[int]:
        return iter(range(len(self.data_source)))

    def __len__(self) -> int:
        return len(self.data_source)


def _private_generator(generator: Any) -> Any:
    """The generator to draw from: ``generator`` or a fresh one seeded from the default."""
    if generator is not None:
        return generator
    import ctorch

    g = ctorch.Generator()
    g.manual_seed(draw_seed())
    return g


class RandomSampler(Sampler[int]):
    """Random order without replacement (a new permutation each epoch), or with replacement.

    ``num_samples`` (only meaningful with replacement, or to repeat permutations) defaults to
    ``len(data_source)``. Without ``generator`` each ``iter()`` seeds a private generator from
    ctorch's default one, so ``ctorch.manual_seed`` reproduces the order.
    """

    data_source: Sized
    replacement: bool

    def __init__(
        self,
        data_source: Sized,
        replacement: bool = False,
        num_samples: int | None = None,
        generator: Any = None,
    ) -> None:
        self.data_source = data_source
        self.replacement = replacement
        self._num_samples = num_samples
        self.generator = generator
        if not isinstance(self.replacement, bool):
            raise TypeError(
                f"replacement should be a boolean value, but got replacement={self.replacement}"
            )
        if not isinstance(self.num_samples, int) or self.num_samples <= 0:
            raise ValueError(
                "num_samples should be a positive integer value, but got "
                f"num_samples={self.num_samples}"
            )

    @property
    def num_samples(self) -> int:
        if self._num_samples is None:
            return len(self.data_source)
        return self._num_samples

    def __iter__(self) -> Iterator[int]:
        import ctorch

        n = len(self.data_source)
        generator = _private_generator(self.generator)
        if self.replacement:
            for _ in range(self.num_samples // 32):
                yield from ctorch.randint(
                    0, n, (32,), dtype=ctorch.int64, generator=generator
                ).tolist()
            yield from ctorch.randint(
                0, n, (self.num_samples % 32,), dtype=ctorch.int64, generator=generator
            ).tolist()
        else:
            for _ in range(self.num_samples // n):
                yield from ctorch.randperm(n, generator=generator).tolist()
            # torch draws this last permutation even when it keeps none of it, which moves a
            # caller's generator on: do the same, so the next epoch's order is torch's
            yield from ctorch.randperm(n, generator=generator).tolist()[: self.num_samples % n]

    def __len__(self) -> int:
        return self.num_samples


class SubsetRandomSampler(Sampler[int]):
    """Yields the given indices in a random order, without replacement."""

    indices: Sequence[int]

    def __init__(self, indices: Sequence[int], generator: Any = None) -> None:
        self.indices = indices
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        import ctorch

        kwargs = {} if self.generator is None else {"generator": self.generator}
        for i in ctorch.randperm(len(self.indices), **kwargs).tolist():
            yield self.indices[i]

    def __len__(self) -> int:
        return len(self.indices)


class WeightedRandomSampler(Sampler[int]):
    """Yields indices ``0 .. len(weights) - 1`` drawn with probabilities proportional to weights."""

    num_samples: int
    replacement: bool

    def __init__(
        self,
        weights: Sequence[float] | Any,
        num_samples: int,
        replacement: bool = True,
        generator: Any = None,
    ) -> None:
        if not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples <= 0:
            raise ValueError(
                f"num_samples should be a positive integer value, but got num_samples={num_samples}"
            )
        if not isinstance(replacement, bool):
            raise ValueError(
                f"replacement should be a boolean value, but got replacement={replacement}"
            )
        import ctorch

        weights_tensor = ctorch.as_tensor(weights, dtype=ctorch.float64)
        if len(weights_tensor.shape) != 1:
            raise ValueError(
                "weights should be a 1d sequence but given weights have shape "
                f"{tuple(weights_tensor.shape)}"
            )
        self.weights = weights_tensor
        self.num_samples = num_samples
        self.replacement = replacement
        self.generator = generator

    def __iter__(self) -> Iterator[int]:
        import ctorch

        kwargs = {} if self.generator is None else {"generator": self.generator}
        rand = ctorch.multinomial(self.weights, self.num_samples, self.replacement, **kwargs)
        yield from iter(rand.tolist())

    def __len__(self) -> int:
        return self.num_samples


class BatchSampler(Sampler[list[int]]):
    """Wraps a sampler to yield lists of ``batch_size`` indices (the last one may be short)."""

    def __init__(
        self, sampler: Sampler[int] | Iterable[int], batch_size: int, drop_last: bool
    ) -> None:
        if not isinstance(batch_size, int) or isinstance(batch_size, bool) or batch_size <= 0:
            raise ValueError(
                f"batch_size should be a positive integer value, but got batch_size={batch_size}"
            )
        if not isinstance(drop_last, bool):
            raise ValueError(f"drop_last should be a boolean value, but got drop_last={drop_last}")
        self.sampler = sampler
        self.batch_size = batch_size
        self.drop_last = drop_last

    def __iter__(self) -> Iterator[list[int]]:
        batch: list[int] = []
        for idx in self.sampler:
            batch.append(idx)
            if len(batch) == self.batch_size:
                yield batch
                batch = []
        if batch and not self.drop_last:
            yield batch

    def __len__(self) -> int:
        n = len(self.sampler)  # type: ignore[arg-type]
        if self.drop_last:
            return n // self.batch_size
        return (n + self.batch_size - 1) // self.batch_size
