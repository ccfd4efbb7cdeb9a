"""torch.special's elementwise functions on ``scipy.special`` (Cephes and friends), with
torch's gradients where torch has them, written with differentiable tensor ops (so double
backward works, e.g. digamma -> polygamma(1) -> polygamma(2)).

Dtypes follow torch: a floating input keeps its dtype (float16/bfloat16 compute in float32);
integer and bool inputs compute in the default dtype; two-input functions take the promoted
dtype (Python scalars do not raise it). Functions torch does not differentiate (Bessel, Airy,
the orthogonal polynomials) return tensors that do not require grad, as torch's do; ``zeta`` and
``gammainc``/``gammaincc`` differentiate only their second input and raise for the first.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from .._meta import MetaArray, elementwise, is_meta
from .._tensor import Tensor
from ..autograd.function import Function
from ..ops._util import check_same_device, named, sum_to_shape
from ..ops.pointwise_extra import _maybe_out

_wrap = Tensor._make
_SC = None


def sc():
    """``scipy.special``, imported on first use (it costs ~0.1 s)."""
    global _SC
    if _SC is None:
        import scipy.special as s

        _SC = s
    return _SC


def _default_np() -> np.dtype:
    return np.dtype(D.to_numpy_dtype(D.get_default_dtype()))


def refuse_complex(name: str, *xs: Any) -> None:
    """torch implements most of torch.special for real dtypes only: a complex tensor raises
    torch's ``NotImplementedError`` instead of losing its imaginary part in scipy.special."""
    for x in xs:
        if isinstance(x, Tensor) and x._a.dtype.kind == "c":
            from ..ops.complex import scalar_name

            raise NotImplementedError(f"\"{name}_cpu\" not implemented for '{scalar_name(x._a)}'")


def out_dtype(*arrays: Any) -> np.dtype:
    """torch's result dtype for a float-valued function: tensors promote, Python scalars do
    not raise a floating tensor's dtype, integers and bools give the default dtype."""
    tens = [a for a in arrays if isinstance(a, (np.ndarray, MetaArray))]
    floats = [a.dtype for a in tens if a.dtype.kind in "fcV"]  # V: bfloat16
    if floats:
        dt = np.result_type(*floats)
    else:
        dt = _default_np()
    return dt


def compute_dtype(dt: np.dtype) -> np.dtype:
    return dt if dt.itemsize >= 4 else np.dtype(np.float32)


def _arr(x: Any, dt: np.dtype) -> np.ndarray:
    if isinstance(x, Tensor):
        if type(x._a) is not np.ndarray:
            raise RuntimeError(
                "ctorch.special runs on the CPU (scipy.special) only; move the tensor with "
                ".cpu() first"
            )
        return x._a.astype(compute_dtype(dt), copy=False)
    return np.asarray(x, dtype=compute_dtype(dt))


def _finish(r: Any, dt: np.dtype) -> Tensor:
    return _wrap(np.asarray(r).astype(dt, copy=False))


def _tensor_of(x: Any, like: Tensor) -> Tensor:
    if isinstance(x, Tensor):
        return x
    return _wrap(np.asarray(x, dtype=like._a.dtype))


def _unary_arrays(fn, x: Tensor, *params) -> Tensor:
    a = x._a
    if type(a) is MetaArray:  # the meta device: elementwise, torch's dtype, nothing computed
        return _wrap(elementwise((a,), out_dtype(a)))
    if type(a) is not np.ndarray:
        raise RuntimeError(
            f"ctorch.special.{getattr(fn, '__name__', 'function')}: runs on the CPU "
            "(scipy.special) only; move the tensor with .cpu() first"
        )
    dt = out_dtype(a)
    with np.errstate(all="ignore"):
        return _finish(fn(a.astype(compute_dtype(dt), copy=False), *params), dt)


class _Unary(Function):
    """One-input function: ``_f`` on arrays, ``_grad(x, y, g)`` on tensors."""

    @classmethod
    def forward(cls, ctx, x, *params):
        y = _unary_arrays(cls._f, x, *params)
        ctx.save_for_backward(x, y)
        ctx.params = params
        return y

    @classmethod
    def backward(cls, ctx, g):
        x, y = ctx.saved_tensors
        return (cls._grad(x, y, g, *ctx.params),) + (None,) * len(ctx.params)


def _unary(
    name: str, f, grad=None, node: str | None = None, doc: str = "", complex_ok: bool = False
):
    """A public ``fn(input, *, out=None)`` with autograd when ``grad`` is given; complex input
    raises unless ``complex_ok`` (as torch)."""
    if grad is None:

        def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
            refuse_complex(name, input)
            return _maybe_out(out, _unary_arrays(f, input))

    else:
        cls = type(
            name.title().replace("_", "") + "Fn",
            (_Unary,),
            {"_f": staticmethod(f), "_grad": staticmethod(grad), "_node_name": node},
        )

        def fn(input: Tensor, *, out: Tensor | None = None) -> Tensor:
            if not complex_ok:
                refuse_complex(name, input)
            return _maybe_out(out, cls.apply(input))

    return named(fn, name, doc or f"``torch.special.{name}``.")


# ------------------------------------------------------------------ gamma family
def _polygamma_arr(a, n):
    s = sc()
    if n == 0:
        return s.psi(a)
    return s.polygamma(n, a)


class Polygamma(Function):
    _node_name = "PolygammaBackward0"

    @staticmethod
    def forward(ctx, x, n):
        y = _unary_arrays(_polygamma_arr, x, n)
        ctx.save_for_backward(x)
        ctx.n = n
        return y

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return g * polygamma(ctx.n + 1, x), None


def polygamma(n: int, input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """n-th derivative of the digamma function."""
    if not isinstance(n, numbers.Integral) or n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    refuse_complex("polygamma", input)
    return _maybe_out(out, Polygamma.apply(input, int(n)))


def digamma(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Logarithmic derivative of the gamma function (``psi``; -inf at 0, as torch)."""
    refuse_complex("digamma", input)
    return _maybe_out(out, Digamma.apply(input))


class Digamma(_Unary):
    _node_name = "DigammaBackward0"

    @staticmethod
    def _f(a):
        # torch: -inf at +0, +inf at -0
        return np.where(a == 0, np.copysign(np.inf, -a), sc().psi(a))

    @staticmethod
    def _grad(x, y, g):
        return g * polygamma(1, x)


def _gammaln_grad(x, y, g):
    return g * digamma(x)


gammaln = _unary(
    "gammaln",
    lambda a: np.where(a == -np.inf, np.inf, sc().gammaln(a)),
    _gammaln_grad,
    "LgammaBackward0",
)


class Mvlgamma(Function):
    _node_name = "MvlgammaBackward0"

    @staticmethod
    def forward(ctx, x, p):
        a = x._a
        dt = out_dtype(a)
        # no domain check: torch 2.13 dropped "All elements must be greater than (p-1)/2"
        # and returns the sum of log|Gamma| (inf at the poles)
        y = _unary_arrays(_mvl, x, p)
        ctx.save_for_backward(x)
        ctx.p = p
        return y if type(y._a) is MetaArray else _finish(y._a, dt)

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        p = ctx.p
        s = None
        for j in range(p):
            t = digamma(x - j / 2.0)
            s = t if s is None else s + t
        return g * s, None


def _mvl(a, p):
    s = sc()
    r = p * (p - 1) / 4.0 * math.log(math.pi)
    out = np.full(a.shape, r, dtype=np.float64)
    for j in range(p):
        t = a - j / 2.0
        # lgamma(-inf) is +inf (C's lgamma, torch's); SciPy's gammaln gives -inf there
        out = out + np.where(np.isneginf(t), np.inf, s.gammaln(t))
    return out


def multigammaln(input: Tensor, p: int, *, out: Tensor | None = None) -> Tensor:
    """Log of the multivariate gamma function of dimension ``p``."""
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    refuse_complex("mvlgamma", input)
    if input._a.dtype.kind == "b":
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    return _maybe_out(out, Mvlgamma.apply(input, int(p)))


# ------------------------------------------------------------------ error functions
_TWO_OVER_SQRT_PI = 2.0 / math.sqrt(math.pi)
_INV_SQRT_2PI = 1.0 / math.sqrt(2 * math.pi)


erfc = _unary(
    "erfc",
    lambda a: sc().erfc(a),
    lambda x, y, g: g * (-_TWO_OVER_SQRT_PI) * (-(x * x)).exp(),
    "ErfcBackward0",
)
erfcx = _unary(
    "erfcx",
    lambda a: sc().erfcx(a),
    lambda x, y, g: g * (2.0 * x * y - _TWO_OVER_SQRT_PI),
    "SpecialErfcxBackward0",
)
ndtr = _unary(
    "ndtr",
    lambda a: sc().ndtr(a),
    lambda x, y, g: g * _INV_SQRT_2PI * (-0.5 * x * x).exp(),
    "SpecialNdtrBackward0",
)
ndtri = _unary(
    "ndtri",
    lambda a: sc().ndtri(a),
    lambda x, y, g: g * math.sqrt(2 * math.pi) * (0.5 * y * y).exp(),
    "SpecialNdtriBackward0",
)
log_ndtr = _unary(
    "log_ndtr",
    lambda a: sc().log_ndtr(a),
    lambda x, y, g: g * _INV_SQRT_2PI * (-(y + 0.5 * x * x)).exp(),
    "SpecialLogNdtrBackward0",
)


# ------------------------------------------------------------------ Bessel functions
def _i1_grad(x, y, g):
    # i1'(x) = i0(x) - i1(x) / x, and 1/2 at 0
    r = i0(x) - y / x
    return g * r.masked_fill(x == 0, 0.5)


def _i1e_grad(x, y, g):
    r = i0e(x) - y * (x.sign() + 1.0 / x)
    return g * r.masked_fill(x == 0, 0.5)


i0 = _unary("i0", lambda a: sc().i0(a), lambda x, y, g: g * i1(x), "I0Backward0")
i0e = _unary(
    "i0e",
    lambda a: sc().i0e(a),
    lambda x, y, g: g * (i1e(x) - x.sign() * y),
    "SpecialI0EBackward0",
)
i1 = _unary("i1", lambda a: sc().i1(a), _i1_grad, "SpecialI1Backward0")
i1e = _unary("i1e", lambda a: sc().i1e(a), _i1e_grad, "SpecialI1EBackward0")


def _nonneg(f):
    """torch's modified_bessel_k*: NaN below 0, inf at 0 (SciPy agrees; kept explicit)."""

    def g(a):
        r = f(a)
        return np.where(a < 0, np.nan, np.where(a == 0, np.inf, r))

    return g


bessel_j0 = _unary("bessel_j0", lambda a: sc().j0(a))
bessel_j1 = _unary("bessel_j1", lambda a: sc().j1(a))
bessel_y0 = _unary(
    "bessel_y0", lambda a: np.where(a < 0, np.nan, np.where(a == 0, -np.inf, sc().y0(a)))
)
bessel_y1 = _unary(
    "bessel_y1", lambda a: np.where(a < 0, np.nan, np.where(a == 0, -np.inf, sc().y1(a)))
)
modified_bessel_i0 = _unary("modified_bessel_i0", lambda a: sc().i0(a))
modified_bessel_i1 = _unary("modified_bessel_i1", lambda a: sc().i1(a))
modified_bessel_k0 = _unary("modified_bessel_k0", _nonneg(lambda a: sc().k0(a)))
modified_bessel_k1 = _unary("modified_bessel_k1", _nonneg(lambda a: sc().k1(a)))
scaled_modified_bessel_k0 = _unary("scaled_modified_bessel_k0", _nonneg(lambda a: sc().k0e(a)))
scaled_modified_bessel_k1 = _unary("scaled_modified_bessel_k1", _nonneg(lambda a: sc().k1e(a)))
spherical_bessel_j0 = _unary(
    "spherical_bessel_j0",
    lambda a: np.where(np.isinf(a), 0.0, sc().spherical_jn(0, a)),
)
airy_ai = _unary("airy_ai", lambda a: sc().airy(a)[0])


# ------------------------------------------------------------------ sinc / entr / expit / logit
def _sinc_grad(x, y, g):
    px = math.pi * x
    r = (px * px.cos() - px.sin()) / (math.pi * x * x)
    if r._a.dtype.kind == "c":  # holomorphic: torch's g * conj(f'(x))
        from ..ops.complex import cj

        r = cj(r)
    return (g * r).masked_fill(x == 0, 0.0)  # after the product, as torch: 0 even for inf g


sinc = _unary("sinc", lambda a: np.sinc(a), _sinc_grad, "SincBackward0", complex_ok=True)


def _entr_arr(a):
    with np.errstate(all="ignore"):
        r = -a * np.log(a)
    return np.where(a > 0, r, np.where(a == 0, 0.0, np.where(np.isnan(a), a, -np.inf)))


entr = _unary("entr", _entr_arr, lambda x, y, g: g * (-(1.0 + x.log())), "SpecialEntrBackward0")


def expit(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Logistic sigmoid (``torch.sigmoid``)."""
    return _maybe_out(out, input.sigmoid())


def logit(input: Tensor, eps: float | None = None, *, out: Tensor | None = None) -> Tensor:
    from ..ops.unary import logit as _logit

    refuse_complex("logit", input)
    return _maybe_out(out, _logit(input, eps))


# ------------------------------------------------------------------ two-input functions
def _binary_dtype(x: Any, y: Any, op: str) -> np.dtype:
    if not isinstance(x, Tensor) and not isinstance(y, Tensor):
        raise TypeError(f"{op}(): expected at least one Tensor argument")
    # torch's result_type (a 0-d tensor or a scalar does not widen a dimensioned float16 /
    # bfloat16 tensor; float16 with bfloat16 is float32), the default dtype for integers
    dt = D.result_type(x, y)
    return D.to_numpy_dtype(dt) if dt.is_floating_point else _default_np()


class _Binary(Function):
    @classmethod
    def forward(cls, ctx, x, y):
        dt = _binary_dtype(x, y, cls._name)
        if is_meta(x, y):  # the meta device: elementwise, torch's dtype, nothing computed
            check_same_device(cls._name, x, y)
            out = _wrap(elementwise((x, y), dt))
        else:
            with np.errstate(all="ignore"):
                r = cls._f(_arr(x, dt), _arr(y, dt))
            out = _finish(r, dt)
        xt = _tensor_of(x, out)
        yt = _tensor_of(y, out)
        ctx.save_for_backward(xt, yt, out)
        return out

    @classmethod
    def backward(cls, ctx, g):
        x, y, z = ctx.saved_tensors
        need = ctx.needs_input_grad
        gx, gy = cls._grad(x, y, z, g, need)
        if gx is not None:
            gx = sum_to_shape(gx, x.shape)
        if gy is not None:
            gy = sum_to_shape(gy, y.shape)
        return gx, gy


def _binary(name: str, f, grad, node: str, doc: str = "", float_kernel: str = ""):
    """``float_kernel``: torch's kernel name for an op with no integer/bool kernel (igamma:
    ``igamma_cpu``), which raises its NotImplementedError when both operands are integral."""
    cls = type(
        name.title().replace("_", "") + "Fn",
        (_Binary,),
        {"_f": staticmethod(f), "_grad": staticmethod(grad), "_node_name": node, "_name": name},
    )

    def fn(input: Any, other: Any, *, out: Tensor | None = None) -> Tensor:
        refuse_complex(name, input, other)
        if float_kernel:
            dt = D.result_type(input, other)
            if not dt.is_floating_point:
                from .._creation import not_implemented_for

                raise not_implemented_for(float_kernel, D.to_numpy_dtype(dt))
        return _maybe_out(out, cls.apply(input, other))

    return named(fn, name, doc or f"``torch.special.{name}``.")


def _xlogy_arr(x, y):
    r = sc().xlogy(x, y)
    return np.where(np.isnan(y), np.nan, r)


def _xlogy_grad(x, y, z, g, need):
    gx = gy = None
    if need[0]:
        gx = xlogy(g, y).masked_fill((x == 0) & (y <= 0), 0.0)
    if need[1]:
        gy = g * x / y
    return gx, gy


def _xlog1py_arr(x, y):
    r = sc().xlog1py(x, y)
    return np.where(np.isnan(y), np.nan, r)


def _xlog1py_grad(x, y, z, g, need):
    gx = gy = None
    if need[0]:
        gx = xlog1py(g, y).masked_fill((x == 0) & (y <= -1), 0.0)
    if need[1]:
        gy = g * x / (y + 1.0)
    return gx, gy


def _not_implemented(what: str):
    raise RuntimeError(f"the derivative for '{what}' is not implemented.")


def _zeta_grad(x, y, z, g, need):
    if need[0]:
        _not_implemented("zeta")
    return None, g * -x * zeta(x + 1.0, y)


def _igamma_grad(sign: float, what: str):
    def grad(a, x, z, g, need):
        if need[0]:
            _not_implemented(what)
        return None, g * sign * ((a - 1.0) * x.log() - x - gammaln(a)).exp()

    return grad


xlogy = _binary("xlogy", _xlogy_arr, _xlogy_grad, "XlogyBackward0", "``x * log(y)``, 0 at x = 0.")
xlog1py = _binary(
    "xlog1py", _xlog1py_arr, _xlog1py_grad, "SpecialXlog1PyBackward0", "``x * log1p(y)``."
)


def _igamma_arr(a, x, upper: bool):
    """scipy's gammainc(c) with torch's branch order for the edge cases (x = 0 wins over a
    NaN a; an infinite a gives 0 (1 for the upper function) unless x is infinite too)."""
    lo, hi = (1.0, 0.0) if upper else (0.0, 1.0)
    r = sc().gammaincc(a, x) if upper else sc().gammainc(a, x)
    return np.select(
        [(x < 0) | (a < 0), a == 0, x == 0, np.isinf(a), np.isinf(x)],
        [np.nan, np.where(x > 0, hi, np.nan), lo, np.where(np.isinf(x), np.nan, lo), hi],
        r,
    )


zeta = _binary(
    "zeta",
    lambda x, q: np.where((q == np.inf) & (x != 1), np.nan, sc().zeta(x, q)),  # as torch
    _zeta_grad,
    "SpecialZetaBackward0",
    "Hurwitz zeta.",
)
gammainc = _binary(
    "gammainc",
    lambda a, x: _igamma_arr(a, x, False),
    _igamma_grad(1.0, "igamma: input"),
    "IgammaBackward0",
    "Regularized lower incomplete gamma function.",
    "igamma_cpu",
)
gammaincc = _binary(
    "gammaincc",
    lambda a, x: _igamma_arr(a, x, True),
    _igamma_grad(-1.0, "igammac: input"),
    "IgammacBackward0",
    "Regularized upper incomplete gamma function.",
    "igammac_cpu",
)
