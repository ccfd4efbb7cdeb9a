"""``__torch_function__`` dispatch: Tensor subclasses and TorchFunctionModes (issue #14).

torch routes every Tensor method, operator and property access, and every public function of
``torch``, ``torch.nn.functional``, ``torch.linalg``/``fft``/``special``, through the
``__torch_function__`` of its overloaded arguments (the instances of Tensor subclasses and of
other classes defining it, except those whose ``__torch_function__`` is
``torch._C._disabled_torch_function_impl`` such as ``nn.Parameter``) and of the innermost active
``TorchFunctionMode``.

ctorch pays nothing for this on exact ``Tensor``s:

* ``Tensor``'s own methods stay the plain functions. When a Tensor subclass is defined
  (``Tensor.__init_subclass__``) whose ``__torch_function__`` is not the disabled one, that
  class gets, for each method/operator/property torch dispatches (``_tf_names``) that it
  inherits from Tensor, a wrapper that dispatches (``_install_methods``). Its subclasses inherit
  the wrappers; what a class defines itself is left alone. ctorch's own subclasses (Parameter,
  Buffer, sparse, nested, DTensor, tv_tensors) set the disabled implementation and keep
  their behaviour.
* The public functions of the namespaces are replaced by dispatching wrappers (``_Dispatcher``)
  the first time such a subclass is defined or a mode is entered (``install_namespaces``), so a
  program that never subclasses keeps the plain functions. The wrapper is the public
  callable ``func`` handlers see (``func is torch.add`` holds), and compares equal to (and
  hashes as) the function it wraps, so tables keyed by the functions read before the wrappers
  were installed still match.
* While a TorchFunctionMode is active, Tensor's own methods and properties are wrapped too
  (``_tensor_wrappers``), and restored when the last mode exits.

Handlers see ``func`` as torch passes it: the public function (``torch.add``), the Tensor
method (``torch.Tensor.add``: ``a + b`` is ``Tensor.add``, ``a - 1`` ``Tensor.sub``, ``1 - a``
``Tensor.__rsub__``, as torch), ``Tensor.<property>.__get__``/``__set__`` for properties.

``DisableTorchFunctionSubclass`` / ``DisableTorchFunction`` (``ctorch._C``) and the mode stack
are process-wide here (thread-local in torch).
"""

from __future__ import annotations

import types
from typing import Any

from . import _tf_names as _N
from ._tensor import Tensor

# ----------------------------------------------------------------------------- state
_subclass_off = 0  # depth of DisableTorchFunctionSubclass blocks
_all_off = 0  # depth of DisableTorchFunction blocks
_modes: list = []  # the active TorchFunctionMode stack, innermost last
_entered = 0  # modes entered by ``with`` and not exited (Tensor's own wrappers live while > 0)
# True while no subclass handler and no mode can run: wrappers call the function directly
_direct = False


def _update() -> None:
    global _direct
    _direct = bool(_all_off or (_subclass_off and not _modes))


class _DisabledImpl:
    """``torch._C._disabled_torch_function_impl``: as a class's ``__torch_function__`` it marks
    the class as not overloading anything (its instances dispatch as plain Tensors); called, it
    runs ``func`` with subclass dispatch off."""

    __slots__ = ()
    __name__ = "_disabled_torch_function_impl"
    __qualname__ = "_disabled_torch_function_impl"

    def __call__(self, func, types, args=(), kwargs=None):
        with DisableTorchFunctionSubclass():
            return func(*args, **(kwargs or {}))

    def __repr__(self) -> str:
        return "<built-in function _disabled_torch_function_impl>"

    def __reduce__(self):
        return "_disabled_torch_function_impl"


_disabled_torch_function_impl = _DisabledImpl()


class DisableTorchFunctionSubclass:
    """``torch._C.DisableTorchFunctionSubclass``: inside, Tensor subclasses' handlers are not
    called (modes still are); ops on subclass instances run as on plain Tensors."""

    def __enter__(self):
        global _subclass_off
        _subclass_off += 1
        _update()
        return self

    def __exit__(self, *exc):
        global _subclass_off
        _subclass_off -= 1
        _update()
        return False


class DisableTorchFunction:
    """``torch._C.DisableTorchFunction``: inside, neither subclass handlers nor modes run."""

    def __enter__(self):
        global _all_off
        _all_off += 1
        _update()
        return self

    def __exit__(self, *exc):
        global _all_off
        _all_off -= 1
        _update()
        return False


def is_torch_function_enabled() -> bool:
    return not (_all_off or _subclass_off)


def is_torch_function_mode_enabled() -> bool:
    return bool(_modes) and not _all_off


# ----------------------------------------------------------------------------- dispatch
# types seen as arguments that never define __torch_function__ (the common non-tensors)
_NOT_OVERLOADED: set[type] = {
    Tensor,
    int,
    float,
    bool,
    complex,
    str,
    type(None),
    slice,
    type(Ellipsis),
}


def _is_overloaded_type(t: type) -> bool:
    if t in _NOT_OVERLOADED:
        return False
    tf = getattr(t, "__torch_function__", None)
    if tf is None:
        if not issubclass(t, Tensor) and t is not list and t is not tuple:
            _NOT_OVERLOADED.add(t)  # a type without the protocol: remembered
        return False
    return tf is not _disabled_torch_function_impl


def _add(found: list, a: Any) -> None:
    t = type(a)
    for o in found:
        if type(o) is t:
            return
    idx = len(found)
    for i, o in enumerate(found):  # a subclass goes before its base
        if issubclass(t, type(o)):
            idx = i
            break
    found.insert(idx, a)


def overloaded_args(args, kwargs) -> list:
    """The arguments whose types overload ``__torch_function__`` (elements of list and tuple
    arguments included), one per type, subclasses before their bases, else left to right."""
    found: list = []
    nol = _NOT_OVERLOADED
    for a in (*args, *kwargs.values()) if kwargs else args:
        t = type(a)
        if t is list or t is tuple:
            for e in a:
                if type(e) not in nol and _is_overloaded_type(type(e)):
                    _add(found, e)
        elif t not in nol and _is_overloaded_type(t):
            _add(found, a)
    return found


def _name(func) -> str:
    method = _METHOD_NAME.get(id(func))
    if method is not None:
        return f"torch.Tensor.{method}"
    owner = getattr(func, "__self__", None)
    if isinstance(owner, property):  # Tensor.<property>.__get__
        for k, v in vars(Tensor).items():
            if v is owner:
                return f"torch.Tensor.{k}.{func.__name__}"
    mod = getattr(func, "__module__", None) or ""
    qual = getattr(func, "__qualname__", None) or getattr(func, "__name__", repr(func))
    mod = mod.replace("ctorch", "torch", 1)
    return f"{mod}.{qual}" if mod else qual


class _MemberProxy:
    """What a mode sees as ``func`` for a Tensor member: equal to (and hashed as) the member,
    and calling it dispatches on (as torch's ``Tensor.add`` does), so a mode's
    ``func(*args)`` still reaches the subclass handlers."""

    __slots__ = ("_raw",)

    def __init__(self, raw) -> None:
        self._raw = raw

    def __call__(self, *args, **kwargs):
        raw = self._raw
        if _direct:
            return raw(*args, **kwargs)
        return dispatch(raw, raw, args, kwargs)

    def __eq__(self, other):
        return other is self._raw or (isinstance(other, _MemberProxy) and other._raw is self._raw)

    def __hash__(self) -> int:
        return hash(self._raw)

    def __getattr__(self, name):
        return getattr(self._raw, name)

    def __repr__(self) -> str:
        return repr(self._raw)


_PROXIES: dict[int, tuple] = {}


def _proxy(public):
    if isinstance(public, _Dispatcher):
        return public
    hit = _PROXIES.get(id(public))
    if hit is None or hit[0] is not public:
        hit = _PROXIES[id(public)] = (public, _MemberProxy(public))
    return hit[1]


def dispatch(public, impl, args: tuple, kwargs: dict):
    """Run ``public(*args, **kwargs)`` through the innermost mode and the overloaded arguments'
    ``__torch_function__`` (torch's ``handle_torch_function``); ``impl`` when none handles it."""
    if _all_off:
        return impl(*args, **kwargs)
    found = overloaded_args(args, kwargs) if not _subclass_off else []
    if _modes:
        tys = tuple(type(a) for a in found)
        mode = _modes.pop()  # the mode is off while its handler runs (torch's behaviour)
        _update()
        try:
            r = mode.__torch_function__(_proxy(public), tys, args, kwargs)
        finally:
            _modes.append(mode)
            _update()
        if r is not NotImplemented:
            return r
        if not found:
            raise TypeError(
                f"Multiple dispatch failed for '{_name(public)}'; all __torch_function__ "
                f"handlers returned NotImplemented:\n\n  - mode object {mode!r}\n"
            )
    if not found:
        return impl(*args, **kwargs)
    tys = tuple(type(a) for a in found)
    for a in found:
        r = type(a).__torch_function__(public, tys, args, kwargs)
        if r is not NotImplemented:
            return r
    kinds = "\n".join(
        f"  - {'tensor subclass' if isinstance(a, Tensor) else 'object'} {type(a)}" for a in found
    )
    raise TypeError(
        f"Multiple dispatch failed for '{_name(public)}'; all __torch_function__ handlers "
        f"returned NotImplemented:\n\n{kinds}\n"
    )


# ----------------------------------------------------------------------------- default handler
def _alias(t: Tensor, cls: type) -> Tensor:
    """``t.as_subclass(cls)`` with dispatch off: an alias of ``t`` (same memory and version
    counter, in the autograd graph through an ``AliasBackward0`` node) whose class is
    ``cls``."""
    from .ops.shape import _view_op

    global _all_off
    _all_off += 1
    _update()
    try:
        r = _view_op(t, _view_all, _same, "AliasBackward0")
    finally:
        _all_off -= 1
        _update()
    try:
        r.__class__ = cls
    except TypeError:  # a subclass with its own __slots__: a new object over the same state
        n = object.__new__(cls)
        for k in Tensor.__slots__:
            if k not in ("__weakref__", "__dict__") and hasattr(r, k):
                object.__setattr__(n, k, getattr(r, k))
        r = n
    return r


def _view_all(a):
    return a.view()


def _same(g):
    return g


def convert(ret, cls):
    """torch's ``_convert``: Tensor results (in lists and tuples too) as aliases of ``cls``."""
    if cls is Tensor:
        return ret
    if isinstance(ret, Tensor):
        if not isinstance(ret, cls):
            ret = _alias(ret, cls)
        return ret
    if isinstance(ret, (tuple, list)):
        items = [convert(r, cls) for r in ret]
        if hasattr(ret, "_fields"):  # torch.return_types (named tuples)
            return type(ret)(*items)
        return type(ret)(items)
    return ret


_NOWRAP_PROPS = ("grad", "_base", "_grad")


def _nowrap(func) -> bool:
    owner = getattr(func, "__self__", None)
    if isinstance(owner, property) and func.__name__ == "__get__":
        return any(Tensor.__dict__.get(n) is owner for n in _NOWRAP_PROPS)
    return False


def default_torch_function(cls, func, types, args=(), kwargs=None):
    """``Tensor.__torch_function__``: run ``func`` with subclass dispatch off and return its
    Tensor results as ``cls`` (``.grad`` stays as stored); NotImplemented when an overloaded
    type is not a base of ``cls``."""
    if kwargs is None:
        kwargs = {}
    for t in types:
        if not issubclass(cls, t):
            return NotImplemented
    global _subclass_off
    _subclass_off += 1
    _update()
    try:
        ret = func(*args, **kwargs)
        if _nowrap(func):
            return ret
        return convert(ret, cls)
    finally:
        _subclass_off -= 1
        _update()


# ----------------------------------------------------------------------------- Tensor members
# the operators torch reports as another Tensor method (``a + b`` is ``Tensor.add``); the
# method runs the same code as the operator for the arguments the operator accepts
_OPERATOR_FUNC = {
    "__add__": "add",
    "__radd__": "add",
    "__iadd__": "add_",
    "__sub__": "sub",
    "__isub__": "sub_",
    "__mul__": "mul",
    "__rmul__": "mul",
    "__imul__": "mul_",
    "__truediv__": "div",
    "__itruediv__": "div_",
    "__mod__": "remainder",
    "__imod__": "remainder_",
    "__pow__": "pow",
    "__ipow__": "pow_",
    "__ifloordiv__": "floor_divide_",
    "__neg__": "neg",
    "__abs__": "abs",
    "__pos__": "positive",
    "__lt__": "lt",
    "__le__": "le",
    "__gt__": "gt",
    "__ge__": "ge",
    "__ne__": "ne",
    "__rand__": "bitwise_and",
    "__ror__": "bitwise_or",
    "__rxor__": "bitwise_xor",
}
# reflected operator -> the forward one: Python calls ``sub.__rsub__(t)`` before
# ``t.__sub__(sub)`` when ``sub``'s class (with its wrappers) derives from ``t``'s; torch calls
# ``t.__sub__(sub)``, so a Tensor left operand is dispatched as that
_REFLECTED = {
    "__radd__": "__add__",
    "__rsub__": "__sub__",
    "__rmul__": "__mul__",
    "__rtruediv__": "__truediv__",
    "__rfloordiv__": "__floordiv__",
    "__rmod__": "__mod__",
    "__rpow__": "__pow__",
    "__rmatmul__": "__matmul__",
    "__rand__": "__and__",
    "__ror__": "__or__",
    "__rxor__": "__xor__",
    "__rlshift__": "__lshift__",
    "__rrshift__": "__rshift__",
}
# dunders torch dispatches that ctorch's Tensor has (the rest of _N.TENSOR_METHODS is public)
_DUNDERS = frozenset(
    n for n in _N.TENSOR_METHODS if n.startswith("__") and n not in ("__setstate__",)
) | {"__matmul__", "__rmatmul__", "__complex__"}
# never wrapped: construction and the protocol itself, identity, and as_subclass (ignored by
# torch); ``__iter__`` has its own wrapper (torch iterates through ``unbind``)
_SKIP = frozenset(
    (
        "__torch_function__",
        "__init_subclass__",
        "__new__",
        "__init__",
        "__class__",
        "__getattribute__",
        "__setattr__",
        "__delattr__",
        "__dir__",
        "__hash__",
        "__iter__",
        "as_subclass",
        "_make_subclass",
        "__array_wrap__",
    )
)

# members torch dispatches although ``get_ignored_functions`` lists them
_EXTRA_METHODS = frozenset(
    ("new_empty", "new_empty_strided", "new_full", "new_ones", "new_tensor", "new_zeros")
    + ("stride", "unflatten")
)
# torch's names for the functions behind a few operators
_TORCH_NAMES = {"__rtruediv__": "__rdiv__"}

_ORIGINAL: dict[str, Any] = {}  # name -> Tensor's own member (function or property)
_QUIET: dict[str, Any] = {}  # public methods torch does not dispatch: run with dispatch off
_METHOD_NAME: dict[int, str] = {}  # id(Tensor member) -> its name, for error messages


def _rename(name: str, raw, shared: bool) -> None:
    """Give a function installed only as ``Tensor.<name>`` that name (``__name__`` of a lambda
    or a private helper): handlers read ``func.__name__`` as torch's."""
    if shared or not isinstance(raw, types.FunctionType):
        return
    cur = raw.__name__
    if (
        cur == "<lambda>"
        or name.startswith("__")
        or cur in ("_" + name, name + "_")
        or (cur.startswith("_") and raw.__module__ == "ctorch._methods")
    ):
        raw.__name__ = _TORCH_NAMES.get(name, name)
        raw.__qualname__ = f"Tensor.{name}"


def _originals() -> dict:
    if not _ORIGINAL:
        names = {n for n in _N.TENSOR_METHODS if not n.startswith("_") or n in _DUNDERS}
        names |= {n for n in _N.TENSOR_PROPERTIES if not n.startswith("_")}
        names |= _DUNDERS | _EXTRA_METHODS
        count: dict[int, int] = {}
        for v in vars(Tensor).values():
            count[id(v)] = count.get(id(v), 0) + 1
        for n in sorted(names - _SKIP):
            raw = Tensor.__dict__.get(n)
            if raw is None:
                continue
            if isinstance(raw, property) or isinstance(raw, types.FunctionType):
                _ORIGINAL[n] = raw
            elif callable(raw) and not isinstance(raw, (staticmethod, classmethod, type)):
                _ORIGINAL[n] = raw
            else:
                continue
            _rename(n, raw, count[id(raw)] > 1)
            _METHOD_NAME.setdefault(id(raw), n)
        for n, raw in vars(Tensor).items():
            if (
                n.startswith("_")
                or n in _ORIGINAL
                or n in _SKIP
                or not isinstance(raw, types.FunctionType)
            ):
                continue
            _QUIET[n] = raw
    return _ORIGINAL


def _cmp_ok(o) -> bool:
    import numpy as np

    return isinstance(o, (Tensor, int, float, bool, complex, np.ndarray, np.generic, list, tuple))


def _method_wrapper(name: str, impl, public):
    def method(*args, **kwargs):
        if _direct:
            return impl(*args, **kwargs)
        return dispatch(public, impl, args, kwargs)

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = getattr(impl, "__doc__", None)
    method.__wrapped__ = impl
    method._tf_wrapper = True
    return method


def _wrapper_for(name: str, raw, orig: dict):
    """The dispatching replacement of Tensor's member ``name`` (``raw``)."""
    if isinstance(raw, property):
        get, put = raw.__get__, raw.__set__

        def fget(self):
            if _direct:
                return get(self)
            return dispatch(get, get, (self,), {})

        def fset(self, value):
            if _direct:
                return put(self, value)
            return dispatch(put, put, (self, value), {})

        p = property(fget, fset if raw.fset is not None else None, doc=raw.__doc__)
        return p
    fname = _OPERATOR_FUNC.get(name)
    public = orig.get(fname, raw) if fname is not None else raw
    if name in _BINARY:
        return _binary_wrapper(name, raw, public, orig)
    return _method_wrapper(name, raw, public)


# binary operators: a TypeError (all handlers returned NotImplemented, an unsupported operand)
# becomes NotImplemented, so Python tries the other operand and then reports the operator
_BINARY = frozenset(
    n
    for base in "add sub mul truediv floordiv mod pow matmul and or xor lshift rshift".split()
    for n in (f"__{base}__", f"__r{base}__", f"__i{base}__")
) | {"__eq__", "__ne__", "__lt__", "__le__", "__gt__", "__ge__"}


def _binary_wrapper(name: str, raw, public, orig: dict):
    if name == "__matmul__":
        matmul = orig.get("matmul", raw)

        def method(self, other):
            if _direct:
                return raw(self, other)
            return dispatch(matmul if isinstance(other, Tensor) else raw, raw, (self, other), {})

    elif name in ("__eq__", "__ne__"):

        def method(self, other):
            if not _cmp_ok(other):
                return NotImplemented
            if _direct:
                return raw(self, other)
            return dispatch(public, raw, (self, other), {})

    elif name in _REFLECTED:
        fwd_name = _REFLECTED[name]
        fwd_raw = orig.get(fwd_name)
        fwd_public = orig.get(_OPERATOR_FUNC.get(fwd_name, fwd_name), fwd_raw)
        if name == "__rmatmul__":
            fwd_public = orig.get("matmul", fwd_public)

        def method(self, other):
            if _direct:
                return raw(self, other)
            if isinstance(other, Tensor) and fwd_raw is not None:
                return dispatch(fwd_public, fwd_raw, (other, self), {})
            return dispatch(public, raw, (self, other), {})

    else:

        def method(self, other):
            if _direct:
                return raw(self, other)
            return dispatch(public, raw, (self, other), {})

    def operator(self, other):
        try:
            return method(self, other)
        except TypeError:
            return NotImplemented

    operator.__name__ = name
    operator.__qualname__ = f"Tensor.{name}"
    operator._tf_wrapper = True
    return operator


def _iter(self):
    """``iter(t)`` on a subclass: the rows of ``unbind(0)`` (dispatched, as torch)."""
    if _direct:
        return _ITER(self)
    if self.dim() == 0:
        raise TypeError("iteration over a 0-d tensor")
    return iter(self.unbind(0))


_ITER = Tensor.__iter__


def _str(self):
    """``str(t)`` is ``repr(t)`` (dispatched as ``Tensor.__repr__``, as torch)."""
    return type(self).__repr__(self)


def __reduce_ex__(self, proto):
    """Pickling a subclass instance restores its class and ``__dict__`` (torch's
    ``_rebuild_from_type_v2``)."""
    plain = _alias(self, Tensor) if type(self) is not Tensor else self
    fn, args = Tensor.__reduce_ex__(plain, proto)[:2]
    return (_rebuild_subclass, (type(self), fn, args, dict(self.__dict__)))


_reduce_ex = __reduce_ex__


def _rebuild_subclass(cls, fn, args, state):
    t = fn(*args)
    try:
        t.__class__ = cls  # a fresh tensor: it becomes the subclass (a leaf stays a leaf)
    except TypeError:
        t = _alias(t, cls)
    if state:
        t.__dict__.update(state)
    return t


def _quiet_wrapper(name: str, impl):
    """A Tensor method torch does not dispatch (``register_hook``, ``retain_grad``...): on a
    subclass it runs with subclass dispatch off, as torch's C++ would."""

    def method(*args, **kwargs):
        global _subclass_off
        if _direct:
            return impl(*args, **kwargs)
        _subclass_off += 1
        _update()
        try:
            return impl(*args, **kwargs)
        finally:
            _subclass_off -= 1
            _update()

    method.__name__ = name
    method.__qualname__ = f"Tensor.{name}"
    method.__doc__ = getattr(impl, "__doc__", None)
    method.__wrapped__ = impl
    return method


def _install_methods(cls: type) -> None:
    orig = _originals()
    for table, make in ((orig, lambda n, r: _wrapper_for(n, r, orig)), (_QUIET, _quiet_wrapper)):
        for name, raw in table.items():
            owner = next((k for k in cls.__mro__ if name in k.__dict__), None)
            if owner is not Tensor:
                continue  # defined by cls or a base between (or inherited as a wrapper already)
            impl = _reduce_ex if name == "__reduce_ex__" else raw
            setattr(cls, name, make(name, impl))
    if next((k for k in cls.__mro__ if "__iter__" in k.__dict__), None) is Tensor:
        cls.__iter__ = _iter
    if next((k for k in cls.__mro__ if "__str__" in k.__dict__), None) is Tensor:
        cls.__str__ = _str
    if "__eq__" in cls.__dict__ and cls.__dict__.get("__hash__") is None:
        cls.__hash__ = Tensor.__hash__


Tensor.__torch_function__ = classmethod(default_torch_function)


def _make_subclass(cls, data, require_grad=False, **kwargs):
    """``torch.Tensor._make_subclass(cls, data, require_grad=False)``: a ``cls`` over
    ``data``'s memory and version counter, detached from its graph."""
    if not (isinstance(cls, type) and issubclass(cls, Tensor)):
        raise TypeError(f"cls must be a type (got {type(cls).__name__})")
    if not isinstance(data, Tensor):
        raise TypeError(f"data must be a Tensor, not {type(data).__name__}")
    t = object.__new__(cls)
    Tensor._init_slots(t)
    t._a = data._a
    t._vref = data._vref
    if require_grad:
        t.requires_grad_(True)
    return t


Tensor._make_subclass = staticmethod(_make_subclass)


def on_subclass(cls: type) -> None:
    """``Tensor.__init_subclass__``: a subclass that overloads ``__torch_function__`` gets its
    dispatching members, and the namespaces their dispatching functions."""
    if getattr(cls, "__torch_function__", None) is _disabled_torch_function_impl:
        return
    _NOT_OVERLOADED.discard(cls)
    install_namespaces()
    _install_methods(cls)


# ----------------------------------------------------------------------------- modes
_saved_tensor_members: dict[str, Any] = {}


def _tensor_wrappers(on: bool) -> None:
    """Wrap (``on``) or restore Tensor's own members: a mode sees plain Tensors' calls too."""
    orig = _originals()
    if on:
        for name, raw in orig.items():
            if Tensor.__dict__.get(name) is raw:
                _saved_tensor_members[name] = raw
                setattr(Tensor, name, _wrapper_for(name, raw, orig))
        _saved_tensor_members["__iter__"] = _ITER
        Tensor.__iter__ = _iter
    else:
        for name, raw in _saved_tensor_members.items():
            setattr(Tensor, name, raw)
        _saved_tensor_members.clear()


def push_mode(mode) -> None:
    global _entered
    install_namespaces()
    _modes.append(mode)
    _entered += 1
    if _entered == 1:
        _tensor_wrappers(True)
    _update()


def pop_mode(mode=None):
    global _entered
    if not _modes:
        raise RuntimeError("Trying to pop from an empty torch function mode stack")
    m = _modes.pop()
    _entered -= 1
    if _entered == 0:
        _tensor_wrappers(False)
    _update()
    return m


# ----------------------------------------------------------------------------- namespaces
def _lookup(module: str, name: str):
    import importlib

    return getattr(importlib.import_module(module), name)


_TORCH_FN_NAMES = {"logsigmoid": "log_sigmoid", "threshold": "_threshold"}


class _Dispatcher:
    """A public function that dispatches through ``__torch_function__``: equal to (and hashed
    as) the function it wraps."""

    def __init__(self, fn, where: str, name: str) -> None:
        self.__wrapped__ = fn
        short = where.rsplit(".", 1)[-1]
        if short in ("linalg", "fft", "special"):  # torch's C names: linalg_norm, fft_fft
            name = f"{short}_{name}"
        self.__name__ = self.__qualname__ = _TORCH_FN_NAMES.get(name, name)
        self.__module__ = where
        self.__doc__ = getattr(fn, "__doc__", None)
        self._where = (where, name)

    def __call__(self, *args, **kwargs):
        if _direct:
            return self.__wrapped__(*args, **kwargs)
        if not _modes:  # the common case: only plain tensors and scalars, nothing to find
            nol = _NOT_OVERLOADED
            for a in (*args, *kwargs.values()) if kwargs else args:
                t = type(a)
                if t not in nol or t is list or t is tuple:
                    break
            else:
                return self.__wrapped__(*args, **kwargs)
        return dispatch(self, self.__wrapped__, args, kwargs)

    def __eq__(self, other):
        if isinstance(other, _Dispatcher):
            return other.__wrapped__ is self.__wrapped__
        return other is self.__wrapped__

    def __hash__(self) -> int:
        return hash(self.__wrapped__)

    def __repr__(self) -> str:
        return f"<function {self.__name__} at {id(self):#x}>"

    def __reduce__(self):
        return self._where[1]  # pickled by name, as the function it stands for

    def __copy__(self):
        return self

    def __deepcopy__(self, memo):
        return self

    def __getattr__(self, name):
        return getattr(self.__wrapped__, name)

    @property
    def __signature__(self):
        import inspect

        return inspect.signature(self.__wrapped__)


class _MethodDispatcher(_Dispatcher):
    """For a wrapped Python function: binds as a method like the function did."""

    def __get__(self, obj, owner=None):
        return self if obj is None else types.MethodType(self, obj)


_installed = False
# id(function) (or (id, namespace) for linalg/fft/special) -> its wrapper
_DISPATCHERS: dict[Any, _Dispatcher] = {}


_SPACE_CODE = {
    "ctorch": "T",
    "ctorch.functional": "FN",
    "ctorch.nn.functional": "F",
    "ctorch.linalg": "LA",
    "ctorch.fft": "FFT",
    "ctorch.special": "SP",
}
_CODE_SPACE = {v: k for k, v in _SPACE_CODE.items()}
_PREFIXED = ("ctorch.linalg", "ctorch.fft", "ctorch.special")


class _Originals:
    """Where a wrapped function pickles from: once ``relu`` is a wrapper in its namespace, the
    original (held by code that read it earlier) is ``_orig_functions.F_relu`` here, which resolves
    in any process, wrappers installed or not."""

    def __getattr__(self, key: str):
        code, _, name = key.partition("_")
        space = _CODE_SPACE.get(code)
        if space is None or key.startswith("__"):
            raise AttributeError(key)
        fn = _lookup(space, name)
        return fn.__wrapped__ if isinstance(fn, _Dispatcher) else fn


_orig_functions = _Originals()


def _wrap_namespace(module, names) -> None:
    where = module.__name__
    for name in names:
        fn = module.__dict__.get(name)
        if fn is None or isinstance(fn, (type, _Dispatcher, types.ModuleType)):
            continue
        if not callable(fn):
            continue
        # linalg/fft/special functions are their own objects in torch (``special_erf`` is not
        # ``torch.erf``): one wrapper per namespace there, one per function elsewhere
        key = (id(fn), where) if where in _PREFIXED else id(fn)
        d = _DISPATCHERS.get(key)
        if d is None:
            kind = _MethodDispatcher if isinstance(fn, types.FunctionType) else _Dispatcher
            d = _DISPATCHERS[key] = kind(fn, where, name)
            if isinstance(fn, types.FunctionType) and fn.__module__ == where:
                # the original stays picklable by name (code may hold it from before)
                fn.__module__ = __name__
                fn.__qualname__ = f"_orig_functions.{_SPACE_CODE[where]}_{name}"
        setattr(module, name, d)


def _patch_modules() -> None:
    """nn modules reach the functions they call through the wrappers (Conv2d._conv, module
    globals imported from functional), so a layer called on a subclass dispatches as torch's
    ``F.conv2d(...)`` does."""
    import sys

    for mname, mod in list(sys.modules.items()):
        if mod is None or not mname.startswith("ctorch.nn.modules"):
            continue
        g = vars(mod)
        for k, v in list(g.items()):
            d = _DISPATCHERS.get(id(v))
            if d is not None and d.__wrapped__ is v:
                g[k] = d
            elif isinstance(v, type) and v.__module__ == mname:
                for a, sv in list(vars(v).items()):
                    if isinstance(sv, staticmethod):
                        d = _DISPATCHERS.get(id(sv.__func__))
                        if d is not None and d.__wrapped__ is sv.__func__:
                            setattr(v, a, staticmethod(d))
                    elif isinstance(sv, types.FunctionType):
                        _patch_defaults(sv)  # activation=F.relu


def _patch_defaults(fn) -> None:
    def swap(v):
        d = _DISPATCHERS.get(id(v))
        return d if d is not None and d.__wrapped__ is v else v

    if fn.__defaults__:
        fn.__defaults__ = tuple(swap(v) for v in fn.__defaults__)
    if fn.__kwdefaults__:
        fn.__kwdefaults__ = {k: swap(v) for k, v in fn.__kwdefaults__.items()}


# nn.functional's functions torch writes as method calls (``F.tanh`` is ``input.tanh()``), so
# a subclass handler sees them under their method's name; ctorch computes them directly
_F_EXTRA = frozenset(
    "celu_ elu_ hardtanh_ leaky_relu_ relu_ rrelu_ selu_ threshold_ sigmoid tanh hardsigmoid "
    "hardswish upsample upsample_bilinear upsample_nearest".split()
)


def install_namespaces() -> None:
    """Replace the public functions of ctorch, ctorch.functional, nn.functional, linalg, fft
    and special that torch dispatches by their dispatching wrappers (once)."""
    global _installed
    if _installed:
        return
    _installed = True
    import ctorch
    import ctorch.fft
    import ctorch.functional
    import ctorch.linalg
    import ctorch.nn.functional
    import ctorch.special

    _wrap_namespace(ctorch, _N.TORCH)
    _wrap_namespace(ctorch.functional, _N.TORCH)
    _wrap_namespace(ctorch.nn.functional, _N.NN_FUNCTIONAL | _F_EXTRA)
    _wrap_namespace(ctorch.linalg, _N.LINALG)
    _wrap_namespace(ctorch.fft, _N.FFT)
    _wrap_namespace(ctorch.special, _N.SPECIAL)
    import ctorch.nn.modules  # noqa: F401

    _patch_modules()


def is_installed() -> bool:
    return _installed
