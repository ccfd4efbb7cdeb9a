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
"""

from __future__ import annotations

import functools

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
}


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
        if not isinstance(v, (tuple, list)) and not hasattr(type(v), "__torch_function__"):
            raise TypeError(
                f"{name}(): argument '{arg}' (position 2) must be tuple of ints, "
                f"not {type(v).__name__}"
            )
        return fn(args[0], v, **kwargs)  # keywords torch names (shape=, dims=) as positions

    checked.__ctorch_tensor_args__ = True
    return checked


def _wrap(fn, name: str, arg: str, method: bool):
    from ._tensor import Tensor

    i = 1  # the second argument: ``other`` of the function, the first after ``self`` of a method
    pos = 1 if method else 2  # torch counts a method's arguments after self

    @functools.wraps(fn)
    def checked(*args, **kwargs):
        v = args[i] if len(args) > i else kwargs.get(arg, _NO)
        if (
            v is not _NO
            and not isinstance(v, Tensor)
            and not hasattr(type(v), "__torch_function__")
        ):
            raise TypeError(
                f"{name}(): argument '{arg}' (position {pos}) must be Tensor, "
                f"not {type(v).__name__}"
            )
        return fn(*args, **kwargs)

    checked.__ctorch_tensor_args__ = True
    return checked


def install(T: type, namespace: dict) -> None:
    """Wrap the functions in ``namespace`` (the ``ctorch`` module's globals) and the Tensor
    methods (with their in-place forms) named in ``_TENSOR_SECOND``, and the functions named
    in ``_SEQUENCE_SECOND``."""
    for base, arg in _TENSOR_SECOND.items():
        for name in (base, base + "_"):
            fn = T.__dict__.get(name)
            if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
                setattr(T, name, _wrap(fn, name, arg, method=True))
            fn = namespace.get(name)
            if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
                namespace[name] = _wrap(fn, name, arg, method=False)
    for name, arg in _SEQUENCE_SECOND.items():
        fn = namespace.get(name)
        if fn is not None and not getattr(fn, "__ctorch_tensor_args__", False):
            namespace[name] = _wrap_sequence(fn, name, arg)
