"""``torch.fx``: importable for programs that only reference it.

``wrap`` is the identity decorator it is in eager code; ``symbolic_trace`` and the graph
classes raise :class:`NotImplementedError`: ctorch has no symbolic tracer.
"""

from __future__ import annotations

from typing import Any

from ._symbolic_trace import is_fx_tracing

__all__ = [
    "Graph",
    "GraphModule",
    "Interpreter",
    "Node",
    "Proxy",
    "Tracer",
    "Transformer",
    "is_fx_tracing",
    "symbolic_trace",
    "wrap",
]

_MSG = "torch.fx.{}: ctorch has no symbolic tracer (torch.fx); code runs eagerly"


def wrap(fn_or_name: Any) -> Any:
    """``torch.fx.wrap``: returns its argument (a function or a function's name)."""
    return fn_or_name


def symbolic_trace(root: Any, concrete_args: Any = None) -> Any:
    """Raises :class:`NotImplementedError`: there is no symbolic tracer in ctorch."""
    raise NotImplementedError(_MSG.format("symbolic_trace"))


class _Unavailable:
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        raise NotImplementedError(_MSG.format(type(self).__name__))


class Graph(_Unavailable):
    pass


class GraphModule(_Unavailable):
    pass


class Node(_Unavailable):
    pass


class Proxy(_Unavailable):
    pass


class Tracer(_Unavailable):
    pass


class Interpreter(_Unavailable):
    pass


class Transformer(_Unavailable):
    pass
