"""``torch.utils.hooks``: the handle that every ``register_*_hook`` of ``nn.Module`` returns
(one class: ``isinstance(module.register_forward_hook(f), RemovableHandle)`` holds), and torch's
two small helpers."""

from __future__ import annotations

import warnings
from collections.abc import Callable
from typing import Any

from ..nn.modules.module import RemovableHandle

__all__ = ["RemovableHandle", "unserializable_hook", "warn_if_has_hooks"]


def unserializable_hook(f: Callable) -> Callable:
    """Mark ``f`` as a hook that need not survive serialization (torch's decorator)."""
    f.__torch_unserializable__ = True  # type: ignore[attr-defined]
    return f


def warn_if_has_hooks(tensor: Any) -> None:
    """Warn when ``tensor`` has backward hooks that are not marked unserializable."""
    hooks = getattr(tensor, "_backward_hooks", None) or getattr(tensor, "_hooks", None)
    if not hooks:
        return
    for h in list(hooks.values()) if isinstance(hooks, dict) else list(hooks):
        if not hasattr(h, "__torch_unserializable__"):
            warnings.warn(
                f"backward hook {h!r} on tensor will not be serialized.  If this is expected, "
                "you can decorate the function with @torch.utils.hooks.unserializable_hook to "
                "suppress this warning",
                stacklevel=2,
            )
