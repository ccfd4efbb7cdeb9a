"""``nn.parallel``: DistributedDataParallel, and DataParallel as a single-process wrapper.

``DistributedDataParallel`` (in ``distributed.py``) averages gradients across the processes of
``ctorch.distributed`` (MPI or NCCL); importing this package needs neither mpi4py nor CuPy.

``DataParallel(module)`` runs one process on one device, so it simply calls ``module`` (its
``.module`` attribute is the wrapped model, and its state_dict keys carry the ``module.``
prefix, as torch's), so that scripts written for torch's DataParallel run unchanged.
"""

from __future__ import annotations

from typing import Any

from ..modules.module import Module
from .distributed import DistributedDataParallel

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
