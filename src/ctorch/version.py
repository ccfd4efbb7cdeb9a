"""ctorch.version: ``__version__`` and ``cuda`` (the CUDA runtime CuPy uses, or None)."""

from __future__ import annotations

__version__ = "0.1.0"
git_version = "unknown"
debug = False
hip = None


def _cuda_version():
    try:
        import cupy

        v = cupy.cuda.runtime.runtimeGetVersion()
        return f"{v // 1000}.{(v % 1000) // 10}"
    except Exception:  # noqa: BLE001 - no CuPy or no driver
        return None


cuda = _cuda_version()
