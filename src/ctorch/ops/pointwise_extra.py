"""Ops added for issue #14: ``allclose``/``isclose``, ``addcmul``/``addcdiv``/``lerp`` (and
their in-place forms), ``erfinv``, ``cross``, ``diff``, ``kron``, ``cdist``,
``cartesian_prod``, ``trapezoid``, ``expand_copy`` and ``Tensor.unfold``.

Where an op is a short composition of differentiable ops it is written as one (autograd comes
with it); ``lerp``, ``erfinv``, ``cdist`` and ``unfold`` are ``Function``s of their own.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from .. import _dtype as D
from .._tensor import Tensor
from ..autograd import inplace as IP
from ..autograd.function import Function
from ..autograd.grad_mode import state
from . import shape as S
from ._dispatch import xp_of
from ._util import as_tensor_arg, sum_to_shape, wrap_dim

__all__ = [
    "addcdiv",
    "addcdiv_",
    "addcmul",
    "addcmul_",
    "allclose",
    "cartesian_prod",
    "cdist",
    "cross",
    "diff",
    "erfinv",
    "erfinv_",
    "expand_copy",
    "isclose",
    "kron",
    "lerp",
    "lerp_",
    "trapezoid",
    "trapz",
    "unfold",
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
    return bool(isclose(input, other, rtol, atol, equal_nan)._a.all())


# ------------------------------------------------------------------ addcmul / addcdiv
def _scaled(value: Any, t: Tensor) -> Tensor:
    return t if isinstance(value, numbers.Number) and value == 1 else t * value


def addcmul(
    input: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1, out: Tensor | None = None
) -> Tensor:
    """``input + value * tensor1 * tensor2``."""
    r = input + _scaled(value, tensor1 * tensor2)
    return _maybe_out(out, r)


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
    r = input + _scaled(value, tensor1 / tensor2)
    return _maybe_out(out, r)


def _maybe_out(out: Tensor | None, r: Tensor) -> Tensor:
    if out is None:
        return r
    out.copy_(r) if out.shape == r.shape else out.resize_(r.shape).copy_(r)
    return out


def _inplace(self: Tensor, op: str, compute, *others: Any) -> Tensor:

    grad_other = next((o for o in others if isinstance(o, Tensor) and o._rg), None)
    return IP.inplace(self, op, compute, grad_other)


def addcmul_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place :func:`addcmul` (the optimizers' hot path: plain array ops without grad)."""
    if not (state.enabled and (self._rg or tensor1._rg or tensor2._rg)):
        IP.check_writable(self, "addcmul_")
        a = self._a
        prod = tensor1._a * tensor2._a
        if not (isinstance(value, numbers.Number) and value == 1):
            prod = prod * value
        if np.broadcast_shapes(prod.shape, a.shape) != a.shape:
            raise RuntimeError(
                f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(prod.shape, a.shape))}"
            )
        xp_of(a).add(a, prod.astype(a.dtype, copy=False), out=a)
        self._bump()
        return self
    return _inplace(
        self, "addcmul_", lambda: addcmul(self, tensor1, tensor2, value=value), tensor1, tensor2
    )


def addcdiv_(self: Tensor, tensor1: Tensor, tensor2: Tensor, *, value: Any = 1) -> Tensor:
    """In-place :func:`addcdiv`."""
    if not (state.enabled and (self._rg or tensor1._rg or tensor2._rg)) and (
        tensor1.is_floating_point() or tensor2.is_floating_point()
    ):
        IP.check_writable(self, "addcdiv_")
        a = self._a
        q = tensor1._a / tensor2._a
        if not (isinstance(value, numbers.Number) and value == 1):
            q = q * value
        if np.broadcast_shapes(q.shape, a.shape) != a.shape:
            raise RuntimeError(
                f"output with shape {list(a.shape)} doesn't match the broadcast shape "
                f"{list(np.broadcast_shapes(q.shape, a.shape))}"
            )
        xp_of(a).add(a, q.astype(a.dtype, copy=False), out=a)
        self._bump()
        return self
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
    @staticmethod
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight if isinstance(weight, Tensor) else None)
        ctx.w = weight
        w = weight._a if isinstance(weight, Tensor) else weight
        r = _lerp_arrays(start._a, end._a, w)
        dt = np.result_type(start._a.dtype, end._a.dtype)
        return _wrap(r.astype(dt, copy=False))

    @staticmethod
    def backward(ctx, g):
        start, end, wt = ctx.saved_tensors
        w = wt if wt is not None else ctx.w
        gs = ge = gw = None
        if ctx.needs_input_grad[0]:
            gs = sum_to_shape(g * (1 - w), start.shape)
        if ctx.needs_input_grad[1]:
            ge = sum_to_shape(g * w, end.shape)
        if wt is not None and ctx.needs_input_grad[2]:
            gw = sum_to_shape(g * (end - start), wt.shape)
        return gs, ge, gw


def lerp(input: Tensor, end: Tensor, weight: Any, *, out: Tensor | None = None) -> Tensor:
    """``input + weight * (end - input)`` with a scalar or tensor ``weight`` (differentiable in
    all three), computed with torch's two-sided formula."""
    end = as_tensor_arg(end, input, "lerp")
    if input.dtype is not end.dtype:
        raise RuntimeError(f"expected dtype {input.dtype} for `end` but got dtype {end.dtype}")
    if isinstance(weight, Tensor):
        if weight.dtype is not input.dtype:
            raise RuntimeError(
                f"expected dtype {input.dtype} for `weight` but got dtype {weight.dtype}"
            )
        rg = input._rg or end._rg or weight._rg
    else:
        rg = input._rg or end._rg
    if state.enabled and rg:
        r = Lerp.apply(input, end, weight)
    else:
        r = Lerp.forward(_NoCtx(), input, end, weight)
    return _maybe_out(out, r)


class _NoCtx:
    def save_for_backward(self, *a: Any) -> None:
        pass


def lerp_(self: Tensor, end: Tensor, weight: Any) -> Tensor:
    """In-place :func:`lerp` (EMA updates: plain array ops without grad)."""
    end = as_tensor_arg(end, self, "lerp_")
    wrg = isinstance(weight, Tensor) and weight._rg
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
    if xp is np:
        try:
            from scipy.special import erfinv as sp_erfinv

            return sp_erfinv(x64)
        except ImportError:
            pass
    else:  # pragma: no cover - GPU
        import cupyx.scipy.special as sp

        return sp.erfinv(x64)
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
    return y


class Erfinv(Function):
    @staticmethod
    def forward(ctx, x):
        a = x._a
        dt = a.dtype if a.dtype.kind == "f" else D.to_numpy_dtype(D.get_default_dtype())
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
    if state.enabled and input._rg:
        r = Erfinv.apply(input)
    else:
        r = Erfinv.forward(_NoCtx(), input)
    return _maybe_out(out, r)


def erfinv_(self: Tensor) -> Tensor:
    return _inplace(self, "erfinv_", lambda: erfinv(self))


# ------------------------------------------------------------------ cross / diff / kron
def cross(input: Tensor, other: Tensor, dim: int | None = None, *, out: Tensor | None = None):
    """Cross product of 3-vectors along ``dim`` (inputs broadcast). Without ``dim``: the first
    dimension of size 3, as ``torch.cross`` does."""
    shape = np.broadcast_shapes(input._a.shape, other._a.shape)
    if input._a.shape != shape:
        input = input.expand(shape)
    if other._a.shape != shape:
        other = other.expand(shape)
    if dim is None:
        dim = next((i for i, s in enumerate(shape) if s == 3), None)
        if dim is None:
            raise RuntimeError("no dimension of size 3 in input")
    d = wrap_dim(dim, len(shape), "cross")
    if shape[d] != 3:
        raise RuntimeError(
            f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[d]} and "
            f"{other.shape[d]}"
        )
    a0, a1, a2 = (S.narrow(input, d, i, 1) for i in range(3))
    b0, b1, b2 = (S.narrow(other, d, i, 1) for i in range(3))
    r = S.cat([a1 * b2 - a2 * b1, a2 * b0 - a0 * b2, a0 * b1 - a1 * b0], d)
    return _maybe_out(out, r)


def diff(
    input: Tensor,
    n: int = 1,
    dim: int = -1,
    prepend: Tensor | None = None,
    append: Tensor | None = None,
) -> Tensor:
    """n-th forward difference along ``dim`` (``!=`` for bool tensors, as torch)."""
    if input._a.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    d = wrap_dim(dim, input._a.ndim, "diff")
    parts = [p for p in (prepend, input, append) if p is not None]
    if len(parts) > 1:
        parts = [as_tensor_arg(p, input, "diff") for p in parts]
        x = S.cat(
            [
                p if p._a.ndim == input._a.ndim else p.expand(_with(input.shape, d, 1))
                for p in parts
            ],
            d,
        )
    else:
        x = input
    for _ in range(n):
        L = x._a.shape[d]
        if L == 0:
            break
        hi, lo = S.narrow(x, d, 1, L - 1), S.narrow(x, d, 0, L - 1)
        x = hi != lo if x._a.dtype == np.bool_ else hi - lo
    return x


def _with(shape: tuple, d: int, v: int) -> tuple:
    s = list(shape)
    s[d] = v
    return tuple(s)


def kron(input: Tensor, other: Tensor, *, out: Tensor | None = None) -> Tensor:
    """Kronecker product (differentiable: one broadcast multiply and a reshape)."""
    nd = max(input._a.ndim, other._a.ndim)
    a = input.reshape((1,) * (nd - input._a.ndim) + tuple(input._a.shape))
    b = other.reshape((1,) * (nd - other._a.ndim) + tuple(other._a.shape))
    sa, sb = a._a.shape, b._a.shape
    ia = []
    ib = []
    for i in range(nd):
        ia += [sa[i], 1]
        ib += [1, sb[i]]
    r = (a.reshape(tuple(ia)) * b.reshape(tuple(ib))).reshape(
        tuple(x * y for x, y in zip(sa, sb, strict=True))
    )
    return _maybe_out(out, r)


# ------------------------------------------------------------------ cdist
def _euclid_mm(a, b):
    """torch's ``use_mm_for_euclid_dist`` path: sqrt(|a|^2 + |b|^2 - 2 a.b), clamped at 0;
    memory O(P*R) instead of O(P*R*M)."""
    xp = xp_of(a)
    aa = (a * a).sum(-1)[..., :, None]
    bb = (b * b).sum(-1)[..., None, :]
    d2 = aa + bb - 2.0 * xp.matmul(a, xp.swapaxes(b, -1, -2))
    return xp.sqrt(xp.maximum(d2, 0.0))


class Cdist(Function):
    @staticmethod
    def forward(ctx, x1, x2, p, use_mm):
        a, b = x1._a, x2._a
        xp = xp_of(a)
        ctx.save_for_backward(x1, x2)
        ctx.p = p
        if p == 2 and use_mm:
            dist = _euclid_mm(a, b)
            ctx.dist = dist
            return _wrap(dist.astype(a.dtype, copy=False))
        diff = a[..., :, None, :] - b[..., None, :, :]
        ad = xp.abs(diff)
        if p == 0:
            dist = (ad != 0).sum(-1).astype(a.dtype)
        elif math.isinf(p):
            dist = ad.max(-1) if ad.shape[-1] else xp.zeros(ad.shape[:-1], a.dtype)
        elif p == 1:
            dist = ad.sum(-1)
        elif p == 2:
            dist = xp.sqrt((diff * diff).sum(-1))
        else:
            dist = (ad**p).sum(-1) ** (1.0 / p)
        ctx.dist = dist
        return _wrap(dist.astype(a.dtype, copy=False))

    @staticmethod
    def backward(ctx, g):
        x1, x2 = ctx.saved_tensors
        p, dist = ctx.p, ctx.dist
        a, b = x1._a, x2._a
        xp = xp_of(a)
        if p == 2:
            # sum_r w_pr (a_p - b_r) without the P x R x M difference tensor
            with np.errstate(all="ignore"):
                w = xp.where(dist == 0, 0.0, g._a / dist).astype(a.dtype, copy=False)
            g1 = g2 = None
            if ctx.needs_input_grad[0]:
                g1 = _wrap(a * w.sum(-1)[..., None] - xp.matmul(w, b))
                g1 = sum_to_shape(g1, x1.shape) if g1.shape != x1.shape else g1
            if ctx.needs_input_grad[1]:
                g2 = _wrap(b * w.sum(-2)[..., None] - xp.matmul(xp.swapaxes(w, -1, -2), a))
                g2 = sum_to_shape(g2, x2.shape) if g2.shape != x2.shape else g2
            return g1, g2, None, None
        diff = a[..., :, None, :] - b[..., None, :, :]
        ga = g._a[..., None]
        dd = dist[..., None]
        with np.errstate(all="ignore"):
            if p == 0:
                w = xp.zeros_like(diff)
            elif p == 1:
                w = xp.sign(diff)
            elif math.isinf(p):
                w = xp.sign(diff) * (xp.abs(diff) == dd)
            else:
                w = xp.where(dd == 0, 0.0, xp.sign(diff) * xp.abs(diff) ** (p - 1) / dd ** (p - 1))
        gd = (ga * w).astype(a.dtype, copy=False)
        g1 = _wrap(gd.sum(-2)) if ctx.needs_input_grad[0] else None
        g2 = _wrap(-gd.sum(-3)) if ctx.needs_input_grad[1] else None
        if g1 is not None and g1.shape != x1.shape:
            g1 = sum_to_shape(g1, x1.shape)
        if g2 is not None and g2.shape != x2.shape:
            g2 = sum_to_shape(g2, x2.shape)
        return g1, g2, None, None


def cdist(
    x1: Tensor,
    x2: Tensor,
    p: float = 2.0,
    compute_mode: str = "use_mm_for_euclid_dist_if_necessary",
) -> Tensor:
    """p-norm distances between the rows of ``x1`` (``B x P x M``) and ``x2`` (``B x R x M``);
    zero distances have a zero gradient, as in torch."""
    if x1._a.ndim < 2 or x2._a.ndim < 2:
        raise RuntimeError(
            f"cdist only supports at least 2D tensors, X1 got: {x1._a.ndim}D"
            if x1._a.ndim < 2
            else f"cdist only supports at least 2D tensors, X2 got: {x2._a.ndim}D"
        )
    if x1._a.shape[-1] != x2._a.shape[-1]:
        raise RuntimeError(
            f"X1 and X2 must have the same number of columns. X1: {x1._a.shape[-1]} X2: "
            f"{x2._a.shape[-1]}"
        )
    if p < 0:
        raise RuntimeError(f"cdist only supports non-negative p values, got {p}")
    if not x1.is_floating_point():
        raise RuntimeError(f"cdist only supports floating-point dtypes, X1 got: {x1.dtype}")
    batch = np.broadcast_shapes(x1._a.shape[:-2], x2._a.shape[:-2])
    if x1._a.shape[:-2] != batch:
        x1 = x1.expand(batch + x1._a.shape[-2:])
    if x2._a.shape[:-2] != batch:
        x2 = x2.expand(batch + x2._a.shape[-2:])
    p = float(p)
    if compute_mode == "use_mm_for_euclid_dist":
        use_mm = True
    elif compute_mode == "donot_use_mm_for_euclid_dist":
        use_mm = False
    elif compute_mode == "use_mm_for_euclid_dist_if_necessary":
        use_mm = x1._a.shape[-2] > 25 or x2._a.shape[-2] > 25
    else:
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    if state.enabled and (x1._rg or x2._rg):
        return Cdist.apply(x1, x2, p, use_mm)
    return Cdist.forward(_NoCtx(), x1, x2, p, use_mm)


# ------------------------------------------------------------------ cartesian_prod / trapezoid
def cartesian_prod(*tensors: Tensor) -> Tensor:
    """All combinations of the 1-D inputs' elements, one row each (differentiable)."""
    if len(tensors) == 1 and isinstance(tensors[0], (list, tuple)):
        tensors = tuple(tensors[0])
    for t in tensors:
        if t._a.ndim != 1:
            raise RuntimeError(f"Expect a 1D vector, but got shape {list(t._a.shape)}")
    if len(tensors) == 1:
        return tensors[0]
    from .shape import meshgrid

    grids = meshgrid(*tensors, indexing="ij")
    return S.stack([g.reshape(-1) for g in grids], 1)


def trapezoid(
    y: Tensor, x: Tensor | None = None, *, dx: float | None = None, dim: int = -1
) -> Tensor:
    """Trapezoidal rule along ``dim``, with sample points ``x`` or spacing ``dx`` (default 1)."""
    if isinstance(x, numbers.Number):
        dx, x = x, None
    d = wrap_dim(dim, y._a.ndim, "trapezoid")
    L = y._a.shape[d]
    if L == 0:
        return y.sum(d) * 0
    lo, hi = S.narrow(y, d, 0, L - 1), S.narrow(y, d, 1, L - 1)
    if x is None:
        step = 1.0 if dx is None else dx
        return ((lo + hi) * 0.5).sum(d) * step
    if x._a.ndim == 1:
        if x._a.shape[0] != L:
            raise RuntimeError("trapezoid: There must be one `x` value for each sample point")
        dxs = x[1:] - x[:-1]
        shape = [1] * y._a.ndim
        shape[d] = L - 1
        dxs = dxs.reshape(tuple(shape))
    else:
        xd = wrap_dim(dim, x._a.ndim, "trapezoid")
        Lx = x._a.shape[xd]
        dxs = S.narrow(x, xd, 1, Lx - 1) - S.narrow(x, xd, 0, Lx - 1)
    return (dxs * (lo + hi) * 0.5).sum(d)


trapz = trapezoid


def expand_copy(input: Tensor, size: Any, *, implicit: bool = False) -> Tensor:
    """``input.expand(size)`` as a new contiguous tensor."""
    return S.expand(input, size).clone()


# ------------------------------------------------------------------ Tensor.unfold
def _as_strided(a: Any, shape: tuple, strides: tuple) -> Any:
    xp = xp_of(a)
    if xp is np:
        return np.lib.stride_tricks.as_strided(a, shape, strides, writeable=bool(a.flags.writeable))
    return xp.lib.stride_tricks.as_strided(a, shape, strides)  # pragma: no cover - GPU


def unfold(input: Tensor, dimension: int, size: int, step: int) -> Tensor:
    """``Tensor.unfold``: a view of the windows of ``size`` elements, ``step`` apart, along
    ``dimension`` (a new last dimension holds each window). Differentiable: the gradient of
    overlapping windows adds up."""
    a = input._a
    nd = a.ndim
    d = wrap_dim(dimension, max(nd, 1), "unfold")
    L = a.shape[d] if nd else 1
    if size < 0:
        raise RuntimeError(f"size is {size} but must be >= 0")
    if size > L:
        raise RuntimeError(f"maximum size for tensor at dimension {d} is {L} but size is {size}")
    if step <= 0:
        raise RuntimeError(f"step is {step} but must be > 0")
    n = (L - size) // step + 1
    if nd == 0:
        shape, strides = (size,), (a.itemsize,)
    else:
        shape = a.shape[:d] + (n,) + a.shape[d + 1 :] + (size,)
        strides = a.strides[:d] + (a.strides[d] * step,) + a.strides[d + 1 :] + (a.strides[d],)
    in_shape = a.shape

    def fwd(arr: Any) -> Any:
        return _as_strided(arr, shape, strides)

    def bwd(g: Tensor) -> Tensor:
        ga = g._a
        xp = xp_of(ga)
        gx = xp.zeros(in_shape if nd else (1,), ga.dtype)
        dd = d if nd else 0
        gm = xp.moveaxis(ga, -1, 0)  # (size, ..., n at dd, ...)
        for k in range(size):
            idx = [slice(None)] * gx.ndim
            idx[dd] = slice(k, k + step * (n - 1) + 1, step)
            gx[tuple(idx)] += gm[k]
        return _wrap(gx.reshape(in_shape))

    return S._view_op(input, fwd, bwd, "UnfoldBackward0")
