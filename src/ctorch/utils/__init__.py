"""ctorch.utils: helpers mirroring ``torch.utils`` (``data`` is the data-loading package)."""

from . import checkpoint, data

__all__ = ["data", "checkpoint"]


# imported on first use (as ``torch.utils.X`` also needs ``import torch.utils.X`` in torch)
_LAZY_SUBMODULES = ("benchmark", "flop_counter", "cpp_extension")


def __getattr__(name: str):
    if name in _LAZY_SUBMODULES:
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
