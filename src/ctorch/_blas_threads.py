"""Thread count of the BLAS that NumPy loaded (OpenBLAS), so ``ctorch.set_num_threads`` governs
GEMM as well as ctorch's own OpenMP kernels.

NumPy's OpenBLAS keeps its own thread pool whose idle workers spin for a while after each GEMM.
On a machine with few cores, ctorch's OpenMP threads and those BLAS threads then compete for
the same cores (a small CNN step once took 3.9 s instead of 25 ms at 2 threads). Setting both
pools to the same size keeps them from oversubscribing the machine.

Best effort, like threadpoolctl: the OpenBLAS shared object is found in ``/proc/self/maps``
and its ``*_set_num_threads`` / ``*_get_num_threads`` are called through ctypes. Without an
OpenBLAS (another BLAS, or a platform without ``/proc``) the functions do nothing and return
None.
"""

from __future__ import annotations

import ctypes

_PREFIXES = (
    ("scipy_openblas", "64_"),
    ("scipy_openblas", ""),
    ("openblas", "64_"),
    ("openblas", ""),
)
_api: list | None = None  # [(set_fn, get_fn), ...] once looked up


def _find() -> list:
    global _api
    if _api is not None:
        return _api
    import numpy as np  # noqa: F401 - make sure NumPy's BLAS is loaded

    found = []
    try:
        with open("/proc/self/maps") as f:
            paths = {line.split()[-1] for line in f if "openblas" in line.lower()}
    except OSError:
        paths = set()
    for path in sorted(paths):
        try:
            lib = ctypes.CDLL(path)
        except OSError:
            continue
        for prefix, suffix in _PREFIXES:
            set_fn = getattr(lib, f"{prefix}_set_num_threads{suffix}", None)
            get_fn = getattr(lib, f"{prefix}_get_num_threads{suffix}", None)
            if set_fn is not None and get_fn is not None:
                set_fn.argtypes, set_fn.restype = [ctypes.c_int], None
                get_fn.argtypes, get_fn.restype = [], ctypes.c_int
                found.append((set_fn, get_fn))
                break
    _api = found
    return found


def get_blas_threads() -> int | None:
    """Threads of NumPy's OpenBLAS, or None when none was found."""
    api = _find()
    return int(api[0][1]()) if api else None


def set_blas_threads(n: int) -> int | None:
    """Limit NumPy's OpenBLAS to ``n`` threads; returns the previous count (None: no OpenBLAS)."""
    api = _find()
    if not api:
        return None
    previous = int(api[0][1]())
    for set_fn, _ in api:
        set_fn(int(n))
    return previous
