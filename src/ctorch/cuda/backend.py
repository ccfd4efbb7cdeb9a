"""The GPU kernel namespace: ``kernels`` is the union of the family launcher modules.

``ctorch._backend.kernels_for(cupy_array)`` returns ``kernels``; ops then call the
names of docs/kernels.md on it (``k.binary(...)``, ``k.BIN_ADD``, ...), exactly as on the CPU
union over ``ctorch._core.*``.  Family modules are imported on first attribute access, and
nothing here imports CuPy (the launchers import it when they run).
"""

from __future__ import annotations

import importlib
from types import ModuleType
from typing import Any

from .._backend import KERNEL_FAMILIES

FAMILIES: tuple[str, ...] = KERNEL_FAMILIES


def _exported(mod: ModuleType, name: str, value: Any) -> bool:
    """A kernel launcher or constant of ``mod``: public, not a module, not an import."""
    if name.startswith("_") or name in ("FAMILY", "annotations", "Any"):
        return False
    if isinstance(value, ModuleType):
        return False
    if callable(value) and getattr(value, "__module__", None) != mod.__name__:
        return False
    return True


class KernelNamespace:
    """Looks a name up in the family modules (first hit wins) and caches it."""

    def __init__(self, package: str, families: tuple[str, ...]) -> None:
        self._package = package
        self._families = families
        self._modules: list[ModuleType] | None = None

    def _load(self) -> list[ModuleType]:
        if self._modules is None:
            self._modules = [
                importlib.import_module(f"{self._package}.{f}") for f in self._families
            ]
        return self._modules

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__"):
            raise AttributeError(name)
        for mod in self._load():
            value = getattr(mod, name, None)
            if value is not None and _exported(mod, name, value):
                setattr(self, name, value)  # cache: later lookups skip __getattr__
                return value
        raise AttributeError(f"ctorch.cuda kernels have no {name!r}")

    def has(self, name: str) -> bool:
        """Whether a kernel or constant ``name`` exists (the CPU namespace's ``has``)."""
        try:
            getattr(self, name)
        except AttributeError:
            return False
        return True

    def names(self) -> list[str]:
        """Public kernel names and constants defined by the family modules."""
        out: set[str] = set()
        for mod in self._load():
            out.update(n for n, v in vars(mod).items() if _exported(mod, n, v))
        return sorted(out)

    def __dir__(self) -> list[str]:
        return self.names()

    def __repr__(self) -> str:
        return f"<ctorch GPU kernels: {', '.join(self._families)}>"


kernels = KernelNamespace(__package__ or "ctorch.cuda", FAMILIES)

__all__ = ["kernels", "KernelNamespace", "FAMILIES"]
