"""Argument checks shared by the CUDA launchers.

Kernels trust their sizes, so every launcher checks them first and raises
``ValueError("<kernel>: ...")`` naming the kernel and the sizes (docs/kernels.md).
"""

from __future__ import annotations

from typing import Any

import numpy as np

_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
I64 = np.dtype(np.int64)
U8 = np.dtype(np.uint8)


_CUPY_TYPES: set[type] = set()


def _is_cupy(a: Any) -> bool:
    t = type(a)
    if t in _CUPY_TYPES:  # one set lookup on the hot path (several per launch)
        return True
    if t.__module__.startswith("cupy") and hasattr(a, "data"):
        _CUPY_TYPES.add(t)
        return True
    return False


def arr(kernel: str, name: str, a: Any, n: int | None = None, dtype: Any = None) -> Any:
    """Check that ``a`` is a C-contiguous cupy array of ``n`` elements and ``dtype``."""
    if not _is_cupy(a):
        raise TypeError(f"{kernel}: {name} must be a cupy.ndarray, got {type(a).__name__}")
    if not a.flags.c_contiguous:
        raise ValueError(f"{kernel}: {name} must be C-contiguous")
    if dtype is not None and a.dtype != dtype:
        raise ValueError(f"{kernel}: {name} has dtype {a.dtype}, expected {np.dtype(dtype)}")
    if n is not None and a.size != n:
        raise ValueError(f"{kernel}: {name} has {a.size} elements, expected {n}")
    return a


def opt(kernel: str, name: str, a: Any, n: int | None = None, dtype: Any = None) -> Any:
    """Like ``arr`` but ``None`` passes through (an optional argument)."""
    return None if a is None else arr(kernel, name, a, n, dtype)


def fdtype(kernel: str, a: Any, name: str = "x") -> np.dtype:
    """The float dtype of ``a`` (float32 or float64), else ValueError."""
    if not _is_cupy(a):
        raise TypeError(f"{kernel}: {name} must be a cupy.ndarray, got {type(a).__name__}")
    if a.dtype not in _FLOATS:
        raise ValueError(f"{kernel}: {name} has dtype {a.dtype}, expected float32 or float64")
    return a.dtype


def same_size(kernel: str, **arrays: Any) -> tuple[np.dtype, int]:
    """The checks of a kernel whose arrays all share the first one's float dtype and size:
    (that dtype, that size)."""
    first_name, first = next(iter(arrays.items()))
    dt = fdtype(kernel, first, first_name)
    n = first.size
    for name, a in arrays.items():
        arr(kernel, name, a, n, dt)
    return dt, n


def sizes(kernel: str, **dims: int) -> None:
    """All geometry arguments must be non-negative integers."""
    for k, v in dims.items():
        if int(v) != v or v < 0:
            raise ValueError(f"{kernel}: {k}={v!r} must be a non-negative integer")


def positive(kernel: str, **dims: int) -> None:
    """Kernel sizes, strides and dilations must be positive integers."""
    for k, v in dims.items():
        if int(v) != v or v < 1:
            raise ValueError(f"{kernel}: {k}={v!r} must be a positive integer")


def window(kernel: str, geo: Any, dilated: bool = True) -> tuple:
    """A ctorch._geometry.Window2d checked once for every conv/pooling launcher: sizes and
    paddings non-negative, kernel/stride/dilation positive; returned as the kernels' int64
    scalars (without the dilation when ``dilated`` is False: avg pooling has none, and a
    dilation other than 1 is refused)."""
    if not isinstance(geo, tuple) or len(geo) != 14:
        raise TypeError(f"{kernel}: the geometry must be a ctorch._geometry.Window2d, got {geo!r}")
    N, C, H, W, kh, kw, sh, sw, ph, pw, dh, dw, oh, ow = geo
    sizes(kernel, N=N, C=C, H=H, W=W, ph=ph, pw=pw, oh=oh, ow=ow)
    positive(kernel, kh=kh, kw=kw, sh=sh, sw=sw, dh=dh, dw=dw)
    if dilated:
        return tuple(i64(v) for v in geo)
    if dh != 1 or dw != 1:
        raise ValueError(f"{kernel}: dilation ({dh}, {dw}) is not supported (must be 1)")
    return tuple(i64(v) for v in (N, C, H, W, kh, kw, sh, sw, ph, pw, oh, ow))


def i64(v: Any) -> np.int64:
    return np.int64(v)


def i32(v: Any) -> np.int32:
    return np.int32(v)


def scalar(dtype: np.dtype, v: Any) -> Any:
    """``v`` as the kernel's T: numpy.float32 for float kernels, numpy.float64 for double."""
    return dtype.type(v)
