"""``torch.xpu.Stream``/``Event``: torch's dummy classes on a build without XPU support."""

from __future__ import annotations

from typing import Any

__all__ = ["Event", "Stream"]


class Stream:
    def __new__(cls, *args: Any, **kwargs: Any) -> Stream:
        raise RuntimeError("Tried to instantiate dummy base class Stream")


class Event:
    def __new__(cls, *args: Any, **kwargs: Any) -> Event:
        raise RuntimeError("Tried to instantiate dummy base class Event")
