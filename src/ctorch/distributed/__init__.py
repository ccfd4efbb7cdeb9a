"""ctorch.distributed: torch.distributed's API on MPI (mpi4py, CPU), ctorch's TCP transport
(CPU, no install) and NCCL (CuPy, GPU).

Importing this package needs neither mpi4py nor CuPy and does not initialise MPI: that
happens in :func:`init_process_group`. Launch with an MPI launcher or torchrun-style::

    mpirun -n 2 python train.py                      # one machine
    mpirun -n 8 --hostfile hosts python train.py     # several machines
    python -m ctorch.distributed.run --launcher subprocess --nproc-per-node 2 train.py  # TCP

See ``docs/distributed.md``.
"""

from __future__ import annotations

from . import distributed_c10d as _c10d
from ._backends import ReduceOp, Work
from .device_mesh import DeviceMesh, init_device_mesh
from .distributed_c10d import *  # noqa: F403 - the public API is distributed_c10d's __all__
from .distributed_c10d import group

__all__ = sorted({*_c10d.__all__, "DeviceMesh", "ReduceOp", "Work", "group", "init_device_mesh"})
