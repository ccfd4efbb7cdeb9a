"""``torch._dynamo``: the flags and decorators programs toggle around ``torch.compile``.

ctorch's ``compile`` runs the model eagerly (a module comes back wrapped in
``eval_frame.OptimizedModule``, as in torch), so there is nothing to configure: the
``config`` flags are recorded, ``disable``/``allow_in_graph``/... return what they wrap, and
``is_compiling()`` is False.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from . import config, eval_frame

__all__ = [
    "allow_in_graph",
    "assume_constant_result",
    "config",
    "eval_frame",
    "disable",
    "disallow_in_graph",
    "explain",
    "graph_break",
    "is_compiling",
    "mark_dynamic",
    "mark_static",
    "maybe_mark_dynamic",
    "optimize",
    "reset",
    "run",
]


def is_compiling() -> bool:
    return False


def reset() -> None:
    """No compiled code to forget."""


def _passthrough(fn: Any = None, *args: Any, **kwargs: Any) -> Any:
    if fn is None or not callable(fn):
        return lambda f: f
    return fn


def disable(fn: Any = None, recursive: bool = True, *, reason: str | None = None) -> Any:
    """``@disable`` / ``disable(fn)`` / ``@disable(recursive=False)``: ``fn`` unchanged."""
    return _passthrough(fn)


def allow_in_graph(fn: Any) -> Any:
    return fn


def disallow_in_graph(fn: Any) -> Any:
    return fn


def assume_constant_result(fn: Any) -> Any:
    return fn


def graph_break() -> None:
    pass


def mark_dynamic(t: Any, index: Any, **kwargs: Any) -> None:
    pass


def maybe_mark_dynamic(t: Any, index: Any) -> None:
    pass


def mark_static(t: Any, index: Any = None) -> None:
    pass


def optimize(*args: Any, **kwargs: Any) -> Callable[[Any], Any]:
    return lambda fn: fn


def run(fn: Any = None) -> Any:
    return _passthrough(fn)


def explain(fn: Any, *args: Any, **kwargs: Any) -> Any:
    raise NotImplementedError("torch._dynamo.explain: ctorch has no graph compiler")
