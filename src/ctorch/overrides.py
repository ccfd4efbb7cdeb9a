"""``ctorch.overrides`` (torch.overrides): the ``__torch_function__`` protocol.

ctorch dispatches as torch does (``ctorch._torch_function``): Tensor methods, operators and
properties of a Tensor subclass's instances, and the public functions of ``ctorch``,
``nn.functional``, ``linalg``, ``fft`` and ``special`` called with such an instance (or any
object whose type defines ``__torch_function__``), go through the handlers; a
``TorchFunctionMode`` entered with ``with`` sees every call. Exact Tensors, Parameters and
ctorch's own subclasses (sparse, nested, DTensor, tv_tensors) are not overloaded. Two limits:
the namespace wrappers exist from the first Tensor subclass definition or mode entry on (a
tensor-like that is not a Tensor subclass dispatches only from then), and a plain Tensor's
own method called with a subclass argument (``plain.add(sub)``) runs undispatched (its
operators do dispatch: ``plain + sub`` reaches ``sub``'s reflected operator, run as torch's
``Tensor.add(plain, sub)``).

The helpers here (``has_torch_function``, ``handle_torch_function``...) are the ones libraries
call in their own functions.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from . import _torch_function as _tf

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
    if not _tf.is_torch_function_enabled():
        return False
    return _tf._is_overloaded_type(type(x))


def is_tensor_like(inp: Any) -> bool:
    """A ctorch Tensor, or an object whose type defines ``__torch_function__``."""
    from ._tensor import Tensor

    return type(inp) is Tensor or hasattr(type(inp), "__torch_function__")


def has_torch_function(relevant_args: Iterable[Any]) -> bool:
    """Whether an argument overloads ``__torch_function__`` or a mode is active (torch's)."""
    return _tf.is_torch_function_mode_enabled() or any(_overloaded(a) for a in relevant_args)


def has_torch_function_unary(arg: Any) -> bool:
    return _tf.is_torch_function_mode_enabled() or _overloaded(arg)


def has_torch_function_variadic(*args: Any) -> bool:
    return _tf.is_torch_function_mode_enabled() or any(_overloaded(a) for a in args)


def handle_torch_function(
    public_api: Callable, relevant_args: Iterable[Any], *args: Any, **kwargs: Any
) -> Any:
    """Call the active mode's and then the overloaded arguments' ``__torch_function__``
    (subclasses before their bases, else left to right) until one does not return
    NotImplemented."""
    relevant = tuple(relevant_args)
    found = [] if not _tf.is_torch_function_enabled() else _tf.overloaded_args(relevant, {})
    tys = tuple(type(a) for a in found)
    if _tf.is_torch_function_mode_enabled():
        mode = _tf._modes.pop()
        _tf._update()
        try:
            result = mode.__torch_function__(public_api, tys, args, kwargs)
        finally:
            _tf._modes.append(mode)
            _tf._update()
        if result is not NotImplemented:
            return result
    for a in found:
        result = type(a).__torch_function__(public_api, tys, args, kwargs)
        if result is not NotImplemented:
            return result
    names = ", ".join(repr(t) for t in tys)
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
    """The public functions of ctorch's namespaces that do not dispatch."""
    import ctorch

    _tf.install_namespaces()
    out: set[Callable] = set()
    for mod, _names in _namespaces():
        for n in dir(mod):
            f = getattr(mod, n, None)
            if (
                not n.startswith("_")
                and callable(f)
                and not isinstance(f, (type, _tf._Dispatcher))
                and getattr(f, "__module__", "").startswith("ctorch")
            ):
                out.add(f)
    out.discard(ctorch.Tensor)
    return out


def _namespaces():
    import ctorch
    import ctorch.fft
    import ctorch.linalg
    import ctorch.nn.functional
    import ctorch.special

    from . import _tf_names as N

    return (
        (ctorch, N.TORCH),
        (ctorch.nn.functional, N.NN_FUNCTIONAL),
        (ctorch.linalg, N.LINALG),
        (ctorch.fft, N.FFT),
        (ctorch.special, N.SPECIAL),
    )


def get_overridable_functions() -> dict[Any, list[Callable]]:
    """``{namespace: [functions]}`` of the functions that dispatch (Tensor's members under
    ``ctorch.Tensor``)."""
    from ._tensor import Tensor

    _tf.install_namespaces()
    out: dict[Any, list[Callable]] = {}
    for mod, names in _namespaces():
        fs = [
            getattr(mod, n)
            for n in sorted(names)
            if isinstance(getattr(mod, n, None), _tf._Dispatcher)
        ]
        out[mod] = fs
    orig = _tf._originals()
    out[Tensor] = [v for v in orig.values() if not isinstance(v, property)]
    return out


def get_testing_overrides() -> dict[Callable, Callable]:
    return {}


class TorchFunctionMode:
    """A ``__torch_function__`` mode: inside ``with mode:``, every dispatched call (Tensor
    methods, operators and properties, the public functions of the namespaces, factory
    functions included) goes to ``mode.__torch_function__(func, types, args, kwargs)``, with
    the mode itself off while its handler runs; ``func(*args, **kwargs)`` there runs the
    call (the next mode or the subclass handlers next)."""

    def __torch_function__(self, func, types, args=(), kwargs=None):
        raise NotImplementedError

    def __enter__(self) -> TorchFunctionMode:
        _tf.push_mode(self)
        return self

    def __exit__(self, *exc: Any) -> None:
        _tf.pop_mode(self)
        return None

    @classmethod
    def push(cls, *args: Any, **kwargs: Any) -> TorchFunctionMode:
        return cls(*args, **kwargs)


class BaseTorchFunctionMode(TorchFunctionMode):
    def __torch_function__(self, func, types, args=(), kwargs=None):
        return func(*args, **(kwargs or {}))


def _get_current_function_mode():
    return _tf._modes[-1] if _tf._modes else None


def _get_current_function_mode_stack() -> list:
    return list(_tf._modes)


class _pop_mode_temporarily:  # noqa: N801 - torch's name
    """``with _pop_mode_temporarily() as mode``: the innermost mode, off inside the block."""

    def __enter__(self):
        self.mode = _tf._modes.pop()
        _tf._update()
        return self.mode

    def __exit__(self, *exc: Any) -> None:
        _tf._modes.append(self.mode)
        _tf._update()
