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
from collections.abc import Iterable, Iterator
from typing import Any

from ...backends.cuda import SDPBackend, _sdp

__all__ = ["SDPBackend", "WARN_FOR_UNFUSED_KERNELS", "sdpa_kernel"]

WARN_FOR_UNFUSED_KERNELS = False


# one enum and one set of flags with torch.backends.cuda (enable_flash_sdp, sdp_kernel...), as
# in torch: sdpa_kernel sets those flags for the block, _cur_sdpa_kernel_backends reads them
_FLAGS = {
    SDPBackend.CUDNN_ATTENTION: "cudnn",
    SDPBackend.FLASH_ATTENTION: "flash",
    SDPBackend.EFFICIENT_ATTENTION: "mem_efficient",
    SDPBackend.MATH: "math",
    SDPBackend.OVERRIDEABLE: "overrideable",
}


def _cur_sdpa_kernel_backends() -> list[SDPBackend]:
    """The enabled backends, in the order torch lists them."""
    return [b for b, flag in _FLAGS.items() if _sdp[flag]]


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
    saved = dict(_sdp)
    _sdp.update({flag: b in backends for b, flag in _FLAGS.items()})
    try:
        yield
    finally:
        _sdp.update(saved)


def __getattr__(name: str) -> Any:
    if name in ("flex_attention", "bias"):
        import importlib

        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
