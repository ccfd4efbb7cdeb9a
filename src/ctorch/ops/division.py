"""Division: ``div`` (true division and its ``rounding_mode``s), ``floor_divide``,
``remainder`` and ``fmod``, with their autograd nodes (torch's DivBackward0/2). The array
machinery is in ``binary.py``; ``arithmetic.py`` re-exports these names."""

from __future__ import annotations

from .. import _dtype as D
from .._backend import fp_quiet, xp_of
from .._tensor import Tensor
from ..autograd.function import Function, saved_names
from ..autograd.grad_mode import no_grad as _F_no_grad
from ._util import conj_if_complex as _cj
from .binary import DIV, _g, _lhs, _meta, _needs_graph, _operand, _out, _res_dtype, binary_arrays
from .pointwise_nodes import mod_node

_wrap = Tensor._make


class Div(Function):
    _node_name = "DivBackward0"
    _edge_pos = (0, 1)  # (a number operand is a wrapped tensor in torch)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        bb = b if isinstance(b, Tensor) else None
        if bb is None:
            ctx.scalar_b = b
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, bb)
        return _wrap(binary_arrays(DIV, a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _g(g / _cj(b if b is not None else ctx.scalar_b), ctx.a_, True)
        if ctx.needs_input_grad[1]:
            # torch's order, -g * ((a / b) / b): b * b under/overflows where a / b / b does not
            gb = _g(-g * _cj((a / b) / b), ctx.b_, True)
        return ga, gb


class RDiv(Function):
    """scalar / tensor"""

    _node_name = "DivBackward0"

    @staticmethod
    def forward(ctx, a, s):
        out = _wrap(binary_arrays(DIV, a, s, reverse=True))
        ctx.s = s
        ctx.save_for_backward(a)
        return out

    @staticmethod
    def backward(ctx, g):
        (a,) = ctx.saved_tensors
        return -g * _cj((ctx.s / a) / a), None


class _RoundedDiv(Function):
    """``div(a, b, rounding_mode=...)`` with autograd: a step function, so both gradients
    are zeros, as torch's DivBackward2 (the result still requires grad)."""

    _node_name = "DivBackward2"

    @staticmethod
    def forward(ctx, a, b, r):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        return _wrap(r._a)

    @staticmethod
    def backward(ctx, g):
        z = g * 0 if ctx.needs_input_grad[0] or ctx.needs_input_grad[1] else None
        return _g(z, ctx.a_, ctx.needs_input_grad[0]), _g(z, ctx.b_, ctx.needs_input_grad[1]), None


class _FloorDivide(Function):
    """``floor_divide`` / ``//`` with autograd: torch marks the result as requiring grad
    with a node whose backward raises (floor_divide has no derivative formula there)."""

    _node_name = "NotImplemented"

    @staticmethod
    def forward(ctx, a, b, r):
        return _wrap(r._a)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError("derivative for aten::floor_divide is not implemented")


def div(input, other, *, rounding_mode=None, out=None):
    a, b = _lhs(input, other, "div")
    if rounding_mode is not None:
        if rounding_mode == "floor":
            with _F_no_grad():
                r = floor_divide(a, b)
        elif rounding_mode == "trunc":
            _int_zero_div(_res_dtype(a, b), b)
            with _F_no_grad():
                q = true_div(a, b)
                r = q.trunc() if q.is_floating_point() else q
            if not (
                a.is_floating_point()
                or (isinstance(b, Tensor) and b.is_floating_point())
                or isinstance(b, float)
            ):
                r = r.to(D.result_type(a, b))
        else:
            raise ValueError(
                f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found '{rounding_mode}'"
            )
        if _needs_graph(a, b) and r.is_floating_point():
            r = _RoundedDiv.apply(a, b, r)
        return _out(out, r) if out is not None else r
    if out is not None:
        return _out(out, true_div(a, b))
    return true_div(a, b)


def true_div(a, b):
    if _needs_graph(a, b):
        return Div.apply(a, b)
    return _wrap(binary_arrays(DIV, a, b))


divide = div
true_divide = div


def floor_divide(input, other):
    a, b = _lhs(input, other, "floor_divide")
    dt = _res_dtype(a, b)
    xa, yb = _operand(a, dt), _operand(b, dt)
    xp = xp_of(xa)
    _int_zero_div(dt, yb)
    r = _wrap(xp.asarray(fp_quiet(xp.floor_divide, xa, yb), dtype=dt))  # (inf/NaN: no warning)
    if dt.kind in "fcV" and _needs_graph(a, b):
        return _FloorDivide.apply(a, b, r)
    return r


def _int_zero_div(dt, divisor) -> None:
    """torch raises on integer division (floor_divide, remainder, fmod, trunc div) by zero;
    NumPy returns 0 with a warning."""
    if dt.kind in "iub":
        y = divisor._a if isinstance(divisor, Tensor) else divisor
        if bool((y == 0).any() if hasattr(y, "any") else y == 0):
            raise RuntimeError("ZeroDivisionError")


def _mod(name: str, input, other):
    """``remainder`` (sign of the divisor, Python's %) or ``fmod`` (sign of the dividend, C's
    fmod); with autograd one node (``ops/pointwise_nodes.py``) over the same array values."""
    a, b = _lhs(input, other, name)

    def values(a, b):
        dt = _res_dtype(a, b)
        xp = xp_of(a._a)
        _int_zero_div(dt, b)
        fn = xp.remainder if name == "remainder" else xp.fmod
        # (x mod 0 and inf mod y are NaN silently, as torch's)
        return _wrap(xp.asarray(fp_quiet(fn, _operand(a, dt), _operand(b, dt)), dtype=dt))

    if _needs_graph(a, b):
        return mod_node(name, a, b, values)
    return values(a, b)


def remainder(input, other):
    return _mod("remainder", input, other)


def fmod(input, other):
    return _mod("fmod", input, other)


# torch's ``grad_fn._saved_*`` attributes
saved_names(Div, self=0, other=(1, "scalar_b", True))
