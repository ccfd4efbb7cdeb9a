"""torch's deprecated positional overloads that old code still calls (torch keeps them, with a
``UserWarning`` once per process): ``t.add_(alpha, other)``, ``t.sub(alpha, other)``,
``t.addcmul_(value, t1, t2)``, ``t.addcdiv_(value, t1, t2)`` and the function forms
``torch.add(input, alpha, other)``, ``torch.addcmul(input, value, t1, t2)``, ... (written by
pytorch-a3c's ``SharedAdam`` and many pre-1.5 optimizers). Installed last, over whatever the
methods and functions are by then: a call matching the old order is rewritten to the keyword
form; every other call goes straight through.
"""

from __future__ import annotations

import functools
import numbers
import warnings
from typing import Any

__all__ = ["install"]

_warned = [False]  # torch warns once per process, whichever overload comes first


def _warn(name: str, old: str, new: str) -> None:
    if _warned[0]:
        return
    _warned[0] = True
    warnings.warn(
        f"This overload of {name} is deprecated:\n\t{name}({old})\n"
        f"Consider using one of the following signatures instead:\n\t{name}({new})",
        UserWarning,
        stacklevel=3,
    )


def _num(x: Any) -> bool:
    return isinstance(x, numbers.Number)


def _scaled_method(name: str, orig: Any, T: type) -> Any:
    """``t.add(alpha, other)`` -> ``t.add(other, alpha=alpha)`` (add, add_, sub, sub_)."""

    @functools.wraps(orig)
    def method(self, *args, **kwargs):
        if len(args) == 2 and _num(args[0]) and isinstance(args[1], T) and "alpha" not in kwargs:
            _warn(name, "Number alpha, Tensor other", "Tensor other, *, Number alpha = 1")
            return orig(self, args[1], alpha=args[0], **kwargs)
        return orig(self, *args, **kwargs)

    return method


def _scaled_function(name: str, orig: Any, T: type) -> Any:
    @functools.wraps(orig)
    def function(*args, **kwargs):
        if len(args) == 3 and _num(args[1]) and isinstance(args[2], T) and "alpha" not in kwargs:
            _warn(
                name,
                "Tensor input, Number alpha, Tensor other, *, Tensor out = None",
                "Tensor input, Tensor other, *, Number alpha = 1, Tensor out = None",
            )
            return orig(args[0], args[2], alpha=args[1], **kwargs)
        return orig(*args, **kwargs)

    return function


def _value_method(name: str, orig: Any, T: type) -> Any:
    """``t.addcmul(value, t1, t2)`` -> ``t.addcmul(t1, t2, value=value)`` (and addcdiv)."""

    @functools.wraps(orig)
    def method(self, *args, **kwargs):
        if (
            len(args) == 3
            and _num(args[0])
            and isinstance(args[1], T)
            and isinstance(args[2], T)
            and "value" not in kwargs
        ):
            _warn(
                name,
                "Number value, Tensor tensor1, Tensor tensor2",
                "Tensor tensor1, Tensor tensor2, *, Number value = 1",
            )
            return orig(self, args[1], args[2], value=args[0], **kwargs)
        return orig(self, *args, **kwargs)

    return method


def _value_function(name: str, orig: Any, T: type) -> Any:
    @functools.wraps(orig)
    def function(*args, **kwargs):
        if (
            len(args) == 4
            and _num(args[1])
            and isinstance(args[2], T)
            and isinstance(args[3], T)
            and "value" not in kwargs
        ):
            _warn(
                name,
                "Tensor input, Number value, Tensor tensor1, Tensor tensor2, *, Tensor out = None",
                "Tensor input, Tensor tensor1, Tensor tensor2, *, Number value = 1, "
                "Tensor out = None",
            )
            return orig(args[0], args[2], args[3], value=args[1], **kwargs)
        return orig(*args, **kwargs)

    return function


def install(T: type, namespace: dict) -> None:
    """Wrap ``T``'s methods and the functions in ``namespace`` (the ``ctorch`` module)."""
    for name in ("add", "add_", "sub", "sub_"):
        setattr(T, name, _scaled_method(name, getattr(T, name), T))
    for name in ("addcmul", "addcmul_", "addcdiv", "addcdiv_"):
        setattr(T, name, _value_method(name, getattr(T, name), T))
    for name in ("add", "sub"):
        namespace[name] = _scaled_function(name, namespace[name], T)
    for name in ("addcmul", "addcdiv"):
        namespace[name] = _value_function(name, namespace[name], T)
