"""``ctorch.overrides`` (torch.overrides): the ``__torch_function__`` helpers that libraries
call in their own functions (``has_torch_function``, ``handle_torch_function``,
``is_tensor_like``...).

ctorch's own operators do not dispatch to ``__torch_function__``; these helpers implement
torch's protocol for code that calls them itself: an argument whose type defines
``__torch_function__`` (a tensor-like that is not a plain ctorch Tensor) gets the call.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

__all__ = [
    "BaseTorchFunctionMode",
    "TorchFunctionMode",
    "get_ignored_functions",
    "get_overridable_functions",
    "get_testing_overrides",
    "handle_torch_function",
    "has_torch_function",
    "has_torch_function_unary",
    "has_torch_function_variadic",
    "is_tensor_like",
    "is_tensor_method_or_property",
    "resolve_name",
    "wrap_torch_function",
]


def _overloaded(x: Any) -> bool:
    from ._tensor import Tensor

    tf = getattr(type(x), "__torch_function__", None)
    return tf is not None and tf is not getattr(Tensor, "__torch_function__", None)


def is_tensor_like(inp: Any) -> bool:
    """A ctorch Tensor, or an object whose type defines ``__torch_function__``."""
    from ._tensor import Tensor

    return type(inp) is Tensor or hasattr(type(inp), "__torch_function__")


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    return any(_overloaded(a) for a in relevant_args)


def has_torch_function_unary(arg: Any) -> bool:
    return _overloaded(arg)


def has_torch_function_variadic(*args: Any) -> bool:
    return any(_overloaded(a) for a in args)


def handle_torch_function(
    public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any
) -> Any:
    """Call the ``__torch_function__`` of the overloaded arguments (subclasses before their
    bases, else left to right) until one does not return NotImplemented."""
    overloaded: list[Any] = []
    types: list[type] = []
    for a in relevant_args:
        t = type(a)
        if _overloaded(a) and t not in types:
            idx = len(overloaded)
            for i, o in enumerate(overloaded):  # a subclass goes before its base
                if issubclass(t, type(o)):
                    idx = i
                    break
            overloaded.insert(idx, a)
            types.insert(idx, t)
    for a in overloaded:
        result = type(a).__torch_function__(public_api, tuple(types), args, kwargs)
        if result is not NotImplemented:
            return result
    names = ", ".join(repr(t) for t in types)
    raise TypeError(
        f"no implementation found for '{resolve_name(public_api)}' on types that implement "
        f"__torch_function__: [{names}]"
    )


def wrap_torch_function(dispatcher: Callable) -> Callable:
    """Decorator: the wrapped function dispatches through ``__torch_function__`` of the
    arguments ``dispatcher(*args, **kwargs)`` returns."""

    def inner(func: Callable) -> Callable:
        @functools.wraps(func)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            relevant = dispatcher(*args, **kwargs)
            if has_torch_function(relevant):
                return handle_torch_function(wrapped, relevant, *args, **kwargs)
            return func(*args, **kwargs)

        return wrapped

    return inner


def resolve_name(f: Callable) -> str | None:
    mod = getattr(f, "__module__", None)
    name = getattr(f, "__qualname__", getattr(f, "__name__", None))
    if name is None:
        return None
    return f"{mod}.{name}" if mod else name


def is_tensor_method_or_property(func: Callable) -> bool:
    from ._tensor import Tensor

    name = getattr(func, "__name__", None)
    return name is not None and getattr(Tensor, name, None) is func


def get_ignored_functions() -> set[Callable]:
    """ctorch dispatches none of its functions to ``__torch_function__``."""
    return set()


def get_overridable_functions() -> dict[Any, list[Callable]]:
    """None of ctorch's functions consult ``__torch_function__`` (see the module note)."""
    return {}


def get_testing_overrides() -> dict[Callable, Callable]:
    return {}


class TorchFunctionMode:
    """A ``__torch_function__`` mode: a context manager whose ``__torch_function__`` torch
    would route every call through.  ctorch's operators do not consult modes, so entering
    one changes nothing; subclasses and ``with`` blocks written for torch still run."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        return self

    def __exit__(self, *exc: Any) -> None:
        return None


class BaseTorchFunctionMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))
