"""``torch._foreach_*``: one op over a list of tensors, as real optimizers call them.

Each is a loop over the list calling the single-tensor op (so autograd, dtypes and devices
behave exactly as that op's do). The overloads follow torch's:

* binary (``add``/``sub``/``mul``/``div``/``maximum``/``minimum``/``pow``/``clamp_min``/
  ``clamp_max``): ``(tensors, scalar)``, ``(tensors, [scalars])``, ``(tensors, tensors)``
  (``alpha=`` for add/sub), and ``(tensors, 0-d tensor)`` for add/sub/mul/div;
* ternary ``addcmul``/``addcdiv``: ``value=`` a scalar, a list of scalars, or a 1-D tensor of
  them; ``lerp``: ``weight`` a scalar, a list of tensors, or a list of scalars;
* unary (``sqrt``, ``neg``, ``exp``, ...), ``norm`` (one 0-d tensor per input),
  ``zero_`` and ``copy_`` (in place only).

Out-of-place forms return a tuple of new tensors; names ending in ``_`` modify the first list's
tensors in place and return them in a list: both as torch 2.13's do. ``_foreach_pow`` also takes
``(scalar, tensors)``.
"""

from __future__ import annotations

import numbers
from collections.abc import Callable, Sequence
from typing import Any

from ._tensor import Tensor

__all__: list[str] = []  # filled below; ctorch/__init__.py re-exports them


def _check_lists(op: str, *lists: Sequence[Any]) -> None:
    n = len(lists[0])
    for other in lists[1:]:
        if len(other) != n:
            raise RuntimeError(
                f"{op}: Tensor lists must have the same number of tensors, got {n} and {len(other)}"
            )


def _scalars(op: str, other: Any, n: int) -> list[Any] | None:
    """The per-tensor scalars of ``other`` when it is a list of numbers / a 1-D tensor of
    them, else None."""
    if isinstance(other, (list, tuple)) and all(isinstance(o, numbers.Number) for o in other):
        if len(other) != n:
            raise RuntimeError(
                f"{op}: Tensor list must have same number of elements as scalar list"
            )
        return list(other)
    return None


def _binary(
    name: str, method: str, fn: Callable[..., Tensor], scalar_first: Callable | None = None
) -> tuple[Callable, Callable]:
    op = f"_foreach_{name}"

    def _pairs(self: Sequence[Tensor], other: Any) -> list[Any]:
        n = len(self)
        sc = _scalars(op, other, n)
        if sc is not None:
            return sc
        if isinstance(other, (list, tuple)):
            _check_lists(op, self, other)
            return list(other)
        return [other] * n

    def out_of_place(self: Any, other: Any, **kw: Any) -> tuple[Tensor, ...]:
        if scalar_first is not None and isinstance(self, numbers.Number):
            return tuple(scalar_first(self, t) for t in other)  # (scalar, tensors) overload
        return tuple(fn(t, o, **kw) for t, o in zip(self, _pairs(self, other), strict=True))

    def in_place(self: Sequence[Tensor], other: Any, **kw: Any) -> list[Tensor]:
        for t, o in zip(self, _pairs(self, other), strict=True):
            if method:
                getattr(t, method)(o, **kw)
            else:
                t.copy_(fn(t, o, **kw))
        return list(self)

    out_of_place.__name__, in_place.__name__ = op, op + "_"
    out_of_place.__qualname__, in_place.__qualname__ = op, op + "_"
    return out_of_place, in_place


def _unary(name: str) -> tuple[Callable, Callable]:
    op = f"_foreach_{name}"

    def out_of_place(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
        return tuple(getattr(t, name)() for t in self)

    def in_place(self: Sequence[Tensor]) -> list[Tensor]:
        for t in self:
            getattr(t, name + "_")()
        return list(self)

    out_of_place.__name__, in_place.__name__ = op, op + "_"
    out_of_place.__qualname__, in_place.__qualname__ = op, op + "_"
    return out_of_place, in_place


def _values(op: str, value: Any, n: int) -> list[Any]:
    if isinstance(value, Tensor):
        if value._a.ndim != 1 or value._a.shape[0] != n:
            raise RuntimeError(
                f"{op}: scalars tensor must be 1-D with one element per tensor, got shape "
                f"{list(value._a.shape)}"
            )
        return value.tolist()
    sc = _scalars(op, value, n)
    return sc if sc is not None else [value] * n


def _ternary(name: str) -> tuple[Callable, Callable]:
    from .ops import pointwise_extra as P

    op = f"_foreach_{name}"
    fn, fn_ = getattr(P, name), getattr(P, name + "_")

    def out_of_place(
        self: Sequence[Tensor],
        tensor1: Sequence[Tensor],
        tensor2: Sequence[Tensor],
        value: Any = 1,
    ) -> tuple[Tensor, ...]:
        _check_lists(op, self, tensor1, tensor2)
        vs = _values(op, value, len(self))
        return tuple(
            fn(t, a, b, value=v) for t, a, b, v in zip(self, tensor1, tensor2, vs, strict=True)
        )

    def in_place(
        self: Sequence[Tensor],
        tensor1: Sequence[Tensor],
        tensor2: Sequence[Tensor],
        value: Any = 1,
    ) -> list[Tensor]:
        _check_lists(op, self, tensor1, tensor2)
        vs = _values(op, value, len(self))
        for t, a, b, v in zip(self, tensor1, tensor2, vs, strict=True):
            fn_(t, a, b, value=v)
        return list(self)

    out_of_place.__name__, in_place.__name__ = op, op + "_"
    out_of_place.__qualname__, in_place.__qualname__ = op, op + "_"
    return out_of_place, in_place


def _export(name: str, pair: tuple[Callable, Callable]) -> None:
    g = globals()
    g[f"_foreach_{name}"], g[f"_foreach_{name}_"] = pair
    __all__.extend([f"_foreach_{name}", f"_foreach_{name}_"])


def _scalar_or(on_scalar: Callable, on_tensor: Callable) -> Callable:
    def fn(t: Tensor, o: Any) -> Tensor:
        return on_scalar(t, o) if isinstance(o, numbers.Number) else on_tensor(t, o)

    return fn


def _build() -> None:
    from .ops import arithmetic as A
    from .ops import compare as CMP
    from .ops import division as DV

    _export("add", _binary("add", "add_", A.add))
    _export("sub", _binary("sub", "sub_", A.sub))
    _export("mul", _binary("mul", "mul_", A.mul))
    _export("div", _binary("div", "div_", DV.div))
    _export("pow", _binary("pow", "pow_", A.pow, scalar_first=A.pow))
    # with a scalar, torch's _foreach_maximum/minimum clamp
    _export("maximum", _binary("maximum", "", _scalar_or(CMP.clamp_min, A.maximum)))
    _export("minimum", _binary("minimum", "", _scalar_or(CMP.clamp_max, A.minimum)))
    _export("clamp_min", _binary("clamp_min", "", CMP.clamp_min))
    _export("clamp_max", _binary("clamp_max", "", CMP.clamp_max))
    for name in (
        "sqrt",
        "neg",
        "exp",
        "abs",
        "log",
        "sign",
        "sigmoid",
        "reciprocal",
        "sin",
        "cos",
        "tanh",
        "log1p",
        "expm1",
        "ceil",
        "floor",
        "round",
        "trunc",
        "frac",
        "rsqrt",
        "erf",
    ):
        _export(name, _unary(name))
    _export("addcmul", _ternary("addcmul"))
    _export("addcdiv", _ternary("addcdiv"))


_build()


def _foreach_lerp(
    self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any
) -> tuple[Tensor, ...]:
    """``[lerp(s, e, w) ...]``; ``weight``: a scalar, a list of tensors or of scalars."""
    from .ops.pointwise_extra import lerp

    _check_lists("_foreach_lerp", self, tensors1)
    ws = weight if isinstance(weight, (list, tuple)) else [weight] * len(self)
    _check_lists("_foreach_lerp", self, ws)
    return tuple(lerp(s, e, w) for s, e, w in zip(self, tensors1, ws, strict=True))


def _foreach_lerp_(self: Sequence[Tensor], tensors1: Sequence[Tensor], weight: Any) -> list[Tensor]:
    from .ops.pointwise_extra import lerp_

    _check_lists("_foreach_lerp_", self, tensors1)
    ws = weight if isinstance(weight, (list, tuple)) else [weight] * len(self)
    _check_lists("_foreach_lerp_", self, ws)
    for s, e, w in zip(self, tensors1, ws, strict=True):
        lerp_(s, e, w)
    return list(self)


def _foreach_norm(
    self: Sequence[Tensor],
    ord: float = 2,  # noqa: A002 - torch's name
    dtype: Any = None,
) -> tuple[Tensor, ...]:
    """One 0-d tensor per input: its ``ord``-norm over all elements."""
    from .ops.reduction import norm

    return tuple(norm(t if dtype is None else t.to(dtype), ord) for t in self)


def _foreach_max(self: Sequence[Tensor]) -> tuple[Tensor, ...]:
    """One 0-d tensor per input: its largest element."""
    return tuple(t.max() for t in self)


def _foreach_zero_(self: Sequence[Tensor]) -> list[Tensor]:
    for t in self:
        t.zero_()
    return list(self)


def _foreach_copy_(
    self: Sequence[Tensor], src: Sequence[Tensor], non_blocking: bool = False
) -> list[Tensor]:
    _check_lists("_foreach_copy_", self, src)
    for t, s in zip(self, src, strict=True):
        t.copy_(s)
    return list(self)


__all__ += [
    "_foreach_lerp",
    "_foreach_lerp_",
    "_foreach_norm",
    "_foreach_max",
    "_foreach_zero_",
    "_foreach_copy_",
]
