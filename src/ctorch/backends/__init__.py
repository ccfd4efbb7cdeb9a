"""ctorch.backends: torch's settable backend flags (recorded; ctorch has no cuDNN/MPS)."""

from __future__ import annotations

import types

__all__ = ["cudnn", "cuda", "mps", "mkldnn", "openmp"]


class _Flags(types.ModuleType):
    def __init__(self, name: str, **flags) -> None:
        super().__init__(name)
        for k, v in flags.items():
            setattr(self, k, v)


cudnn = _Flags(
    "ctorch.backends.cudnn", enabled=True, benchmark=False, deterministic=False, allow_tf32=True
)
cudnn.is_available = lambda: False
cudnn.version = lambda: None

cuda = _Flags("ctorch.backends.cuda")
# TF32 GEMMs on request (read by the CuPy matmul path when a GPU is used)
cuda.matmul = _Flags(
    "ctorch.backends.cuda.matmul", allow_tf32=False, allow_fp16_reduced_precision_reduction=True
)


def _cuda_is_built() -> bool:
    import importlib.util

    return importlib.util.find_spec("cupy") is not None


cuda.is_built = _cuda_is_built

mps = _Flags("ctorch.backends.mps")
mps.is_available = lambda: False
mps.is_built = lambda: False

mkldnn = _Flags("ctorch.backends.mkldnn", enabled=False)
mkldnn.is_available = lambda: False


def _openmp_available() -> bool:
    from .._core._threads import has_openmp

    return has_openmp()


openmp = _Flags("ctorch.backends.openmp")
openmp.is_available = _openmp_available
