"""The one error torch.xpu raises for every query that needs a device on a build without
XPU support (its ``_lazy_init``)."""

from __future__ import annotations

from typing import NoReturn

_MESSAGE = "Torch not compiled with XPU enabled"


def _not_compiled() -> AssertionError:
    return AssertionError(_MESSAGE)


def _lazy_init() -> NoReturn:
    raise _not_compiled()
