"""The one place that knows devices: ``kernels_for(array)`` and ``xp_of(array)``."""

from __future__ import annotations

import importlib

import numpy as np

_CPU_FAMILIES = (
    "elementwise",
    "reduction",
    "conv",
    "pooling",
    "normalization",
    "loss",
    "nnmisc",
    "optim",
    "gemm",
)


class _CpuKernels:
    """Union of the ``ctorch._core.<family>`` modules' public names, resolved lazily."""

    def __init__(self) -> None:
        self._mods = None

    def _load(self):
        mods = []
        for fam in _CPU_FAMILIES:
            try:
                mods.append(importlib.import_module(f"ctorch._core.{fam}"))
            except ImportError:  # pragma: no cover - a broken build
                pass
        self._mods = mods
        return mods

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        for m in self._mods if self._mods is not None else self._load():
            fn = getattr(m, name, None)
            if fn is not None:
                setattr(self, name, fn)  # memoize
                return fn
        raise AttributeError(f"no CPU kernel named {name!r}")

    def has(self, name: str) -> bool:
        try:
            getattr(self, name)
            return True
        except AttributeError:
            return False


cpu_kernels = _CpuKernels()


def kernels_for(a):
    """The kernel namespace for an array's device (same names on both backends)."""
    if type(a) is np.ndarray:
        return cpu_kernels
    from ..cuda import backend

    return backend.kernels


def xp_of(a):
    """The array module (NumPy or CuPy) for an array."""
    if type(a) is np.ndarray:
        return np
    import cupy

    return cupy
