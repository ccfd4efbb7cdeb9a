"""Helpers shared by the model constructors."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ._weights import WeightsEnum, load_weights, resolve_weights


def _make_divisible(v: float, divisor: int, min_value: int | None = None) -> int:
    """Round ``v`` to a multiple of ``divisor``, never going down by more than 10%."""
    if min_value is None:
        min_value = divisor
    new_v = max(min_value, int(v + divisor / 2) // divisor * divisor)
    if new_v < 0.9 * v:
        new_v += divisor
    return new_v


def _build(
    arch: str,
    enum_cls: type[WeightsEnum],
    weights: Any,
    kwargs: dict[str, Any],
    make: Callable[..., Any],
) -> Any:
    """Resolve ``weights``/``pretrained``, build with ``make(**kwargs)``, load weights if any."""
    w = resolve_weights(arch, enum_cls, weights, kwargs)
    model = make(**kwargs)
    if w is not None:
        model.load_state_dict(load_weights(w))
    return model
