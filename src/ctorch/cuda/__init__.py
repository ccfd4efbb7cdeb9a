"""ctorch.cuda: the GPU backend (CuPy RawModules over our .cu kernels) and torch.cuda's API.

CuPy is imported lazily: ``import ctorch`` and ``import ctorch.cuda`` never import it, so the
import time of ctorch is unaffected and everything here works (answering "no GPU") on a
machine without CuPy or without a GPU.  The first call that needs CuPy imports it once.

Kernel launchers live in the family modules (``ctorch.cuda.elementwise``, ...); the union of
their names is ``ctorch.cuda.backend.kernels``, the GPU twin of ``ctorch._core``.
"""

from __future__ import annotations

import threading
from types import ModuleType
from typing import Any

__all__ = [
    "is_available",
    "device_count",
    "current_device",
    "set_device",
    "synchronize",
    "manual_seed",
    "manual_seed_all",
    "seed",
    "initial_seed",
    "memory_allocated",
    "max_memory_allocated",
    "reset_peak_memory_stats",
    "empty_cache",
    "get_device_name",
    "require_cupy",
]

_INSTALL_HINT = (
    "install ctorch[cuda12] or ctorch[cuda13] (CuPy built for your CUDA toolkit: "
    "pip install cupy-cuda12x / cupy-cuda13x)"
)

# torch's default seed for CUDA generators; used until manual_seed is called.
_DEFAULT_SEED = 67280421310721

_lock = threading.Lock()
_cupy: ModuleType | None = None
_cupy_error: BaseException | None = None
_cupy_tried = False
_device_count: int | None = None
_device_error: BaseException | None = None
_initialized = False

# Per-device random state of the counter-based generator (Philox): seed and the next offset.
_seeds: dict[int, int] = {}
_offsets: dict[int, int] = {}

# Peak of the default memory pool's used bytes per device, tracked by our allocator hook.
_peak: dict[int, int] = {}


def _import_cupy() -> ModuleType | None:
    """Import CuPy once; remember the failure instead of retrying on every call."""
    global _cupy, _cupy_error, _cupy_tried
    if not _cupy_tried:
        with _lock:
            if not _cupy_tried:
                try:
                    import cupy

                    _cupy = cupy
                except Exception as e:  # ImportError, or a broken CUDA install
                    _cupy_error = e
                _cupy_tried = True
    return _cupy


def _count_devices() -> int:
    global _device_count, _device_error
    if _device_count is None:
        cp = _import_cupy()
        if cp is None:
            _device_count = 0
        else:
            try:
                _device_count = int(cp.cuda.runtime.getDeviceCount())
            except Exception as e:  # no driver, insufficient driver, no device: all "no GPU"
                _device_error = e
                _device_count = 0
    return _device_count


def is_available() -> bool:
    """True if CuPy imports and at least one CUDA device is usable."""
    return _count_devices() > 0


def require_cupy(what: str = "this operation") -> Any:
    """Return the ``cupy`` module, or raise RuntimeError saying why CUDA is unusable.

    ``what`` names the caller's purpose in the message ("moving a tensor to cuda", ...).
    On success it also installs ctorch's memory-tracking allocator (see max_memory_allocated).
    """
    cp = _import_cupy()
    if cp is None:
        raise RuntimeError(
            f"ctorch: {what} needs CUDA, but CuPy could not be imported "
            f"({type(_cupy_error).__name__}: {_cupy_error}); {_INSTALL_HINT}"
        )
    if _count_devices() == 0:
        detail = f" ({type(_device_error).__name__}: {_device_error})" if _device_error else ""
        raise RuntimeError(
            f"ctorch: {what} needs CUDA, but no usable CUDA GPU was found{detail}; "
            "check the NVIDIA driver and CUDA_VISIBLE_DEVICES"
        )
    _lazy_init(cp)
    return cp


def _lazy_init(cp: Any) -> None:
    """Route CuPy's allocations through the default pool with peak tracking (once)."""
    global _initialized
    if _initialized:
        return
    with _lock:
        if _initialized:
            return
        pool = cp.get_default_memory_pool()
        runtime = cp.cuda.runtime

        def _tracking_malloc(size: int) -> Any:
            mem = pool.malloc(size)
            dev = runtime.getDevice()
            used = pool.used_bytes()
            if used > _peak.get(dev, 0):
                _peak[dev] = used
            return mem

        cp.cuda.set_allocator(_tracking_malloc)
        _initialized = True


def device_count() -> int:
    """Number of usable CUDA devices (0 without CuPy or a GPU)."""
    return _count_devices()


def current_device() -> int:
    cp = require_cupy("current_device()")
    return int(cp.cuda.runtime.getDevice())


def set_device(device: int) -> None:
    """Make ``device`` current for this thread (a negative index is a no-op, like torch)."""
    index = _device_index(device)
    if index < 0:
        return
    cp = require_cupy("set_device()")
    cp.cuda.Device(index).use()


def _device_index(device: Any) -> int:
    if device is None:
        return current_device()
    if isinstance(device, int):
        return device
    index = getattr(device, "index", None)  # a ctorch.device / torch.device-like object
    if index is not None:
        return int(index)
    if isinstance(device, str):
        _, _, tail = device.partition(":")
        return int(tail) if tail else current_device()
    return int(device)


def synchronize(device: Any = None) -> None:
    """Wait for all kernels on ``device`` (default: current) to finish."""
    cp = require_cupy("synchronize()")
    index = _device_index(device)
    with cp.cuda.Device(index):
        cp.cuda.runtime.deviceSynchronize()


def get_device_name(device: Any = None) -> str:
    cp = require_cupy("get_device_name()")
    props = cp.cuda.runtime.getDeviceProperties(_device_index(device))
    name = props["name"]
    return name.decode() if isinstance(name, bytes) else str(name)


# --------------------------------------------------------------------------------------
# Random state.  The GPU kernels draw from a counter-based generator keyed by (seed, offset):
# each draw of n numbers uses counters offset .. offset+n-1 and advances the offset by n, so a
# manual_seed replays every later draw exactly, whatever the launch geometry.
# Seeding needs no GPU (like torch, it is silently accepted without one).
# --------------------------------------------------------------------------------------


def manual_seed(seed: int) -> None:
    """Seed the generator of the current device (device 0 when no GPU is present)."""
    dev = _current_or_zero()
    _seeds[dev] = int(seed) & 0xFFFFFFFFFFFFFFFF
    _offsets[dev] = 0


def manual_seed_all(seed: int) -> None:
    """Seed the generators of all devices."""
    for dev in range(max(_count_devices(), 1)):
        _seeds[dev] = int(seed) & 0xFFFFFFFFFFFFFFFF
        _offsets[dev] = 0


def seed() -> None:
    """Seed the current device's generator from OS entropy."""
    import os

    manual_seed(int.from_bytes(os.urandom(8), "little"))


def initial_seed() -> int:
    """The seed of the current device's generator."""
    return _seeds.get(_current_or_zero(), _DEFAULT_SEED)


def _current_or_zero() -> int:
    if _count_devices() == 0:
        return 0
    cp = _import_cupy()
    assert cp is not None
    return int(cp.cuda.runtime.getDevice())


def _philox_state(n: int) -> tuple[int, int]:
    """Reserve ``n`` counters on the current device; returns (seed, first counter)."""
    dev = _current_or_zero()
    s = _seeds.setdefault(dev, _DEFAULT_SEED)
    off = _offsets.get(dev, 0)
    _offsets[dev] = off + int(n)
    return s, off


def get_rng_state() -> tuple[int, int]:
    """(seed, offset) of the current device's generator."""
    dev = _current_or_zero()
    return _seeds.get(dev, _DEFAULT_SEED), _offsets.get(dev, 0)


def set_rng_state(state: tuple[int, int]) -> None:
    dev = _current_or_zero()
    _seeds[dev], _offsets[dev] = int(state[0]), int(state[1])


# --------------------------------------------------------------------------------------
# Memory statistics (CuPy's default memory pool; all ctorch GPU arrays are allocated there).
# --------------------------------------------------------------------------------------


def _pool_bytes(what: str, device: Any, stat: str = "used_bytes") -> tuple[int, int]:
    """(``device``'s index, ``stat`` of the default pool on it: used_bytes or total_bytes);
    ``what`` names the caller in the error when CuPy is missing."""
    cp = require_cupy(f"{what}()")
    index = _device_index(device)
    with cp.cuda.Device(index):
        return index, int(getattr(cp.get_default_memory_pool(), stat)())


def memory_allocated(device: Any = None) -> int:
    """Bytes held by live arrays in the default pool on ``device`` (0 without a GPU)."""
    if not is_available():
        return 0
    return _pool_bytes("memory_allocated", device)[1]


def max_memory_allocated(device: Any = None) -> int:
    """Peak of memory_allocated() since the first CUDA use or reset_peak_memory_stats().

    CuPy keeps no peak itself; ctorch installs an allocator (in require_cupy) that records it.
    """
    if not is_available():
        return 0
    index, used = _pool_bytes("max_memory_allocated", device)
    peak = max(_peak.get(index, 0), used)
    _peak[index] = peak
    return peak


def reset_peak_memory_stats(device: Any = None) -> None:
    if not is_available():
        return
    index, used = _pool_bytes("reset_peak_memory_stats", device)
    _peak[index] = used


def memory_reserved(device: Any = None) -> int:
    """Bytes the default pool holds from the driver (used + cached)."""
    if not is_available():
        return 0
    return _pool_bytes("memory_reserved", device, "total_bytes")[1]


def empty_cache() -> None:
    """Return the pool's cached, unused blocks to the driver."""
    if not is_available():
        return
    cp = require_cupy("empty_cache()")
    cp.get_default_memory_pool().free_all_blocks()
    cp.get_default_pinned_memory_pool().free_all_blocks()


def __getattr__(name: str):
    if name.endswith("Tensor"):  # torch.cuda.FloatTensor ...: legacy types, made on first use
        from .. import _legacy_types

        types = _legacy_types.make("ctorch.cuda", cuda=True)
        if name in types:
            globals().update(types)
            return types[name]
    if name == "OutOfMemoryError":  # torch.cuda.OutOfMemoryError is torch.OutOfMemoryError
        from ..ops.surface_s20 import OutOfMemoryError

        return OutOfMemoryError
    if name in ("amp", "nvtx"):  # ctorch.cuda.amp (autocast, GradScaler), .nvtx: on first use
        import importlib

        m = importlib.import_module(f"ctorch.cuda.{name}")
        globals()[name] = m
        return m
    raise AttributeError(f"module 'ctorch.cuda' has no attribute {name!r}")
