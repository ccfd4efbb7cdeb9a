"""``torch.utils.cpp_extension``: importable, but nothing here can build.

torch's C++/CUDA extensions compile against libtorch's C++ ABI (``ATen``, ``c10``,
``torch/extension.h``) and link to its shared libraries. ctorch is NumPy/Cython/CuPy with no
C++ tensor ABI, so there is nothing to compile an extension against: ``load``,
``load_inline``, ``CppExtension``, ``CUDAExtension`` and ``BuildExtension`` raise a
``NotImplementedError`` that says so, and ``include_paths`` / ``library_paths`` return ``[]``.
A program that only imports the module (to build optionally, or behind a try) keeps working.
For custom operators written in Python use ``ctorch.library``.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "load",
    "load_inline",
    "CppExtension",
    "CUDAExtension",
    "BuildExtension",
    "include_paths",
    "library_paths",
    "verify_ninja_availability",
    "is_ninja_available",
    "CUDA_HOME",
    "ROCM_HOME",
]

CUDA_HOME: str | None = None
ROCM_HOME: str | None = None
SYCL_HOME: str | None = None


def _no_abi(what: str) -> NotImplementedError:
    return NotImplementedError(
        f"torch.utils.cpp_extension.{what}: ctorch has no C++ ABI (no libtorch, ATen or "
        "torch/extension.h to compile against), so C++/CUDA extensions cannot be built; write "
        "the op in Python with ctorch.library.custom_op instead"
    )


def load(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:
    raise _no_abi("load")


def load_inline(name: str, cpp_sources: Any, *args: Any, **kwargs: Any) -> Any:
    raise _no_abi("load_inline")


def CppExtension(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
    raise _no_abi("CppExtension")


def CUDAExtension(name: str, sources: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N802
    raise _no_abi("CUDAExtension")


class BuildExtension:
    """setuptools' ``build_ext`` command class in torch; here constructing it raises."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise _no_abi("BuildExtension")

    @classmethod
    def with_options(cls, **options: Any) -> type[BuildExtension]:
        return cls


def include_paths(device_type: str = "cpu") -> list[str]:
    """No C++ headers ship with ctorch: ``[]``."""
    return []


def library_paths(device_type: str = "cpu") -> list[str]:
    """No C++ libraries ship with ctorch: ``[]``."""
    return []


def is_ninja_available() -> bool:
    import shutil

    return shutil.which("ninja") is not None


def verify_ninja_availability() -> None:
    if not is_ninja_available():
        raise RuntimeError("Ninja is required to load C++ extensions")
