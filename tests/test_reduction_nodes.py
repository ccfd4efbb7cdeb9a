"""Reductions that are one graph node each, with torch's node names and backward formulas:
var, std, var_mean, std_mean, logsumexp, nansum, norm (linalg.vector_norm), min/amin and
log_softmax (issue #10: grad_fn names match torch's).  Forward, first and second derivatives
against torch, float64 gradcheck/gradgradcheck, and the edge values (NaN, inf, empty, 0-d)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from helpers import HAS_TORCH, _torch

import ctorch

X = np.array([[0.3, 0.7, 1.4, -0.2], [0.1, -0.5, 2.0, 0.9], [1.5, 0.2, -1.1, 0.4]])

CASES = {
    "var": lambda L, x: L.var(x),
    "var dim=1": lambda L, x: L.var(x, 1),
    "var dim=0 keepdim correction=0": lambda L, x: L.var(x, 0, keepdim=True, correction=0),
    "var dims (0, 1) unbiased=False": lambda L, x: L.var(x, (0, 1), unbiased=False),
    "std": lambda L, x: L.std(x),
    "std dim=-1 keepdim": lambda L, x: L.std(x, -1, keepdim=True),
    "std correction=2": lambda L, x: L.std(x, 0, correction=2),
    "var_mean dim=1": lambda L, x: L.var_mean(x, 1),
    "std_mean dim=0 keepdim": lambda L, x: L.std_mean(x, 0, keepdim=True),
    "logsumexp dim=1": lambda L, x: L.logsumexp(x, 1),
    "logsumexp dims (0, 1) keepdim": lambda L, x: L.logsumexp(x, (0, 1), keepdim=True),
    "nansum": lambda L, x: L.nansum(x),
    "nansum dim=0 keepdim": lambda L, x: L.nansum(x, 0, keepdim=True),
    "norm": lambda L, x: L.norm(x),
    "norm p=3 dim=1": lambda L, x: L.norm(x, 3, dim=1),
    "norm p=1": lambda L, x: L.norm(x, 1),
    "norm p=inf dim=0": lambda L, x: L.norm(x, float("inf"), dim=0),
    "norm fro dims (0, 1)": lambda L, x: L.norm(x, "fro", dim=(0, 1)),
    "min": lambda L, x: L.min(x),
    "min dim=1": lambda L, x: L.min(x, 1).values,
    "amin dim=0": lambda L, x: L.amin(x, 0),
    "log_softmax dim=1": lambda L, x: L.log_softmax(x, 1),
}


def _first(y):
    return y[0] if isinstance(y, tuple) else y


def _scalar(y):
    """A loss that uses every output (var_mean/std_mean: both), nonlinear in each."""
    ys = y if isinstance(y, tuple) else (y,)
    return sum((t * t).sum() + t.sum() for t in ys)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize("case", sorted(CASES))
def test_node_name_forward_and_two_derivatives_match_torch(case):
    f = CASES[case]
    res = []
    for L in (ctorch, _torch):
        x = L.tensor(X, dtype=L.float64, requires_grad=True)
        y = f(L, x)
        (g,) = L.autograd.grad(_scalar(y), x, create_graph=True)
        (gg,) = L.autograd.grad((g * g).sum(), x)
        ys = y if isinstance(y, tuple) else (y,)
        res.append(
            (
                type(_first(y).grad_fn).__name__,
                [t.detach().numpy() for t in ys],
                g.detach().numpy(),
                gg.numpy(),
            )
        )
    (cn, cy, cg, cgg), (tn, ty, tg, tgg) = res
    assert cn == tn
    for a, b in zip(cy, ty, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(cg, tg, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(cgg, tgg, rtol=1e-9, atol=1e-10)


@pytest.mark.parametrize(
    "case", [c for c in sorted(CASES) if not c.startswith(("min", "amin", "norm p=inf"))]
)
def test_gradcheck_and_gradgradcheck(case):
    f = CASES[case]
    x = ctorch.tensor(X, dtype=ctorch.float64, requires_grad=True)

    def fn(t):
        y = f(ctorch, t)
        return y if isinstance(y, tuple) else (y,)

    assert ctorch.autograd.gradcheck(fn, (x,))
    assert ctorch.autograd.gradgradcheck(fn, (x,))


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize(
    "values",
    [
        [[1.0, np.nan, 3.0], [np.inf, 2.0, -np.inf]],
        [[-np.inf, -np.inf, -np.inf], [1000.0, 1000.0, -5.0]],
        [[1e30, 1e30, 1e30], [0.0, 0.0, 0.0]],
    ],
    ids=["nan-inf", "all-neg-inf-and-large", "constant-rows"],
)
@pytest.mark.parametrize(
    "name", ["var", "std", "logsumexp", "nansum", "norm", "var_mean", "std_mean"]
)
def test_special_values_forward_and_gradient_match_torch(values, name):
    def f(L, x):
        if name == "norm":
            return L.norm(x, dim=1)
        return getattr(L, name)(x, 1)

    res = []
    for L in (ctorch, _torch):
        x = L.tensor(values, dtype=L.float64, requires_grad=True)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            y = f(L, x)
            ys = y if isinstance(y, tuple) else (y,)
            (g,) = L.autograd.grad(sum(t.sum() for t in ys), x)
        res.append(([t.detach().numpy() for t in ys], g.numpy()))
    (cy, cg), (ty, tg) = res
    if name.endswith("_mean") and not np.isfinite(values).all():
        # torch's var_mean/std_mean take the mean from their Welford pass, where an inf
        # gives inf - inf: mean([-inf] * 3) is NaN there but -inf from torch.mean; ctorch
        # returns torch.mean's (the true) value, and the gradients then differ through it
        np.testing.assert_allclose(cy[0], ty[0], rtol=1e-12)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            tm = _torch.tensor(values, dtype=_torch.float64).mean(1)
        np.testing.assert_allclose(cy[1], tm.numpy(), rtol=1e-12)
        return
    for a, b in zip(cy, ty, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)  # NaN positions must agree too
    np.testing.assert_allclose(cg, tg, rtol=1e-12)


@pytest.mark.skipif(not HAS_TORCH, reason="torch is not installed")
@pytest.mark.parametrize(
    "f",
    [
        lambda L: L.var(L.tensor([1.0])),
        lambda L: L.std(L.zeros(0, 3), 0),
        lambda L: L.var(L.tensor(2.0)),
        lambda L: L.var_mean(L.zeros(2, 0), 1),
        lambda L: L.nansum(L.zeros(0)),
        lambda L: L.nansum(L.tensor([1, 2, 3])),
        lambda L: L.logsumexp(L.zeros(0, 2), 0),
        lambda L: L.logsumexp(L.tensor(2.0), 0),
        lambda L: L.norm(L.zeros(0, 3), dim=1),
        lambda L: L.std(L.tensor([1.0, 2.0], dtype=L.bfloat16)),
        lambda L: L.norm(L.tensor([1.0, 2.0, 3.0], dtype=L.float16)),
    ],
)
def test_empty_zero_d_integer_and_half_inputs_match_torch(f):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        c, t = f(ctorch), f(_torch)
    cs, ts = (c, t) if isinstance(c, tuple) else ((c,), (t,))
    for a, b in zip(cs, ts, strict=True):
        assert str(a.dtype).split(".")[-1] == str(b.dtype).split(".")[-1]
        assert tuple(a.shape) == tuple(b.shape)
        np.testing.assert_allclose(
            a.float().numpy(), b.float().numpy(), rtol=1e-2 if a.dtype.itemsize == 2 else 1e-12
        )


def test_var_with_too_few_degrees_of_freedom_warns():
    with pytest.warns(UserWarning, match=r"^var\(\): degrees of freedom is <= 0"):  # as torch
        r = ctorch.var(ctorch.tensor([1.0]))
    assert np.isnan(r.item())


def test_integer_norm_and_var_raise_like_torch():
    with pytest.raises(RuntimeError, match="Expected a floating point or complex tensor"):
        ctorch.norm(ctorch.arange(3))
    with pytest.raises(RuntimeError, match="std and var only support floating point"):
        ctorch.var(ctorch.arange(3))
