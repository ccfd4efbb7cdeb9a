"""``torch.backends.cuda``: cuBLAS/SDPA flags.

``matmul.allow_tf32`` and ``torch.set_float32_matmul_precision`` are one setting, as in torch:
``allow_tf32 = True`` reads back as precision ``"high"``, ``set_float32_matmul_precision("high")``
as ``allow_tf32 == True``. ctorch's float32 GEMMs (NumPy's BLAS, ``cupy.matmul``) compute in
full float32 whatever is chosen: the setting permits a faster path, it does not demand one.
"""

from __future__ import annotations

import contextlib
import enum
import importlib.util
from collections.abc import Iterator

from .. import _warnings

__all__ = [
    "is_built",
    "matmul",
    "cufft_plan_cache",
    "preferred_linalg_library",
    "preferred_blas_library",
    "SDPBackend",
    "flash_sdp_enabled",
    "enable_flash_sdp",
    "mem_efficient_sdp_enabled",
    "enable_mem_efficient_sdp",
    "math_sdp_enabled",
    "enable_math_sdp",
    "cudnn_sdp_enabled",
    "enable_cudnn_sdp",
    "sdp_kernel",
]

_PRECISIONS = ("highest", "high", "medium")
_state = {"precision": "highest", "fp16_reduced": True, "bf16_reduced": True}


def get_float32_matmul_precision() -> str:
    """torch's ``get_float32_matmul_precision``: ``"highest"`` (default), ``"high"`` or
    ``"medium"``."""
    return _state["precision"]


def set_float32_matmul_precision(precision: str) -> None:
    """torch's ``set_float32_matmul_precision``; ``"high"``/``"medium"`` also turn on
    ``backends.cuda.matmul.allow_tf32`` as in torch."""
    if precision not in _PRECISIONS:
        _warnings.warn(
            f"{precision} is not one of 'highest', 'high', or 'medium'; the current "
            "setFloat32MatmulPrecision call has no effect.",
            UserWarning,
        )
        return
    _state["precision"] = precision


def is_built() -> bool:
    """Whether ctorch's GPU backend (CuPy) is installed."""
    return importlib.util.find_spec("cupy") is not None


class cuBLASModule:  # noqa: N801 - torch's name
    """``torch.backends.cuda.matmul``."""

    @property
    def allow_tf32(self) -> bool:
        return _state["precision"] != "highest"

    @allow_tf32.setter
    def allow_tf32(self, value: bool) -> None:
        _state["precision"] = "high" if value else "highest"

    @property
    def allow_fp16_reduced_precision_reduction(self) -> bool:
        return _state["fp16_reduced"]

    @allow_fp16_reduced_precision_reduction.setter
    def allow_fp16_reduced_precision_reduction(self, value: bool) -> None:
        _state["fp16_reduced"] = bool(value)

    @property
    def allow_bf16_reduced_precision_reduction(self) -> bool:
        return _state["bf16_reduced"]

    @allow_bf16_reduced_precision_reduction.setter
    def allow_bf16_reduced_precision_reduction(self, value: bool) -> None:
        _state["bf16_reduced"] = bool(value)

    def __setattr__(self, name: str, value) -> None:
        if not hasattr(type(self), name):
            raise AttributeError(f"Unknown attribute {name}")
        super().__setattr__(name, value)


matmul = cuBLASModule()


class _PlanCache:
    size = 0
    max_size = 0

    def clear(self) -> None:
        pass


class _CuFFTPlanCacheManager:
    def __getitem__(self, device) -> _PlanCache:
        return _PlanCache()

    def __getattr__(self, name: str):
        return getattr(_PlanCache(), name)


cufft_plan_cache = _CuFFTPlanCacheManager()
_linalg_library = ["default"]
_blas_library = ["cublas"]


def preferred_linalg_library(backend: str | None = None) -> str:
    if backend is not None:
        _linalg_library[0] = str(backend)
    return _linalg_library[0]


def preferred_blas_library(backend: str | None = None) -> str:
    if backend is not None:
        _blas_library[0] = str(backend)
    return _blas_library[0]


class SDPBackend(enum.IntEnum):
    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


_sdp = {"flash": True, "mem_efficient": True, "math": True, "cudnn": True, "overrideable": True}


def flash_sdp_enabled() -> bool:
    return _sdp["flash"]


def enable_flash_sdp(enabled: bool) -> None:
    _sdp["flash"] = bool(enabled)


def mem_efficient_sdp_enabled() -> bool:
    return _sdp["mem_efficient"]


def enable_mem_efficient_sdp(enabled: bool) -> None:
    _sdp["mem_efficient"] = bool(enabled)


def math_sdp_enabled() -> bool:
    return _sdp["math"]


def enable_math_sdp(enabled: bool) -> None:
    _sdp["math"] = bool(enabled)


def cudnn_sdp_enabled() -> bool:
    return _sdp["cudnn"]


def enable_cudnn_sdp(enabled: bool) -> None:
    _sdp["cudnn"] = bool(enabled)


@contextlib.contextmanager
def sdp_kernel(
    enable_flash: bool = True,
    enable_math: bool = True,
    enable_mem_efficient: bool = True,
    enable_cudnn: bool = True,
) -> Iterator[None]:
    """Record the SDPA backend choice for the block (ctorch has one attention path)."""
    saved = dict(_sdp)
    _sdp.update(
        flash=bool(enable_flash),
        math=bool(enable_math),
        mem_efficient=bool(enable_mem_efficient),
        cudnn=bool(enable_cudnn),
    )
    try:
        yield
    finally:
        _sdp.update(saved)
