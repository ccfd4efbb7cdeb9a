"""``nn.utils.skip_init``: build a module without running its parameter initialization."""

from __future__ import annotations

import inspect
from typing import Any

__all__ = ["skip_init"]


def skip_init(module_cls: type, *args: Any, **kwargs: Any) -> Any:
    """An instance of ``module_cls(*args, **kwargs)`` whose parameters are left for the
    caller to fill (torch builds it on the meta device and allocates empty storage).

    ctorch constructs the module normally, so the parameters hold their usual initial values
    rather than uninitialized memory: a program that overwrites them, which is what
    skip_init is for, sees no difference."""
    if not isinstance(module_cls, type) or not hasattr(module_cls, "parameters"):
        raise RuntimeError(f"Expected a Module; got {module_cls}")
    if "device" not in inspect.signature(module_cls).parameters:
        raise RuntimeError("Module must support a 'device' arg to skip initialization")
    return module_cls(*args, **kwargs)
