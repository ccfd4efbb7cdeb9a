"""``torch.autocast`` / ``torch.amp.autocast`` and the autocast state functions."""

from __future__ import annotations

import functools
from typing import Any

from .. import _autocast as _ac
from .. import _dtype as D
from .. import _warnings

__all__ = [
    "autocast",
    "custom_fwd",
    "custom_bwd",
    "is_autocast_available",
    "is_autocast_enabled",
    "set_autocast_enabled",
    "get_autocast_dtype",
    "set_autocast_dtype",
    "is_autocast_cache_enabled",
    "set_autocast_cache_enabled",
    "clear_autocast_cache",
    "autocast_increment_nesting",
    "autocast_decrement_nesting",
]

_DEVICES = ("cpu", "cuda", "xpu")  # xpu: accepted as torch does; no tensor is ever on one


def _warn_legacy(name: str, device: str) -> None:
    """torch's FutureWarning for the legacy ``torch.<device>.amp.<name>(args...)`` spellings
    (``stacklevel`` points at the caller of the legacy constructor)."""
    _warnings.warn(
        f"`torch.{device}.amp.{name}(args...)` is deprecated. Please use "
        f"`torch.amp.{name}('{device}', args...)` instead.",
        FutureWarning,
    )


def is_autocast_available(device_type: str) -> bool:
    return device_type in _DEVICES


def _check_device(device_type) -> str:
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if device_type not in _DEVICES:
        raise RuntimeError(f"User specified an unsupported autocast device_type '{device_type}'")
    return device_type


def is_autocast_enabled(device_type: str | None = None) -> bool:
    """Whether autocast is on for ``device_type`` in this thread (``None``: ``"cuda"``)."""
    return _ac.state(_check_device(device_type or "cuda")).enabled


def set_autocast_enabled(device_type, enabled: bool | None = None) -> None:
    if enabled is None:  # the legacy one-argument form: set_autocast_enabled(bool) for CUDA
        device_type, enabled = "cuda", device_type
    _ac.set_enabled(_check_device(device_type), bool(enabled))


def get_autocast_dtype(device_type: str) -> D.dtype:
    return _ac.state(_check_device(device_type)).dtype


def set_autocast_dtype(device_type: str, dtype) -> None:
    dt = D._as_dtype(dtype)
    if not dt.is_floating_point:
        raise RuntimeError(
            f"set_autocast_dtype: the autocast dtype must be a floating type, got {dt}"
        )
    _ac.state(_check_device(device_type)).dtype = dt


def is_autocast_cache_enabled() -> bool:
    return _ac._tls.cache_enabled


def set_autocast_cache_enabled(enabled: bool) -> None:
    _ac._tls.cache_enabled = bool(enabled)


def clear_autocast_cache() -> None:
    _ac.clear_cache()


def autocast_increment_nesting() -> int:
    _ac._tls.nesting += 1
    return _ac._tls.nesting


def autocast_decrement_nesting() -> int:
    _ac._tls.nesting -= 1
    return _ac._tls.nesting


# legacy per-device spellings torch still has
def is_autocast_cpu_enabled() -> bool:
    return is_autocast_enabled("cpu")


def set_autocast_cpu_enabled(enabled: bool) -> None:
    set_autocast_enabled("cpu", enabled)


def get_autocast_cpu_dtype() -> D.dtype:
    return get_autocast_dtype("cpu")


def set_autocast_cpu_dtype(dtype) -> None:
    set_autocast_dtype("cpu", dtype)


def get_autocast_gpu_dtype() -> D.dtype:
    return get_autocast_dtype("cuda")


def set_autocast_gpu_dtype(dtype) -> None:
    set_autocast_dtype("cuda", dtype)


class autocast:
    """Regions where listed ops run in a lower-precision dtype (``torch.autocast``).

    A context manager or a decorator; nests (the inner region's settings win, the outer ones
    come back on exit); state is per thread. ``dtype`` defaults to bfloat16 on the CPU and
    float16 on CUDA; ``cache_enabled`` keeps one low-precision copy of each float32 parameter
    per outermost region.
    """

    def __init__(
        self,
        device_type: str,
        dtype: Any = None,
        enabled: bool = True,
        cache_enabled: bool | None = None,
    ) -> None:
        if not isinstance(device_type, str):
            raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
        self.device = device_type
        if not is_autocast_available(device_type):
            raise RuntimeError(
                f"User specified an unsupported autocast device_type '{device_type}'"
            )
        self.fast_dtype = get_autocast_dtype(device_type) if dtype is None else D._as_dtype(dtype)
        self._cache_enabled = (
            is_autocast_cache_enabled() if cache_enabled is None else bool(cache_enabled)
        )
        enabled = bool(enabled)
        if device_type in ("cpu", "xpu"):
            if enabled and self.fast_dtype not in (D.bfloat16, D.float16):
                dev = device_type.upper()
                _warnings.warn(  # torch 2.13's text
                    f"In {dev} autocast, but the target dtype is not supported. Disabling "
                    f"autocast.\n{dev} Autocast only supports dtypes of torch.bfloat16, "
                    "torch.float16 currently.",
                )
                enabled = False
        elif device_type == "cuda":
            from .. import cuda

            if enabled and not cuda.is_available():
                _warnings.warn(
                    "CUDA is not available or torch_xla is imported. Disabling autocast.",
                )
                enabled = False
            if enabled and self.fast_dtype not in (D.bfloat16, D.float16):
                raise RuntimeError(
                    "In CUDA autocast, but the target dtype is not supported. CUDA Autocast "
                    "only supports dtypes of torch.float16 and torch.bfloat16 currently."
                )
        self._enabled = enabled

    def __enter__(self):
        self.prev_cache_enabled = is_autocast_cache_enabled()
        self.prev = is_autocast_enabled(self.device)
        self.prev_fastdtype = get_autocast_dtype(self.device)
        set_autocast_dtype(self.device, self.fast_dtype)
        set_autocast_enabled(self.device, self._enabled)
        autocast_increment_nesting()
        set_autocast_cache_enabled(self._cache_enabled)
        return self

    def __exit__(self, exc_type, exc_val, exc_tb) -> bool:
        if autocast_decrement_nesting() == 0:
            clear_autocast_cache()
        set_autocast_enabled(self.device, self.prev)
        set_autocast_dtype(self.device, self.prev_fastdtype)
        set_autocast_cache_enabled(self.prev_cache_enabled)
        return False

    def __call__(self, func):
        @functools.wraps(func)
        def decorate_autocast(*args, **kwargs):
            with self:
                return func(*args, **kwargs)

        return decorate_autocast


def _cast_floats(value, dtype):
    from .._tensor import Tensor

    if isinstance(value, Tensor):
        if value.is_floating_point() and value.dtype is not D.float64:
            return value.to(dtype)
        return value
    if isinstance(value, (list, tuple)):
        return type(value)(_cast_floats(v, dtype) for v in value)
    if isinstance(value, dict):
        return {k: _cast_floats(v, dtype) for k, v in value.items()}
    return value


def custom_fwd(fwd=None, *, device_type: str, cast_inputs=None):
    """Decorator for a custom ``Function.forward`` (``torch.amp.custom_fwd``): with
    ``cast_inputs``, forward runs with autocast off and floating inputs cast to it."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if fwd is None:
        return functools.partial(custom_fwd, device_type=device_type, cast_inputs=cast_inputs)

    @functools.wraps(fwd)
    def decorate_fwd(*args, **kwargs):
        args[0]._dtype = get_autocast_dtype(device_type)
        if cast_inputs is None:
            args[0]._fwd_used_autocast = is_autocast_enabled(device_type)
            return fwd(*args, **kwargs)
        autocast_context = is_autocast_enabled(device_type)
        args[0]._fwd_used_autocast = False
        if autocast_context:
            with autocast(device_type=device_type, enabled=False):
                return fwd(
                    *_cast_floats(args, D._as_dtype(cast_inputs)),
                    **_cast_floats(kwargs, D._as_dtype(cast_inputs)),
                )
        return fwd(*args, **kwargs)

    return decorate_fwd


def custom_bwd(bwd=None, *, device_type: str):
    """Decorator for a custom ``Function.backward``: runs under the autocast state its
    forward ran under (``torch.amp.custom_bwd``)."""
    if not isinstance(device_type, str):
        raise ValueError(f"Expected `device_type` of type `str`, got: `{type(device_type)}`")
    if bwd is None:
        return functools.partial(custom_bwd, device_type=device_type)

    @functools.wraps(bwd)
    def decorate_bwd(*args, **kwargs):
        with autocast(
            device_type=device_type,
            enabled=getattr(args[0], "_fwd_used_autocast", False),
            dtype=getattr(args[0], "_dtype", None),
        ):
            return bwd(*args, **kwargs)

    return decorate_bwd
