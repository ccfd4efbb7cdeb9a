"""What the flag-only backends (cudnn, mkldnn) share: set module-level flags, scope them."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import Any


def set_module_flags(module_globals: dict, **values: tuple[Any, Callable]) -> tuple:
    """Sets each named module flag whose ``(value, cast)`` has a value that is not None to
    ``cast(value)``; returns the previous values of all the named flags, in order."""
    orig = tuple(module_globals[name] for name in values)
    for name, (value, cast) in values.items():
        if value is not None:
            module_globals[name] = cast(value)
    return orig


@contextlib.contextmanager
def flag_scope(set_flags: Callable[..., tuple], *args: Any) -> Iterator[None]:
    """``set_flags(*args)`` for the ``with`` block, the previous flags restored after it."""
    orig = set_flags(*args)
    try:
        yield
    finally:
        set_flags(*orig)
