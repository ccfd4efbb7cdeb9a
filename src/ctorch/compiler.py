"""``torch.compiler``: ctorch compiles nothing (``torch.compile`` returns its argument), so
``is_compiling()`` is False and the decorators return what they wrap."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

from ._dynamo import allow_in_graph, assume_constant_result, disable, reset

__all__ = [
    "allow_in_graph",
    "assume_constant_result",
    "compile",
    "cudagraph_mark_step_begin",
    "disable",
    "is_compiling",
    "is_dynamo_compiling",
    "is_exporting",
    "reset",
    "set_stance",
]


def is_compiling() -> bool:
    return False


def is_dynamo_compiling() -> bool:
    return False


def is_exporting() -> bool:
    return False


def compile(model: Any = None, **kwargs: Any) -> Any:  # noqa: A001 - torch's name
    from . import compile as _compile

    return _compile(model, **kwargs)


def cudagraph_mark_step_begin() -> None:
    pass


@contextlib.contextmanager
def _stance() -> Iterator[None]:
    yield


def set_stance(stance: str = "default", *, skip_guard_eval_unsafe: bool = False, **kw: Any):
    """Usable as a call, a context manager, or a decorator; nothing to change here."""
    return _stance()
