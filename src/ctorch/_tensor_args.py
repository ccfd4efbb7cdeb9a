"""torch's refusal of a Python number where a function wants a Tensor argument.

``torch.atan2(x, 2)``, ``torch.maximum(x, 0)``, ``x.hypot(1.5)``, ``torch.take(x, 0)`` ... raise
``TypeError: atan2(): argument 'other' (position 2) must be Tensor, not int`` in torch 2.13:
these ops have no Scalar overload (unlike ``add``/``mul``/``pow``). ctorch's ops broadcast a
number without complaint, and its own code may rely on that, so :func:`install` wraps only
the public entry points (``ctorch.<name>`` and ``Tensor.<name>``/``<name>_``): the ops
themselves are untouched. An object that is not a Tensor but defines ``__torch_function__``
passes through, as torch dispatches on it.

Likewise the function forms of ``reshape``/``flip``/``permute``/``broadcast_to``/
``expand_copy``/``view_copy`` take the shape as one sequence (``torch.reshape(x, (2, 2))``):
``torch.reshape(x, -1)`` and ``torch.flip(x, 0, 1)`` raise TypeError where the Tensor
methods take varargs. Only the functions are wrapped, the methods keep their varargs.

And torch's parser types the other arguments too: a bool flag takes no int
(``torch.unique(x, 0)``, ``x.qr(0)``: TypeError), an int takes no float or float tensor
(``torch.tril(x, 1.0)``, ``x.kthvalue(2.5)``, ``torch.hann_window(4.0)``), a float takes no
tensor (``torch.nan_to_num(x, t)``).
"""

from __future__ import annotations

import functools
import numbers

import numpy as np

from ._tensor import Tensor  # loaded: this module is installed at the end of ctorch's import

_NO = object()

# op -> name of the argument (the second one) that must be a Tensor (torch's schema name)
_TENSOR_SECOND = {
    "atan2": "other",
    "arctan2": "other",
    "maximum": "other",
    "minimum": "other",
    "fmax": "other",
    "fmin": "other",
    "hypot": "other",
    "logaddexp": "other",
    "logaddexp2": "other",
    "nextafter": "other",
    "ldexp": "other",
    "logical_and": "other",
    "logical_or": "other",
    "logical_xor": "other",
    "igamma": "other",
    "igammac": "other",
    "gcd": "other",
    "lcm": "other",
    "dist": "other",
    "take": "index",
    "heaviside": "values",
    "isclose": "other",
    "allclose": "other",
    "inner": "other",
    "outer": "vec2",
    "ger": "vec2",
    "hinge_embedding_loss": "target",
    "poisson_nll_loss": "target",
    "soft_margin_loss": "target",
}
# op -> (index of the argument in the function form, its name, its kind)
_TYPED = {
    "unique": (1, "sorted", "bool"),
    "unique_consecutive": (1, "return_inverse", "bool"),
    "qr": (1, "some", "bool"),
    "svd": (1, "some", "bool"),
    "lu": (1, "pivot", "bool"),
    "kthvalue": (1, "k", "int"),
    "tril": (1, "diagonal", "int"),
    "triu": (1, "diagonal", "int"),
    "mvlgamma": (1, "p", "int"),
    "nan_to_num": (1, "nan", "float"),
    "hann_window": (0, "window_length", "int"),
    "hamming_window": (0, "window_length", "int"),
    "bartlett_window": (0, "window_length", "int"),
    "blackman_window": (0, "window_length", "int"),
    "kaiser_window": (0, "window_length", "int"),
    "tril_indices": (0, "row", "int"),
    "triu_indices": (0, "row", "int"),
    "randperm": (0, "n", "int"),
    "rot90": (1, "k", "int"),
    "multinomial": (1, "num_samples", "int"),
    "pinverse": (1, "rcond", "float"),
}


def _is_tensor(v) -> bool:
    return isinstance(v, Tensor)


def _is_tensor_like(v) -> bool:
    return isinstance(v, Tensor) or hasattr(type(v), "__torch_function__")


_FAST_OK = {"int": int, "bool": bool, "float": float}


def _bad(v, kind: str) -> bool:
    """Whether torch's parser refuses ``v`` for an argument of type ``kind``."""
    t = type(v)
    if t is _FAST_OK[kind] or (t is int and kind == "float"):  # the ordinary call, no ABC test
        return False
    if (
        v is None
        or v is _NO
        or (hasattr(type(v), "__torch_function__") and not isinstance(v, Tensor))
    ):
        return False
    if kind == "bool":
        return not isinstance(v, (bool, np.bool_))
    if isinstance(v, Tensor):  # a 0-d tensor stands for a number of its kind
        if v.ndim != 0:
            return True
        k = v._a.dtype.kind
        return k not in "iu" if kind == "int" else k not in "iuf"
    if kind == "int":
        return isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral)
    return isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Real)  # float


# function -> name of its second argument, which must be one sequence of ints
_SEQUENCE_SECOND = {
    "reshape": "shape",
    "flip": "dims",
    "permute": "dims",
    "broadcast_to": "size",
    "expand_copy": "size",
    "view_copy": "size",
}


def _wrap_sequence(fn, name: str, arg: str):
    @functools.wraps(fn)
    def checked(*args, **kwargs):
        if len(args) == 2 and isinstance(args[1], (tuple, list)):  # the ordinary call
            return fn(*args, **kwargs)
        if len(args) > 2:
            raise TypeError(f"{name}() takes 2 positional arguments but {len(args)} were given")
        if not args and "input" in kwargs:
            args = (kwargs.pop("input"),)
        v = args[1] if len(args) == 2 else kwargs.pop(arg, _NO)
        if v is _NO:
            raise TypeError(f'{name}() missing 1 required positional arguments: "{arg}"')
        if not isinstance(v, (tuple, list)) and (_is_tensor(v) or not _is_tensor_like(v)):
            raise TypeError(
                f"{name}(): argument '{arg}' (position 2) must be tuple of ints, "
                f"not {type(v).__name__}"
            )
        return fn(args[0], v, **kwargs)  # keywords torch names (shape=, dims=) as positions

    checked.__ctorch_tensor_args__ = True
    return checked


def _checked(fn, name: str, i: int, arg: str, pos: int, bad, kind: str):
    """``fn`` refusing, with torch's TypeError, an argument ``arg`` (position ``i`` in the
    call, ``pos`` in torch's message) for which ``bad(value)`` holds."""

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        v = args[i] if len(args) > i else kwargs.get(arg, _NO)
        if bad(v):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {pos}) must be {kind}, "
                f"not {type(v).__name__}"
            )
        return fn(*args, **kwargs)

    checked.__ctorch_tensor_args__ = True
    return checked


def _not_tensor(v) -> bool:
    return v is not _NO and not isinstance(v, Tensor) and not _is_tensor_like(v)


def _wrap(fn, name: str, arg: str, method: bool):
    # the second argument: ``other`` of the function, the first after ``self`` of a method
    # (torch counts a method's arguments after self)
    return _checked(fn, name, 1, arg, 1 if method else 2, _not_tensor, "Tensor")


def _wrap_typed(fn, name: str, i: int, arg: str, kind: str, method: bool):
    return _checked(fn, name, i, arg, i if method else i + 1, lambda v: _bad(v, kind), kind)


def _install_one(T, namespace: dict, name: str, make) -> None:
    if T is not None:
        fn = T.__dict__.get(name)
        if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
            setattr(T, name, make(fn, True))
    fn = namespace.get(name)
    if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
        namespace[name] = make(fn, False)


def install(T: type | None, namespace: dict) -> None:
    """Wrap the functions in ``namespace`` (the ``ctorch`` module's globals, or
    ``ctorch.nn.functional``'s with ``T`` None) and the Tensor methods named in the tables
    (with their in-place forms where they take the same arguments)."""
    for base, arg in _TENSOR_SECOND.items():
        for name in (base, base + "_"):
            _install_one(T, namespace, name, lambda f, m, n=name, a=arg: _wrap(f, n, a, m))
    for name, (i, arg, kind) in _TYPED.items():
        if i == 0:  # a factory: no method form
            _install_one(
                None,
                namespace,
                name,
                lambda f, m, n=name, a=arg, k=kind: _wrap_typed(f, n, 0, a, k, m),
            )
            continue
        for nm in (
            (name, name + "_") if name in ("tril", "triu", "mvlgamma", "nan_to_num") else (name,)
        ):
            _install_one(
                T,
                namespace,
                nm,
                lambda f, m, n=nm, i=i, a=arg, k=kind: _wrap_typed(f, n, i, a, k, m),
            )
    for name, arg in _SEQUENCE_SECOND.items():
        fn = namespace.get(name)
        if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
            namespace[name] = _wrap_sequence(fn, name, arg)
