"""Pointwise ops outside the op table (issue #14): ``allclose``/``isclose``,
``addcmul``/``addcdiv``/``lerp`` (and their in-place forms) and ``erfinv``.

Where an op is a short composition of differentiable ops it is written as one (autograd comes
with it); ``lerp`` and ``erfinv`` are ``Function``s of their own. The other issue-#14 ops that
used to live here moved by idea (issue #10): ``cross``/``kron``/``cdist``/``cartesian_prod``
to ``products.py``, ``diff``/``trapezoid`` to ``numerical.py``, ``expand_copy`` to ``join.py``
and ``Tensor.unfold`` to ``shape.py``.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from .._backend import meta_xp, xp_of
from .._tensor import Tensor
from ..autograd import inplace as IP
from ..autograd.function import Function
from ..autograd.grad_mode import state
from ._util import as_tensor_arg, check_out_grad, check_out_meta, sum_to_shape
from .binary import _scalar_name

__all__ = [
    "addcdiv",
    "addcdiv_",
    "addcmul",
    "addcmul_",
    "allclose",
    "erfinv",
    "erfinv_",
    "isclose",
    "lerp",
    "lerp_",
]

_wrap = Tensor._make


def _arr(t: Tensor) -> Any:
    return t._a


# ------------------------------------------------------------------ isclose / allclose
def _check_same_dtype(op: str, a: Tensor, b: Tensor) -> None:
    if a.dtype is not b.dtype:
        raise RuntimeError(
            f"{a.dtype} did not match {b.dtype}"
            if op == "allclose"
            else f"{op}(): expected both inputs to have same dtype, but got {a.dtype} and {b.dtype}"
        )


def isclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> Tensor:
    """``|input - other| <= atol + rtol * |other|`` elementwise (infinities equal when they
    match, NaN equal to NaN only with ``equal_nan``), as torch."""
    other = as_tensor_arg(other, input, "isclose")
    _check_same_dtype("isclose", input, other)
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")
    a, b = input._a, other._a
    xp = xp_of(a)
    if a.dtype == np.bool_:
        return _wrap(xp.asarray(a == b))
    with np.errstate(all="ignore"):
        return _wrap(xp.asarray(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))


def allclose(
    input: Tensor, other: Tensor, rtol: float = 1e-05, atol: float = 1e-08, equal_nan: bool = False
) -> bool:
    """Whether every element of :func:`isclose` is true."""
    other = as_tensor_arg(other, input, "allclose")
    _check_same_dtype("allclose", input, other)
    return isclose(input, other, rtol, atol, equal_nan).all().item()  # (meta: torch's error)


# ------------------------------------------------------------------ addcmul / addcdiv
def _scaled(value: Any, t: Tensor) -> Tensor:
    return t if isinstance(value, numbers.Number) and value == 1 else t * value


def _int_terms(input, t1, t2, value):
    """addcmul/addcdiv with an integer or bool operand: torch promotes the three tensors to
    their result type before the product (uint8 200 * 200 is 40000 into an int32 or float
    input, not 64) and casts ``value`` to it (an integral type truncates 2.5 to 2 and wraps
    a negative int into an unsigned one).  Float-only calls come back as they are."""
    if all(t._a.dtype.kind not in "iub" for t in (input, t1, t2)):
        return t1, t2, value
    dt = D.result_type(input, t1, t2)
    npdt = D.to_numpy_dtype(dt)
    if npdt.kind in "iu" and isinstance(value, numbers.Real) and not isinstance(value, bool):
        value = D.wrap_int(int(value), npdt)
    return t1.to(dt), t2.to(dt), value


class _Addcmul(Function):
    """``input + value * tensor1 * tensor2`` as one node, torch's ``AddcmulBackward0``. The
    forward runs the composite without a graph, so values and dtypes are the composite's."""

    _node_name = "AddcmulBackward0"

    @staticmethod
    def record(ctx, input, t1, t2, value, term):
        ctx.save_for_backward(t1, t2)
        ctx.value, ctx.shapes = value, (input.shape, t1.shape, t2.shape)
        return input + _scaled(value, term)

    @staticmethod
    def forward(ctx, input, t1, t2, value):
        c1, c2, value = _int_terms(input, t1, t2, value)
        return _Addcmul.record(ctx, input, t1, t2, value, c1 * c2)

    @staticmethod
    def grads(g, t1, t2):  # the gradients of ``t1 * t2`` given ``g`` (conjugated, as torch)
        return g * t2.conj(), g * t1.conj()

    @staticmethod
    def backward(ctx, g):
        t1, t2 = ctx.saved_tensors
        need = ctx.needs_input_grad
        gi = sum_to_shape(g, ctx.shapes[0]) if need[0] else None
        g1 = g2 = None
        if need[1] or need[2]:
            gv = _scaled(ctx.value, g)
            d1, d2 = ctx._forward_cls.grads(gv, t1, t2)
            g1 = sum_to_shape(d1, ctx.shapes[1]) if need[1] else None
            g2 = sum_to_shape(d2, ctx.shapes[2]) if need[2] else None
        return gi, g1, g2, None


class _Addcdiv(_Addcmul):
    _node_name = "AddcdivBackward0"

    @staticmethod
    def forward(ctx, input, t1, t2, value):
        return _Addcmul.record(ctx, input, t1, t2, value, t1 / t2)

    @staticmethod
    def grads(g, t1, t2):
        q = g / t2.conj()
        return q, -q * (t1 / t2).conj()


def addcmul(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None
) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    return _maybe_out(out, _Addcmul.apply(input, tensor1, tensor2, value))


def addcdiv(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None
) -> Tensor:
    """``input + value * tensor1 / tensor2`` (integer tensors refused, as torch does)."""
    if not tensor1.is_floating_point() and not tensor1.is_complex():
        if not tensor2.is_floating_point() and not tensor2.is_complex():
            raise RuntimeError(
                "Integer division with addcdiv is no longer supported, and in a future "
                "release addcdiv will perform a true division of tensor1 and tensor2. The "
                "historic addcdiv behavior can be implemented as (input + value * "
                "torch.trunc(tensor1 / tensor2)).to(input.dtype) for integer inputs and as "
                "(input + value * tensor1 / tensor2) for float inputs. The future addcdiv "
                "behavior is just the latter implementation: (input + value * tensor1 / "
                "tensor2), for all dtypes."
            )
    return _maybe_out(out, _Addcdiv.apply(input, tensor1, tensor2, value))


def _maybe_out(out: Tensor | None, r: Tensor) -> Tensor:
    if out is None:
        return r
    check_out_grad(out, r)
    check_out_meta(out, r)
    out.copy_(r) if out.shape == r.shape else out.resize_(r.shape).copy_(r)
    return out


def _inplace(self: Tensor, op: str, compute, *others: Any) -> Tensor:

    grad_other = next((o for o in others if isinstance(o, Tensor) and o._rg), None)
    return IP.inplace(self, op, compute, grad_other)


def _add_scaled_in_place(self: Tensor, term: Any, value: Any) -> Tensor:
    """``self += value * term`` straight into the array (no graph): addcmul_/addcdiv_ outside
    autograd. ``term`` must broadcast to ``self``'s shape, as torch requires."""
    a = self._a
    if not (isinstance(value, numbers.Number) and value == 1):
        term = term * value
    if np.broadcast_shapes(term.shape, a.shape) != a.shape:
        raise RuntimeError(
            f"output with shape {list(a.shape)} doesn't match the broadcast shape "
            f"{list(np.broadcast_shapes(term.shape, a.shape))}"
        )
    xp_of(a).add(a, term.astype(a.dtype, copy=False), out=a)
    self._bump()
    return self


def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place :func:`addcmul` (the optimizers' hot path: plain array ops without grad)."""
    # The grad-mode test stays: it picks the in-place machinery (autograd.inplace, which
    # records the write in the graph) or a plain write into the array (no Function involved).
    if not (state.enabled and (self._rg or tensor1._rg or tensor2._rg)):
        IP.check_writable(self, "addcmul_")
        c1, c2, value = _int_terms(self, tensor1, tensor2, value)
        return _add_scaled_in_place(self, c1._a * c2._a, value)
    return _inplace(
        self, "addcmul_", lambda: addcmul(self, tensor1, tensor2, value=value), tensor1, tensor2
    )


def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place :func:`addcdiv`."""
    # As addcmul_: the grad-mode test stays; it picks the in-place machinery (autograd.inplace, which
    # records the write in the graph) or a plain write into the array (no Function involved).
    if not (state.enabled and (self._rg or tensor1._rg or tensor2._rg)) and (
        tensor1.is_floating_point() or tensor2.is_floating_point()
    ):
        IP.check_writable(self, "addcdiv_")
        return _add_scaled_in_place(self, tensor1._a / tensor2._a, value)
    return _inplace(
        self, "addcdiv_", lambda: addcdiv(self, tensor1, tensor2, value=value), tensor1, tensor2
    )


# ------------------------------------------------------------------ lerp
def _lerp_arrays(s: Any, e: Any, w: Any) -> Any:
    """torch's formula: ``s + w*(e-s)`` for ``|w| < 0.5``, else ``e - (e-s)*(1-w)``."""
    xp = xp_of(s)
    d = e - s
    return xp.where(xp.abs(w) < 0.5, s + w * d, e - d * (1 - w))


class Lerp(Function):
    _node_name = "LerpBackward0"

    @staticmethod
    def forward(ctx, start, end, weight):
        if isinstance(weight, Tensor):
            ctx.save_for_backward(start, end, weight)
        ctx.w = weight  # a scalar weight needs no saved tensor (a second backward works, as torch)
        ctx.shapes = start.shape, end.shape
        w = weight._a if isinstance(weight, Tensor) else weight
        r = _lerp_arrays(start._a, end._a, w)
        dt = np.result_type(start._a.dtype, end._a.dtype)
        return _wrap(r.astype(dt, copy=False))

    @staticmethod
    def backward(ctx, g):
        wt = None
        if isinstance(ctx.w, Tensor):
            start, end, wt = ctx.saved_tensors
        w = wt if wt is not None else ctx.w
        gs = ge = gw = None
        if ctx.needs_input_grad[0]:
            gs = sum_to_shape(g * (1 - w), ctx.shapes[0])
        if ctx.needs_input_grad[1]:
            ge = sum_to_shape(g * w, ctx.shapes[1])
        if wt is not None and ctx.needs_input_grad[2]:
            gw = sum_to_shape(g * (end - start), wt.shape)
        return gs, ge, gw


def _lerp_float_only(input: Tensor, weight: Any) -> None:
    if input._a.dtype.kind not in "fcV":  # torch has no integer lerp kernel
        kernel = "lerp_kernel_tensor" if isinstance(weight, Tensor) else "lerp_kernel_scalar"
        raise NotImplementedError(
            f"\"{kernel}\" not implemented for '{_scalar_name(input._a.dtype)}'"
        )


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:
    """``input + weight * (end - input)`` with a scalar or tensor ``weight`` (differentiable in
    all three), computed with torch's two-sided formula."""
    end = as_tensor_arg(end, input, "lerp")
    _lerp_float_only(input, weight)
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor) and weight.dtype is not input.dtype:
        raise RuntimeError(
            f"expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}"
        )
    return _maybe_out(out, Lerp.apply(input, end, weight))


def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    """In-place :func:`lerp` (EMA updates: plain array ops without grad)."""
    end = as_tensor_arg(end, self, "lerp_")
    _lerp_float_only(self, weight)
    wrg = isinstance(weight, Tensor) and weight._rg
    # As addcmul_: the grad-mode test picks the in-place machinery or a plain array write.
    if not (state.enabled and (self._rg or end._rg or wrg)):
        IP.check_writable(self, "lerp_")
        a = self._a
        w = weight._a if isinstance(weight, Tensor) else weight
        r = _lerp_arrays(a, end._a, w)
        if r.shape != a.shape:
            if np.broadcast_shapes(r.shape, a.shape) != a.shape:
                raise RuntimeError(
                    f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                    f"{list(r.shape)}"
                )
        a[...] = r
        self._bump()
        return self
    return _inplace(self, "lerp_", lambda: lerp(self, end, weight), end, weight)


# ------------------------------------------------------------------ erfinv
def _erf(xp: Any, x: Any) -> Any:
    from .unary import vocab

    return vocab(xp)["ERF"](x)  # the op table's erf over arrays


def _erfinv_array(x: Any) -> Any:
    """erfinv in float64: scipy.special when present, else Giles' single-precision
    approximation refined by Newton steps on ``erf(y) = x`` (full double precision)."""
    xp = xp_of(x)
    x64 = x.astype(np.float64)
    if xp is np or xp is meta_xp:  # (meta: SciPy's ufunc reaches MetaArray's shape rule)
        try:
            from scipy.special import erfinv as sp_erfinv

            return _odd_zero(sp_erfinv(x64), x64)
        except ImportError:
            pass
    else:  # pragma: no cover - GPU
        import cupyx.scipy.special as sp

        return _odd_zero(sp.erfinv(x64), x64)
    with np.errstate(all="ignore"):
        w = -np.log((1.0 - x64) * (1.0 + x64))
        small = w < 5.0
        ws = w - 2.5
        p1 = 2.81022636e-08
        for c in (
            3.43273939e-07,
            -3.5233877e-06,
            -4.39150654e-06,
            0.00021858087,
            -0.00125372503,
            -0.00417768164,
            0.246640727,
            1.50140941,
        ):
            p1 = c + p1 * ws
        wl = np.sqrt(w) - 3.0
        p2 = -0.000200214257
        for c in (
            0.000100950558,
            0.00134934322,
            -0.00367342844,
            0.00573950773,
            -0.0076224613,
            0.00943887047,
            1.00167406,
            2.83297682,
        ):
            p2 = c + p2 * wl
        y = np.where(small, p1, p2) * x64
        two_over_sqrtpi = 2.0 / math.sqrt(math.pi)
        # Newton on erf(y) = x in the middle; in the tails on log(erfc(|y|)) = log(1 - |x|),
        # nearly linear there and free of the cancellation in erf(y) - x
        erfc = np.vectorize(math.erfc, otypes=[np.float64])
        tail = (np.abs(x64) > 0.5) & (np.abs(x64) < 1.0)
        mid = ~tail
        for _ in range(3):
            ym = np.where(mid & np.isfinite(y), y, 0.0)
            step = (_erf(np, ym) - x64) / (two_over_sqrtpi * np.exp(-(ym**2)))
            y = np.where(mid & np.isfinite(y), y - step, y)
        if tail.any():
            xt = x64[tail]
            yt = np.abs(y[tail])
            log_t = np.log1p(-np.abs(xt))
            for _ in range(6):
                ec = erfc(yt)
                g = np.log(ec) - log_t
                dg = -two_over_sqrtpi * np.exp(-(yt**2)) / ec
                yt = yt - g / dg
            y = y.copy()
            y[tail] = yt * np.sign(xt)
        y = np.where(x64 == 1.0, np.inf, y)
        y = np.where(x64 == -1.0, -np.inf, y)
        y = np.where(np.abs(x64) > 1.0, np.nan, y)
    return _odd_zero(y, x64)


def _odd_zero(y: Any, x: Any) -> Any:
    """erfinv is odd: erfinv(-0.0) is -0.0, as torch's (SciPy's and the refinement give +0.0)."""
    xp = xp_of(y)
    return xp.where(x == 0, x, y)


class Erfinv(Function):
    _node_name = "ErfinvBackward0"

    @staticmethod
    def forward(ctx, x):
        a = x._a
        dt = a.dtype if a.dtype.kind in "fV" else D.to_numpy_dtype(D.get_default_dtype())
        y = _wrap(_erfinv_array(a).astype(dt, copy=False))
        ctx.save_for_backward(y)
        return y

    @staticmethod
    def backward(ctx, g):
        (y,) = ctx.saved_tensors
        # d/dx erfinv(x) = sqrt(pi)/2 * exp(erfinv(x)^2)
        return g * (math.sqrt(math.pi) / 2.0) * (y * y).exp()


def erfinv(input: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Inverse error function (differentiable)."""
    return _maybe_out(out, Erfinv.apply(input))


def erfinv_(self: Tensor) -> Tensor:
    return _inplace(self, "erfinv_", lambda: erfinv(self))
