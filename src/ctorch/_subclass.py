"""What the Tensor subclasses without dense data (sparse, nested) share: naming the op a
user called when a dense code path meets them, and stubbing the Tensor members they do not
implement so each raises that subclass's NotImplementedError."""

from __future__ import annotations

import inspect
import sys

# frames whose function name says nothing about the op: generated wrappers, Function plumbing
_ANONYMOUS = ("fn", "wrapper", "f", "forward", "apply", "checked")


def _table_name(fn_cls) -> str | None:
    """The public name of the op-table function whose autograd Function is ``fn_cls``."""
    from .ops import binary, unary  # ops import the tensor modules: bind at call time

    for table in (unary.PUBLIC, binary.PUBLIC):
        for name, fn in table.items():
            if getattr(fn, "Function", None) is fn_cls:
                return fn.__name__ or name
    return None


def caller_op(own_package: str, depth: int = 3) -> str:
    """The outermost ctorch function on the stack below user code, ``own_package``'s frames
    left out: the op the user called (``depth`` frames up from the caller of this function's
    caller).  autocast's wrapper is transparent; a table-generated function is named by its
    Function; a constructor by its class."""
    f = sys._getframe(depth - 1)
    name = None
    while f is not None:
        mod = f.f_globals.get("__name__", "")
        if not mod.startswith("ctorch"):
            if name is not None:
                break
        elif mod == "ctorch._torch_function":  # __torch_function__ dispatch: transparent
            pass
        elif not mod.startswith(own_package):
            co = f.f_code.co_name
            if co == "autocast_wrapper":  # ctorch._autocast's public wrapper: transparent
                f = f.f_back
                continue
            if co == "fn":  # a function generated from the op table: its Function names it
                co = _table_name(f.f_locals.get("fn_cls")) or co
            if co in ("__new__", "__init__"):  # a constructor: name its class
                owner = f.f_locals.get("cls") or type(f.f_locals.get("self"))
                co = getattr(owner, "__name__", co)
            if not co.startswith("<") and co not in _ANONYMOUS:
                name = co.strip("_") or co
        f = f.f_back
    return name or "unknown op"


def install_stubs(cls, keep, dunders: dict, stub_method, stub_property) -> None:
    """Replace every public Tensor member that ``cls`` (a Tensor subclass) does not define,
    and the dunders named in ``dunders``, by ``stub_method(op)`` / ``stub_property(name)``,
    which raise; ``keep`` names members inherited as they are.  ``__hash__`` stays Tensor's
    and ``__format__`` formats the repr."""
    from ._tensor import Tensor

    own = set()
    for klass in cls.__mro__:
        if klass is Tensor:
            break
        own.update(klass.__dict__)
    for name in dir(Tensor):
        if name in own or name in keep:
            continue
        if name.startswith("_"):
            if name in dunders and name != "__format__":
                setattr(cls, name, stub_method(dunders[name]))
            continue
        raw = inspect.getattr_static(Tensor, name)
        if isinstance(raw, property):
            setattr(cls, name, stub_property(name))
        elif callable(raw) or isinstance(raw, (staticmethod, classmethod)):
            setattr(cls, name, stub_method(name))
    cls.__hash__ = Tensor.__hash__
    cls.__format__ = lambda self, spec: format(repr(self), spec)
