"""``torch.cuda.amp``: the legacy spellings of CUDA autocast and GradScaler."""

from __future__ import annotations

import functools
from typing import Any

from .. import _dtype as D
from ..amp import autocast_mode as _am
from ..amp import grad_scaler as _gs

__all__ = ["autocast", "GradScaler", "custom_fwd", "custom_bwd"]


class autocast(_am.autocast):
    """``torch.cuda.amp.autocast(args...)``: ``torch.amp.autocast("cuda", args...)``
    (deprecated; without a usable GPU it warns and stays off, as torch does)."""

    def __init__(
        self, enabled: bool = True, dtype: Any = D.float16, cache_enabled: bool = True
    ) -> None:
        _am._warn_legacy("autocast", "cuda")
        super().__init__("cuda", enabled=enabled, dtype=dtype, cache_enabled=cache_enabled)


class GradScaler(_gs.GradScaler):
    """``torch.cuda.amp.GradScaler(args...)``: ``torch.amp.GradScaler("cuda", args...)``."""

    def __init__(
        self,
        init_scale: float = 2.0**16,
        growth_factor: float = 2.0,
        backoff_factor: float = 0.5,
        growth_interval: int = 2000,
        enabled: bool = True,
    ) -> None:
        _am._warn_legacy("GradScaler", "cuda")
        super().__init__(
            "cuda",
            init_scale=init_scale,
            growth_factor=growth_factor,
            backoff_factor=backoff_factor,
            growth_interval=growth_interval,
            enabled=enabled,
        )


def custom_fwd(fwd=None, *, cast_inputs=None):
    if fwd is None:
        return functools.partial(custom_fwd, cast_inputs=cast_inputs)
    return _am.custom_fwd(fwd, device_type="cuda", cast_inputs=cast_inputs)


def custom_bwd(bwd=None):
    if bwd is None:
        return custom_bwd
    return _am.custom_bwd(bwd, device_type="cuda")
