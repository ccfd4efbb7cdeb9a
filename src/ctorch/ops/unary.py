"""Unary math and activations, generated from the op table (``ctorch/_table/elementwise.def``).

Each table row becomes one ``Function``: forward runs the ``elementwise.unary`` kernel for large
float32/float64 inputs and the row's expression over NumPy/CuPy otherwise; backward runs the
``unary_backward`` kernel (no ``create_graph``) or the row's backward expression over tensors,
so double backward works. The public functions, their aliases, the Tensor methods, in-place
and ``out=`` variants and the NumPy ufunc map are all made from the same rows.
"""

from __future__ import annotations

import math
import re as _re

import numpy as np

from .. import _dtype as D
from .. import _table
from .._backend import KERNEL_MIN, contiguous, fp_quiet, kernel, meta_xp, xp_of
from .._core._smallops import unary as _small_unary
from .._core._smallops import unary_backward as _small_unary_backward
from .._half import BF16 as _BF16
from .._half import F16 as _F16
from .._half import hkernel, u16
from .._meta import MetaArray
from .._tensor import Tensor
from ..autograd import function as _fn_mod
from ..autograd.function import Function, saved_names
from ..autograd.grad_mode import state
from ..autograd.inplace import check_writable
from ._util import float_dtype_for, named
from .pointwise_nodes import Logit, NanToNum

_wrap = Tensor._make
_nd = np.ndarray
_INF = math.inf

_SQRT2 = math.sqrt(2.0)
_SQRT_2_PI = math.sqrt(2.0 / math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2.0 * math.pi)


# ------------------------------------------------------------------ expression vocabularies
def _erf_fn(xp):
    if xp is np or xp is meta_xp:  # (on meta, SciPy's ufunc reaches MetaArray's rules)
        try:
            from scipy.special import erf
        except ImportError:  # pragma: no cover - SciPy is optional
            from math import erf as _e

            erf = np.vectorize(_e, otypes=[np.float64])

        def erf_as(v):
            r = erf(v)
            return (r if type(r) is MetaArray else np.asarray(r)).astype(v.dtype, copy=False)

        return erf_as
    import cupyx.scipy.special as sp

    return sp.erf


def _int_keep(f):
    """A rounding function that leaves integer arrays as they are (copied)."""
    return lambda v: f(v) if v.dtype.kind in "fcV" else v.copy()


def _array_vocab(xp) -> dict:
    """The table's vocabulary over NumPy or CuPy arrays."""
    erf = _erf_fn(xp)

    def sign(v):
        # torch.sign: 0 for NaN (numpy.sign gives NaN)
        if v.dtype.kind == "b":
            return v.copy()
        return (v > 0).astype(v.dtype) - (v < 0).astype(v.dtype)

    return {
        "K": lambda v: v,
        "SEL": xp.where,
        "INF": _INF,
        "ZERO": xp.zeros_like,
        "EXP": xp.exp,
        "EXP2": xp.exp2,
        "LOG": xp.log,
        "LOG2": xp.log2,
        "LOG10": xp.log10,
        "LOG1P": xp.log1p,
        "EXPM1": xp.expm1,
        "SQRT": xp.sqrt,
        "SIN": xp.sin,
        "COS": xp.cos,
        "TAN": xp.tan,
        "TANH": xp.tanh,
        "ASIN": xp.arcsin,
        "ACOS": xp.arccos,
        "ATAN": xp.arctan,
        "SINH": xp.sinh,
        "COSH": xp.cosh,
        "ASINH": xp.arcsinh,
        "ACOSH": xp.arccosh,
        "ATANH": xp.arctanh,
        "ERF": erf,
        "FABS": xp.abs,
        "FLOOR": _int_keep(xp.floor),
        "CEIL": _int_keep(xp.ceil),
        "RINT": _int_keep(xp.rint),
        "TRUNC": _int_keep(xp.trunc),
        "SIGMOID": lambda v: 1 / (1 + xp.exp(-v)),
        "SIGN": sign,
        "GELU": lambda v: 0.5 * v * (1 + erf(v / _SQRT2)),
        "POW": xp.power,
        "ATAN2": xp.arctan2,
        "HYPOT": xp.hypot,
        "COPYSIGN": xp.copysign,
        "MAXNAN": xp.maximum,
        "MINNAN": xp.minimum,
    }


def _gelu_grad(v):
    cdf = 0.5 * (1.0 + (v / _SQRT2).erf())
    pdf = (-0.5 * v * v).exp() * _INV_SQRT_2PI
    return cdf + v * pdf


def _tensor_vocab() -> dict:
    """The table's vocabulary over ctorch tensors (differentiable: used by backward)."""
    from . import arithmetic as A
    from . import compare as CMP

    return {
        "K": lambda v: v,
        "SEL": CMP.where,
        "INF": _INF,
        "ZERO": lambda v: _wrap(xp_of(v._a).zeros_like(v._a)),
        "EXP": lambda v: v.exp(),
        "EXP2": lambda v: v.exp2(),
        "LOG": lambda v: v.log(),
        "LOG2": lambda v: v.log2(),
        "LOG10": lambda v: v.log10(),
        "LOG1P": lambda v: v.log1p(),
        "EXPM1": lambda v: v.expm1(),
        "SQRT": lambda v: v.sqrt(),
        "SIN": lambda v: v.sin(),
        "COS": lambda v: v.cos(),
        "TAN": lambda v: v.tan(),
        "TANH": lambda v: v.tanh(),
        "ASIN": lambda v: v.asin(),
        "ACOS": lambda v: v.acos(),
        "ATAN": lambda v: v.atan(),
        "SINH": lambda v: v.sinh(),
        "COSH": lambda v: v.cosh(),
        "ASINH": lambda v: v.asinh(),
        "ACOSH": lambda v: v.acosh(),
        "ATANH": lambda v: v.atanh(),
        "ERF": lambda v: v.erf(),
        "FABS": lambda v: v.abs(),
        "FLOOR": lambda v: v.floor(),
        "CEIL": lambda v: v.ceil(),
        "RINT": lambda v: v.round(),
        "TRUNC": lambda v: v.trunc(),
        "SIGMOID": lambda v: v.sigmoid(),
        "SIGN": lambda v: v.sign(),
        "GELU": lambda v: v * 0.5 * (1.0 + (v / _SQRT2).erf()),
        "GELU_GRAD": _gelu_grad,
        "POW": A.pow,
        "ATAN2": lambda p, q: p.atan2(q),
        "HYPOT": lambda p, q: p.hypot(q),
        "COPYSIGN": lambda p, q: p.copysign(q),
        "MAXNAN": A.maximum,
        "MINNAN": A.minimum,
    }


_VOCAB: dict = {}


def vocab(kind):
    """The vocabulary for ``np``, the CuPy module, or ``"tensor"`` (built once each)."""
    v = _VOCAB.get(kind)
    if v is None:
        v = _VOCAB[kind] = _tensor_vocab() if kind == "tensor" else _array_vocab(kind)
    return v


_COMPILED: dict = {}


def compiled(op, which: int, kind):
    """Row ``op``'s expression ``which`` (0 forward, 1.. gradients) as a Python function over
    the vocabulary ``kind``: unary ``f(x, a, b)`` / ``f(g, x, y, a, b)``; binary ``f(x, y)`` /
    ``f(g, x, y, z)``."""
    key = (op.kind, op.code, which, kind)
    f = _COMPILED.get(key)
    if f is None:
        if op.kind == "unary":
            expr, params = (op.forward, "x, a, b") if which == 0 else (op.grads[0], "g, x, y, a, b")
        else:
            expr, params = (
                (op.forward, "x, y") if which == 0 else (op.grads[which - 1], "g, x, y, z")
            )
        f = _COMPILED[key] = _table.compile_expr(expr, params, vocab(kind))
    return f


# ------------------------------------------------------------------ the unary Functions
def unary_array(name, x, a: float = 0.0, b: float = 0.0):
    """Forward of the unary op ``name`` (a row name or Op) on an array: the kernel for large
    float32/float64 inputs, else the row's expression over NumPy/CuPy."""
    op = name if isinstance(name, _table.Op) else _table.UNARY_BY_NAME[name]
    # small float32/float64 C-contiguous: the same SIMD loop, called without memoryviews
    # (every row, the NumPy-ufunc ones too: small and large inputs give the same bits)
    r = _small_unary(op.code, x, a, b)
    if r is not None:
        return r
    dt = x.dtype
    if dt.kind == "b":
        op.refuse_bool(dt)
        if op.name == "square":  # torch's square is pow(x, 2): a bool squares in int64
            x, dt = x.astype(np.int64), np.dtype(np.int64)
    if dt.kind not in "fcV" and not op.int_ok:
        op.refuse_int(dt)  # CT_NOINT rows: torch has no integer kernel
        x = x.astype(float_dtype_for(x))
        dt = x.dtype
    if dt == _F16 or dt == _BF16:  # float16/bfloat16: computed in float32, rounded once
        hk, kind = hkernel("h_unary", x, min_size=KERNEL_MIN if op.ufunc else 0)
        if hk is not None:
            out = np.empty(x.shape, dt)
            hk(kind, op.code, u16(x), u16(out), a, b)
            return out
        # (the rounding to dt overflows to inf silently, as torch's)
        return fp_quiet(unary_array(op, x.astype(np.float32), a, b).astype, dt)
    # rows NumPy has a ufunc for (exp, sin, ...) run NumPy below KERNEL_MIN (its call is
    # cheaper); the others (relu, sigmoid, gelu, ...) run the kernel at every size: one call
    # beats evaluating their expression as several NumPy ops, and small and large inputs then
    # give the same bits
    if op.ufunc and type(x) is _nd and x.size < KERNEL_MIN:
        k = None
    else:
        k = kernel("unary", x, min_size=KERNEL_MIN if op.ufunc else 0)
    if k is not None:
        out = xp_of(x).empty(x.shape, dt)
        k(op.code, x.reshape(-1), out.reshape(-1), a, b)
        return out
    xp = np if type(x) is _nd else xp_of(x)
    r = fp_quiet(compiled(op, 0, xp), x, a, b)
    if type(r) is not _nd and xp is np:
        r = np.asarray(r, dtype=dt)
    return r if r.dtype == dt else r.astype(dt)


def _make_unary(op):
    saves = op.saves

    class _Unary(Function):
        _node_name = op.node_name

        @staticmethod
        def forward(ctx, x, a=0.0, b=0.0):
            y = _wrap(unary_array(op, x._a, a, b))
            ctx.p = (a, b)
            if saves:
                ctx.save_for_backward(x if "x" in saves else None, y if "y" in saves else None)
            return y

        @staticmethod
        def backward(ctx, g):
            if saves and not state.enabled:
                xa, ya = ctx._saved_arrays()
                if xa is None:
                    xa = ya
                elif ya is None:
                    ya = xa
                a, b = ctx.p
                r = _small_unary_backward(op.code, g._a, xa, ya, a, b)
                if r is not None:
                    return _wrap(r), None, None
            x, y = ctx.saved_tensors if saves else (None, None)
            a, b = ctx.p
            if saves and not state.enabled:
                xa = (x if x is not None else y)._a
                ya = (y if y is not None else x)._a
                # e.g. the expanded gradient of a sum(): one copy beats the formula
                ga = contiguous(g._a)
                k = kernel("unary_backward", ga, xa, ya, min_size=0)  # any size (see above)
                if k is None and (ga.dtype == _F16 or ga.dtype == _BF16):
                    hk, kind = hkernel("h_unary_backward", ga, xa, ya)
                    if hk is not None:
                        gx = np.empty(ga.shape, ga.dtype)
                        hk(kind, op.code, u16(ga), u16(xa), u16(ya), u16(gx), a, b)
                        return _wrap(gx), None, None
                if k is not None:
                    gx = xp_of(ga).empty(ga.shape, ga.dtype)
                    flat = (ga.reshape(-1), xa.reshape(-1), ya.reshape(-1), gx.reshape(-1))
                    k(op.code, *flat, a, b)
                    return _wrap(gx), None, None
            if (x if x is not None else y) is not None and g._a.dtype.kind == "c":
                x, y = _complex().conj_inputs(x, y)  # g * conj(f'(x)) (ops/complex.py)
                if op.name in _complex().COMPLEX_GRADS:
                    return _complex().COMPLEX_GRADS[op.name](g, x, y), None, None
            return compiled(op, 1, "tensor")(g, x, y, a, b), None, None

    return named(_Unary, "".join(p.capitalize() for p in op.name.split("_")))


FUNCTIONS = {op.name: _make_unary(op) for op in _table.UNARY}

for _op in _table.UNARY:  # torch's grad_fn._saved_self (the input) / _saved_result (output)
    if "x" in _op.saves:
        saved_names(FUNCTIONS[_op.name], self=0)
    if "y" in _op.saves:
        saved_names(FUNCTIONS[_op.name], result=1)


def _make_public(op):
    fn_cls = FUNCTIONS[op.name]

    code = op.code

    def fn(input, *, out=None):
        if out is None and not (state.enabled and input._rg) and _fn_mod._autocast is None:
            # nothing to record or cast: a small float32/float64 array runs the compiled
            # SIMD entry directly (what ``apply`` would reach through two more frames)
            r = _small_unary(code, input._a, 0.0, 0.0)
            if r is not None:
                return _wrap(r)
        if input._a.dtype.kind == "c":
            r = _complex().unary_complex(op.public, input)
            r = fn_cls.apply(input) if r is None else r
        else:
            r = fn_cls.apply(input)
        return r if out is None else _out(out, r)

    named(
        fn,
        op.public,
        f"``torch.{op.public}``: {op.forward} elementwise (ctorch op table row {op.NAME}).",
    )
    fn.Function = fn_cls
    fn.table_op = op  # Tensor.<op>_ writes through unary_into when it can
    return fn


def unary_into(op, a, pa: float = 0.0, pb: float = 0.0) -> bool:
    """``a = f(a)`` in place for table row ``op`` by the SIMD kernels (float32/float64, or
    float16/bfloat16 computed in float32), C-contiguous CPU or GPU arrays: the values of the
    out-of-place op, no temporary copied back. False where the caller's general path must
    run (other dtypes, strided arrays, no kernel)."""
    if not a.flags.c_contiguous or not a.flags.writeable:
        return False
    dt = a.dtype
    if dt == _F16 or dt == _BF16:
        hk, kind = hkernel("h_unary", a, min_size=0)
        if hk is None:
            return False
        hk(kind, op.code, u16(a), u16(a), pa, pb)
        return True
    k = kernel("unary", a, min_size=0)
    if k is None:
        return False
    flat = a.reshape(-1)
    k(op.code, flat, flat, pa, pb)
    return True


def _complex():
    from . import complex as c  # imports shape/binary, which import this module: bind at call

    return c


def _out(out, r):
    from .binary import _out as out_  # binary imports this module (compiled): bind at call

    return out_(out, r)


#: public name and aliases -> function, for every table row with a torch name
PUBLIC: dict = _table.public_functions(_table.UNARY, _make_public)
globals().update(PUBLIC)


def _param_call(name, input, a, b):
    if input._a.dtype.kind == "c":
        _complex().check_unary(name, input)  # raises unless torch defines it (silu)
    return FUNCTIONS[name].apply(input, a, b)


def round(input, *, decimals: int = 0, out=None):  # noqa: A001
    if input._a.dtype.kind == "c":
        _complex().check_unary("round", input)
    if decimals:
        s = 10.0**decimals
        r = FUNCTIONS["round"].apply(input * s) / s
    else:
        r = FUNCTIONS["round"].apply(input)
    return r if out is None else _out(out, r)


round.Function = FUNCTIONS["round"]
PUBLIC["round"] = round


def gelu(input, approximate: str = "none"):
    if approximate not in ("none", "tanh"):
        raise RuntimeError(f"approximate argument must be either none or tanh, got {approximate!r}")
    return _param_call("gelu_tanh" if approximate == "tanh" else "gelu", input, 0.0, 0.0)


def silu(input):
    return _param_call("silu", input, 0.0, 0.0)


def mish(input):
    return _param_call("mish", input, 0.0, 0.0)


def softplus(input, beta: float = 1.0, threshold: float = 20.0):
    return _param_call("softplus", input, float(beta), float(threshold))


def elu(input, alpha: float = 1.0):
    return _param_call("elu", input, float(alpha), 1.0)


SELU_ALPHA = 1.6732632423543772848170429916717
SELU_SCALE = 1.0507009873554804934193349852946


def selu(input):
    """torch's selu: the elu row with selu's alpha and scale (one EluBackward0 node)."""
    return _param_call("elu", input, SELU_ALPHA, SELU_SCALE)


def celu(input, alpha: float = 1.0):
    if alpha == 0:
        raise RuntimeError("ZeroDivisionError")  # torch's words for celu(alpha=0)
    return _param_call("celu", input, float(alpha), 0.0)


def hardswish(input):
    return _param_call("hardswish", input, 0.0, 0.0)


def logsigmoid(input):
    if input._a.ndim > 1 and not input._a.flags.c_contiguous:
        input = input.contiguous()  # torch's log_sigmoid_forward: a C-ordered result always
    return _param_call("logsigmoid", input, 0.0, 0.0)


def hardsigmoid(input):
    return _param_call("hardsigmoid", input, 0.0, 0.0)


def softshrink(input, lambd: float = 0.5):
    if lambd < 0:
        raise RuntimeError(f"lambda must be greater or equal to 0, but found to be {lambd}.")
    return _param_call("softshrink", input, float(lambd), 0.0)


def hardshrink(input, lambd: float = 0.5):
    return _param_call("hardshrink", input, float(lambd), 0.0)


def threshold(input, threshold: float, value: float):
    return _param_call("threshold", input, float(threshold), float(value))


def leaky_relu(input, negative_slope: float = 0.01):
    return _param_call("leaky_relu", input, float(negative_slope), 0.0)


def _make_from_result(name: str, node_name: str):
    """The in-place form of table row ``name`` under autograd, computed in the input's own
    buffer, whose node keeps the result (torch's relu_ -> ReluBackward0 and leaky_relu_ ->
    LeakyReluBackward1 save ``result``): the row's gradient formula read at the result, right
    for these rows since the result is positive exactly where the input is. No clone, no
    copy back, no second buffer held by the graph (DCGAN's LeakyReLU(inplace=True) and
    ResNet's ReLU(inplace=True) paid for all three)."""
    op = _table.UNARY_BY_NAME[name]

    class _FromResult(FUNCTIONS[name]):
        _node_name = node_name

        @staticmethod
        def forward(ctx, x, a=0.0, b=0.0):
            xa = x._a
            if not unary_into(op, xa, a, b):
                xp_of(xa).copyto(xa, unary_array(op, xa, a, b))
            ctx.p = (a, b)
            ctx.mark_dirty(x)
            ctx.save_for_backward(x, x)  # the result, read as the formula's x and y
            return x

    saved_names(_FromResult, result=0)
    return named(_FromResult, node_name.replace("Backward", "Inplace"))


_FROM_RESULT = {
    "relu": _make_from_result("relu", "ReluBackward0"),
    "leaky_relu": _make_from_result("leaky_relu", "LeakyReluBackward1"),
    # (min(max(x, lo), hi) is strictly inside (lo, hi) exactly where x is, the gradient's mask)
    "hardtanh": _make_from_result("hardtanh", "HardtanhBackward0"),
}


def act_inplace(input, name: str, a: float = 0.0, b: float = 0.0):
    """``relu_`` / ``leaky_relu_`` (slope ``a`` >= 0) / ``hardtanh_`` (bounds ``a``, ``b``;
    ReLU6(inplace=True)) recorded by autograd on a non-leaf, non-view float tensor with no
    views: ``_FROM_RESULT``'s in-place node; None where the general in-place path (a clone or
    an out-of-place result copied back) must run. A negative slope keeps that path: torch's
    in-place backward refuses it, ours stays correct."""
    if (
        not (state.enabled and input._rg)
        or input.grad_fn is None
        or input._base is not None
        or input._views
        or input._a.dtype.kind not in "fV"
        or type(input._a) is not _nd
        or (name == "leaky_relu" and not a >= 0.0)
    ):
        return None
    check_writable(input, name + "_")
    return _FROM_RESULT[name].apply(input, float(a), float(b))


def hardtanh_bounds(min_val, max_val) -> tuple[float, float]:
    """hardtanh's bounds as the kernels' parameters: a NaN bound means no bound."""
    lo = -_INF if min_val != min_val else float(min_val)
    hi = _INF if max_val != max_val else float(max_val)
    return lo, hi


def hardtanh(input, min_val: float = -1.0, max_val: float = 1.0):
    return _param_call("hardtanh", input, *hardtanh_bounds(min_val, max_val))


# A row whose expression reads the parameters a/b is public through the function above of
# its name (torch's defaults), not the generated one, which would run with a = b = 0
# (``ctorch.celu(x)`` gave 0 for every negative x, and NaN at 0).
for _op in _table.UNARY:
    if _op.public in PUBLIC and _re.search(r"\b[ab]\b", _op.forward):
        PUBLIC[_op.public] = globals()[_op.public]


def relu6(input):
    return hardtanh(input, 0.0, 6.0)


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
    return NanToNum.apply(input, nan, posinf, neginf)


def logit(input, eps=None):
    if input._a.dtype.kind not in "fV":
        input = input.to(D.get_default_dtype())  # torch: integers give the default float
    return Logit.apply(input, None if eps is None else float(eps))
