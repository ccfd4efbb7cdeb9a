"""Comparisons, logical and bitwise ops, ``where`` and ``clamp``."""

from __future__ import annotations

import numpy as np

from .. import _dtype as D
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import as_tensor_arg, check_same_device, with_out
from .binary import _g, _lhs, _meta, _operand, _out, _res_dtype

_wrap = Tensor._make
_nd = np.ndarray
_FLOATS = (np.dtype(np.float32), np.dtype(np.float64))
# NumPy's clip ufunc (np.clip is a Python wrapper around it): one pass, and torch's
# clamp on floats exactly: x stays unless a bound lies strictly beyond it (clamp(0.0,
# max=-0.0) is 0.0; np.minimum gives -0.0), NaN in x or a bound gives NaN
_uclip = (np._core if hasattr(np, "_core") else np.core).umath.clip
_INF = float("inf")
_F32_MAX, _F64_MAX = float(np.finfo(np.float32).max), float(np.finfo(np.float64).max)


# ------------------------------------------------------------------ comparisons & logic
_CMP = {
    "eq": "equal",
    "ne": "not_equal",
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
}


_ORDERED = ("lt", "le", "gt", "ge")


def _is_complex(y):
    return isinstance(y, complex) or getattr(getattr(y, "dtype", None), "kind", "") == "c"


def _complex_order_error(name, x, y):
    from .complex import scalar_name

    a = x if x.dtype.kind == "c" else np.asarray(y)
    raise RuntimeError(f"\"{name}_cpu\" not implemented for '{scalar_name(a)}'")


_CMP_FAST = (np.dtype(np.float32), np.dtype(np.float64), np.dtype(np.int64))
_I64 = 2**63


def _cmp(name):
    uf_name = _CMP[name]
    uf = getattr(np, uf_name)

    def f(input, other):
        if type(input) is Tensor:  # NumPy operands of one real dtype, or a float and a number
            xa = input._a
            if type(xa) is _nd and xa.dtype in _CMP_FAST:
                t = type(other)
                if t is Tensor:
                    ya = other._a
                    if type(ya) is _nd and ya.dtype == xa.dtype and xa.shape == ya.shape:
                        return _wrap(uf(xa, ya))
                elif t is float and xa.dtype.kind == "f":
                    return _wrap(uf(xa, other))
                elif t is int and xa.dtype.kind == "f" and -_I64 <= other < _I64:
                    return _wrap(uf(xa, other))
                elif t is int and -_I64 <= other < _I64:  # int64 against an int64 number
                    return _wrap(uf(xa, other))
        a, b = _lhs(input, other, name)
        xp = xp_of(a._a)
        if isinstance(b, Tensor):
            check_same_device(name, a, b)
            dt = _res_dtype(a, b)
            x, y = _operand(a, dt), _operand(b, dt)
        else:
            x, y = a._a, D.wrap_int(b, a._a.dtype)
        if name in _ORDERED and (x.dtype.kind == "c" or _is_complex(y)):
            _complex_order_error(name, x, y)
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
    def f(input, other, *, out=None):
        xp = xp_of(input._a)
        o = other._a if isinstance(other, Tensor) else other
        r = _wrap(xp.asarray(getattr(xp, uf)(input._a, o)))
        return r if out is None else _out(out, r)

    f.__name__ = name
    return f


logical_and = _logic("logical_and", "logical_and")
logical_or = _logic("logical_or", "logical_or")
logical_xor = _logic("logical_xor", "logical_xor")


def logical_not(input, *, out=None):
    # one argument: a second positional one used to reach NumPy's ufunc as its ``out`` and
    # overwrote that tensor (torch: TypeError, ``out`` is keyword-only)
    r = _wrap(xp_of(input._a).logical_not(input._a))
    return r if out is None else _out(out, r)


def _bitwise(name, uf):
    def f(input, other):
        a, b = _lhs(input, other, name)
        if (
            a._a.dtype.kind in "fV"
            or (isinstance(b, Tensor) and b._a.dtype.kind in "fV")
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
    if input._a.dtype.kind in "fV":
        raise RuntimeError("\"bitwise_not_cpu\" not implemented for 'Float'")
    return _wrap(xp.invert(input._a))


# ------------------------------------------------------------------ where
class Where(Function):
    _node_name = "WhereBackward0"
    _edge_pos = (1, 2)  # (torch's edges: self and other; the condition has none)

    @staticmethod
    def forward(ctx, cond, a, b):
        ctx.a_, ctx.b_ = _meta(a), _meta(b)
        ctx.cond = cond
        dt = _res_dtype(a, b) if isinstance(a, Tensor) else _res_dtype(b, a)
        if dt.kind in "fV":
            for v in (a, b):  # torch: no number past the result dtype's range
                if type(v) is float or type(v) is int:
                    D.checked_int(v, dt)
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


def _where_arr(x, dt):
    """A where() operand as an array or number of float dtype ``dt`` (a NumPy array, a Tensor
    with nothing to record, a Python number within ``dt``), else None."""
    t = type(x)
    if t is Tensor:
        a = x._a
        return a if type(a) is _nd and a.dtype == dt and not (x._rg and state.enabled) else None
    if t is float or t is int:
        return D.checked_int(x, dt)  # torch: no number past dt's range
    return None


def _where_small(c, input, other):
    """``where`` of a bool CPU condition and float32/float64 operands of one dtype (Tensors,
    or one of them a Python number) with nothing to record, as Where.forward computes it
    (one np.where: the operands' dtype, their broadcast shape); or None."""
    if type(c) is not _nd or c.dtype != np.bool_:
        return None
    lead = input if type(input) is Tensor else other
    if type(lead) is not Tensor:
        return None
    dt = lead._a.dtype
    if dt not in _FLOATS:
        return None
    a, b = _where_arr(input, dt), _where_arr(other, dt)
    if a is None or b is None:
        return None
    try:
        return np.where(c, a, b)
    except ValueError:  # shapes that do not broadcast: the general path's error
        return None


def where(condition, input=None, other=None, *, out=None):
    if out is not None:
        return with_out(where(condition, input, other), out)
    if input is None and other is None:
        from .subscript import nonzero

        return nonzero(condition, as_tuple=True)
    if type(condition) is Tensor and _fn_mod._autocast is None:
        r = _where_small(condition._a, input, other)
        if r is not None:
            return _wrap(r)
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
    return Where.apply(condition, input, other)


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
            # where, not g * mask: an inf or NaN g stays out of the clamped places (torch's)
            gx = _g(where(mask, g, 0.0) if mask is not None else g, ctx.x_, True)
        # tensor bounds (torch's clamp_backward_min_max): min takes the gradient where x is
        # below it (and min < max), max where x is above it or max < min (max wins)
        if need[1]:
            m = x < lo
            if hi is not None:
                m = m & (lo < hi)
            glo = _g(where(m, g, 0.0), ctx.lo_, True)
        if need[2]:
            m = x > hi
            if lo is not None:
                m = m | (hi < lo)
            ghi = _g(where(m, g, 0.0), ctx.hi_, True)
        return gx, glo, ghi


class ClampTensor(Clamp):
    """clamp with tensor bounds (torch's clamp.Tensor, node ClampBackward0)."""

    _node_name = "ClampBackward0"


def _clamp_arr(x, lo, hi):
    a = x._a
    xp = xp_of(a)
    # torch's result_type(x, min, max): bool with an int bound is int64, an integer tensor
    # with a float bound the default float; an int bound out of an integer dtype's range
    # wraps into it as torch casts it (uint8 clamp(min=-1) is 255 everywhere)
    dt = D.to_numpy_dtype(D.result_type(*(v for v in (x, lo, hi) if v is not None)))
    if a.dtype != dt:
        a = a.astype(dt)
    for v in (lo, hi):
        if (type(v) is float or type(v) is int) and dt.kind in "fV":
            D.checked_int(v, dt)  # torch: no bound past dt's range
    lo_a = lo._a if isinstance(lo, Tensor) else D.wrap_int(lo, dt)
    hi_a = hi._a if isinstance(hi, Tensor) else D.wrap_int(hi, dt)
    if xp is np and dt.kind == "f":  # torch's signed-zero and NaN rules (_uclip above)
        r = _uclip(a, -_INF if lo_a is None else lo_a, _INF if hi_a is None else hi_a)
        return r.astype(dt, copy=False)
    r = a
    if lo_a is not None:
        r = xp.maximum(r, lo_a)
    if hi_a is not None:
        r = xp.minimum(r, hi_a)
    if r is a:
        r = a.copy()
    return r.astype(dt, copy=False)


_SCALAR = (int, float, type(None))


def clamp(input, min=None, max=None, *, out=None):  # noqa: A002
    if out is not None:
        return with_out(clamp(input, min, max), out)
    a = input._a
    if (
        type(min) in _SCALAR
        and type(max) in _SCALAR
        and (min is not None or max is not None)
        and type(a) is _nd
        and a.dtype in _FLOATS
        and not (state.enabled and input._rg)
        and _fn_mod._autocast is None
    ):  # number bounds on a float32/float64 CPU tensor, nothing to record: _clamp_arr's ufuncs
        lim = _F32_MAX if a.dtype == _FLOATS[0] else _F64_MAX
        for v in (min, max):  # torch refuses a bound past the dtype's range (not cast to inf)
            if v is not None and (
                not -lim <= v <= lim and v == v or type(v) is int and not -_I64 <= v < 2 * _I64
            ):  # (an int outside [-2**63, 2**64): the OverflowError of torch's arg parser)
                D.checked_int(v, a.dtype)
        # (Python numbers keep a's dtype; a new array)
        return _wrap(_uclip(a, -_INF if min is None else min, _INF if max is None else max))
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    if input._a.dtype.kind == "c":
        raise NotImplementedError("clamp is not supported for complex types")
    fn = ClampTensor if isinstance(min, Tensor) or isinstance(max, Tensor) else Clamp
    return fn.apply(input, min, max)


clip = clamp


def clamp_min(input, min):  # noqa: A002
    return clamp(input, min=min)


def clamp_max(input, max):  # noqa: A002
    return clamp(input, max=max)
