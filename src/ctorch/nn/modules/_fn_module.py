"""The base of modules whose ``forward`` is one functional op with the module's options."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .module import Module


class _FnModule(Module):
    """A module family with one ``forward``, calling ``type(self)._fn``; each class names
    its functional op in its header: ``class ReLU(_InplaceActivation, fn=F.relu)``."""

    _fn: Callable[..., Any]

    def __init_subclass__(cls, fn: Callable[..., Any] | None = None, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if fn is not None:
            cls._fn = staticmethod(fn)
