"""Binary arithmetic, comparisons, logical ops, where/clamp, and the in-place machinery."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .. import _table
from .._tensor import Tensor
from ..autograd import function as _F
from ..autograd.function import Function
from ..autograd.grad_mode import no_grad as _F_no_grad
from ..autograd.grad_mode import state
from ._dispatch import kernels_for, xp_of
from ._util import _F32, _F64, KERNEL_MIN, as_tensor_arg, check_same_device, sum_to_shape

_wrap = Tensor._make
_nd = np.ndarray

# op codes shared with the kernels: the binary rows of ctorch/_table/elementwise.def
_BOP = _table.BINARY
_C = _table.BINARY_BY_NAME
ADD, SUB, MUL, DIV, MAX, MIN, POW = (
    _C["add"].code,
    _C["sub"].code,
    _C["mul"].code,
    _C["div"].code,
    _C["max"].code,
    _C["min"].code,
    _C["pow"].code,
)


def _bcast_pattern(xs, ys):
    """If ``ys`` broadcast to ``xs`` is one contiguous block of ``xs``'s dims (bias-style),
    return (outer, mid, inner); else None."""
    nx, ny = len(xs), len(ys)
    if ny > nx:
        return None
    ys = (1,) * (nx - ny) + tuple(ys)
    dims = [i for i in range(nx) if ys[i] != 1]
    if not dims:
        return None
    i, j = dims[0], dims[-1] + 1
    for k in range(i, j):
        if ys[k] != xs[k]:
            return None
    outer = mid = inner = 1
    for k in range(i):
        outer *= xs[k]
    for k in range(i, j):
        mid *= xs[k]
    for k in range(j, nx):
        inner *= xs[k]
    return outer, mid, inner


def _res_dtype(a, b):
    """NumPy result dtype of a binary op between Tensor/scalar operands (torch promotion)."""
    if type(b) is Tensor or isinstance(b, Tensor):
        if isinstance(a, Tensor):
            da, db = a._a.dtype, b._a.dtype
            if da == db:
                return da
        return D.to_numpy_dtype(D.result_type(a, b))
    # a is a Tensor, b a Python scalar
    da = a._a.dtype
    tb = type(b)
    if tb is float:
        return da if da.kind in "fc" else D.to_numpy_dtype(D.get_default_dtype())
    if tb is int:
        return da if da.kind != "b" else np.dtype(np.int64)
    if tb is bool:
        return da
    return D.to_numpy_dtype(D.result_type(a, b))


def _operand(x, dt):
    if isinstance(x, Tensor):
        a = x._a
        return a if a.dtype == dt else a.astype(dt)
    return x


def binary_arrays(op: int, a, b, reverse: bool = False, out=None):
    """Compute ``a op b`` (or ``b op a``) on arrays; ``a`` is a Tensor, ``b`` Tensor/scalar."""
    dt = _res_dtype(a, b)
    if dt.kind in "biu" and not _BOP[op].int_ok:
        dt = D.to_numpy_dtype(D.get_default_dtype())
    xa = _operand(a, dt)
    yb = _operand(b, dt)
    n = xa.size if not isinstance(yb, _nd) else max(xa.size, yb.size)
    if n >= KERNEL_MIN and (dt == _F32 or dt == _F64):
        k = kernels_for(xa)
        if k.has("binary") and xa.flags.c_contiguous:
            if not isinstance(yb, (np.ndarray,)) and not hasattr(yb, "shape"):
                if out is None:
                    out = xp_of(xa).empty(xa.shape, dt)
                k.binary_scalar(op, xa.reshape(-1), float(yb), out.reshape(-1), reverse)
                return out
            if yb.shape == xa.shape and yb.flags.c_contiguous:
                if out is None:
                    out = xp_of(xa).empty(xa.shape, dt)
                if reverse:
                    k.binary(op, yb.reshape(-1), xa.reshape(-1), out.reshape(-1))
                else:
                    k.binary(op, xa.reshape(-1), yb.reshape(-1), out.reshape(-1))
                return out
            if yb.flags.c_contiguous:
                pat = _bcast_pattern(xa.shape, yb.shape)
                if pat is not None and (out is None or out.shape == xa.shape):
                    if out is None:
                        out = xp_of(xa).empty(xa.shape, dt)
                    k.binary_bcast(
                        op, xa.reshape(-1), yb.reshape(-1), out.reshape(-1), *pat, reverse
                    )
                    return out
        if (
            isinstance(yb, _nd)
            and yb.size >= KERNEL_MIN
            and xa.size < yb.size
            and k.has("binary")
            and yb.flags.c_contiguous
        ):
            pat = _bcast_pattern(yb.shape, xa.shape)
            if pat is not None and xa.flags.c_contiguous and (out is None or out.shape == yb.shape):
                if out is None:
                    out = xp_of(yb).empty(yb.shape, dt)
                k.binary_bcast(
                    op, yb.reshape(-1), xa.reshape(-1), out.reshape(-1), *pat, not reverse
                )
                return out
    xp = np if type(xa) is _nd else xp_of(xa)
    uf = getattr(xp, _BOP[op].ufunc)
    try:
        if reverse:
            r = uf(yb, xa, out=out) if out is not None else uf(yb, xa)
        else:
            r = uf(xa, yb, out=out) if out is not None else uf(xa, yb)
    except ValueError as e:
        if "broadcast" in str(e):
            sb = tuple(getattr(b, "shape", ()))
            raise RuntimeError(
                f"{_BOP[op].public}: the shapes {tuple(a.shape)} and {sb} cannot be broadcast "
                "together (sizes must match or be 1 at each non-singleton dimension)"
            ) from None
        raise
    if type(r) is not _nd and xp is np:
        r = np.asarray(r, dtype=dt)
    elif r.dtype != dt:
        r = r.astype(dt)
    return r


def _shape_of(x):
    return x._a.shape if isinstance(x, Tensor) else None


def _grad_for(g, x):
    """Reduce ``g`` to x's shape and dtype (None when x is not a tensor needing grad)."""
    if not isinstance(x, Tensor):
        return None
    g = sum_to_shape(g, x._a.shape)
    if g._a.dtype != x._a.dtype and x._a.dtype.kind in "fc":
        g = g.to(x.dtype)
    return g


class Add(Function):
    _node_name = "AddBackward0"

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        return _wrap(binary_arrays(ADD, a, b))

    @staticmethod
    def backward(ctx, g):
        return _g(g, ctx.a_, ctx.needs_input_grad[0]), _g(g, ctx.b_, ctx.needs_input_grad[1])


class Sub(Function):
    _node_name = "SubBackward0"

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

    @staticmethod
    def forward(ctx, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        ctx.sa = a if isinstance(a, Tensor) else None
        ctx.sb = b if isinstance(b, Tensor) else None
        ctx.save_for_backward(
            a if ctx.needs_input_grad[1] else None,
            b if ctx.needs_input_grad[0] and isinstance(b, Tensor) else None,
        )
        if not isinstance(b, Tensor):
            ctx.scalar_b = b
        return _wrap(binary_arrays(MUL, a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        ga = gb = None
        if ctx.needs_input_grad[0]:
            ga = _g(g * (b if b is not None else ctx.scalar_b), ctx.a_, True)
        if ctx.needs_input_grad[1]:
            gb = _g(g * a, ctx.b_, True)
        return ga, gb


class Div(Function):
    _node_name = "DivBackward0"

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
            ga = _g(g / (b if b is not None else ctx.scalar_b), ctx.a_, True)
        if ctx.needs_input_grad[1]:
            # torch's order, -g * ((a / b) / b): b * b under/overflows where a / b / b does not
            gb = _g(-g * ((a / b) / b), ctx.b_, True)
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
        return -g * ((ctx.s / a) / a), None


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
                    ga = g * 0.0
                elif e == 1:
                    ga = g
                elif e == 2:
                    ga = g * a * 2.0
                else:
                    ga = g * e * a ** (e - 1)
            else:
                ga = where(b == 0, 0.0, g * b * a ** (b - 1))
            ga = _g(ga, ctx.a_, True)
        if ctx.needs_input_grad[1]:
            gb = _g(where((a == 0) & (b >= 0), 0.0, g * out * a.log()), ctx.b_, True)
        return ga, gb


class RPow(Function):
    """scalar ** tensor"""

    _node_name = "PowBackward1"

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
        return g * out * math.log(ctx.s), None


class MaxMin(Function):
    @staticmethod
    def forward(ctx, a, b, op):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        ctx.op = op
        ctx.save_for_backward(a, b)
        return _wrap(binary_arrays(op, a, b))

    @staticmethod
    def backward(ctx, g):
        a, b = ctx.saved_tensors
        win = (a > b) if ctx.op == MAX else (a < b)
        tie = a == b
        wa = where(tie, 0.5, where(win, 1.0, 0.0)).to(g.dtype)
        ga = _g(g * wa, ctx.a_, ctx.needs_input_grad[0])
        gb = _g(g * (1.0 - wa), ctx.b_, ctx.needs_input_grad[1])
        return ga, gb, None


def _meta(x):
    return (x._a.shape, x._a.dtype) if isinstance(x, Tensor) else None


def _g(g, meta, needed):
    if not needed or meta is None:
        return None
    shape, dt = meta
    g = sum_to_shape(g, shape)
    if g._a.dtype != dt and dt.kind in "fc":
        g = g.to(D.from_numpy_dtype(dt))
    return g


def _needs_graph(a, b):
    return state.enabled and (
        (isinstance(a, Tensor) and a._rg) or (isinstance(b, Tensor) and b._rg)
    )


def _other(b, a, op):
    if isinstance(b, Tensor) or type(b) in (int, float, bool):
        if isinstance(b, Tensor) and type(b._a) is not type(a._a):
            check_same_device(op, a, b)
        return b
    if isinstance(b, (np.generic,)):
        return b.item() if b.ndim == 0 else as_tensor_arg(b, a, op)
    if isinstance(b, complex):
        return b
    return as_tensor_arg(b, a, op)


# ------------------------------------------------------------------ public functions
def add(input, other, *, alpha=1, out=None):
    a, b = _lhs(input, other, "add")
    if alpha != 1:
        b = mul(b, alpha) if isinstance(b, Tensor) else b * alpha
    if out is not None:
        return _out(out, add(a, b))
    if _needs_graph(a, b):
        return Add.apply(a, b)
    return _wrap(binary_arrays(ADD, a, b))


def sub(input, other, *, alpha=1, out=None):
    a, b = _lhs(input, other, "sub")
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
    a, b = _lhs(input, other, "mul")
    if out is not None:
        return _out(out, mul(a, b))
    if _needs_graph(a, b):
        return Mul.apply(a, b)
    return _wrap(binary_arrays(MUL, a, b))


multiply = mul


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
    r = _wrap(xp.asarray(xp.floor_divide(xa, yb), dtype=dt))
    if dt.kind in "fc" and _needs_graph(a, b):
        return _FloorDivide.apply(a, b, r)
    return r


def _int_zero_div(dt, divisor) -> None:
    """torch raises on integer division (floor_divide, remainder, fmod, trunc div) by zero;
    NumPy returns 0 with a warning."""
    if dt.kind in "iub":
        y = divisor._a if isinstance(divisor, Tensor) else divisor
        if bool((y == 0).any() if hasattr(y, "any") else y == 0):
            raise RuntimeError("ZeroDivisionError")


def remainder(input, other):
    a, b = _lhs(input, other, "remainder")
    if _needs_graph(a, b):
        # d/da (a - floor(a/b)*b) = 1 ; d/db = -floor(a/b)
        return a - floor_divide(a.detach(), b.detach() if isinstance(b, Tensor) else b) * b
    dt = _res_dtype(a, b)
    xp = xp_of(a._a)
    _int_zero_div(dt, b)
    return _wrap(xp.asarray(xp.remainder(_operand(a, dt), _operand(b, dt)), dtype=dt))


def fmod(input, other):
    a, b = _lhs(input, other, "fmod")
    dt = _res_dtype(a, b)
    xp = xp_of(a._a)
    if _needs_graph(a, b):
        return a - (a.detach() / (b.detach() if isinstance(b, Tensor) else b)).trunc() * b
    _int_zero_div(dt, b)
    return _wrap(xp.asarray(xp.fmod(_operand(a, dt), _operand(b, dt)), dtype=dt))


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
    a, b = _lhs(input, exponent, "pow")
    if _needs_graph(a, b):
        r = Pow.apply(a, b)
    else:
        if not isinstance(b, Tensor) and a._a.dtype.kind in "iu" and isinstance(b, int) and b < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        r = _wrap(binary_arrays(POW, a, b))
    return _out(out, r) if out is not None else r


def float_power(input, exponent):
    a = input.to(D.float64) if isinstance(input, Tensor) else input
    e = exponent.to(D.float64) if isinstance(exponent, Tensor) else exponent
    return pow(a, e)


def maximum(input, other):
    a, b = _lhs(input, other, "maximum")
    if not isinstance(b, Tensor):
        b = as_tensor_arg(b, a, "maximum")
    check_same_device("maximum", a, b)
    if _needs_graph(a, b):
        return MaxMin.apply(a, b, MAX)
    return _wrap(binary_arrays(MAX, a, b))


def minimum(input, other):
    a, b = _lhs(input, other, "minimum")
    if not isinstance(b, Tensor):
        b = as_tensor_arg(b, a, "minimum")
    check_same_device("minimum", a, b)
    if _needs_graph(a, b):
        return MaxMin.apply(a, b, MIN)
    return _wrap(binary_arrays(MIN, a, b))


def fmax(input, other):
    a, b = _lhs(input, other, "fmax")
    return _fm(a, b, "fmax")


def fmin(input, other):
    a, b = _lhs(input, other, "fmin")
    return _fm(a, b, "fmin")


def _fm(a, b, name):
    b = as_tensor_arg(b, a, name)
    xp = xp_of(a._a)
    dt = _res_dtype(a, b)
    return _wrap(getattr(xp, name)(_operand(a, dt), _operand(b, dt)))


def _lhs(input, other, op):
    if not isinstance(input, Tensor):
        input = as_tensor_arg(input, other if isinstance(other, Tensor) else None, op)
    return input, _other(other, input, op)


def _out(out, r):
    if not isinstance(out, Tensor):
        raise TypeError("out= must be a Tensor")
    if not _can_cast(*(_float_kind(d) for d in (r._a.dtype, out._a.dtype))):
        # torch refuses float -> integer/bool, complex -> real, number -> bool (canCast)
        raise RuntimeError(
            f"result type {_scalar_name(r._a.dtype)} can't be cast to the desired output type "
            f"{_scalar_name(out._a.dtype)}"
        )
    if out._a.shape != r._a.shape:
        out._a = (
            xp_of(out._a).empty(r._a.shape, out._a.dtype)
            if out._a.size == 0
            else _resize_err(out, r)
        )
    xp_of(out._a).copyto(out._a, r._a, casting="unsafe")
    out._bump()
    return out


def _float_kind(dt):
    """bfloat16 (ml_dtypes, kind 'V') counts as floating for the cast rules."""
    return np.dtype(np.float32) if np.dtype(dt).name == "bfloat16" else np.dtype(dt)


def _scalar_name(dt) -> str:
    """torch's ScalarType name of a NumPy dtype (as in torch's error messages)."""
    names = {
        "float32": "Float",
        "float64": "Double",
        "float16": "Half",
        "int64": "Long",
        "int32": "Int",
        "int16": "Short",
        "int8": "Char",
        "uint8": "Byte",
        "bool": "Bool",
        "complex64": "ComplexFloat",
        "complex128": "ComplexDouble",
        "bfloat16": "BFloat16",
    }
    return names.get(np.dtype(dt).name, str(dt))


def _resize_err(out, r):
    raise RuntimeError(
        f"out=: the output tensor has shape {tuple(out.shape)} but the result has shape "
        f"{tuple(r.shape)}"
    )


# ------------------------------------------------------------------ comparisons & logic
_CMP = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


def _cmp(name):
    uf_name = _CMP[name]

    def f(input, other):
        a, b = _lhs(input, other, name)
        xp = xp_of(a._a)
        if isinstance(b, Tensor):
            check_same_device(name, a, b)
            dt = _res_dtype(a, b)
            x, y = _operand(a, dt), _operand(b, dt)
        else:
            x, y = a._a, b
        try:
            r = getattr(xp, uf_name)(x, y)
        except ValueError as e:
            raise RuntimeError(
                f"{name}: the shapes {tuple(a.shape)} and {tuple(getattr(b, 'shape', ()))} cannot be broadcast together"
            ) from e
        return _wrap(xp.asarray(r))

    f.__name__ = name
    return f


eq = _cmp("eq")
ne = _cmp("ne")
lt = _cmp("lt")
le = _cmp("le")
gt = _cmp("gt")
ge = _cmp("ge")
not_equal = ne
less = lt
less_equal = le
greater = gt
greater_equal = ge


def equal(input: Tensor, other: Tensor) -> bool:
    return input._a.shape == other._a.shape and bool(
        xp_of(input._a).array_equal(input._a, other._a)
    )


def _logic(name, uf):
    def f(input, other=None):
        xp = xp_of(input._a)
        if other is None:
            return _wrap(getattr(xp, uf)(input._a))
        o = other._a if isinstance(other, Tensor) else other
        return _wrap(xp.asarray(getattr(xp, uf)(input._a, o)))

    f.__name__ = name
    return f


logical_and = _logic("logical_and", "logical_and")
logical_or = _logic("logical_or", "logical_or")
logical_xor = _logic("logical_xor", "logical_xor")
logical_not = _logic("logical_not", "logical_not")


def _bitwise(name, uf):
    def f(input, other):
        a, b = _lhs(input, other, name)
        if (
            a._a.dtype.kind == "f"
            or (isinstance(b, Tensor) and b._a.dtype.kind == "f")
            or isinstance(b, float)
        ):
            raise RuntimeError(f"\"{name}_cpu\" not implemented for 'Float'")
        xp = xp_of(a._a)
        dt = _res_dtype(a, b)
        return _wrap(xp.asarray(getattr(xp, uf)(_operand(a, dt), _operand(b, dt)), dtype=dt))

    f.__name__ = name
    return f


bitwise_and = _bitwise("bitwise_and", "bitwise_and")
bitwise_or = _bitwise("bitwise_or", "bitwise_or")
bitwise_xor = _bitwise("bitwise_xor", "bitwise_xor")


def bitwise_not(input):
    xp = xp_of(input._a)
    if input._a.dtype.kind == "f":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return _wrap(xp.invert(input._a))


# ------------------------------------------------------------------ where
class Where(Function):
    _node_name = "WhereBackward0"

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        ctx.cond = cond
        dt = _res_dtype(a, b) if isinstance(a, Tensor) else _res_dtype(b, a)
        xp = xp_of(cond._a)
        try:
            r = xp.where(cond._a, _operand(a, dt), _operand(b, dt))
        except ValueError:
            raise RuntimeError(
                f"where: the shapes of condition {tuple(cond.shape)}, input "
                f"{tuple(getattr(a, 'shape', ()))} and other {tuple(getattr(b, 'shape', ()))} "
                "cannot be broadcast together"
            ) from None
        return _wrap(r.astype(dt, copy=False))

    @staticmethod
    def backward(ctx, g):
        zero = g.new_zeros(())
        ga = _g(where(ctx.cond, g, zero), ctx.a_, ctx.needs_input_grad[1]) if ctx.a_ else None
        gb = _g(where(ctx.cond, zero, g), ctx.b_, ctx.needs_input_grad[2]) if ctx.b_ else None
        return None, ga, gb


def where(condition, input=None, other=None):
    if input is None and other is None:
        from .indexing import nonzero

        return nonzero(condition, as_tuple=True)
    if not isinstance(condition, Tensor):
        condition = as_tensor_arg(condition, None, "where")
    if condition._a.dtype != np.bool_:
        condition = _wrap(condition._a.astype(bool))
    if not isinstance(input, Tensor) and not isinstance(other, Tensor):
        dt = (
            D.result_type(input, other)
            if not (isinstance(input, float) or isinstance(other, float))
            else D.get_default_dtype()
        )
        xp = xp_of(condition._a)
        return _wrap(xp.where(condition._a, input, other).astype(D.to_numpy_dtype(dt)))
    if not isinstance(input, Tensor) and not isinstance(input, (int, float, bool)):
        input = as_tensor_arg(input, other, "where")
    if not isinstance(other, Tensor) and not isinstance(other, (int, float, bool)):
        other = as_tensor_arg(other, input, "where")
    check_same_device("where", condition, input, other)
    if state.enabled and (
        (isinstance(input, Tensor) and input._rg) or (isinstance(other, Tensor) and other._rg)
    ):
        return Where.apply(condition, input, other)
    return Where.forward(_NoCtx(), condition, input, other)


class _NoCtx:
    needs_input_grad = (False, False, False)

    def save_for_backward(self, *a):
        pass


# ------------------------------------------------------------------ clamp
class Clamp(Function):
    _node_name = "ClampBackward1"

    @staticmethod
    def forward(ctx, x, lo, hi):
        ctx.save_for_backward(
            x, lo if isinstance(lo, Tensor) else None, hi if isinstance(hi, Tensor) else None
        )
        ctx.lo, ctx.hi = lo, hi
        ctx.x_, ctx.lo_, ctx.hi_ = _meta(x), _meta(lo), _meta(hi)
        return _wrap(_clamp_arr(x, lo, hi))

    @staticmethod
    def backward(ctx, g):
        x, tlo, thi = ctx.saved_tensors
        lo = tlo if tlo is not None else ctx.lo
        hi = thi if thi is not None else ctx.hi
        need = ctx.needs_input_grad
        gx = glo = ghi = None
        if need[0]:
            mask = None
            if lo is not None:
                mask = x >= lo
            if hi is not None:
                m2 = x <= hi
                mask = m2 if mask is None else mask & m2
            gx = _g(g * mask.to(g.dtype) if mask is not None else g, ctx.x_, True)
        # tensor bounds (torch's clamp_backward_min_max): min takes the gradient where x is
        # below it (and min < max), max where x is above it or max < min (max wins)
        if need[1]:
            m = x < lo
            if hi is not None:
                m = m & (lo < hi)
            glo = _g(g * m.to(g.dtype), ctx.lo_, True)
        if need[2]:
            m = x > hi
            if lo is not None:
                m = m | (hi < lo)
            ghi = _g(g * m.to(g.dtype), ctx.hi_, True)
        return gx, glo, ghi


class ClampTensor(Clamp):
    """clamp with tensor bounds (torch's clamp.Tensor, node ClampBackward0)."""

    _node_name = "ClampBackward0"


def _clamp_arr(x, lo, hi):
    a = x._a
    xp = xp_of(a)
    lo_a = lo._a if isinstance(lo, Tensor) else lo
    hi_a = hi._a if isinstance(hi, Tensor) else hi
    dt = a.dtype
    if dt.kind in "iub" and (isinstance(lo, float) or isinstance(hi, float)):
        dt = D.to_numpy_dtype(D.get_default_dtype())
        a = a.astype(dt)
    r = a
    if lo_a is not None:
        r = xp.maximum(r, lo_a)
    if hi_a is not None:
        r = xp.minimum(r, hi_a)
    if r is a:
        r = a.copy()
    return r.astype(dt, copy=False)


def clamp(input, min=None, max=None):  # noqa: A002
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if state.enabled and (
        input._rg or (isinstance(min, Tensor) and min._rg) or (isinstance(max, Tensor) and max._rg)
    ):
        fn = ClampTensor if isinstance(min, Tensor) or isinstance(max, Tensor) else Clamp
        return fn.apply(input, min, max)
    return _wrap(_clamp_arr(input, min, max))


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)


# ------------------------------------------------------------------ in-place machinery
_NO_GRAD_VIEW_MSG = (
    "A view was created in no_grad mode and {what} modified inplace with grad mode enabled. "
    "Given that this use case is ambiguous and error-prone, it is forbidden. You can clarify "
    "your code by moving both the view and the inplace either both inside the no_grad block "
    "(if you don't want the inplace to be tracked) or both outside (if you want the inplace "
    "to be tracked)."
)


def check_writable(t: Tensor, op: str) -> None:
    a = t._a
    if type(a) is _nd and not a.flags.writeable:
        if any(st == 0 and n > 1 for st, n in zip(a.strides, a.shape, strict=True)):
            # an expand()ed view (NumPy's broadcast view is read-only): torch's message
            raise RuntimeError(
                "unsupported operation: more than one element of the written-to tensor refers "
                "to a single memory location. Please clone() the tensor before performing the "
                "operation."
            )
        raise RuntimeError(
            f"{op}: cannot modify this tensor in place: its memory is a read-only NumPy array "
            "(e.g. from_numpy of a read-only array). Use .clone() first, or make the array "
            "writeable on the NumPy side."
        )
    base = t._base
    if base is not None and state.enabled and base._rg:
        fn = t.grad_fn
        if (fn is None or type(fn) is _NoGradViewBackward) and getattr(t, "_vng", False):
            raise RuntimeError(_NO_GRAD_VIEW_MSG.format(what="is being"))


def _can_cast(src: np.dtype, dst: np.dtype) -> bool:
    order = {"b": 0, "u": 1, "i": 1, "f": 2, "c": 3}
    return order[src.kind] <= order[dst.kind]


def inplace(self: Tensor, op: str, compute, other=None):
    """Run ``compute()`` (an out-of-place op returning a Tensor) and write the result into
    ``self``; with autograd, ``self`` takes the new graph node (torch's rebase)."""
    check_writable(self, op)
    graph = state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg))
    if graph and self.grad_fn is None and self._rg:
        raise RuntimeError(
            "a leaf Variable that requires grad is being used in an in-place operation."
        )
    if graph:
        nodes = []
        prev = _F.record_nodes(nodes)
        try:
            r = compute()
        finally:
            _F.record_nodes(prev)
        if nodes:
            # ops that saved ``self`` for backward must keep its pre-op values
            snap = Tensor._make(self._a.copy())
            snap._rg, snap.grad_fn, snap._output_nr = self._rg, self.grad_fn, self._output_nr
            _F.resave_input(nodes, self, snap)
    else:
        r = compute()
    ra = r._a
    if not _can_cast(ra.dtype, self._a.dtype):
        raise RuntimeError(
            f"{op}: result type {D.from_numpy_dtype(ra.dtype)} can't be cast to the desired "
            f"output type {self.dtype}"
        )
    if ra.shape != self._a.shape:
        try:
            np.broadcast_shapes(ra.shape, self._a.shape)
            ok = np.broadcast_shapes(ra.shape, self._a.shape) == self._a.shape
        except ValueError:
            ok = False
        if not ok:
            raise RuntimeError(
                f"{op}: output with shape {list(self._a.shape)} doesn't match the broadcast "
                f"shape {list(ra.shape)}"
            )
    if ra is not self._a:
        xp_of(self._a).copyto(self._a, ra, casting="unsafe")
    self._vref[0] += 1
    if graph:
        base = self._base
        if base is not None and r._rg:
            _rebase_view(self, r)
            _rebase_other_views(base, self)
        else:
            self.grad_fn = r.grad_fn
            self._output_nr = r._output_nr
            self._rg = r._rg
            if self._views and self._rg:
                _rebase_other_views(self, None)
    return self


class _CopySlices(Function):
    """An in-place op on a view: the base takes the result at the view's elements (torch's
    CopySlices). ``idx``: flat positions of the view's elements in the (contiguous) base."""

    _node_name = "CopySlices"

    @staticmethod
    def forward(ctx, base, r, idx, mask):
        ctx.idx, ctx.mask = idx, mask
        return _wrap(base._a)  # already holds the result

    @staticmethod
    def backward(ctx, g):
        gb = g * _wrap(ctx.mask) if ctx.needs_input_grad[0] else None
        gr = g.reshape(-1)[_wrap(ctx.idx)] if ctx.needs_input_grad[1] else None
        return gb, gr, None, None


class _Copy(Function):
    """``dst.copy_(src)`` with autograd (torch's CopyBackwards): the result is ``src``
    (cast, moved and broadcast to ``dst``); ``dst``'s old value gets a zero gradient, so it
    stays in the graph, as in torch."""

    _node_name = "CopyBackwards"

    @staticmethod
    def forward(ctx, dst, src):
        from .conversion import to_impl

        ctx.src_shape, ctx.src_dtype, ctx.src_device = src._a.shape, src.dtype, src.device
        return to_impl(src, dst.dtype, dst.device, False).expand(dst.shape)

    @staticmethod
    def backward(ctx, g):
        gd = gs = None
        if ctx.needs_input_grad[0]:
            gd = _wrap(xp_of(g._a).zeros_like(g._a))
        if ctx.needs_input_grad[1]:
            from .conversion import to_impl

            gs = to_impl(sum_to_shape(g, ctx.src_shape), ctx.src_dtype, ctx.src_device, False)
        return gd, gs


def _data_ptr(a) -> int:
    return a.__array_interface__["data"][0] if type(a) is _nd else a.data.ptr


def _flat_positions(ba, va):
    """Positions, in ``ba``'s C-order flattening, of the elements of ``va`` (an array over
    ``ba``'s memory), shaped like ``va``: a NumPy int64 array. Any strides, including a
    non-contiguous or flipped base. None when some element of ``va`` is not an element of
    ``ba`` (the base's memory was swapped, e.g. by ``.data =``)."""
    item = ba.itemsize
    addr = np.asarray(_data_ptr(va) - _data_ptr(ba), dtype=np.int64)
    for n, st in zip(va.shape, va.strides, strict=True):
        addr = np.add.outer(addr, np.arange(n, dtype=np.int64) * st)
    if addr.size == 0:
        return addr
    if ba.flags.c_contiguous:
        if addr.min() < 0 or addr.max() >= ba.size * item or np.any(addr % item):
            return None
        return addr // item
    baddr = np.asarray(0, dtype=np.int64)
    for n, st in zip(ba.shape, ba.strides, strict=True):
        baddr = np.add.outer(baddr, np.arange(n, dtype=np.int64) * st)
    baddr = baddr.reshape(-1)
    order = np.argsort(baddr, kind="stable")
    sorted_addr = baddr[order]
    i = np.minimum(np.searchsorted(sorted_addr, addr), sorted_addr.size - 1)
    if not np.array_equal(sorted_addr[i], addr):
        return None
    return order[i]


def _to_xp(idx, like):
    return idx if type(like) is _nd else xp_of(like).asarray(idx)


class _AsStridedView(Function):
    """A view's new history after its base (or another view of it) was modified in place:
    the view's elements read from the base's new value (torch's AsStridedBackward0). Only
    the node matters; ``forward`` wraps the view's own array."""

    _node_name = "AsStridedBackward0"

    @staticmethod
    def forward(ctx, base, va, pos=None):
        ba = base._a
        if pos is None:
            pos = _flat_positions(ba, va)
        if pos is None:
            raise RuntimeError(
                "in-place operation on a view whose memory is no longer part of its base's "
                "(the base's storage was replaced, e.g. through .data): autograd cannot "
                "route its gradient; take the view again after the replacement"
            )
        ctx.pos = _to_xp(pos.reshape(-1), ba)
        ctx.bshape, ctx.vshape = ba.shape, va.shape
        return _wrap(va)

    @staticmethod
    def backward(ctx, g):
        from .indexing import _IndexBackward

        n = 1
        for d in ctx.bshape:
            n *= d
        flat = _IndexBackward.apply(g.reshape(-1), (ctx.pos,), True, (n,))
        return flat.reshape(ctx.bshape), None, None


class _NoGradViewFn(Function):
    """grad_fn of a view taken under no_grad whose base (or another view of it) was then
    modified in place with grad mode on. torch raises when the view's grad_fn is next read;
    ctorch raises when a gradient reaches it, with torch's message."""

    _node_name = "NoGradViewBackward"

    @staticmethod
    def forward(ctx, base, va):
        return _wrap(va)

    @staticmethod
    def backward(ctx, g):
        raise RuntimeError(
            _NO_GRAD_VIEW_MSG.format(what="its base or another view of its base has been")
        )


_NoGradViewBackward = _NoGradViewFn._backward_cls


def _rebase_other_views(base: Tensor, skip) -> None:
    """After an in-place op recorded on ``base`` (or on its view ``skip``), give every other
    live view of ``base`` a grad_fn through the base's new history (torch's view rebase).
    torch does this lazily when a view's version no longer matches its grad_fn; ctorch at
    once, since ``grad_fn`` is a plain slot read on every op."""
    vs = base._views
    if not vs:
        return
    alive = []
    for ref in list(vs):
        v = ref()
        if v is None:
            continue
        alive.append(ref)
        if (
            v is skip
            or v._a.dtype != base._a.dtype
            or not (v.is_floating_point() or v.is_complex())
        ):
            continue
        fn = v.grad_fn
        if type(fn) is _NoGradViewBackward:
            continue
        if fn is None and getattr(v, "_vng", False):
            t = _NoGradViewFn.apply(base, v._a)
        else:
            pos = _flat_positions(base._a, v._a)
            if pos is None:  # the base's storage was replaced: no longer its view
                continue
            t = _AsStridedView.apply(base, v._a, pos)
        v.grad_fn, v._output_nr, v._rg = t.grad_fn, 0, True
    vs[:] = alive


def _rebase_view(view: Tensor, r: Tensor) -> None:
    base = view._base
    ba, va = base._a, view._a
    if base.grad_fn is None and base._rg:
        raise RuntimeError(
            "a view of a leaf Variable that requires grad is being used in an in-place operation."
        )
    if ba.dtype != va.dtype:
        raise RuntimeError(
            "in-place operation on a dtype-reinterpreting view (view(dtype)) of a tensor that "
            "is part of the autograd graph is not supported; apply it on a .clone()"
        )
    pos = _flat_positions(ba, va)
    if pos is None:
        raise RuntimeError(
            "in-place operation on a view whose memory is no longer part of its base's "
            "(the base's storage was replaced, e.g. through .data): autograd cannot route "
            "its gradient; take the view again after the replacement"
        )
    xp = xp_of(ba)
    mask = xp.ones(ba.shape, ba.dtype)
    idx = _to_xp(pos, ba)
    mask.reshape(-1)[idx.reshape(-1)] = 0
    nb = _CopySlices.apply(base, r, idx, mask)
    base.grad_fn, base._output_nr, base._rg = nb.grad_fn, 0, True
    vv = _AsStridedView.apply(base, va, pos)  # the view, read back from the new base
    view.grad_fn, view._output_nr, view._rg = vv.grad_fn, 0, True


def binary_inplace(self: Tensor, op: int, other, name: str):
    """Fast in-place binary op without autograd (``self op= other``)."""
    if isinstance(other, Tensor):
        check_same_device(name, self, other)
    if state.enabled and (self._rg or (isinstance(other, Tensor) and other._rg)):
        fn = {ADD: add, SUB: sub, MUL: mul, DIV: div, POW: pow}[op]
        return inplace(self, name, lambda: fn(self, other), other)
    check_writable(self, name)
    o = _other(other, self, name)
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
