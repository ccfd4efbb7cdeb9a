"""ctorch.utils: helpers mirroring ``torch.utils`` (``data`` is the data-loading package)."""

import importlib as _importlib

from . import checkpoint, data

__all__ = ["data", "checkpoint"]

# torch.utils makes these reachable as attributes after ``import torch``; they are imported
# on first use here (``hooks`` imports nn, which imports this package)
_LAZY = (
    "dlpack", "hooks", "_pytree", "model_zoo", "tensorboard", "benchmark", "flop_counter",
    "cpp_extension", "collect_env",
)  # fmt: skip


def __getattr__(name: str):
    if name in _LAZY:
        mod = _importlib.import_module(f"{__name__}.{name}")
        globals()[name] = mod
        return mod
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
