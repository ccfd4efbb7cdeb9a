"""Moving arrays between NumPy (CPU) and CuPy (GPU). CuPy is imported only when a GPU is
asked for, and its absence gives an error that says how to install it."""

from __future__ import annotations

import contextlib

import numpy as np

from ._meta import MetaArray

_state = {"cupy": None, "error": None}


def cupy():
    """The CuPy module, or a RuntimeError explaining why the GPU cannot be used."""
    if _state["cupy"] is not None:
        return _state["cupy"]
    try:
        import cupy as cp
    except Exception as e:  # noqa: BLE001 - ImportError or a broken CUDA install
        raise RuntimeError(
            "ctorch: CUDA is not available: CuPy is not installed or failed to import "
            f"({type(e).__name__}: {e}). Install the GPU extra: pip install 'ctorch[cuda12]' "
            "(CUDA 12) or 'ctorch[cuda13]' (CUDA 13)."
        ) from None
    try:
        n = cp.cuda.runtime.getDeviceCount()
    except Exception as e:  # noqa: BLE001 - CuPy raises a CUDARuntimeError subclass
        raise RuntimeError(
            f"ctorch: CUDA is not available: CuPy found no usable NVIDIA GPU ({type(e).__name__}: {e})."
        ) from None
    if n == 0:
        raise RuntimeError("ctorch: CUDA is not available: no NVIDIA GPU was found.")
    _state["cupy"] = cp
    return cp


def on(device):
    """Context manager selecting the CuPy device for ``device`` (a ctorch.device)."""
    cp = cupy()
    idx = device.index if device.index is not None else cp.cuda.runtime.getDevice()
    n = cp.cuda.runtime.getDeviceCount()
    if idx >= n:
        raise RuntimeError(
            f"CUDA error: invalid device ordinal: cuda:{idx} requested but only {n} GPU(s) present"
        )
    return cp.cuda.Device(idx)


def to_device(a, device):
    """Copy array ``a`` (NumPy or CuPy) to ``device``."""
    if device.type == "cpu":
        # (a meta array's get() raises torch's "Cannot copy out of meta tensor; no data!")
        return a if type(a) is np.ndarray else a.get()
    if device.type == "meta":
        from ._meta import to_meta

        return to_meta(a)
    if device.type != "cuda":
        from ._device import unsupported

        raise unsupported(device.type)
    cp = cupy()
    if type(a) is MetaArray:
        a.get()  # torch: NotImplementedError "Cannot copy out of meta tensor; no data!"
    with on(device):
        if type(a) is not np.ndarray and a.device.id == cp.cuda.runtime.getDevice():
            return a
        return cp.asarray(a)


@contextlib.contextmanager
def nullcontext():
    yield
