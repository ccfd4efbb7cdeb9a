"""Differentiable special functions and small linear-algebra pieces the distributions need.

``lgamma`` (gradient ``digamma``), ``digamma`` (gradient ``trigamma``), ``cholesky``,
``solve_triangular`` (lower) and ``inverse`` as autograd Functions over NumPy kernels.
"""

from __future__ import annotations

import math

import numpy as np

import ctorch
from ctorch.autograd import Function
from ctorch.autograd.grad_mode import state as _grad_state

_lgamma_np = np.vectorize(math.lgamma, otypes=[np.float64])


def _np(t) -> np.ndarray:
    return t.detach().cpu().numpy()


def _out(a: np.ndarray, like) -> ctorch.Tensor:
    """``a`` as a tensor with ``like``'s dtype and device (0-d arrays stay 0-d)."""
    arr = np.array(a, dtype=_np(like).dtype, order="C")
    out = ctorch.from_numpy(arr)
    return out if like.device == out.device else out.to(like.device)


def lgamma_np(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    if x.size == 0:
        return x.copy()
    r = _lgamma_np(np.where(np.isfinite(x), x, 1.0))
    r = np.where(np.isposinf(x) | np.isneginf(x), np.inf, r)
    r = np.where(np.isnan(x), np.nan, r)
    # poles: lgamma(0) = lgamma(-n) = inf (math.lgamma raises there; vectorize gives error)
    return r


def _lgamma_safe(x: np.ndarray) -> np.ndarray:
    x = np.asarray(x, dtype=np.float64)
    pole = (x <= 0) & (x == np.floor(x))
    out = lgamma_np(np.where(pole, 0.5, x))
    return np.where(pole, np.inf, out)


def _reflect_and_recur(x, term):
    """The first steps of psi and psi' (digamma, trigamma): ``x`` as float64, where it is
    reflected (x < 0.5: y = 1 - x), and y shifted up to at least 6 by the recurrence, with the
    sum of ``term`` over the values shifted past."""
    x = np.asarray(x, dtype=np.float64)
    refl = x < 0.5
    y = np.where(refl, 1.0 - x, x)
    acc = np.zeros_like(y)
    for _ in range(6):
        small = y < 6.0
        acc = acc + np.where(small, term(np.where(small, y, 1.0)), 0.0)
        y = np.where(small, y + 1.0, y)
    return x, refl, y, acc


def digamma_np(x: np.ndarray) -> np.ndarray:
    """psi(x): recurrence up to x >= 6, then the asymptotic series; reflection for x < 0.5."""
    x, refl, y, acc = _reflect_and_recur(x, lambda v: -1.0 / v)
    z = 1.0 / (y * y)
    series = (
        np.log(y)
        - 0.5 / y
        - z * (1.0 / 12 - z * (1.0 / 120 - z * (1.0 / 252 - z * (1.0 / 240 - z * (1.0 / 132)))))
    )
    r = acc + series
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(refl, r - np.pi / np.tan(np.pi * x), r)
    pole = (x <= 0) & (x == np.floor(x))
    return np.where(pole, np.nan, r)


def trigamma_np(x: np.ndarray) -> np.ndarray:
    x, refl, y, acc = _reflect_and_recur(x, lambda v: 1.0 / (v * v))
    z = 1.0 / (y * y)
    series = (
        1.0 / y
        + 0.5 * z
        + (1.0 / y) * z * (1.0 / 6 - z * (1.0 / 30 - z * (1.0 / 42 - z * (1.0 / 30))))
    )
    r = acc + series
    with np.errstate(divide="ignore", invalid="ignore"):
        r = np.where(refl, -r + (np.pi / np.sin(np.pi * x)) ** 2, r)
    return r


class _Trigamma(Function):
    _node_name = "PolygammaBackward0"

    @staticmethod
    def forward(ctx, x):
        return _out(trigamma_np(_np(x)), x)

    @staticmethod
    def backward(ctx, g):
        raise NotImplementedError(
            "ctorch.distributions: the gradient of trigamma is not implemented"
        )


def _with_derivative(name: str, node_name: str, f, derivative) -> type:
    """A Function computing ``f`` on the array, whose backward is ``g * derivative()(x)``
    (``derivative`` returns the differentiable Function of f's derivative)."""

    class _Elementwise(Function):
        _node_name = node_name

        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return _out(f(_np(x)), x)

        @staticmethod
        def backward(ctx, g):
            (x,) = ctx.saved_tensors
            return g * derivative().apply(x)

    _Elementwise.__name__ = _Elementwise.__qualname__ = name
    return _Elementwise


_Digamma = _with_derivative("_Digamma", "DigammaBackward0", digamma_np, lambda: _Trigamma)
_Lgamma = _with_derivative("_Lgamma", "LgammaBackward0", _lgamma_safe, lambda: _Digamma)


def lgamma(x: ctorch.Tensor) -> ctorch.Tensor:
    """log|Gamma(x)|, differentiable (gradient digamma(x))."""
    return _Lgamma.apply(x)


def digamma(x: ctorch.Tensor) -> ctorch.Tensor:
    """psi(x), differentiable (gradient trigamma(x))."""
    return _Digamma.apply(x)


def _tr(a: np.ndarray) -> np.ndarray:
    return np.swapaxes(a, -1, -2)


class _Cholesky(Function):
    _node_name = "LinalgCholeskyExBackward0"

    @staticmethod
    def forward(ctx, a):
        try:
            L = np.linalg.cholesky(_np(a))
        except np.linalg.LinAlgError:
            raise RuntimeError(
                "linalg.cholesky: The factorization could not be completed because the input is "
                "not positive-definite."
            ) from None
        ctx.L = L
        ctx.save_for_backward(a)
        return _out(L, a)

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: the same formula from differentiable ops
            (a,) = ctx.saved_tensors
            Lt = ctorch.linalg.cholesky(a)
            phi = (Lt.mT @ g).tril()
            phi = phi - 0.5 * ctorch.diag_embed(phi.diagonal(dim1=-2, dim2=-1))
            Linv = ctorch.linalg.inv(Lt)
            gA = Linv.mT @ phi @ Linv
            return 0.5 * (gA + gA.mT)
        L = ctx.L
        gL = _np(g).astype(L.dtype)
        phi = np.tril(_tr(L) @ gL)
        d = np.diagonal(phi, axis1=-2, axis2=-1)
        phi = phi - 0.5 * np.einsum("...i,ij->...ij", d, np.eye(L.shape[-1]))
        Linv = np.linalg.inv(L)
        gA = _tr(Linv) @ phi @ Linv
        gA = 0.5 * (gA + _tr(gA))
        return _out(gA, g)


class _SolveLower(Function):
    """X = L^{-1} B for lower-triangular L (same batch shape as B)."""

    _node_name = "LinalgSolveTriangularBackward0"

    @staticmethod
    def forward(ctx, L, B):
        Ln = np.tril(_np(L))
        X = np.linalg.solve(Ln, _np(B))
        ctx.Ln, ctx.X = Ln, X
        ctx.save_for_backward(L, B)
        return _out(X, B)

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph: the same formula from differentiable ops
            L, B = ctx.saved_tensors
            Lt = L.tril()
            X = ctorch.linalg.solve_triangular(Lt, B, upper=False)
            gB = ctorch.linalg.solve_triangular(Lt.mT, g, upper=True)
            return -(gB @ X.mT).tril(), gB
        gB = np.linalg.solve(_tr(ctx.Ln), _np(g).astype(ctx.X.dtype))
        gL = -np.tril(gB @ _tr(ctx.X))
        return _out(gL, g), _out(gB, g)


class _Inverse(Function):
    _node_name = "LinalgInvExBackward0"

    @staticmethod
    def forward(ctx, a):
        inv = np.linalg.inv(_np(a))
        ctx.inv = inv
        ctx.save_for_backward(a)
        return _out(inv, a)

    @staticmethod
    def backward(ctx, g):
        if _grad_state.enabled:  # create_graph
            (a,) = ctx.saved_tensors
            it = ctorch.linalg.inv(a).mT
            return -(it @ g @ it)
        it = _tr(ctx.inv)
        return _out(-(it @ _np(g).astype(it.dtype) @ it), g)


def cholesky(a: ctorch.Tensor) -> ctorch.Tensor:
    return _Cholesky.apply(a)


def solve_lower(L: ctorch.Tensor, B: ctorch.Tensor) -> ctorch.Tensor:
    """L^{-1} B; batch dimensions are broadcast first."""
    batch = ctorch.broadcast_shapes(tuple(L.shape[:-2]), tuple(B.shape[:-2]))
    L = L.expand(*batch, *L.shape[-2:])
    B = B.expand(*batch, *B.shape[-2:])
    return _SolveLower.apply(L, B)


def inverse(a: ctorch.Tensor) -> ctorch.Tensor:
    return _Inverse.apply(a)
