"""``nn.parallel``: DataParallel as a single-process pass-through wrapper.

ctorch runs one process on one device, so ``DataParallel(module)`` simply calls ``module``
(its ``.module`` attribute is the wrapped model, and its state_dict keys carry the
``module.`` prefix, as torch's). DistributedDataParallel is not implemented yet (issue #6).
"""

from __future__ import annotations

from typing import Any

from ..modules.module import Module

__all__ = ["DataParallel", "DistributedDataParallel", "data_parallel"]


class DataParallel(Module):
    """Wrap ``module``; forward passes straight through (single process, single device)."""

    def __init__(
        self, module: Module, device_ids: Any = None, output_device: Any = None, dim: int = 0
    ) -> None:
        super().__init__()
        self.module = module
        self.device_ids = list(device_ids) if device_ids is not None else []
        self.output_device = output_device
        self.dim = dim

    def forward(self, *inputs: Any, **kwargs: Any) -> Any:
        return self.module(*inputs, **kwargs)


def data_parallel(
    module: Module,
    inputs: Any,
    device_ids: Any = None,
    output_device: Any = None,
    dim: int = 0,
    module_kwargs: Any = None,
) -> Any:
    if not isinstance(inputs, tuple):
        inputs = (inputs,)
    return module(*inputs, **(module_kwargs or {}))


class DistributedDataParallel(Module):
    """Not implemented yet: distributed training arrives with issue #6."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(
            "ctorch.nn.parallel.DistributedDataParallel is not implemented yet (issue #6); "
            "use the module directly (or nn.DataParallel, a single-process pass-through)."
        )
