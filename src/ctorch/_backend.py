"""The one place that knows devices: ``kernels_for(array)``, ``kernel(name, *arrays)`` and
``xp_of(array)``. A top-level module (below autograd, ops, nn and optim, which all import it);
it imports the CPU kernels and the CUDA backend lazily, on first use."""

from __future__ import annotations

import importlib

import numpy as np

from ._meta import MetaArray, meta_kernels, meta_xp

# the kernel families of both devices (``ctorch._core.<family>``, ``ctorch.cuda.<family>``);
# the CPU has two more, gemm and attention
KERNEL_FAMILIES = (
    "elementwise",
    "reduction",
    "conv",
    "pooling",
    "normalization",
    "loss",
    "nnmisc",
    "optim",
)
_CPU_FAMILIES = KERNEL_FAMILIES + ("gemm", "attention")


class _CpuKernels:
    """Union of the ``ctorch._core.<family>`` modules' public names, resolved lazily."""

    def __init__(self) -> None:
        self._mods = None

    def _load(self):
        mods = []
        for fam in _CPU_FAMILIES:
            try:
                mods.append(importlib.import_module(f"ctorch._core.{fam}"))
            except ImportError:  # pragma: no cover - a broken build
                pass
        self._mods = mods
        return mods

    def __getattr__(self, name: str):
        if name.startswith("__"):
            raise AttributeError(name)
        for m in self._mods if self._mods is not None else self._load():
            fn = getattr(m, name, None)
            if fn is not None:
                setattr(self, name, fn)  # memoize
                return fn
        raise AttributeError(f"no CPU kernel named {name!r}")

    def has(self, name: str) -> bool:
        try:
            getattr(self, name)
            return True
        except AttributeError:
            return False


cpu_kernels = _CpuKernels()


def kernels_for(a):
    """The kernel namespace for an array's device (same names on both backends)."""
    if type(a) is np.ndarray:
        return cpu_kernels
    if type(a) is MetaArray:  # the meta device: no kernels, ops take their NumPy paths
        return meta_kernels
    from .cuda import backend

    return backend.kernels


def xp_of(a):
    """The array module (NumPy or CuPy) for an array."""
    if type(a) is np.ndarray:
        return np
    if type(a) is MetaArray:
        return meta_xp
    import cupy

    return cupy


_F32 = np.dtype(np.float32)
_F64 = np.dtype(np.float64)
_KDT = (_F32, _F64)
#: below this many elements a NumPy/CuPy call beats a kernel call (call overhead)
KERNEL_MIN = 16384


def kernel(name: str, *arrays, min_size: int = KERNEL_MIN):
    """The kernel ``name`` of the arrays' backend, or None when it should not run: fewer than
    ``min_size`` elements in the first array, a dtype other than float32/float64, arrays of
    different dtypes or devices, a non-contiguous array, or no such kernel. The one place
    that decides "kernel or fallback" for elementwise-style ops."""
    a0 = arrays[0]
    if a0.size < min_size:
        return None
    dt = a0.dtype
    if dt != _F32 and dt != _F64:
        return None
    t0 = type(a0)
    for a in arrays:
        if type(a) is not t0 or a.dtype != dt or not a.flags.c_contiguous:
            return None
    return getattr(kernels_for(a0), name, None)


def contiguous(a):
    """``a`` itself when C-contiguous, else a C-contiguous copy (NumPy or CuPy)."""
    if a.flags.c_contiguous:
        return a
    return xp_of(a).ascontiguousarray(a)


def float_kernels(a, name: str):
    """The kernel namespace of ``a``'s backend when it has ``name`` and ``a`` is
    float32/float64, else None.  No size threshold: for the window ops (im2col, pooling,
    normalization) the kernel beats the NumPy/CuPy fallback at every size."""
    if a.dtype in _KDT:
        k = kernels_for(a)
        if k.has(name):
            return k
    return None


def sgemm_kernels(a, b):
    """The CPU kernels when ctorch's AVX-512 sgemm should multiply float32 CPU arrays ``a``
    and ``b``, else None (another dtype or device, or no AVX-512 on this CPU: the portable
    micro-kernel is slow and NumPy's BLAS is then the faster choice)."""
    if type(a) is not np.ndarray or a.dtype != _F32 or b.dtype != _F32:
        return None
    k = cpu_kernels
    if k.has("sgemm") and k.SGEMM_AVX512:
        return k
    return None


# NumPy's floating-point warnings ("overflow encountered in exp", "invalid value in add"):
# torch warns on none of them, so the NumPy paths of the ops run with them off. np.errstate
# costs ~1 us a call; setting NumPy's error-state context variable directly costs ~0.1 us
# (private in NumPy 2; any other NumPy falls back to errstate).
try:
    from numpy._core._ufunc_config import _extobj_contextvar as _FP_CV

    with np.errstate(all="ignore"):
        _FP_IGNORE = _FP_CV.get()
except Exception:  # pragma: no cover - NumPy < 2 or a changed private layout
    _FP_CV = None


def fp_quiet(fn, *args, **kwargs):
    """``fn(*args, **kwargs)`` with NumPy's floating-point warnings off."""
    if _FP_CV is None:  # pragma: no cover
        with np.errstate(all="ignore"):
            return fn(*args, **kwargs)
    token = _FP_CV.set(_FP_IGNORE)
    try:
        return fn(*args, **kwargs)
    finally:
        _FP_CV.reset(token)


if _FP_CV is not None:  # the same function compiled (no Python frame or argument packing)
    from ._core import _smallops as _so

    _so.set_fp_context(_FP_CV, _FP_IGNORE)
    fp_quiet = _so.fp_quiet  # noqa: F811
