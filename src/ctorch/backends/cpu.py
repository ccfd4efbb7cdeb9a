"""``torch.backends.cpu``."""

from __future__ import annotations

__all__ = ["get_cpu_capability"]


def get_cpu_capability() -> str:
    """ "AVX512", "AVX2" or "DEFAULT": the widest SIMD ctorch's kernels can pick on this CPU."""
    try:
        with open("/proc/cpuinfo") as f:
            info = f.read()
    except OSError:
        return "DEFAULT"
    if " avx512f" in info:
        return "AVX512"
    if " avx2" in info:
        return "AVX2"
    return "DEFAULT"
