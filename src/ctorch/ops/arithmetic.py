"""Binary arithmetic: add, sub, mul, pow, maximum/minimum and their in-place forms (division
is ``division.py``). The array-level machinery (promotion, kernels, ``out=``) is in
``binary.py``; comparisons, where and clamp in ``compare.py``; the autograd side of in-place
writes in ``autograd/inplace.py``."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._core import _smallops
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function, saved_names
from ..autograd.grad_mode import state
from ..autograd.inplace import _can_cast, check_writable, inplace
from ._util import as_tensor_arg, check_same_device, named
from ._util import conj_if_complex as _cj
from .binary import (  # noqa: F401 - the op codes are part of this module's interface
    ADD,
    DIV,
    MAX,
    MIN,
    MUL,
    POW,
    SUB,
    _g,
    _lhs,
    _meta,
    _needs_graph,
    _operand,
    _other,
    _out,
    _res_dtype,
    binary_arrays,
    keep_first_on_ties,
)
from .compare import where
from .division import div

_wrap = Tensor._make
_nd = np.ndarray


class Add(Function):
    _node_name = "AddBackward0"
    _edge_pos = (0, 1)  # (a number operand is a wrapped tensor in torch)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_ = (a._a.shape, a._a.dtype) if isinstance(a, Tensor) else None
        ctx.b_ = (b._a.shape, b._a.dtype) if isinstance(b, Tensor) else None
        return _wrap(binary_arrays(ADD, a, b))

    @staticmethod
    def backward(ctx, g):
        return _g(g, ctx.a_, ctx.needs_input_grad[0]), _g(g, ctx.b_, ctx.needs_input_grad[1])


class Sub(Function):
    _node_name = "SubBackward0"
    _edge_pos = (0, 1)  # (a number operand is a wrapped tensor in torch)

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        return _wrap(binary_arrays(SUB, a, b))

    @staticmethod
    def backward(ctx, g):
        gb = None
        if ctx.needs_input_grad[1]:
            gb = _g(-g, ctx.b_, True)
        return _g(g, ctx.a_, ctx.needs_input_grad[0]), gb


class Mul(Function):
    _node_name = "MulBackward0"
    _edge_pos = (0, 1)  # (a number operand is a wrapped tensor in torch)

    @staticmethod
    def forward(ctx, a, b):
        ta = isinstance(a, Tensor)
        tb = isinstance(b, Tensor)
        ctx.a_ = (a._a.shape, a._a.dtype) if ta else None
        ctx.b_ = (b._a.shape, b._a.dtype) if tb else None
        need = ctx.needs_input_grad
        ctx.save_for_backward(a if need[1] else None, b if need[0] and tb else None)
        if not tb:
            ctx.scalar_b = b
        return _wrap(binary_arrays(MUL, a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _g(g * _cj(b if b is not None else ctx.scalar_b), ctx.a_, True)
        if ctx.needs_input_grad[1]:
            gb = _g(g * _cj(a), ctx.b_, True)
        return ga, gb


# torch's MulBackward0 always saves an operand (``x * 2`` saves the wrapped 2), so a second
# backward through it without retain_graph is refused even when ctorch saved no tensor
Mul._backward_cls._holds_data = True


class RSub(Function):
    _node_name = "RsubBackward1"

    @staticmethod
    def forward(ctx, a, s):
        return _wrap(binary_arrays(SUB, a, s, reverse=True))

    @staticmethod
    def backward(ctx, g):
        return -g, None


class Pow(Function):
    _node_name = "PowBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        out = _wrap(binary_arrays(POW, a, b))
        if isinstance(b, Tensor):
            ctx.save_for_backward(a, b, out)
        else:
            ctx.expo = b
            ctx.save_for_backward(a, None, None)
        return out

    @staticmethod
    def backward(ctx, g):
        a, b, out = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            if b is None:
                e = ctx.expo
                if e == 0:
                    ga = g.new_zeros(g.shape)  # torch's zeros, also for an inf or NaN g
                elif e == 1:
                    ga = g
                elif e == 2:
                    ga = g * _cj(a * 2.0)
                else:
                    ga = g * _cj(e * a ** (e - 1))
            else:
                ga = where(b == 0, 0.0, g * _cj(b * a ** (b - 1)))
            ga = _g(ga, ctx.a_, True)
        if ctx.needs_input_grad[1]:
            # torch's grad * where(...): the product outside, so an inf g gives NaN there
            if out.is_complex():  # torch: no ordering on complex; 0 ** b has grad 0 for b == 0
                gb = _g(g * where(a == 0, 0.0, _cj(out * a.log())), ctx.b_, True)
            else:
                gb = _g(g * where((a == 0) & (b >= 0), 0.0, out * a.log()), ctx.b_, True)
        return ga, gb


class _PowTensor(Pow):  # tensor ** tensor: torch's name for that overload's node
    _node_name = "PowBackward1"


# torch's ``grad_fn._saved_*`` attributes of these nodes
saved_names(Mul, self=0, other=(1, "scalar_b", True))
saved_names(Pow, self=0, exponent=(1, "expo"))
saved_names(_PowTensor, self=0, exponent=1, result=2)


class RPow(Function):
    """scalar ** tensor"""

    _node_name = "PowBackward2"

    @staticmethod
    def forward(ctx, a, s):
        out = _wrap(binary_arrays(POW, a, s, reverse=True))
        ctx.s = s
        ctx.save_for_backward(out)
        return out

    @staticmethod
    def backward(ctx, g):
        (out,) = ctx.saved_tensors
        import math

        if ctx.s == 0:
            return g * 0.0, None
        if isinstance(ctx.s, complex) or out.is_complex():
            import cmath

            return g * _cj(out * cmath.log(ctx.s)), None
        return g * out * math.log(ctx.s), None


class MaxMin(Function):
    _node_name = "MaximumBackward0"

    @staticmethod
    def forward(ctx, a, b, op):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        ctx.op = op
        ctx.save_for_backward(a, b)
        return _wrap(binary_arrays(op, a, b))

    @staticmethod
    def backward(ctx, g):
        # torch's: where(a == b, g / 2, g), zeroed (not multiplied by 0: an inf or NaN g
        # stays out of the losing side) where that side loses; a NaN pair gives both g
        a, b = ctx.saved_tensors
        half = where(a == b, g * 0.5, g)
        gt, lt = a > b, a < b
        lose_a, lose_b = (lt, gt) if ctx.op == MAX else (gt, lt)
        ga = _g(where(lose_a, 0.0, half), ctx.a_, ctx.needs_input_grad[0])
        gb = _g(where(lose_b, 0.0, half), ctx.b_, ctx.needs_input_grad[1])
        return ga, gb, None


class _Minimum(MaxMin):
    _node_name = "MinimumBackward0"


# ------------------------------------------------------------------ public functions
def add(input, other, *, alpha=1, out=None):
    if type(input) is Tensor and out is None and alpha == 1:
        to = type(other)
        if to is Tensor and type(other._a) is type(input._a):
            if state.enabled and (input._rg or other._rg):
                return Add.apply(input, other)
            return _wrap(binary_arrays(ADD, input, other))
        if to is float or to is int:
            if state.enabled and input._rg:
                return Add.apply(input, other)
            return _wrap(binary_arrays(ADD, input, other))
    a, b = _lhs(input, other, "add")
    if alpha != 1:
        b = mul(b, alpha) if isinstance(b, Tensor) else b * alpha
    if out is not None:
        return _out(out, add(a, b))
    if _needs_graph(a, b):
        return Add.apply(a, b)
    return _wrap(binary_arrays(ADD, a, b))


def _refuse_bool_sub(a, b) -> None:
    """torch has no bool subtraction: not with two bool operands (tensors or Python bools;
    NumPy would raise a TypeError of its own), and not with one bool operand either (NumPy
    would compute it in int64)."""
    ab = isinstance(a, Tensor) and a._a.dtype.kind == "b"
    bb = type(b) is bool or (isinstance(b, Tensor) and b._a.dtype.kind == "b")
    if ab and bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` "
            "or `logical_xor()` operator instead."
        )
    if ab or bb:
        raise RuntimeError(
            "Subtraction, the `-` operator, with a bool tensor is not supported. If you are "
            "trying to invert a mask, use the `~` or `logical_not()` operator instead."
        )


def sub(input, other, *, alpha=1, out=None):
    a, b = _lhs(input, other, "sub")
    _refuse_bool_sub(a, b)
    if alpha != 1:
        b = mul(b, alpha) if isinstance(b, Tensor) else b * alpha
    if out is not None:
        return _out(out, sub(a, b))
    if _needs_graph(a, b):
        return Sub.apply(a, b)
    return _wrap(binary_arrays(SUB, a, b))


subtract = sub


def rsub(input, other, *, alpha=1):
    return sub(other, input, alpha=alpha)


def mul(input, other, *, out=None):
    if type(input) is Tensor and out is None:
        to = type(other)
        if to is Tensor and type(other._a) is type(input._a):
            if state.enabled and (input._rg or other._rg):
                return Mul.apply(input, other)
            return _wrap(binary_arrays(MUL, input, other))
        if to is float or to is int:
            if state.enabled and input._rg:
                return Mul.apply(input, other)
            return _wrap(binary_arrays(MUL, input, other))
    a, b = _lhs(input, other, "mul")
    if out is not None:
        return _out(out, mul(a, b))
    if _needs_graph(a, b):
        return Mul.apply(a, b)
    return _wrap(binary_arrays(MUL, a, b))


multiply = mul


def pow(input, exponent, *, out=None):
    if not isinstance(input, Tensor):
        base = input
        e = as_tensor_arg(exponent, None, "pow")
        if not isinstance(base, (int, float, bool)):
            base = as_tensor_arg(base, e, "pow")
            return pow(base, e)
        if state.enabled and e._rg:
            return RPow.apply(e, base)
        return _wrap(binary_arrays(POW, e, base, reverse=True))
    if (
        type(exponent) is int
        and exponent == 2
        and out is None
        and type(input) is Tensor
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
    ):  # x ** 2 of a small float array: x * x (exactly rounded both ways), one compiled call
        r = _smallops.binary(MUL, input._a, input._a)
        if r is not None:
            return _wrap(r)
    a, b = _lhs(input, exponent, "pow")
    if _needs_graph(a, b):
        r = (_PowTensor if isinstance(b, Tensor) else Pow).apply(a, b)
    else:
        if not isinstance(b, Tensor) and a._a.dtype.kind in "iu" and isinstance(b, int) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        r = _wrap(binary_arrays(POW, a, b))
    return _out(out, r) if out is not None else r


def float_power(input, exponent):
    # torch computes in double precision: complex128 when either operand is complex
    cplx = any(
        isinstance(v, complex) or (isinstance(v, Tensor) and v._a.dtype.kind == "c")
        for v in (input, exponent)
    )
    dt = D.complex128 if cplx else D.float64
    a = input.to(dt) if isinstance(input, Tensor) else input
    e = exponent.to(dt) if isinstance(exponent, Tensor) else exponent
    return pow(a, e)


def _refuse_complex(name: str, a: Tensor, b: Tensor) -> None:
    """torch has no ordering of complex numbers for maximum/minimum/fmax/fmin."""
    if a._a.dtype.kind == "c" or b._a.dtype.kind == "c":
        raise RuntimeError(f"{name} not implemented for complex tensors.")


def _extremum(name: str, fn_cls, op: int):
    """``maximum``/``minimum``: the elementwise extreme (``op``, NaN propagating) of a tensor
    and a tensor or scalar on its device; the ``fn_cls`` node when a gradient is needed."""

    def extremum(input, other, *, out=None):
        if out is not None:
            return _out(out, extremum(input, other))
        a, b = _lhs(input, other, name)
        if not isinstance(b, Tensor):
            b = as_tensor_arg(b, a, name)
        check_same_device(name, a, b)
        _refuse_complex(name, a, b)
        if _needs_graph(a, b):
            return fn_cls.apply(a, b, op)
        return _wrap(binary_arrays(op, a, b))

    return named(extremum, name)


maximum = _extremum("maximum", MaxMin, MAX)
minimum = _extremum("minimum", _Minimum, MIN)


def fmax(input, other, *, out=None):
    if out is not None:
        return _out(out, fmax(input, other))
    a, b = _lhs(input, other, "fmax")
    return _fm(a, b, "fmax")


def fmin(input, other, *, out=None):
    if out is not None:
        return _out(out, fmin(input, other))
    a, b = _lhs(input, other, "fmin")
    return _fm(a, b, "fmin")


def _fm(a, b, name):
    b = as_tensor_arg(b, a, name)
    _refuse_complex(name, a, b)
    xp = xp_of(a._a)
    dt = _res_dtype(a, b)
    if state.enabled and (a._rg or b._rg):
        # differentiable: torch's gradient goes to ``a`` where a >= b (fmin: <=) or b is NaN
        import ctorch

        aa, ba = _operand(a, dt), _operand(b, dt)
        with np.errstate(invalid="ignore"):
            keep = (aa >= ba if name == "fmax" else aa <= ba) | xp.isnan(ba)
        return ctorch.where(_wrap(keep), a.to(D.from_numpy_dtype(dt)), b.to(D.from_numpy_dtype(dt)))
    p, q = _operand(a, dt), _operand(b, dt)
    r = getattr(xp, name)(p, q)
    keep_first_on_ties(xp, r, p, q)
    return _wrap(r)


def binary_inplace(self: Tensor, op: int, other, name: str):
    """Fast in-place binary op without autograd (``self op= other``)."""
    if isinstance(other, Tensor):
        check_same_device(name, self, other)
    if state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg)):
        fn = {ADD: add, SUB: sub, MUL: mul, DIV: div, POW: pow}[op]
        return inplace(self, name, lambda: fn(self, other), other)
    check_writable(self, name)
    o = _other(other, self, name)
    if op == SUB:
        _refuse_bool_sub(self, o)
    dt = _res_dtype(self, o)
    if op == DIV and dt.kind in "biu":
        dt = D.to_numpy_dtype(D.get_default_dtype())
    sa = self._a
    if not _can_cast(dt, sa.dtype):
        raise RuntimeError(
            f"{name}: result type {D.from_numpy_dtype(dt)} can't be cast to the desired output "
            f"type {self.dtype}"
        )
    if dt == sa.dtype and sa.flags.c_contiguous:
        binary_arrays(op, self, o, out=sa) if not _out_broadcasts(sa, o) else _bad_inplace(
            name, sa, o
        )
    else:
        r = binary_arrays(op, self, o)
        if r.shape != sa.shape and np.broadcast_shapes(r.shape, sa.shape) != sa.shape:
            _bad_inplace(name, sa, o)
        xp_of(sa).copyto(sa, r, casting="unsafe")
    self._vref[0] += 1
    return self


def _out_broadcasts(sa, o):
    if not isinstance(o, Tensor):
        return False
    try:
        return np.broadcast_shapes(sa.shape, o._a.shape) != sa.shape
    except ValueError:
        return True


def _bad_inplace(name, sa, o):
    raise RuntimeError(
        f"{name}: output with shape {list(sa.shape)} doesn't match the broadcast shape "
        f"{list(np.broadcast_shapes(sa.shape, o._a.shape)) if _bc_ok(sa, o) else list(o._a.shape)}"
    )


def _bc_ok(sa, o):
    try:
        np.broadcast_shapes(sa.shape, o._a.shape)
        return True
    except ValueError:
        return False
