"""Gamma sampling with the implicit-reparameterisation gradient (Figurnov et al., 2018).

``standard_gamma_rsample(alpha)`` draws x ~ Gamma(alpha, 1) as torch's ``_standard_gamma``
does (``_random.Generator.standard_gamma``: the same samples under a seed); its
gradient is dx/dalpha = -(dP(alpha, x)/dalpha) / p(x; alpha), with P the regularised lower
incomplete gamma function (series / continued fraction in float64; dP/dalpha by a central
difference, relative error ~1e-8).
"""

from __future__ import annotations

import numpy as np

import ctorch
from ctorch._random import gen_for
from ctorch.autograd import Function

from ._special import lgamma_np


def gammainc_np(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Regularised lower incomplete gamma P(a, x), a > 0, x >= 0 (Numerical Recipes 6.2)."""
    a, x = np.broadcast_arrays(np.asarray(a, np.float64), np.asarray(x, np.float64))
    out = np.zeros(a.shape)
    use_series = x < a + 1.0
    lg = lgamma_np(a)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        logpre = a * np.log(np.where(x > 0, x, 1.0)) - x - lg
        # series
        ap = a.copy()
        s = 1.0 / a
        d = s.copy()
        for _ in range(1000):
            ap = ap + 1.0
            d = d * x / ap
            s = s + d
            if np.all(np.abs(d) < np.abs(s) * 1e-16):
                break
        ser = s * np.exp(logpre)
        # continued fraction for Q = 1 - P
        tiny = 1e-300
        b = x + 1.0 - a
        c = np.full(a.shape, 1.0 / tiny)
        dd = 1.0 / np.where(b == 0, tiny, b)
        h = dd.copy()
        for i in range(1, 1000):
            an = -i * (i - a)
            b = b + 2.0
            dd = an * dd + b
            dd = np.where(np.abs(dd) < tiny, tiny, dd)
            c = b + an / c
            c = np.where(np.abs(c) < tiny, tiny, c)
            dd = 1.0 / dd
            delta = dd * c
            h = h * delta
            if np.all(np.abs(delta - 1.0)[~use_series] < 1e-16):
                break
        cf = 1.0 - np.exp(logpre) * h
    out = np.where(use_series, ser, cf)
    return np.where(x <= 0, 0.0, out)


def _gamma_grad_np(a: np.ndarray, x: np.ndarray) -> np.ndarray:
    a = np.asarray(a, np.float64)
    x = np.asarray(x, np.float64)
    h = 1e-5 * np.maximum(a, 1e-3)
    dP = (gammainc_np(a + h, x) - gammainc_np(a - h, x)) / (2 * h)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore", under="ignore"):
        logpdf = (a - 1.0) * np.log(x) - x - lgamma_np(a)
        g = -dP / np.exp(logpdf)
    return np.where(np.isfinite(g), g, 0.0)


class _StandardGammaRsample(Function):
    @staticmethod
    def forward(ctx, alpha):
        a = alpha.detach().cpu().numpy()
        # torch's _standard_gamma, draw for draw (so torch's samples under a seed)
        x = np.array(gen_for(None).standard_gamma(a), dtype=a.dtype, order="C")  # 0-d stays 0-d
        ctx.a, ctx.x, ctx.device = a, x, alpha.device
        out = ctorch.from_numpy(x)
        return out if out.device == alpha.device else out.to(alpha.device)

    @staticmethod
    def backward(ctx, g):
        d = ctorch.from_numpy(np.array(_gamma_grad_np(ctx.a, ctx.x), dtype=ctx.a.dtype, order="C"))
        return g * (d if d.device == ctx.device else d.to(ctx.device))


def standard_gamma_rsample(alpha: ctorch.Tensor) -> ctorch.Tensor:
    """x ~ Gamma(alpha, 1) of alpha's shape, differentiable w.r.t. alpha."""
    return _StandardGammaRsample.apply(alpha.contiguous())


class _DirichletRsample(Function):
    """torch's ``_sample_dirichlet``: float64 Gamma draws (torch's sampler), normalised, cast
    to the dtype and clamped to [tiny, the float below 1]; the gradient goes through the
    Gammas' implicit reparameterisation and the normalisation."""

    @staticmethod
    def forward(ctx, concentration):
        a = concentration.detach().cpu().numpy()
        g = gen_for(None).standard_gamma(a.astype(np.float64))
        s = g.sum(-1, keepdims=True)
        dt = a.dtype
        x = (g / s).astype(dt)
        x = np.clip(x, np.finfo(dt).tiny, np.nextafter(dt.type(1), dt.type(0)))
        ctx.a, ctx.g, ctx.s, ctx.x, ctx.device = a, g, s, x, concentration.device
        out = ctorch.from_numpy(np.array(x, order="C"))
        return out if out.device == concentration.device else out.to(concentration.device)

    @staticmethod
    def backward(ctx, grad):
        gx = grad.detach().cpu().numpy().astype(np.float64)
        x = ctx.g / ctx.s
        dg = (gx - (gx * x).sum(-1, keepdims=True)) / ctx.s
        ga = dg * _gamma_grad_np(ctx.a, ctx.g)
        d = ctorch.from_numpy(np.array(ga, dtype=ctx.a.dtype, order="C"))
        return d if d.device == ctx.device else d.to(ctx.device)


def dirichlet_rsample(concentration: ctorch.Tensor) -> ctorch.Tensor:
    """x ~ Dirichlet(concentration) over the last dim, differentiable w.r.t. concentration."""
    return _DirichletRsample.apply(concentration.contiguous())
