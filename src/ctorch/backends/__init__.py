"""ctorch.backends: torch's backend flags as importable submodules.

``import torch.backends.cudnn as cudnn`` and ``torch.backends.cudnn.benchmark = True`` work as
in torch. ctorch has no cuDNN, MKLDNN or MPS: those flags are recorded and read back. The ones
that mean something here are honoured: ``cuda.matmul.allow_tf32`` and
``set_float32_matmul_precision`` are one setting (as in torch), and ``openmp.is_available()``
reports ctorch's own OpenMP build.
"""

from __future__ import annotations

from . import cpu, cuda, cudnn, mkldnn, mps, openmp, opt_einsum

__all__ = ["cpu", "cuda", "cudnn", "mkldnn", "mps", "openmp", "opt_einsum", "flags_frozen"]


def flags_frozen() -> bool:
    return False
