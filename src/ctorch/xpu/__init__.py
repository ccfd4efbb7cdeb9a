"""``torch.xpu`` on a machine (and a build) without Intel GPUs: what programs call behind
``torch.xpu.is_available()`` imports and answers as torch 2.13's CPU wheel does.

``is_available()`` is False and ``device_count()`` 0; the queries that need a device
(``current_device``, ``synchronize``, ``get_device_name``, ``set_device``, ...) raise torch's
``AssertionError("Torch not compiled with XPU enabled")``; the calls torch lets through without
one (``empty_cache``, ``manual_seed``, the memory counters, ``seed``...) are no-ops or zeros, as
there; ``Stream``/``Event`` refuse to be built, and ``device(i)`` refuses to be entered, with
torch's messages. Tensors never live on an XPU here: ``Tensor.xpu()``, ``.to("xpu")`` and
``device="xpu"`` raise the same AssertionError.
"""

from __future__ import annotations

from typing import Any

from . import memory, random, streams
from ._state import _lazy_init
from .memory import (
    empty_cache,
    get_per_process_memory_fraction,
    max_memory_allocated,
    max_memory_reserved,
    mem_get_info,
    memory_allocated,
    memory_reserved,
    memory_snapshot,
    memory_stats,
    memory_stats_as_nested_dict,
    reset_accumulated_memory_stats,
    reset_peak_memory_stats,
    set_per_process_memory_fraction,
)
from .random import (
    get_rng_state,
    get_rng_state_all,
    initial_seed,
    manual_seed,
    manual_seed_all,
    seed,
    seed_all,
    set_rng_state,
    set_rng_state_all,
)
from .streams import Event, Stream

default_generators: tuple = ()

__all__ = [
    "Event",
    "Stream",
    "StreamContext",
    "can_device_access_peer",
    "current_device",
    "current_stream",
    "default_generators",
    "device",
    "device_count",
    "device_of",
    "empty_cache",
    "get_arch_list",
    "get_device_capability",
    "get_device_name",
    "get_device_properties",
    "get_gencode_flags",
    "get_per_process_memory_fraction",
    "get_rng_state",
    "get_rng_state_all",
    "init",
    "initial_seed",
    "is_available",
    "is_bf16_supported",
    "is_initialized",
    "is_tf32_supported",
    "manual_seed",
    "manual_seed_all",
    "max_memory_allocated",
    "max_memory_reserved",
    "mem_get_info",
    "memory",
    "memory_allocated",
    "memory_reserved",
    "memory_snapshot",
    "memory_stats",
    "memory_stats_as_nested_dict",
    "random",
    "reset_accumulated_memory_stats",
    "reset_peak_memory_stats",
    "seed",
    "seed_all",
    "set_device",
    "set_per_process_memory_fraction",
    "set_rng_state",
    "set_rng_state_all",
    "set_stream",
    "stream",
    "streams",
    "synchronize",
]


def is_available() -> bool:
    """False: ctorch has no XPU backend."""
    return False


def device_count() -> int:
    return 0


def is_initialized() -> bool:
    return False


def init() -> None:
    _lazy_init()


def current_device() -> int:
    _lazy_init()


def set_device(device: Any) -> None:
    _lazy_init()


def synchronize(device: Any = None) -> None:
    _lazy_init()


def get_device_name(device: Any = None) -> str:
    _lazy_init()


def get_device_properties(device: Any = None) -> Any:
    _lazy_init()


def get_device_capability(device: Any = None) -> dict[str, Any]:
    _lazy_init()


def can_device_access_peer(device: Any, peer: Any) -> bool:
    _lazy_init()


def current_stream(device: Any = None) -> Stream:
    _lazy_init()


def set_stream(stream: Stream | None) -> None:
    """A no-op for ``None`` (as torch), else needs a device."""
    if stream is None:
        return
    _lazy_init()


def get_arch_list() -> list[str]:
    return []


def get_gencode_flags() -> str:
    return ""


def is_bf16_supported(including_emulation: bool = True) -> bool:
    return False


def is_tf32_supported() -> bool:
    return False


def _device_index(device: Any) -> int | None:
    from .._device import device as _device_cls

    if device is None or isinstance(device, int):
        return device
    if isinstance(device, str):
        device = _device_cls(device)
    if isinstance(device, _device_cls):
        if device.type != "xpu":
            raise ValueError(f"Expected a xpu device, but got: {device}")
        return device.index
    raise ValueError(f"Expected a torch.device with a specified index or an integer, got {device}")


class device:
    """Context manager selecting an XPU device: with no XPU support, entering it raises
    torch's NotImplementedError (for every index, negative and None included, as torch 2.13)."""

    def __init__(self, device: Any) -> None:
        self.idx = _device_index(device)
        self.prev_idx = -1

    def __enter__(self) -> None:
        raise NotImplementedError("PyTorch was compiled without XPU support")

    def __exit__(self, *exc: Any) -> bool:
        return False


class device_of(device):
    """``device`` of a tensor's XPU (a CPU tensor: index -1)."""

    def __init__(self, obj: Any) -> None:
        super().__init__(obj.get_device() if getattr(obj, "is_xpu", False) else -1)


class StreamContext:
    """Selects a stream; a no-op for ``None`` (the only stream there can be here)."""

    def __init__(self, stream: Stream | None) -> None:
        self.stream = stream
        self.idx = -1

    def __enter__(self) -> None:
        if self.stream is None:
            return
        _lazy_init()

    def __exit__(self, *exc: Any) -> None:
        return None


def stream(stream: Stream | None) -> StreamContext:
    return StreamContext(stream)
