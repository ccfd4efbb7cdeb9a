"""Unary math and activations: one table, one Function factory.

Forward and backward run in the ``elementwise`` kernels for large float32/float64 inputs
(``unary`` / ``unary_backward`` with op codes); small or other-dtype inputs use NumPy/CuPy.
Backward formulas are written with tensor ops too, so ``create_graph=True`` works.
"""

from __future__ import annotations

import math

import numpy as np

from .._tensor import Tensor
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._dispatch import kernels_for, xp_of
from ._util import _F32, _F64, KERNEL_MIN, float_dtype_for

_wrap = Tensor._make
_nd = np.ndarray

# op codes (docs/kernels.md)
(
    NEG,
    ABS,
    EXP,
    LOG,
    LOG1P,
    EXPM1,
    SQRT,
    RSQRT,
    SIN,
    COS,
    TAN,
    TANH,
    SIGMOID,
    RELU,
    ERF,
    SIGN,
    FLOOR,
    CEIL,
    ROUND,
    RECIPROCAL,
    SQUARE,
    GELU,
    GELU_TANH,
    SILU,
    SOFTPLUS,
    MISH,
    ELU,
    LEAKY_RELU,
    HARDTANH,
    CLAMP,
) = range(30)

_SQRT2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)


def _erf(xp, x):
    if xp is np:
        from math import erf

        return np.vectorize(erf, otypes=[x.dtype])(x) if x.size < 64 else _erf_np(x)
    import cupyx.scipy.special as sp

    return sp.erf(x)


def _erf_np(x):
    try:
        from scipy.special import erf

        return erf(x).astype(x.dtype, copy=False)
    except ImportError:  # pragma: no cover
        from math import erf

        return np.vectorize(erf, otypes=[x.dtype])(x)


def _sigmoid(xp, x):
    # numerically stable: exp of a non-positive number only
    e = xp.exp(-xp.abs(x))
    return xp.where(x >= 0, 1.0 / (1.0 + e), e / (1.0 + e)).astype(x.dtype, copy=False)


def _softplus(xp, x, beta, threshold):
    bx = x * beta
    return xp.where(bx > threshold, x, xp.log1p(xp.exp(xp.minimum(bx, threshold))) / beta).astype(
        x.dtype, copy=False
    )


def _gelu(xp, x):
    return (0.5 * x * (1.0 + _erf(xp, x / _SQRT2))).astype(x.dtype, copy=False)


def _gelu_tanh(xp, x):
    return (0.5 * x * (1.0 + xp.tanh(_SQRT_2_PI * (x + 0.044715 * x * x * x)))).astype(
        x.dtype, copy=False
    )


def _round(xp, x):
    return xp.round(x)


# name -> (code, float_only, numpy forward(xp, x, a, b))
_FWD = {
    "neg": (NEG, False, lambda xp, x, a, b: xp.negative(x)),
    "abs": (ABS, False, lambda xp, x, a, b: xp.abs(x)),
    "exp": (EXP, True, lambda xp, x, a, b: xp.exp(x)),
    "log": (LOG, True, lambda xp, x, a, b: xp.log(x)),
    "log1p": (LOG1P, True, lambda xp, x, a, b: xp.log1p(x)),
    "expm1": (EXPM1, True, lambda xp, x, a, b: xp.expm1(x)),
    "sqrt": (SQRT, True, lambda xp, x, a, b: xp.sqrt(x)),
    "rsqrt": (RSQRT, True, lambda xp, x, a, b: 1.0 / xp.sqrt(x)),
    "sin": (SIN, True, lambda xp, x, a, b: xp.sin(x)),
    "cos": (COS, True, lambda xp, x, a, b: xp.cos(x)),
    "tan": (TAN, True, lambda xp, x, a, b: xp.tan(x)),
    "tanh": (TANH, True, lambda xp, x, a, b: xp.tanh(x)),
    "sigmoid": (SIGMOID, True, lambda xp, x, a, b: _sigmoid(xp, x)),
    "relu": (RELU, False, lambda xp, x, a, b: xp.maximum(x, 0).astype(x.dtype, copy=False)),
    "erf": (ERF, True, lambda xp, x, a, b: _erf(xp, x)),
    "sign": (SIGN, False, lambda xp, x, a, b: xp.sign(x)),
    "floor": (FLOOR, False, lambda xp, x, a, b: xp.floor(x) if x.dtype.kind == "f" else x.copy()),
    "ceil": (CEIL, False, lambda xp, x, a, b: xp.ceil(x) if x.dtype.kind == "f" else x.copy()),
    "round": (ROUND, False, lambda xp, x, a, b: _round(xp, x) if x.dtype.kind == "f" else x.copy()),
    "reciprocal": (RECIPROCAL, True, lambda xp, x, a, b: 1.0 / x),
    "square": (SQUARE, False, lambda xp, x, a, b: x * x),
    "gelu": (GELU, True, lambda xp, x, a, b: _gelu(xp, x)),
    "gelu_tanh": (GELU_TANH, True, lambda xp, x, a, b: _gelu_tanh(xp, x)),
    "silu": (SILU, True, lambda xp, x, a, b: x * _sigmoid(xp, x)),
    "softplus": (SOFTPLUS, True, lambda xp, x, a, b: _softplus(xp, x, a, b)),
    "mish": (MISH, True, lambda xp, x, a, b: x * xp.tanh(_softplus(xp, x, 1.0, 20.0))),
    "elu": (ELU, True, lambda xp, x, a, b: xp.where(x > 0, x, a * xp.expm1(xp.minimum(x, 0)))),
    "leaky_relu": (LEAKY_RELU, True, lambda xp, x, a, b: xp.where(x > 0, x, x * a)),
    "hardtanh": (HARDTANH, False, lambda xp, x, a, b: xp.clip(x, a, b)),
}


def _bwd_formula(name, g, x, y, a, b):
    """Differentiable backward formulas (tensor ops)."""
    if name == "neg":
        return -g
    if name == "abs":
        return g * x.sign()
    if name == "exp":
        return g * y
    if name == "log":
        return g / x
    if name == "log1p":
        return g / (x + 1.0)
    if name == "expm1":
        return g * (y + 1.0)
    if name == "sqrt":
        return g / (y * 2.0)
    if name == "rsqrt":
        return g * (-0.5) * y * y * y
    if name == "sin":
        return g * x.cos()
    if name == "cos":
        return -g * x.sin()
    if name == "tan":
        return g * (y * y + 1.0)
    if name == "tanh":
        return g * (1.0 - y * y)
    if name == "sigmoid":
        return g * y * (1.0 - y)
    if name == "relu":
        return g * (y > 0).to(g.dtype)
    if name == "erf":
        return g * (2.0 / math.sqrt(math.pi)) * (-(x * x)).exp()
    if name in ("sign", "floor", "ceil", "round"):
        return g * 0.0
    if name == "reciprocal":
        return -g * y * y
    if name == "square":
        return g * x * 2.0
    if name == "gelu":
        cdf = 0.5 * (1.0 + (x / _SQRT2).erf())
        pdf = (-0.5 * x * x).exp() / math.sqrt(2.0 * math.pi)
        return g * (cdf + x * pdf)
    if name == "gelu_tanh":
        inner = _SQRT_2_PI * (x + 0.044715 * x * x * x)
        t = inner.tanh()
        dinner = _SQRT_2_PI * (1.0 + 3.0 * 0.044715 * x * x)
        return g * (0.5 * (1.0 + t) + 0.5 * x * (1.0 - t * t) * dinner)
    if name == "silu":
        s = x.sigmoid()
        return g * s * (1.0 + x * (1.0 - s))
    if name == "softplus":
        bx = x * a
        return g * (bx <= b).to(g.dtype) * bx.sigmoid() + g * (bx > b).to(g.dtype)
    if name == "mish":
        sp = x.softplus()
        t = sp.tanh()
        return g * (t + x * (1.0 - t * t) * x.sigmoid())
    if name == "elu":
        return g * (x > 0).to(g.dtype) + g * (x <= 0).to(g.dtype) * (y + a)
    if name == "leaky_relu":
        return g * ((x > 0).to(g.dtype) + (x <= 0).to(g.dtype) * a)
    if name == "hardtanh":
        return g * ((x > a) & (x < b)).to(g.dtype)
    raise NotImplementedError(name)


# which saved value the kernel/formula needs: 'x', 'y' or 'xy'
_SAVES = {
    "neg": "",
    "abs": "x",
    "exp": "y",
    "log": "x",
    "log1p": "x",
    "expm1": "y",
    "sqrt": "y",
    "rsqrt": "y",
    "sin": "x",
    "cos": "x",
    "tan": "y",
    "tanh": "y",
    "sigmoid": "y",
    "relu": "y",
    "erf": "x",
    "sign": "",
    "floor": "",
    "ceil": "",
    "round": "",
    "reciprocal": "y",
    "square": "x",
    "gelu": "x",
    "gelu_tanh": "x",
    "silu": "x",
    "softplus": "x",
    "mish": "x",
    "elu": "xy",
    "leaky_relu": "x",
    "hardtanh": "x",
}
_NODE = {
    "gelu_tanh": "GeluBackward0",
    "leaky_relu": "LeakyReluBackward0",
    "hardtanh": "HardtanhBackward0",
    "log1p": "Log1PBackward0",
}


def unary_array(name: str, x, a: float = 0.0, b: float = 0.0):
    """Forward of a unary op on an array (kernel for large float32/float64, else NumPy)."""
    code, float_only, fwd = _FWD[name]
    dt = x.dtype
    if float_only and dt.kind not in "fc":
        x = x.astype(float_dtype_for(x))
        dt = x.dtype
    if x.size >= KERNEL_MIN and (dt == _F32 or dt == _F64) and x.flags.c_contiguous:
        k = kernels_for(x)
        if k.has("unary"):
            out = xp_of(x).empty(x.shape, dt)
            k.unary(code, x.reshape(-1), out.reshape(-1), a, b)
            return out
    xp = np if type(x) is _nd else xp_of(x)
    with np.errstate(all="ignore"):
        r = fwd(xp, x, a, b)
    if type(r) is not _nd and xp is np:
        r = np.asarray(r, dtype=dt)
    return r if r.dtype == dt else r.astype(dt)


def _make_unary(name):
    code = _FWD[name][0]
    saves = _SAVES[name]

    class _Unary(Function):
        _node_name = _NODE.get(name) or (
            "".join(p.capitalize() for p in name.split("_")) + "Backward0"
        )

        @staticmethod
        def forward(ctx, x, a=0.0, b=0.0):
            y = _wrap(unary_array(name, x._a, a, b))
            ctx.p = (a, b)
            ctx.save_for_backward(x if "x" in saves else None, y if "y" in saves else None)
            return y

        @staticmethod
        def backward(ctx, g):
            x, y = ctx.saved_tensors
            a, b = ctx.p
            ref = x if x is not None else y
            if (
                not state.enabled
                and ref is not None
                and g._a.size >= KERNEL_MIN
                and g._a.dtype == ref._a.dtype
                and g._a.dtype in (_F32, _F64)
                and g._a.flags.c_contiguous
                and ref._a.flags.c_contiguous
            ):
                k = kernels_for(g._a)
                if k.has("unary_backward"):
                    gx = xp_of(g._a).empty(g._a.shape, g._a.dtype)
                    xa = x._a.reshape(-1) if x is not None else y._a.reshape(-1)
                    ya = y._a.reshape(-1) if y is not None else x._a.reshape(-1)
                    k.unary_backward(code, g._a.reshape(-1), xa, ya, gx.reshape(-1), a, b)
                    return _wrap(gx), None, None
            return _bwd_formula(name, g, x, y, a, b), None, None

    _Unary.__name__ = _Unary.__qualname__ = name.capitalize()

    def fn(input, *, out=None):
        if state.enabled and input._rg:
            r = _Unary.apply(input)
        else:
            r = _wrap(unary_array(name, input._a))
        if out is not None:
            from .arithmetic import _out

            return _out(out, r)
        return r

    fn.__name__ = name
    fn.Function = _Unary
    return fn


_FN = {name: _make_unary(name) for name in _FWD}

neg = _FN["neg"]
negative = neg
abs = _FN["abs"]  # noqa: A001
absolute = abs
exp = _FN["exp"]
log = _FN["log"]
log1p = _FN["log1p"]
expm1 = _FN["expm1"]
sqrt = _FN["sqrt"]
rsqrt = _FN["rsqrt"]
sin = _FN["sin"]
cos = _FN["cos"]
tan = _FN["tan"]
tanh = _FN["tanh"]
sigmoid = _FN["sigmoid"]
relu = _FN["relu"]
erf = _FN["erf"]
sign = _FN["sign"]
floor = _FN["floor"]
ceil = _FN["ceil"]
reciprocal = _FN["reciprocal"]
square = _FN["square"]
silu = _FN["silu"]
mish = _FN["mish"]


def _param_call(name, input, a, b):
    if state.enabled and input._rg:
        return _FN[name].Function.apply(input, a, b)
    return _wrap(unary_array(name, input._a, a, b))


def round(input, *, decimals: int = 0):  # noqa: A001
    if decimals:
        s = 10.0**decimals
        return _FN["round"](input * s) / s
    return _FN["round"](input)


def gelu(input, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _param_call("gelu_tanh" if approximate == "tanh" else "gelu", input, 0.0, 0.0)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    return _param_call("softplus", input, float(beta), float(threshold))


def elu(input, alpha: float = 1.0):
    return _param_call("elu", input, float(alpha), 0.0)


def leaky_relu(input, negative_slope: float = 0.01):
    return _param_call("leaky_relu", input, float(negative_slope), 0.0)


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0):
    return _param_call("hardtanh", input, float(min_val), float(max_val))


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


def log2(input):
    return log(input) * (1.0 / math.log(2.0))


def log10(input):
    return log(input) * (1.0 / math.log(10.0))


def exp2(input):
    from .arithmetic import pow

    return pow(2.0, input)


def trunc(input):
    xp = xp_of(input._a)
    if state.enabled and input._rg:
        # piecewise constant: zero gradient (torch's TruncBackward0)
        return input * 0.0 + _wrap(xp.trunc(input._a))
    return _wrap(xp.trunc(input._a) if input._a.dtype.kind == "f" else input._a.copy())


fix = trunc


def frac(input):
    return input - trunc(input)


def isnan(input):
    return _wrap(xp_of(input._a).isnan(input._a))


def isinf(input):
    return _wrap(xp_of(input._a).isinf(input._a))


def isfinite(input):
    return _wrap(xp_of(input._a).isfinite(input._a))


def isposinf(input):
    return _wrap(xp_of(input._a).isposinf(input._a))


def isneginf(input):
    return _wrap(xp_of(input._a).isneginf(input._a))


def nan_to_num(input, nan: float = 0.0, posinf=None, neginf=None):
    xp = xp_of(input._a)
    return _wrap(xp.nan_to_num(input._a, nan=nan, posinf=posinf, neginf=neginf))


def asin(input):
    return _simple(input, "arcsin", lambda g, x: g / (1.0 - x * x).sqrt())


def acos(input):
    return _simple(input, "arccos", lambda g, x: -g / (1.0 - x * x).sqrt())


def atan(input):
    return _simple(input, "arctan", lambda g, x: g / (1.0 + x * x))


def sinh(input):
    return _simple(input, "sinh", lambda g, x: g * x.cosh())


def cosh(input):
    return _simple(input, "cosh", lambda g, x: g * x.sinh())


def asinh(input):
    return _simple(input, "arcsinh", lambda g, x: g / (x * x + 1.0).sqrt())


def acosh(input):
    return _simple(input, "arccosh", lambda g, x: g / (x * x - 1.0).sqrt())


def atanh(input):
    return _simple(input, "arctanh", lambda g, x: g / (1.0 - x * x))


def logit(input, eps=None):
    x = input if eps is None else input.clamp(eps, 1.0 - eps)
    return (x / (1.0 - x)).log()


class _Simple(Function):
    @staticmethod
    def forward(ctx, x, ufunc, grad):
        ctx.grad = grad
        ctx.save_for_backward(x)
        xa = x._a
        if xa.dtype.kind not in "fc":
            xa = xa.astype(float_dtype_for(xa))
        with np.errstate(all="ignore"):
            return _wrap(getattr(xp_of(xa), ufunc)(xa))

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return ctx.grad(g, x), None, None


def _simple(input, ufunc, grad):
    if state.enabled and input._rg:
        return _Simple.apply(input, ufunc, grad)
    return _Simple.forward(_SimpleCtx(), input, ufunc, grad)


class _SimpleCtx:
    def save_for_backward(self, *a):
        pass


def atan2(input, other):
    xp = xp_of(input._a)
    if state.enabled and (input._rg or (isinstance(other, Tensor) and other._rg)):
        # d/dy atan2(y, x) = x / (x^2 + y^2); d/dx = -y / (x^2 + y^2)
        denom = input * input + other * other
        out = _wrap(xp.arctan2(input._a, other._a))
        return (
            out.detach()
            + (input * other.detach() - other * input.detach()) / denom.detach()
            - (input * other.detach() - other * input.detach()).detach() / denom.detach()
        )
    return _wrap(xp.arctan2(input._a, other._a if isinstance(other, Tensor) else other))


arctan2 = atan2
