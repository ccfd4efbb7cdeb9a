"""``nn.utils.stateless``: torch's older home of ``functional_call`` (now ``ctorch.func``)."""

from __future__ import annotations

from typing import Any

from ... import _warnings

__all__ = ["functional_call"]


def functional_call(
    module: Any,
    parameters_and_buffers: dict[str, Any] | tuple[dict[str, Any], ...],
    args: Any = None,
    kwargs: dict[str, Any] | None = None,
    *,
    tie_weights: bool = True,
    strict: bool = False,
) -> Any:
    """Call ``module`` with its parameters and buffers replaced (``ctorch.func.functional_call``)."""

    from ...func import functional_call as _fc

    _warnings.warn(
        "`torch.nn.utils.stateless.functional_call` is deprecated as of PyTorch 2.0 and will be "
        "removed in a future version of PyTorch. Please use `torch.func.functional_call` "
        "instead which is a drop-in replacement.",
        FutureWarning,
    )
    return _fc(module, parameters_and_buffers, args, kwargs, tie_weights=tie_weights, strict=strict)
