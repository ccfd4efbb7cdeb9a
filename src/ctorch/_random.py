"""Random number generation: ``Generator`` over NumPy's PCG64, a default generator, seeds.

ctorch's random streams are its own (torch's Mersenne-Twister streams are not reproduced):
the same seed gives the same numbers in ctorch, not the same numbers as torch.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = [
    "Generator",
    "default_generator",
    "manual_seed",
    "seed",
    "initial_seed",
    "get_rng_state",
    "set_rng_state",
]


class Generator:
    """A random generator (like ``torch.Generator``) on the CPU."""

    def __init__(self, device="cpu") -> None:
        from ._device import as_device

        self.device = as_device(device)
        if self.device.type == "xpu":  # as torch's CPU wheel
            raise RuntimeError("Cannot get XPU generator without ATen_xpu library.")
        self._seed = 67280421310721
        self._rng = np.random.Generator(np.random.PCG64(self._seed))

    def manual_seed(self, seed: int) -> Generator:
        seed = int(seed)
        self._seed = seed
        self._rng = np.random.Generator(np.random.PCG64(seed & ((1 << 64) - 1)))
        return self

    def seed(self) -> int:
        s = int(time.time_ns() ^ id(self)) & ((1 << 63) - 1)
        self.manual_seed(s)
        return s

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self):
        import pickle

        from ._tensor import Tensor

        return Tensor._make(
            np.frombuffer(
                pickle.dumps((self._seed, self._rng.bit_generator.state)), np.uint8
            ).copy()
        )

    def set_state(self, state) -> Generator:
        import pickle

        arr = state._a if hasattr(state, "_a") else np.asarray(state)
        self._seed, st = pickle.loads(arr.tobytes())
        self._rng = np.random.Generator(np.random.PCG64())
        self._rng.bit_generator.state = st
        return self

    @property
    def rng(self) -> np.random.Generator:
        return self._rng


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the default generator (and CUDA's, when available)."""
    seed = int(seed)
    default_generator.manual_seed(seed)
    import sys

    cuda = sys.modules.get("ctorch.cuda")
    if cuda is not None and getattr(cuda, "_initialized", False):
        try:
            cuda.manual_seed_all(seed)
        except Exception:  # noqa: BLE001 - no usable GPU
            pass
    else:
        _pending_cuda_seed[0] = seed
    return default_generator


_pending_cuda_seed = [None]


def seed() -> int:
    return default_generator.seed()


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state():
    return default_generator.get_state()


def set_rng_state(state) -> None:
    default_generator.set_state(state)


def rng_for(generator) -> np.random.Generator:
    return (generator or default_generator)._rng
