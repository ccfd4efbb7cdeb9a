"""Chi2, HalfNormal, HalfCauchy, Gumbel, Weibull, Pareto and the Abs/Power/Softplus transforms:
log_prob, cdf, moments, entropy, mode, expand and sampling, against torch (when installed)
and against their own samples."""

from __future__ import annotations

import math

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch import distributions as D

CASES = [
    ("Chi2", (np.array([1.5, 3.0]),), np.array([0.5, 2.0])),
    ("HalfNormal", (np.array([1.0, 2.0]),), np.array([0.3, 1.7])),
    ("HalfCauchy", (np.array([1.0, 2.0]),), np.array([0.3, 1.7])),
    ("Gumbel", (np.array([0.0, 1.0]), np.array([1.0, 2.0])), np.array([0.3, -1.7])),
    ("Weibull", (np.array([1.0, 2.0]), np.array([1.5, 0.7])), np.array([0.3, 1.7])),
    ("Pareto", (np.array([1.0, 2.0]), np.array([3.0, 2.5])), np.array([1.3, 2.7])),
]


def _stats(lib, name, params, v):
    d = getattr(lib.distributions, name)(*[lib.tensor(p) for p in params])
    out = [d.log_prob(lib.tensor(v)), d.mean, d.variance, d.entropy(), d.mode]
    if name != "Chi2":
        out.append(d.cdf(lib.tensor(v)))
    e = d.expand((3, 2))
    out.append(e.log_prob(lib.tensor(v)))
    return [x.detach().numpy() for x in out], tuple(e.batch_shape)


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
@pytest.mark.parametrize("name,params,v", CASES)
def test_matches_torch(name, params, v):
    import torch

    ours, shape = _stats(ctorch, name, params, v)
    theirs, tshape = _stats(torch, name, params, v)
    assert shape == tshape
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.mark.parametrize("name,params,v", CASES)
def test_samples_follow_the_distribution(name, params, v):
    ctorch.manual_seed(0)
    d = getattr(D, name)(*[ctorch.tensor(p) for p in params])
    x = (d.rsample if d.has_rsample else d.sample)((200000,)).numpy()
    assert x.shape == (200000, 2)
    lo = d.support.lower_bound if hasattr(d.support, "lower_bound") else -np.inf
    assert (x >= np.asarray(lo if not isinstance(lo, ctorch.Tensor) else lo.numpy())).all()
    if name == "HalfCauchy":  # no mean: compare the median, icdf(1/2)
        np.testing.assert_allclose(np.median(x, 0), d.icdf(ctorch.tensor(0.5)).numpy(), rtol=0.02)
        return
    mean, var = d.mean.numpy(), d.variance.numpy()
    np.testing.assert_allclose(x.mean(0), mean, rtol=0.03, atol=0.01)
    if np.isfinite(var).all() and name != "Pareto":  # Pareto(2.5)'s variance has heavy tails
        np.testing.assert_allclose(x.var(0), var, rtol=0.08)


def test_rsample_is_differentiable_in_the_scale():
    for name, args in [("HalfNormal", (1.5,)), ("Gumbel", (0.0, 1.5)), ("Weibull", (1.5, 2.0))]:
        scale = ctorch.tensor(1.5, dtype=ctorch.float64, requires_grad=True)
        full = [scale if a == 1.5 else ctorch.tensor(a, dtype=ctorch.float64) for a in args]
        ctorch.manual_seed(1)
        x = getattr(D, name)(*full).rsample((1000,))
        (g,) = ctorch.autograd.grad(x.sum(), scale)
        # every family here is scale * (a scale-free draw): d(sum x)/d scale = sum x / scale,
        # Gumbel's loc aside
        want = (x - (full[0] if name == "Gumbel" else 0)).sum() / scale
        np.testing.assert_allclose(g.item(), want.item(), rtol=1e-10)


def test_support_and_validation():
    assert D.HalfNormal(1.0, validate_args=False).log_prob(ctorch.tensor(-1.0)).item() == -math.inf
    with pytest.raises(ValueError, match="support"):  # validation is on by default, as torch
        D.HalfNormal(1.0).log_prob(ctorch.tensor(-1.0))
    p = D.Pareto(ctorch.tensor(2.0), ctorch.tensor(3.0))
    assert (
        p.support.check(ctorch.tensor(2.5)).item()
        and not p.support.check(ctorch.tensor(1.0)).item()
    )
    with pytest.raises(ValueError):
        D.Chi2(ctorch.tensor(-1.0), validate_args=True)
    assert D.Chi2(ctorch.tensor([2.0, 4.0])).df.tolist() == [2.0, 4.0]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_transforms_match_torch():
    import torch

    x = np.array([0.3, 1.7, 2.5])
    for make in (
        lambda M: M.AbsTransform(),
        lambda M, lib=None: M.SoftplusTransform(),
        lambda M: M.PowerTransform(2.5),
    ):
        res = {}
        for lib in (ctorch, torch):
            t = make(lib.distributions.transforms)
            xt = lib.tensor(x)
            y = t(xt)
            vals = [y, t.inv(y)]
            if t.bijective:
                vals.append(t.log_abs_det_jacobian(xt, y))
            res[lib.__name__] = [v.numpy() for v in vals]
        for a, b in zip(res["ctorch"], res["torch"], strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-12)
    assert D.transforms.PowerTransform(2.0) == D.transforms.PowerTransform(2.0)
    assert D.transforms.PowerTransform(2.0) != D.transforms.PowerTransform(3.0)
    assert D.transforms.AbsTransform() == D.transforms.AbsTransform()


def _discrete_and_relaxed(lib):
    Dl = lib.distributions
    f64 = lib.float64
    p = lib.tensor([[0.2, 0.3, 0.5], [0.1, 0.1, 0.8]], dtype=f64)
    m = Dl.Multinomial(5, probs=p)
    v = lib.tensor([[1.0, 2.0, 2.0], [0.0, 0.0, 5.0]], dtype=f64)
    nb = Dl.NegativeBinomial(
        lib.tensor([3.0, 0.5], dtype=f64), probs=lib.tensor([0.4, 0.7], dtype=f64)
    )
    ig = Dl.InverseGamma(lib.tensor([3.0, 1.5], dtype=f64), lib.tensor([2.0, 1.0], dtype=f64))
    rb = Dl.RelaxedBernoulli(
        lib.tensor([0.5, 2.0], dtype=f64), logits=lib.tensor([0.3, -1.0], dtype=f64)
    )
    rc = Dl.RelaxedOneHotCategorical(lib.tensor(0.7, dtype=f64), probs=p)
    out = [
        m.log_prob(v),
        m.mean,
        m.variance,
        Dl.Multinomial(4, logits=p.log()).log_prob(lib.tensor([1.0, 1.0, 2.0], dtype=f64)),
        nb.log_prob(lib.tensor([2.0, 0.0], dtype=f64)),
        nb.mean,
        nb.variance,
        nb.mode,
        ig.log_prob(lib.tensor([0.5, 2.0], dtype=f64)),
        ig.mean,
        ig.variance,
        ig.entropy(),
        ig.mode,
        rb.log_prob(lib.tensor([0.2, 0.9], dtype=f64)),
        rc.log_prob(lib.tensor([[0.2, 0.3, 0.5], [0.05, 0.05, 0.9]], dtype=f64)),
    ]
    shapes = [
        tuple(m.sample((4,)).shape),
        tuple(nb.sample((4,)).shape),
        tuple(ig.rsample((4,)).shape),
        tuple(rb.rsample((4,)).shape),
        tuple(rc.rsample((4,)).shape),
        tuple(m.expand((3, 2)).batch_shape),
        tuple(rc.expand((5, 2)).batch_shape),
    ]
    return [x.detach().numpy() for x in out], shapes, m.entropy().numpy()


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_multinomial_negative_binomial_inverse_gamma_relaxed_match_torch():
    import torch

    ours, shapes, ent = _discrete_and_relaxed(ctorch)
    theirs, tshapes, tent = _discrete_and_relaxed(torch)
    assert shapes == tshapes
    for a, b in zip(ours, theirs, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-10)
    # torch takes lgamma(n + 1) of a float32 tensor here; ctorch keeps the float64
    np.testing.assert_allclose(ent, tent, rtol=1e-6)


def test_multinomial_and_relaxed_samples():
    ctorch.manual_seed(0)
    p = ctorch.tensor([0.2, 0.3, 0.5], dtype=ctorch.float64)
    x = D.Multinomial(10, probs=p).sample((20000,)).numpy()
    assert (x.sum(-1) == 10).all() and (x >= 0).all()
    np.testing.assert_allclose(x.mean(0), 10 * p.numpy(), rtol=0.02)
    y = D.RelaxedOneHotCategorical(ctorch.tensor(0.5), probs=p.float()).rsample((20000,))
    np.testing.assert_allclose(y.sum(-1).numpy(), 1.0, rtol=1e-5)
    assert y.argmax(-1).bincount().numpy().argmax() == 2  # the likeliest category wins most
    nb = D.NegativeBinomial(ctorch.tensor(4.0), probs=ctorch.tensor(0.3)).sample((40000,))
    np.testing.assert_allclose(nb.mean().item(), 4 * 0.3 / 0.7, rtol=0.03)
    logits = ctorch.tensor([0.2, -0.4], requires_grad=True)
    r = D.RelaxedBernoulli(ctorch.tensor(0.3), logits=logits).rsample((100,))
    r.sum().backward()
    assert logits.grad is not None and (logits.grad > 0).all()  # larger logit, larger draws


def _registry_outputs(lib):
    Dl = lib.distributions
    C = Dl.constraints
    x = lib.tensor([[0.3, -1.2, 0.5], [2.0, 0.1, -0.4]], dtype=lib.float64)
    out = []
    for c in (
        C.real,
        C.positive,
        C.greater_than(2.0),
        C.less_than(-1.0),
        C.interval(-2.0, 3.0),
        C.unit_interval,
        C.simplex,
        C.independent(C.positive, 1),
    ):
        for reg in (Dl.biject_to, Dl.transform_to):
            t = reg(c)
            y = t(x)
            out += [y, t.inv(y)]
            if t.bijective:
                out.append(t.log_abs_det_jacobian(x, y))
            assert bool(c.check(y).all()), (c, y)
    m = lib.tensor(np.arange(9.0).reshape(3, 3) / 5, dtype=lib.float64)
    t = Dl.transform_to(C.lower_cholesky)
    out += [t(m), t.inv(t(m))]
    r = Dl.transforms.ReshapeTransform((2, 3), (3, 2))
    out += [r(x), r.log_abs_det_jacobian(x, r(x)), r.inv(r(x))]
    return [o.numpy() for o in out]


@pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")
def test_biject_to_transform_to_and_the_new_transforms_match_torch():
    import torch

    for a, b in zip(_registry_outputs(ctorch), _registry_outputs(torch), strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12)


def test_constraint_registry_semantics():
    C = D.constraints
    t = D.biject_to(C.simplex)
    x = ctorch.randn(4, 3, dtype=ctorch.float64)
    np.testing.assert_allclose(t.inv(t(x)).numpy(), x.numpy(), rtol=1e-9)
    assert tuple(t(x).shape) == (4, 4) and t.forward_shape((4, 3)) == (4, 4)
    with pytest.raises(NotImplementedError, match="Cannot transform _Boolean constraints"):
        D.biject_to(C.boolean)

    class Odd(C.Constraint):
        def check(self, value):
            return value % 2 == 1

    D.transform_to.register(Odd, lambda c: D.transforms.AffineTransform(1.0, 2.0))
    assert isinstance(D.transform_to(Odd()), D.transforms.AffineTransform)
    with pytest.raises(TypeError, match="Constraint subclass or instance"):
        D.biject_to.register(int, lambda c: None)
    # a constrained parameter optimised through its unconstrained preimage
    raw = ctorch.zeros(3, requires_grad=True)
    target = ctorch.tensor([0.7, 0.2, 0.1])
    opt = ctorch.optim.SGD([raw], lr=0.5)
    for _ in range(300):
        opt.zero_grad()
        p = D.transform_to(C.simplex)(raw)
        loss = ((p - target) ** 2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(D.transform_to(C.simplex)(raw).detach().numpy(), target, atol=1e-3)
