"""Elementwise ops on a number's representation: ``frexp``, ``ldexp``, ``nextafter``,
``heaviside``, ``gcd``, ``lcm``, ``bitwise_left_shift``/``bitwise_right_shift``
(``copysign`` is a row of the op table, ``_table/elementwise.def``).

Why these are not rows of the op table: its rows are float ops that promote integers to the
default float dtype, are differentiable and have a NumPy ufunc for any float operands. These
differ: gcd, lcm and the shifts are integer-only, nextafter is float-only without promotion
(and has no gradient in torch), heaviside requires equal dtypes (no gradient either), frexp
returns two tensors, and ldexp is torch's own composition ``input * 2 ** other`` (NumPy's
ldexp takes integer exponents only). None is on a training hot path: NumPy/CuPy ufuncs here.
"""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import fp_quiet, xp_of
from .._tensor import Tensor
from ..autograd.function import Function
from ._util import as_tensor_arg, check_same_device, return_type, with_out
from .binary import _scalar_name

_wrap = Tensor._make


def _operands(name: str, input, other):
    """Both operands as tensors (a Python number takes the other's device) and torch's result
    dtype of the pair."""
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        raise TypeError(f"{name}(): expected at least one Tensor argument")
    if not isinstance(input, Tensor):
        dt = D.result_type(other, input)
        input = as_tensor_arg(input, other, name)
    else:
        dt = D.result_type(input, other)
        other = as_tensor_arg(other, input, name)
    check_same_device(name, input, other)
    return input, other, D.to_numpy_dtype(dt)


def _not_implemented(name: str, dt) -> NotImplementedError:
    return NotImplementedError(f"\"{name}\" not implemented for '{_scalar_name(dt)}'")


# ------------------------------------------------------------------ integer-only
def _int_binary(name: str, kernel: str, input, other, fn, out):
    x, y, dt = _operands(name, input, other)
    if dt.kind not in "iu":
        raise _not_implemented(kernel, dt)
    xp = xp_of(x._a)
    return with_out(_wrap(xp.asarray(fn(xp, x._a.astype(dt), y._a.astype(dt)), dtype=dt)), out)


def gcd(input, other, *, out=None) -> Tensor:
    """``torch.gcd``: the greatest common divisor (non-negative; gcd(0, 0) = 0)."""
    return _int_binary("gcd", "gcd_cpu", input, other, lambda xp, a, b: xp.gcd(a, b), out)


def lcm(input, other, *, out=None) -> Tensor:
    """``torch.lcm``: the least common multiple (non-negative; 0 when either is 0)."""
    return _int_binary("lcm", "lcm_cpu", input, other, lambda xp, a, b: xp.lcm(a, b), out)


def _shift(xp, a, b, left: bool):
    # torch: a shift by a negative amount or by the bit width or more gives 0 to the left, and
    # the sign fill (a >> width-1) to the right; C (and NumPy) leave those undefined
    width = a.dtype.itemsize * 8
    bad = (b < 0) | (b >= width)
    if left:
        return xp.where(bad, 0, xp.left_shift(a, xp.where(bad, 0, b).astype(a.dtype)))
    if a.dtype.kind == "u":  # no sign to fill: 0 (uint8 200 >> 9 was 200 >> 7 = 1)
        return xp.where(bad, 0, xp.right_shift(a, xp.where(bad, 0, b).astype(a.dtype)))
    amount = xp.where(bad, width - 1, b).astype(a.dtype)
    return xp.right_shift(a, amount)


def _shift_op(name: str, kernel: str, left: bool, input, other, out):
    return _int_binary(name, kernel, input, other, lambda xp, a, b: _shift(xp, a, b, left), out)


def bitwise_left_shift(input, other, *, out=None) -> Tensor:
    """``torch.bitwise_left_shift`` (``<<``): integers only."""
    return _shift_op("bitwise_left_shift", "lshift_cpu", True, input, other, out)


def bitwise_right_shift(input, other, *, out=None) -> Tensor:
    """``torch.bitwise_right_shift`` (``>>``): integers only, arithmetic for signed types."""
    return _shift_op("bitwise_right_shift", "rshift_cpu", False, input, other, out)


# ------------------------------------------------------------------ float-only, not differentiable
def nextafter(input, other, *, out=None) -> Tensor:
    """``torch.nextafter``: the next representable value after ``input`` towards ``other``."""
    x, y, dt = _operands("nextafter", input, other)
    if dt.kind not in "fV":
        raise _not_implemented("nextafter_cpu", dt)
    xp = xp_of(x._a)
    a, b = x._a.astype(dt), y._a.astype(dt)
    r = xp.nextafter(a, b) if dt.kind == "f" else _nextafter_bits(xp, a, b)
    return with_out(_wrap(xp.asarray(r)), out)


def _nextafter_bits(xp, a, b):
    """nextafter for bfloat16 (no NumPy loop): one step of the 16-bit pattern away from or
    towards 0; from 0 the smallest subnormal with b's sign; NaN in, NaN out."""
    u = a.view(np.uint16).astype(np.int32)
    away = (b > a) == (a > 0)  # moving away from 0 grows the magnitude bits
    step = xp.where(away, u + 1, u - 1)
    tiny = xp.where(xp.signbit(b.astype(np.float32)), 0x8001, 0x0001)
    bits = xp.where(a == 0, tiny, step).astype(np.uint16).view(a.dtype)
    nan = xp.isnan(a) | xp.isnan(b)
    return xp.where(nan, a + b, xp.where(a == b, b, bits))


def heaviside(input, values, *, out=None) -> Tensor:
    """``torch.heaviside``: 0 for negative ``input``, 1 for positive, ``values`` where it is 0
    (NaN counts as not positive: 0, as torch's ``x == 0 ? v : x > 0``)."""
    x, v, dt = _operands("heaviside", input, values)
    if x._a.dtype != v._a.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")
    if dt.kind == "c":
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    xp = xp_of(x._a)
    a, b = x._a, v._a
    r = xp.where(a == 0, b, (a > 0).astype(dt))
    return with_out(_wrap(xp.asarray(r, dtype=dt)), out)


# ------------------------------------------------------------------ differentiable
def ldexp(input, other, *, out=None) -> Tensor:
    """``torch.ldexp``: ``input * 2 ** other`` (torch's own definition; differentiable)."""
    x, y, _dt = _operands("ldexp", input, other)
    if y._a.dtype.kind in "biu":
        # an integer exponent: x * 2 ** y taken in float64 (2 ** y exact up to 2 ** 1023) and
        # rounded once to x's float dtype (the default one for an integer x), as C's ldexp:
        # -0.0 * 2 ** 200 stays -0.0 in float32, float64 * 2 ** 200 is finite (2 ** y in
        # float32 made them NaN and -inf)
        keep = x.is_floating_point() or x.is_complex()
        wide = x.to(D.complex128 if x.is_complex() else D.float64)
        r = (wide * (2.0 ** y.to(D.float64))).to(x.dtype if keep else D.get_default_dtype())
    else:
        r = x * (2.0**y)
    return with_out(r, out)


class _Frexp(Function):
    _node_name = "FrexpBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._a
        xp = xp_of(a)
        if a.dtype.kind == "V":  # bfloat16: through float32 (exact: mantissa bits fit)
            m, e = xp.frexp(a.astype(np.float32))
            m = m.astype(a.dtype)
        else:
            m, e = xp.frexp(a)
        e = e.astype(np.int32)
        ctx.scale = fp_quiet(
            xp.ldexp, xp.ones((), a.dtype if a.dtype.kind == "f" else np.float32), -e
        )
        ei = _wrap(e)
        ctx.mark_non_differentiable(ei)
        return _wrap(m), ei

    @staticmethod
    def backward(ctx, g, _ge):
        return g * _wrap(ctx.scale.astype(g._a.dtype))  # d mantissa / dx = 2 ** -exponent


frexp_result = return_type("frexp", ("mantissa", "exponent"))


def frexp(input: Tensor, *, out=None):
    """``torch.frexp``: ``input = mantissa * 2 ** exponent`` with |mantissa| in [0.5, 1)."""
    if input._a.dtype.kind not in "fV":
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    m, e = _Frexp.apply(input)
    if out is not None:
        m, e = with_out(m, out[0]), with_out(e, out[1])
    return frexp_result(m, e)
