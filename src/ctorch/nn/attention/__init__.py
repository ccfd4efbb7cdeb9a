"""``torch.nn.attention``: the backend selector for ``F.scaled_dot_product_attention``
(``SDPBackend``, ``sdpa_kernel``), ``bias`` (causal variants usable as ``attn_mask``) and
``flex_attention`` (score/mask modifications, block masks).

ctorch's CPU attention is one fused kernel with a reference fallback, so the backend choice
does not change a result: ``sdpa_kernel`` validates its argument, records the choice for the
length of the block (``_cur_sdpa_kernel_backends``) and restores it, as torch does. A block
that allows only ``EFFICIENT_ATTENTION``/``CUDNN_ATTENTION`` (kernels torch has only on CUDA)
still runs here, where torch on a CPU would raise "No available kernel": better to run than
to fail on a choice that cannot change the numbers.
"""

from __future__ import annotations

import contextlib
import enum
from collections.abc import Iterable, Iterator
from typing import Any

__all__ = ["SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "sdpa_kernel"]

WARN_FOR_UNFUSED_KERNELS = False


class SDPBackend(enum.IntEnum):
    """torch's scaled-dot-product attention backends (same names and values)."""

    ERROR = -1
    MATH = 0
    FLASH_ATTENTION = 1
    EFFICIENT_ATTENTION = 2
    CUDNN_ATTENTION = 3
    OVERRIDEABLE = 4


# torch reports the enabled backends in the order of its flags (cudnn, flash, mem-efficient,
# math, overrideable)
_ALL = [
    SDPBackend.CUDNN_ATTENTION,
    SDPBackend.FLASH_ATTENTION,
    SDPBackend.EFFICIENT_ATTENTION,
    SDPBackend.MATH,
    SDPBackend.OVERRIDEABLE,
]
_current: frozenset[SDPBackend] = frozenset(_ALL)


def _cur_sdpa_kernel_backends() -> list[SDPBackend]:
    """The backends the innermost ``sdpa_kernel`` block allows (all of them outside one)."""
    return [b for b in _ALL if b in _current]


@contextlib.contextmanager
def sdpa_kernel(
    backends: list[SDPBackend] | SDPBackend | Iterable[SDPBackend], set_priority: bool = False
) -> Iterator[None]:
    """Allow only ``backends`` for scaled-dot-product attention inside the block."""
    if isinstance(backends, SDPBackend):
        backends = [backends]
    backends = list(backends)
    for b in backends:
        if not isinstance(b, SDPBackend):
            raise AssertionError("Backend must be an instance of SDPBackend")
    global _current
    prev = _current
    _current = frozenset(backends)
    try:
        yield
    finally:
        _current = prev


def __getattr__(name: str) -> Any:
    if name in ("flex_attention", "bias"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
