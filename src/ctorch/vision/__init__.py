"""ctorch.vision: datasets, transforms and image utilities (torchvision's role).

Submodules load on first use (``ctorch.vision.transforms`` etc.), so importing ctorch.vision
costs nothing and Pillow is imported only when an image is actually handled.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_SUBMODULES = ("datasets", "transforms", "utils", "models", "ops", "tv_tensors")

__all__ = ["datasets", "transforms", "utils", "models", "ops", "tv_tensors", "__version__"]


def __getattr__(name: str) -> Any:
    if name in _SUBMODULES:
        module = importlib.import_module(f"{__name__}.{name}")
        globals()[name] = module
        return module
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
