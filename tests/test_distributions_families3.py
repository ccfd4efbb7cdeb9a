"""VonMises, LowRankMultivariateNormal, Kumaraswamy, FisherSnedecor, LogisticNormal,
ContinuousBernoulli, Wishart, LKJCholesky, GeneralizedPareto and the Cat/Stack/CorrCholesky/
PositiveDefinite/CumulativeDistribution transforms: every statistic against torch (float64 to
1e-10, float32 to 1e-5), the samplers against the distributions' own moments, rsample
gradients against finite differences, validation errors against torch's, and the KL pairs and
constraint registrations torch has for them."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest
from helpers import HAS_TORCH

import ctorch
from ctorch import distributions as D

needs_torch = pytest.mark.skipif(not HAS_TORCH, reason="torch not installed")

_A = np.array
_SPD = _A([[2.0, 0.3, -0.4], [0.3, 1.5, 0.2], [-0.4, 0.2, 1.0]])
_SPD2 = _A([[1.2, -0.1, 0.0], [-0.1, 0.9, 0.35], [0.0, 0.35, 2.5]])
_W_VALUE = _A([[3.0, 0.5, -0.2], [0.5, 2.0, 0.4], [-0.2, 0.4, 1.5]])
_CORR_X = _A([[0.3, -0.8, 1.1], [-0.2, 0.4, 0.05]])  # two unconstrained 3 x 3 corr-Cholesky


def _corr_cholesky_values(lib, dtype):
    t = lib.distributions.transforms.CorrCholeskyTransform()
    return t(lib.tensor(_CORR_X, dtype=dtype))


def _families(lib, dtype):
    """name -> (distribution, a value in its support, extra statistics to compare)."""
    Dl = lib.distributions

    def T(a):
        return lib.tensor(np.asarray(a, dtype=float), dtype=dtype)

    low_rank = Dl.LowRankMultivariateNormal(
        T([[0.1, -0.3, 0.7], [1.0, 0.0, -1.0]]),
        T([[[0.5, -0.2], [0.1, 0.9], [-0.6, 0.3]]]),
        T([0.8, 1.3, 0.4]),
    )
    wishart_args = T([4.0, 5.5])
    return {
        "VonMises": (
            Dl.VonMises(T([0.3, -1.0, 2.9]), T([0.5, 4.0, 12.0])),
            T([0.1, 2.5, -3.0]),
            [],
        ),
        "LowRankMultivariateNormal": (
            low_rank,
            T([[0.4, 0.2, -0.5], [0.9, 0.1, -1.5]]),
            ["covariance_matrix", "precision_matrix", "scale_tril"],
        ),
        "Kumaraswamy": (
            Dl.Kumaraswamy(T([0.8, 2.0, 3.5]), T([1.5, 3.0, 0.7])),
            T([0.2, 0.7, 0.45]),
            [],
        ),
        "FisherSnedecor": (
            Dl.FisherSnedecor(T([1.5, 5.0, 8.0]), T([3.0, 6.0, 1.5])),
            T([0.4, 2.0, 0.9]),
            [],
        ),
        "LogisticNormal": (
            Dl.LogisticNormal(T([[0.2, -0.5, 1.0], [0.0, 0.3, -0.2]]), T([0.7, 1.2, 0.5])),
            T([0.1, 0.2, 0.3, 0.4]),
            [],
        ),
        "ContinuousBernoulli": (
            Dl.ContinuousBernoulli(T([0.2, 0.4995, 0.8, 0.03])),
            T([0.1, 0.5, 0.9, 0.3]),
            [],
        ),
        "ContinuousBernoulliLogits": (
            Dl.ContinuousBernoulli(logits=T([-1.2, 0.001, 2.0])),
            T([0.1, 0.5, 0.9]),
            [],
        ),
        "WishartCov": (
            Dl.Wishart(wishart_args, covariance_matrix=T(_SPD)),
            T(_W_VALUE),
            ["covariance_matrix", "precision_matrix", "scale_tril"],
        ),
        "WishartPrecision": (
            Dl.Wishart(T(6.0), precision_matrix=T(np.stack([_SPD, _SPD2]))),
            T(_W_VALUE),
            ["covariance_matrix", "precision_matrix", "scale_tril"],
        ),
        "WishartTril": (
            Dl.Wishart(3.5, scale_tril=T(np.linalg.cholesky(_SPD2))),
            T(_W_VALUE),
            ["covariance_matrix", "precision_matrix", "scale_tril"],
        ),
        "LKJCholesky": (
            Dl.LKJCholesky(3, T([0.5, 2.0])),
            _corr_cholesky_values(lib, dtype),
            [],
        ),
        "LKJCholeskyDefault": (
            Dl.LKJCholesky(4),
            Dl.transforms.CorrCholeskyTransform()(T([0.3, -0.8, 1.1, 0.2, -0.4, 0.9])),
            [],
        ),
        "GeneralizedPareto": (
            Dl.GeneralizedPareto(T([0.1, -1.0, 0.5]), T([2.0, 0.5, 1.5]), T([0.4, -0.3, 0.0])),
            T([1.3, -0.5, 2.0]),
            [],
        ),
    }


_NAMES = list(_families(ctorch, ctorch.float64))
_TORCH_FAILS = "torch raises"
_STATS = ("mean", "variance", "mode", "stddev")


def _evaluate(lib, name, dtype):
    """Every statistic the family defines (None where it raises NotImplementedError), its
    shapes, and the same for an expanded copy."""
    d, v, extra = _families(lib, dtype)[name]
    out = {}

    def put(key, fn):
        try:
            out[key] = fn().detach().numpy()
        except NotImplementedError:
            out[key] = None
        except RuntimeError as e:
            # torch 2.13's GeneralizedPareto compares a float64 concentration with a float32
            # zero (torch.isclose: "Double did not match Float"): see the NumPy test below
            if lib is ctorch or "did not match" not in str(e):
                raise
            out[key] = _TORCH_FAILS

    put("log_prob", lambda: d.log_prob(v))
    for s in _STATS + tuple(extra):
        put(s, lambda s=s: getattr(d, s))
    put("entropy", d.entropy)
    put("cdf", lambda: d.cdf(v))
    if out["cdf"] is not None:
        put("icdf", lambda: d.icdf(d.cdf(v)))
    put("support", lambda: d.support.check(v))
    shape = tuple(d.batch_shape)
    e = d.expand((2,) + shape)
    put("expand_log_prob", lambda: e.log_prob(v))
    put("expand_mean", lambda: e.mean)
    shapes = (shape, tuple(d.event_shape), tuple(e.batch_shape), tuple(e.event_shape))
    return out, shapes


@needs_torch
@pytest.mark.parametrize("name", _NAMES)
@pytest.mark.parametrize("dtype,rtol", [("float64", 1e-10), ("float32", 1e-5)])
def test_statistics_match_torch(name, dtype, rtol):
    import torch

    ours, shapes = _evaluate(ctorch, name, getattr(ctorch, dtype))
    theirs, tshapes = _evaluate(torch, name, getattr(torch, dtype))
    assert shapes == tshapes
    assert ours.keys() == theirs.keys()
    for key in ours:
        a, b = ours[key], theirs[key]
        if isinstance(b, str):
            assert (name, dtype) == ("GeneralizedPareto", "float64"), key
            continue
        assert (a is None) == (b is None), (key, a, b)
        if a is None:
            continue
        assert a.shape == b.shape and a.dtype == b.dtype, key
        if a.dtype == bool:
            assert (a == b).all(), key
        else:
            np.testing.assert_allclose(a, b, rtol=rtol, atol=rtol * 1e-2, err_msg=key)


def _kl_pairs(lib):
    Dl = lib.distributions
    f64 = lib.float64

    def T(a):
        return lib.tensor(np.asarray(a, dtype=float), dtype=f64)

    lr1 = Dl.LowRankMultivariateNormal(
        T([[0.1, -0.3, 0.7], [1.0, 0.0, -1.0]]),
        T([[[0.5, -0.2], [0.1, 0.9], [-0.6, 0.3]]]),
        T([0.8, 1.3, 0.4]),
    )
    lr2 = Dl.LowRankMultivariateNormal(
        T([0.5, 0.2, -0.1]), T([[0.3], [-0.4], [0.8]]), T([1.1, 0.6, 0.9])
    )
    mvn = Dl.MultivariateNormal(T([[0.0, 0.2, 0.1]]), covariance_matrix=T(_SPD))
    cb1 = Dl.ContinuousBernoulli(T([0.2, 0.4995, 0.8]))
    cb2 = Dl.ContinuousBernoulli(logits=T([0.3, -2.0, 1.0]))
    pairs = [
        (lr1, lr2),
        (lr2, lr1),
        (mvn, lr1),
        (lr1, mvn),
        (cb1, cb2),
        (cb2, cb1),
        (Dl.Beta(T([1.5, 0.7, 3.0]), T([2.0, 1.0, 0.5])), cb1),
        (cb1, Dl.Exponential(T([0.5, 2.0, 1.0]))),
        (cb1, Dl.Normal(T([0.3, 0.0, 1.0]), T([1.0, 0.5, 2.0]))),
        (cb1, Dl.Uniform(T([-0.5, 0.0, -1.0]), T([1.5, 2.0, 0.5]))),
        (Dl.Uniform(T([0.1, 0.0, 0.2]), T([0.9, 0.5, 1.5])), cb2),
        (cb1, Dl.Pareto(T([1.0, 1.0, 1.0]), T([2.0, 2.0, 2.0]))),
        (Dl.Exponential(T([1.0, 2.0, 3.0])), cb1),
        (Dl.Gamma(T([1.0, 2.0, 3.0]), T([1.0, 1.0, 1.0])), cb1),
        (Dl.Gumbel(T([1.0, 2.0, 3.0]), T([1.0, 1.0, 1.0])), cb1),
        (Dl.Laplace(T([1.0, 2.0, 3.0]), T([1.0, 1.0, 1.0])), cb1),
        (Dl.Normal(T([1.0, 2.0, 3.0]), T([1.0, 1.0, 1.0])), cb1),
        (Dl.Pareto(T([1.0, 2.0, 3.0]), T([1.0, 1.0, 1.0])), cb1),
        # through the TransformedDistribution/TransformedDistribution rule
        (
            Dl.Kumaraswamy(T([0.8, 2.0]), T([1.5, 3.0])),
            Dl.Kumaraswamy(T([0.8, 2.0]), T([1.5, 3.0])),
        ),
        (
            Dl.LogisticNormal(T([0.2, -0.5]), T([0.7, 1.2])),
            Dl.LogisticNormal(T([0.0, 0.1]), T([1.0, 0.9])),
        ),
    ]
    return [Dl.kl_divergence(p, q).detach().numpy() for p, q in pairs]


@needs_torch
def test_kl_divergences_match_torch():
    import torch

    for i, (a, b) in enumerate(zip(_kl_pairs(ctorch), _kl_pairs(torch), strict=True)):
        assert a.shape == b.shape, i
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12, err_msg=str(i))


@needs_torch
def test_kl_registry_has_torchs_pairs_for_the_new_families():
    import torch
    import torch.distributions.kl as tkl

    from ctorch.distributions import kl as ckl

    new = {
        "VonMises",
        "LowRankMultivariateNormal",
        "Kumaraswamy",
        "FisherSnedecor",
        "LogisticNormal",
        "ContinuousBernoulli",
        "Wishart",
        "LKJCholesky",
        "GeneralizedPareto",
    }
    assert torch.distributions.GeneralizedPareto is not None
    want = {
        (p.__name__, q.__name__)
        for p, q in tkl._KL_REGISTRY
        if p.__name__ in new or q.__name__ in new
    }
    have = {(p.__name__, q.__name__) for p, q in ckl._KL_REGISTRY}
    assert want, "torch registers KL pairs for these families"
    assert want <= have, want - have


def test_kl_is_zero_to_itself_and_positive_otherwise():
    f64 = ctorch.float64
    lr = D.LowRankMultivariateNormal(
        ctorch.tensor([0.1, 0.2], dtype=f64),
        ctorch.tensor([[0.5], [0.3]], dtype=f64),
        ctorch.tensor([1.0, 2.0], dtype=f64),
    )
    mvn = D.MultivariateNormal(lr.loc, covariance_matrix=lr.covariance_matrix)
    for p, q in [(lr, lr), (lr, mvn), (mvn, lr)]:
        assert abs(D.kl_divergence(p, q).item()) < 1e-12
    cb = D.ContinuousBernoulli(ctorch.tensor([0.3, 0.7], dtype=f64))
    np.testing.assert_allclose(D.kl_divergence(cb, cb).numpy(), 0.0, atol=1e-12)
    other = D.ContinuousBernoulli(ctorch.tensor([0.6, 0.1], dtype=f64))
    assert (D.kl_divergence(cb, other) > 0).all()
    # the KL of a continuous Bernoulli to a Normal is E_p[log p - log q], by quadrature
    p = D.ContinuousBernoulli(ctorch.tensor(0.3, dtype=f64))
    q = D.Normal(ctorch.tensor(0.2, dtype=f64), ctorch.tensor(0.8, dtype=f64))
    x = ctorch.tensor((np.arange(200000) + 0.5) / 200000, dtype=f64)
    lp = p.log_prob(x)
    quad = (lp.exp() * (lp - q.log_prob(x))).mean().item()
    np.testing.assert_allclose(D.kl_divergence(p, q).item(), quad, rtol=1e-8)


# ----------------------------------------------------------------------------------- sampling


def test_von_mises_samples():
    ctorch.manual_seed(0)
    loc = ctorch.tensor([0.5, -2.8, 1.0], dtype=ctorch.float64)
    conc = ctorch.tensor([2.0, 8.0, 1e-6], dtype=ctorch.float64)
    d = D.VonMises(loc, conc)
    x = d.sample((40000,))
    assert tuple(x.shape) == (40000, 3) and x.dtype == ctorch.float64
    xn = x.numpy()
    assert (xn >= -math.pi).all() and (xn < math.pi).all()
    # circular mean and variance: angle and 1 - length of the mean resultant
    c, s = np.cos(xn).mean(0), np.sin(xn).mean(0)
    np.testing.assert_allclose(np.arctan2(s, c)[:2], loc.numpy()[:2], atol=0.03)
    np.testing.assert_allclose(1 - np.hypot(c, s), d.variance.numpy(), atol=0.01)
    assert 1 - np.hypot(c, s)[2] > 0.98  # concentration ~0: close to uniform on the circle
    f32 = D.VonMises(ctorch.tensor([0.1]), ctorch.tensor([3.0])).sample((5,))
    assert f32.dtype == ctorch.float32 and tuple(f32.shape) == (5, 1)
    assert not D.VonMises(0.0, 1.0).has_rsample
    with pytest.raises(NotImplementedError):
        D.VonMises(0.0, 1.0).rsample()


def test_moments_of_large_samples():
    ctorch.manual_seed(1)
    f64 = ctorch.float64
    n = 100000
    cases = [
        D.Kumaraswamy(ctorch.tensor([0.8, 2.0], dtype=f64), ctorch.tensor([1.5, 3.0], dtype=f64)),
        D.FisherSnedecor(
            ctorch.tensor([3.0, 6.0], dtype=f64), ctorch.tensor([15.0, 20.0], dtype=f64)
        ),
        D.ContinuousBernoulli(ctorch.tensor([0.2, 0.4995, 0.9], dtype=f64)),
        D.GeneralizedPareto(
            ctorch.tensor([0.1, -1.0, 0.5], dtype=f64),
            ctorch.tensor([2.0, 0.5, 1.5], dtype=f64),
            ctorch.tensor([0.1, -0.3, 0.0], dtype=f64),
        ),
    ]
    for d in cases:
        x = d.rsample((n,))
        assert tuple(x.shape) == (n,) + tuple(d.batch_shape) and x.dtype == f64
        assert bool(d.support.check(x).all())
        np.testing.assert_allclose(x.mean(0).numpy(), d.mean.numpy(), rtol=0.02, atol=0.005)
        np.testing.assert_allclose(x.var(0).numpy(), d.variance.numpy(), rtol=0.08)
        # and the other way: the average log density of the samples is minus the entropy
        try:
            h = d.entropy().numpy()
        except NotImplementedError:
            continue
        np.testing.assert_allclose(-d.log_prob(x).mean(0).numpy(), h, rtol=0.02, atol=0.01)


def test_logistic_normal_and_low_rank_samples():
    ctorch.manual_seed(2)
    f64 = ctorch.float64
    ln = D.LogisticNormal(
        ctorch.tensor([0.2, -0.5], dtype=f64), ctorch.tensor([0.7, 1.2], dtype=f64)
    )
    y = ln.rsample((50000,))
    assert tuple(y.shape) == (50000, 3) and tuple(ln.event_shape) == (3,)
    np.testing.assert_allclose(y.sum(-1).numpy(), 1.0, rtol=1e-12)
    # back through the stick breaking the draws are Normal(loc, scale)
    z = (y[..., :-1] / (1 - y[..., :-1].cumsum(-1))).log().numpy()
    z = z + np.log(np.arange(2, 0, -1))  # StickBreakingTransform's offset
    np.testing.assert_allclose(z.mean(0), [0.2, -0.5], atol=0.02)
    np.testing.assert_allclose(z.std(0), [0.7, 1.2], rtol=0.02)

    lr = D.LowRankMultivariateNormal(
        ctorch.tensor([1.0, -1.0, 0.5], dtype=f64),
        ctorch.tensor([[0.5, -0.2], [0.1, 0.9], [-0.6, 0.3]], dtype=f64),
        ctorch.tensor([0.8, 1.3, 0.4], dtype=f64),
    )
    x = lr.rsample((100000,)).numpy()
    assert x.shape == (100000, 3)
    np.testing.assert_allclose(x.mean(0), lr.mean.numpy(), atol=0.02)
    np.testing.assert_allclose(np.cov(x.T), lr.covariance_matrix.numpy(), atol=0.03)


def test_wishart_samples():
    ctorch.manual_seed(3)
    f64 = ctorch.float64
    cov = ctorch.tensor(_SPD, dtype=f64)
    w = D.Wishart(ctorch.tensor([4.0, 7.0], dtype=f64), covariance_matrix=cov)
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no singular draws here: no warning
        x = w.rsample((20000,))
    assert tuple(x.shape) == (20000, 2, 3, 3) and x.dtype == f64
    assert bool(w.support.check(x[:200]).all())
    np.testing.assert_allclose(x.mean(0).numpy(), w.mean.numpy(), rtol=0.03, atol=0.04)
    np.testing.assert_allclose(x.var(0).numpy(), w.variance.numpy(), rtol=0.1)
    np.testing.assert_allclose(
        -w.log_prob(x[:4000]).mean(0).numpy(), w.entropy().numpy(), rtol=0.03
    )
    assert tuple(w.sample().shape) == (2, 3, 3)


def test_lkj_cholesky_samples():
    ctorch.manual_seed(4)
    d = D.LKJCholesky(3, ctorch.tensor([1.0, 2.0], dtype=ctorch.float64))
    L = d.sample((40000,))
    assert tuple(L.shape) == (40000, 2, 3, 3) and L.dtype == ctorch.float64
    assert bool(d.support.check(L).all())
    corr = (L @ L.mT).numpy()
    np.testing.assert_allclose(np.diagonal(corr, axis1=-2, axis2=-1), 1.0, rtol=1e-12)
    # LKJ(eta) in dimension d: each correlation r has (r + 1) / 2 ~ Beta(a, a) with
    # a = eta - 1 + d / 2, so mean 0 and variance 1 / (2a + 1)
    # (torch 2.13's sampler gives Var(r_20) = 0.30 instead of 0.25 at eta = 1: see
    # lkj_cholesky.py)
    for k, eta in enumerate((1.0, 2.0)):
        r = corr[:, k][:, [1, 2, 2], [0, 0, 1]]
        np.testing.assert_allclose(r.mean(0), 0.0, atol=0.01)
        np.testing.assert_allclose(r.var(0), 1 / (2 * (eta - 1 + 1.5) + 1), rtol=0.04)
    L4 = D.LKJCholesky(4, 0.5).sample((40000,))
    corr4 = (L4 @ L4.mT).numpy()
    r4 = corr4[:, [1, 2, 3, 3], [0, 1, 0, 2]]
    np.testing.assert_allclose(r4.var(0), 1 / (2 * (0.5 - 1 + 2) + 1), rtol=0.04)
    # uniform (eta = 1) correlation matrices, by rejection from the cube: the same marginals
    rng = np.random.default_rng(0)
    cube = rng.uniform(-1, 1, (200000, 3))
    det = 1 + 2 * cube.prod(1) - (cube**2).sum(1)
    np.testing.assert_allclose(cube[det > 0].var(0), 0.25, rtol=0.02)


# ------------------------------------------------------------------------ rsample gradients


def _fd_check(make, params, seed=0, n=7, eps=1e-6, rtol=1e-6):
    """The gradient of sum(rsample) w.r.t. each parameter against central differences with
    the same seed (the same base draws)."""
    for i, p0 in enumerate(params):
        ps = [ctorch.tensor(p, dtype=ctorch.float64) for p in params]
        ps[i].requires_grad_()
        ctorch.manual_seed(seed)
        (g,) = ctorch.autograd.grad(make(*ps).rsample((n,)).sum(), ps[i])
        fd = np.zeros_like(p0)
        for j in np.ndindex(p0.shape):
            vals = []
            for sgn in (1, -1):
                q = [np.array(p, dtype=float) for p in params]
                q[i][j] += sgn * eps
                ctorch.manual_seed(seed)
                qs = [ctorch.tensor(a, dtype=ctorch.float64) for a in q]
                vals.append(make(*qs).rsample((n,)).sum().item())
            fd[j] = (vals[0] - vals[1]) / (2 * eps)
        np.testing.assert_allclose(g.numpy(), fd, rtol=rtol, atol=1e-7)


def test_rsample_gradients_against_finite_differences():
    _fd_check(
        D.LowRankMultivariateNormal,
        [_A([0.1, -0.3, 0.7]), _A([[0.5, -0.2], [0.1, 0.9], [-0.6, 0.3]]), _A([0.8, 1.3, 0.4])],
    )
    _fd_check(D.Kumaraswamy, [_A([0.8, 2.0]), _A([1.5, 3.0])])
    _fd_check(lambda p: D.ContinuousBernoulli(p), [_A([0.2, 0.4, 0.8])])
    _fd_check(lambda lg: D.ContinuousBernoulli(logits=lg), [_A([-1.0, 1.5])])
    _fd_check(D.GeneralizedPareto, [_A([0.1, -1.0]), _A([2.0, 0.5]), _A([0.4, -0.3])])
    _fd_check(D.LogisticNormal, [_A([0.2, -0.5]), _A([0.7, 1.2])])
    _fd_check(
        lambda tril: D.Wishart(ctorch.tensor(5.0, dtype=ctorch.float64), scale_tril=tril.tril()),
        [np.linalg.cholesky(_SPD)],
    )


def test_rsample_gradients_through_gamma_draws():
    """FisherSnedecor and Wishart's df enter through Gamma draws (implicit reparameterisation):
    the gradient of a sample mean is that of the expectation, E[F] = df2 / (df2 - 2) and
    E[W] = df * cov."""
    ctorch.manual_seed(5)
    df1 = ctorch.tensor(4.0, dtype=ctorch.float64, requires_grad=True)
    df2 = ctorch.tensor(10.0, dtype=ctorch.float64, requires_grad=True)
    x = D.FisherSnedecor(df1, df2).rsample((400000,))
    g1, g2 = ctorch.autograd.grad(x.mean(), (df1, df2))
    assert abs(g1.item()) < 0.004
    np.testing.assert_allclose(g2.item(), -2 / (10.0 - 2) ** 2, rtol=0.1)

    df = ctorch.tensor(5.0, dtype=ctorch.float64, requires_grad=True)
    cov = ctorch.tensor(_SPD, dtype=ctorch.float64)
    w = D.Wishart(df, covariance_matrix=cov).rsample((40000,))
    (gdf,) = ctorch.autograd.grad(w.mean(0).sum(), df)
    np.testing.assert_allclose(gdf.item(), _SPD.sum(), rtol=0.05)


def test_log_prob_gradients_against_finite_differences():
    f64 = ctorch.float64

    def check(fn, *arrays):
        ts = [ctorch.tensor(a, dtype=f64, requires_grad=True) for a in arrays]
        assert ctorch.autograd.gradcheck(fn, tuple(ts), eps=1e-6, atol=1e-6)

    check(
        lambda loc, w, dg: D.LowRankMultivariateNormal(loc, w, dg).log_prob(
            ctorch.tensor([0.3, 0.1, -0.2], dtype=f64)
        ),
        _A([0.1, -0.3, 0.7]),
        _A([[0.5, -0.2], [0.1, 0.9], [-0.6, 0.3]]),
        _A([0.8, 1.3, 0.4]),
    )
    check(
        lambda df, tril: D.Wishart(df, scale_tril=tril.tril()).log_prob(
            ctorch.tensor(_W_VALUE, dtype=f64)
        ),
        _A(4.5),
        np.linalg.cholesky(_SPD),
    )
    check(
        lambda c: D.LKJCholesky(3, c).log_prob(_corr_cholesky_values(ctorch, f64)),
        _A([0.5, 2.0]),
    )
    check(lambda a, b: D.Kumaraswamy(a, b).entropy(), _A([0.8, 2.0]), _A([1.5, 3.0]))
    check(
        lambda k: D.VonMises(ctorch.tensor(0.2, dtype=f64), k).log_prob(
            ctorch.tensor(1.0, dtype=f64)
        ),
        _A([0.5, 5.0]),
    )


# ------------------------------------------------------------------------------ validation


def _errors(lib):
    Dl = lib.distributions
    f64 = lib.float64
    eye = lib.eye(3, dtype=f64)
    out = []
    attempts = [
        lambda: Dl.VonMises(lib.tensor([0.0]), lib.tensor([-1.0]), validate_args=True),
        lambda: Dl.LowRankMultivariateNormal(lib.tensor(0.0), eye, lib.ones(3)),
        lambda: Dl.LowRankMultivariateNormal(lib.zeros(3), lib.zeros(3), lib.ones(3)),
        lambda: Dl.LowRankMultivariateNormal(lib.zeros(3), lib.zeros(2, 1), lib.ones(3)),
        lambda: Dl.LowRankMultivariateNormal(lib.zeros(3), lib.zeros(3, 1), lib.ones(2)),
        lambda: Dl.LowRankMultivariateNormal(lib.zeros(2, 3), lib.zeros(4, 3, 1), lib.ones(3)),
        lambda: Dl.LowRankMultivariateNormal(
            lib.zeros(3), lib.zeros(3, 1), -lib.ones(3), validate_args=True
        ),
        lambda: Dl.Kumaraswamy(lib.tensor([0.0]), lib.tensor([1.0]), validate_args=True),
        lambda: Dl.FisherSnedecor(lib.tensor([1.0]), lib.tensor([-1.0]), validate_args=True),
        lambda: Dl.LogisticNormal(lib.tensor([0.0]), lib.tensor([0.0]), validate_args=True),
        lambda: Dl.ContinuousBernoulli(lib.tensor([1.5]), validate_args=True),
        lambda: Dl.ContinuousBernoulli(lib.tensor([0.5]), logits=lib.tensor([0.0])),
        lambda: Dl.ContinuousBernoulli(),
        lambda: Dl.Wishart(lib.tensor(5.0), covariance_matrix=eye, scale_tril=eye),
        lambda: Dl.Wishart(lib.tensor(5.0)),
        lambda: Dl.Wishart(lib.tensor(1.0), covariance_matrix=eye),
        lambda: Dl.Wishart(lib.tensor(5.0), scale_tril=lib.ones(3)),
        lambda: Dl.Wishart(lib.tensor(5.0), scale_tril=-eye, validate_args=True),
        lambda: Dl.LKJCholesky(1, 1.0),
        lambda: Dl.LKJCholesky(3, lib.tensor([-1.0]), validate_args=True),
        lambda: Dl.GeneralizedPareto(0.0, -1.0, 0.1, validate_args=True),
        lambda: Dl.GeneralizedPareto(0.0, 1.0, -0.5, validate_args=True).log_prob(lib.tensor(3.0)),
        lambda: Dl.Kumaraswamy(1.0, 2.0, validate_args=True).log_prob(lib.tensor(1.5)),
        lambda: Dl.LKJCholesky(3, validate_args=True).log_prob(eye * 2),
        lambda: Dl.Wishart(lib.tensor(5.0), covariance_matrix=eye, validate_args=True).log_prob(
            -eye
        ),
    ]
    # internal distributions (FisherSnedecor's Gammas, LKJCholesky's Beta) validate by the
    # global default, which other tests in a full run may have changed: pin it
    base = Dl.Distribution
    saved = base._validate_args
    base.set_default_validate_args(True)
    try:
        for fn in attempts:
            try:
                fn()
                out.append((None, ""))
            except Exception as e:  # noqa: BLE001 - the comparison is the point
                msg = str(e).split(" of distribution")[0].split(" to be within the support")[0]
                msg = msg.replace("ctorch.", "torch.")
                out.append((type(e).__name__, msg))
    finally:
        base.set_default_validate_args(saved)
    return out


@needs_torch
def test_validation_errors_match_torch():
    import torch

    ours, theirs = _errors(ctorch), _errors(torch)
    for i, (a, b) in enumerate(zip(ours, theirs, strict=True)):
        assert a[0] is not None, i
        assert a == b, (i, a, b)


def test_validation_messages_name_the_problem():
    with pytest.raises(ValueError, match="The parameter probs has invalid values"):
        D.ContinuousBernoulli(ctorch.tensor([-0.1]), validate_args=False)
    # without validate_args, out-of-range probs are clamped, as torch does
    cb = D.ContinuousBernoulli(ctorch.tensor([0.0, 1.0]))
    assert (cb.probs > 0).all() and (cb.probs < 1).all()
    with pytest.raises(ValueError, match="greater than ndim - 1 = 2"):
        D.Wishart(2.0, covariance_matrix=ctorch.eye(3))
    with pytest.warns(UserWarning, match="Low df values detected"):
        D.Wishart(2.5, covariance_matrix=ctorch.eye(3))
    with pytest.raises(ValueError, match="dim to be an integer greater than or equal to 2"):
        D.LKJCholesky(1)


def test_generalized_pareto_float64_against_numpy():
    """torch 2.13 cannot evaluate GeneralizedPareto.log_prob/cdf in float64 (it compares the
    concentration with a float32 zero); the closed forms instead."""
    loc, scale, xi = _A([0.1, -1.0, 0.5]), _A([2.0, 0.5, 1.5]), _A([0.4, -0.3, 0.0])
    x = _A([1.3, -0.5, 2.0])
    d = D.GeneralizedPareto(*(ctorch.tensor(a) for a in (loc, scale, xi)))
    z = (x - loc) / scale
    safe = np.where(xi == 0, 1.0, xi)
    log_prob = -np.log(scale) - np.where(xi == 0, z, (1 / safe + 1) * np.log1p(safe * z))
    log_sf = np.where(xi == 0, -z, -np.log1p(safe * z) / safe)
    xt = ctorch.tensor(x)
    np.testing.assert_allclose(d.log_prob(xt).numpy(), log_prob, rtol=1e-13)
    np.testing.assert_allclose(d.log_survival_function(xt).numpy(), log_sf, rtol=1e-13)
    np.testing.assert_allclose(d.cdf(xt).numpy(), -np.expm1(log_sf), rtol=1e-13)
    u = _A([0.05, 0.5, 0.95])
    icdf = np.where(
        xi == 0, loc - scale * np.log1p(-u), loc + scale / safe * np.expm1(-safe * np.log1p(-u))
    )
    np.testing.assert_allclose(d.icdf(ctorch.tensor(u)).numpy(), icdf, rtol=1e-13)
    # the density integrates to the cdf (midpoint rule on [loc, x])
    for k in range(3):
        grid = loc[k] + (np.arange(20000) + 0.5) / 20000 * (x[k] - loc[k])
        dk = D.GeneralizedPareto(loc[k], scale[k], xi[k])
        mass = dk.log_prob(ctorch.tensor(grid)).exp().numpy().mean() * (x[k] - loc[k])
        np.testing.assert_allclose(mass, -np.expm1(log_sf[k]), rtol=1e-7)


def test_generalized_pareto_support_and_edges():
    f64 = ctorch.float64
    d = D.GeneralizedPareto(
        ctorch.tensor([0.0, 0.0], dtype=f64),
        ctorch.tensor([1.0, 2.0], dtype=f64),
        ctorch.tensor([-0.5, 0.3], dtype=f64),
    )
    sup = d.support
    assert sup.upper_bound[0].item() == 2.0 and sup.upper_bound[1].item() == math.inf
    assert sup.check(ctorch.tensor([1.9, 50.0], dtype=f64)).all()
    assert not sup.check(ctorch.tensor([2.1, -0.1], dtype=f64)).any()
    # mean/variance are nan where they do not exist, as torch
    heavy = D.GeneralizedPareto(0.0, 1.0, ctorch.tensor([0.7, 1.2]))
    assert np.isnan(heavy.variance.numpy()).all() and np.isnan(heavy.mean.numpy()[1])
    # cdf and icdf invert each other, and log_cdf / log_survival_function add up
    u = ctorch.tensor([0.1, 0.9], dtype=f64)
    np.testing.assert_allclose(d.cdf(d.icdf(u)).numpy(), u.numpy(), rtol=1e-12)
    x = d.icdf(u)
    np.testing.assert_allclose(
        (d.log_cdf(x).exp() + d.log_survival_function(x).exp()).numpy(), 1.0, rtol=1e-12
    )


def test_expand_and_subclass_rules():
    f64 = ctorch.float64
    vm = D.VonMises(ctorch.tensor(0.3, dtype=f64), ctorch.tensor(2.0, dtype=f64))
    e = vm.expand((4,))
    assert type(e) is D.VonMises and tuple(e.batch_shape) == (4,)
    lkj = D.LKJCholesky(3, ctorch.tensor([1.0, 2.0])).expand((5, 2))
    assert tuple(lkj.batch_shape) == (5, 2) and tuple(lkj.sample().shape) == (5, 2, 3, 3)
    w = D.Wishart(5.0, covariance_matrix=ctorch.eye(2, dtype=f64)).expand((3,))
    assert tuple(w.rsample((2,)).shape) == (2, 3, 2, 2) and tuple(w.df.shape) == (3,)

    class MyKumaraswamy(D.Kumaraswamy):
        def __init__(self, a):
            super().__init__(a, a)

    with pytest.raises(NotImplementedError, match="must also define a custom .expand"):
        MyKumaraswamy(ctorch.tensor([1.0])).expand((2,))


# ------------------------------------------------------------------------------ transforms


def _transform_outputs(lib):
    Dl = lib.distributions
    Tm = Dl.transforms
    f64 = lib.float64

    def T(a):
        return lib.tensor(np.asarray(a, dtype=float), dtype=f64)

    x_vec = T(_CORR_X)
    mat = T([[[0.3, 1.0, -2.0], [0.5, -0.2, 0.7], [1.5, 0.1, 0.4]]])
    x_cat = T([[0.3, -1.2, 0.5, 2.0, 0.1], [1.0, 0.2, -0.3, 0.4, -2.0]])
    x_stack = T([[0.3, -1.2], [0.5, 2.0], [0.1, 1.0]])
    cases = [
        (Tm.CorrCholeskyTransform(), x_vec),
        (Tm.CorrCholeskyTransform(), T([0.7])),  # 2 x 2
        (Tm.PositiveDefiniteTransform(), mat),
        (Tm.CatTransform([Tm.ExpTransform(), Tm.AffineTransform(1.0, -2.0)], 1, [2, 3]), x_cat),
        (Tm.CatTransform([Tm.ExpTransform(), Tm.SigmoidTransform()], 0, [1, 1]), x_cat),
        (  # mixed event dims: the jacobian is summed over the event, then joined
            Tm.CatTransform(
                [Tm.IndependentTransform(Tm.ExpTransform(), 1), Tm.SigmoidTransform()], 0, [1, 1]
            ),
            x_cat,
        ),
        (Tm.StackTransform([Tm.ExpTransform(), Tm.TanhTransform()], dim=1), x_stack),
        (
            Tm.StackTransform(
                [Tm.ExpTransform(), Tm.identity_transform, Tm.SoftplusTransform()], dim=0
            ),
            x_stack,
        ),
        (Tm.CumulativeDistributionTransform(Dl.Normal(T(0.5), T(2.0))), T([-1.0, 0.3, 2.5])),
        (
            Tm.CumulativeDistributionTransform(Dl.Gumbel(T([0.0, 1.0]), T([1.0, 0.5]))),
            T([[-1.0, 0.3], [2.5, 1.1]]),
        ),
    ]
    out = []
    for t, x in cases:
        y = t(x)
        row = [y, t.inv(y)]
        try:
            row.append(t.log_abs_det_jacobian(x, y))
        except NotImplementedError:  # PositiveDefiniteTransform has none, in torch either
            row.append(lib.tensor(math.nan))
        row.append(lib.tensor(float(t.bijective)))
        row.append(lib.tensor(float(t.domain.event_dim)))
        row.append(lib.tensor(float(t.codomain.event_dim)))
        try:
            row.append(t.codomain.check(y).to(lib.float64))
        except RuntimeError:  # constraints.cat of mixed event dims: torch.cat fails there too
            row.append(lib.tensor(math.nan))
        out.append([r.detach().numpy() for r in row])
    return out


@needs_torch
def test_transforms_match_torch():
    import torch

    ours, theirs = _transform_outputs(ctorch), _transform_outputs(torch)
    for i, (ra, rb) in enumerate(zip(ours, theirs, strict=True)):
        for j, (a, b) in enumerate(zip(ra, rb, strict=True)):
            assert a.shape == b.shape, (i, j, a.shape, b.shape)
            np.testing.assert_allclose(
                a, b, rtol=1e-10, atol=1e-13, equal_nan=True, err_msg=f"{i},{j}"
            )


def _jacobian_fd(f, x, eps=1e-6):
    x = np.asarray(x, dtype=float)
    cols = []
    for k in range(x.size):
        dx = np.zeros_like(x)
        dx.flat[k] = eps
        cols.append((f(x + dx) - f(x - dx)) / (2 * eps))
    return np.stack(cols, -1)


def test_transform_jacobians_against_finite_differences():
    f64 = ctorch.float64
    Tm = D.transforms
    # CorrCholesky: the Jacobian of x -> the strict lower triangle of y
    t = Tm.CorrCholeskyTransform()
    x = _A([0.3, -0.8, 1.1, 0.2, -0.4, 0.9])  # 4 x 4

    def f(a):
        y = t(ctorch.tensor(a, dtype=f64)).numpy()
        return y[np.tril_indices(4, -1)]

    J = _jacobian_fd(f, x)
    xt = ctorch.tensor(x, dtype=f64)
    got = t.log_abs_det_jacobian(xt, t(xt)).item()
    np.testing.assert_allclose(got, np.linalg.slogdet(J)[1], rtol=1e-7)
    # the tril vector layout is torch's (row order)
    y = t(xt).numpy()
    np.testing.assert_allclose(np.linalg.norm(y, axis=-1), 1.0, rtol=1e-12)
    np.testing.assert_allclose(t.inv(t(xt)).numpy(), x, rtol=1e-10)
    assert t.forward_shape((5, 6)) == (5, 4, 4) and t.inverse_shape((5, 4, 4)) == (5, 6)
    with pytest.raises(ValueError, match="not a flattened lower-diagonal number"):
        t.forward_shape((5,))
    with pytest.raises(ValueError, match="Input is not square"):
        t.inverse_shape((3, 4))
    # Cat: block-diagonal Jacobian, summed over the event
    c = Tm.CatTransform([Tm.ExpTransform(), Tm.AffineTransform(0.0, 3.0)], 0, [2, 1])
    xc = ctorch.tensor([0.2, -0.5, 1.0], dtype=f64)
    np.testing.assert_allclose(
        c.log_abs_det_jacobian(xc, c(xc)).numpy(), [0.2, -0.5, math.log(3.0)], rtol=1e-12
    )


def test_transform_round_trips_gradients_and_cache():
    f64 = ctorch.float64
    Tm = D.transforms
    m = ctorch.tensor([[0.3, 1.0], [0.5, -0.2]], dtype=f64, requires_grad=True)
    pd = Tm.PositiveDefiniteTransform()
    y = pd(m)
    assert bool(D.constraints.positive_definite.check(y).all())
    np.testing.assert_allclose(pd.inv(y).detach().numpy(), np.tril(m.detach().numpy()), rtol=1e-12)
    assert ctorch.autograd.gradcheck(lambda a: Tm.PositiveDefiniteTransform()(a), (m,))
    assert ctorch.autograd.gradcheck(
        lambda a: Tm.CorrCholeskyTransform()(a),
        (ctorch.tensor([0.3, -0.8, 1.1], dtype=f64, requires_grad=True),),
    )
    assert pd == Tm.PositiveDefiniteTransform() and pd != Tm.LowerCholeskyTransform()
    # cache_size=1: the inverse of the last output is the remembered input
    cat = Tm.CatTransform(
        [Tm.ExpTransform(), Tm.AffineTransform(0.0, 2.0)], 0, [1, 1], cache_size=1
    )
    assert all(t._cache_size == 1 for t in cat.transforms)
    x = ctorch.tensor([0.5, 1.0], dtype=f64)
    assert cat.inv(cat(x)) is x
    assert cat.with_cache(1) is cat and cat.with_cache(0)._cache_size == 0
    st = Tm.StackTransform([Tm.ExpTransform()], cache_size=1)
    assert st.transforms[0]._cache_size == 1
    with pytest.raises(AssertionError, match="must equal len"):
        st(ctorch.zeros(2, 3))
    with pytest.raises(AssertionError, match="must equal length 2"):
        cat(ctorch.zeros(3))
    with pytest.raises(AssertionError, match="All elements of tseq must be Transform"):
        Tm.CatTransform([1])
    with pytest.raises(NotImplementedError, match="with_cache is not implemented"):

        class Custom(Tm.Transform):
            def __init__(self, a):
                super().__init__()

        Custom(1).with_cache(1)
    cdf = Tm.CumulativeDistributionTransform(D.Normal(0.0, 1.0))
    assert cdf.domain is D.Normal(0.0, 1.0).support and cdf.sign == 1
    np.testing.assert_allclose(cdf(ctorch.tensor(0.0)).item(), 0.5)
    # a Gaussian copula: MVN pushed through Normal cdfs has uniform marginals
    ctorch.manual_seed(6)
    L = D.LKJCholesky(2, 1.0).sample()
    copula = D.TransformedDistribution(D.MultivariateNormal(ctorch.zeros(2), scale_tril=L), [cdf])
    u = copula.sample((20000,)).numpy()
    assert u.shape == (20000, 2) and (u >= 0).all() and (u <= 1).all()
    np.testing.assert_allclose(u.mean(0), 0.5, atol=0.01)
    np.testing.assert_allclose(u.var(0), 1 / 12, rtol=0.04)


def _registry_outputs(lib):
    Dl = lib.distributions
    C = Dl.constraints
    f64 = lib.float64
    out = []
    x = lib.tensor(_CORR_X, dtype=f64)
    for reg in (Dl.biject_to, Dl.transform_to):
        t = reg(C.corr_cholesky)
        out += [t(x), t.inv(t(x)), t.log_abs_det_jacobian(x, t(x))]
    m = lib.tensor([[0.3, 1.0, -2.0], [0.5, -0.2, 0.7], [1.5, 0.1, 0.4]], dtype=f64)
    for c in (C.positive_definite, C.positive_semidefinite):
        t = Dl.transform_to(c)
        out += [t(m), t.inv(t(m))]
    z = lib.tensor([[0.3, -1.2, 0.5, 2.0], [1.0, 0.2, -0.3, 0.4]], dtype=f64)
    cat = C.cat([C.positive, C.interval(-1.0, 2.0), C.real], 1, [1, 2, 1])
    stack = C.stack([C.positive, C.greater_than(1.5)], 0)
    for reg in (Dl.biject_to, Dl.transform_to):
        for c in (cat, stack):
            t = reg(c)
            y = t(z)
            assert bool(c.check(y).all())
            out += [y, t.inv(y), t.log_abs_det_jacobian(z, y)]
    return [o.detach().numpy() for o in out]


@needs_torch
def test_biject_to_and_transform_to_new_constraints_match_torch():
    import torch

    for a, b in zip(_registry_outputs(ctorch), _registry_outputs(torch), strict=True):
        assert a.shape == b.shape
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-13)


def test_registry_types():
    C = D.constraints
    Tm = D.transforms
    assert isinstance(D.biject_to(C.corr_cholesky), Tm.CorrCholeskyTransform)
    assert isinstance(D.transform_to(C.positive_definite), Tm.PositiveDefiniteTransform)
    with pytest.raises(NotImplementedError, match="Cannot transform _PositiveDefinite"):
        D.biject_to(C.positive_definite)  # torch registers only transform_to for it
    t = D.biject_to(C.stack([C.positive, C.unit_interval], 1))
    assert isinstance(t, Tm.StackTransform) and t.bijective and t.dim == 1
    assert isinstance(t.transforms[1], Tm.SigmoidTransform)
    t = D.transform_to(C.cat([C.simplex, C.positive], -1, [3, 2]))
    assert isinstance(t, Tm.CatTransform) and t.lengths == [3, 2] and not t.bijective
    # a corr-Cholesky parameter optimised through its unconstrained preimage
    raw = ctorch.zeros(3, requires_grad=True)
    target = ctorch.tensor([[1.0, 0.0, 0.0], [0.6, 0.8, 0.0], [0.0, 0.6, 0.8]])
    opt = ctorch.optim.Adam([raw], lr=0.05)
    for _ in range(400):
        opt.zero_grad()
        loss = (D.biject_to(C.corr_cholesky)(raw) - target).pow(2).sum()
        loss.backward()
        opt.step()
    np.testing.assert_allclose(
        D.biject_to(C.corr_cholesky)(raw).detach().numpy(), target, atol=1e-3
    )


def test_tril_vector_helpers():
    from ctorch.distributions.utils import tril_matrix_to_vec, vec_to_tril_matrix

    m = ctorch.arange(16.0).reshape(4, 4)
    for diag in (-2, -1, 0, 1):
        v = tril_matrix_to_vec(m, diag)
        want = m.numpy()[np.tril_indices(4, diag)]
        np.testing.assert_array_equal(v.numpy(), want)
        back = vec_to_tril_matrix(v, diag)
        np.testing.assert_array_equal(back.numpy(), np.tril(m.numpy(), diag))
    with pytest.raises(ValueError, match="cannot be expressed as the lower triangular part"):
        vec_to_tril_matrix(ctorch.zeros(5))
    with pytest.raises(ValueError, match=r"diag \(4\) provided is outside \[-4, 3\]"):
        tril_matrix_to_vec(m, 4)


def test_exports_match_torch():
    torch = pytest.importorskip("torch")
    ours = set(D.__all__)
    assert set(torch.distributions.__all__) <= ours, set(torch.distributions.__all__) - ours
    assert set(torch.distributions.transforms.__all__) <= set(D.transforms.__all__)


# ----------------------------------------------------------------------- exponential families


def _exp_family_members(lib):
    Dl = lib.distributions
    f64 = lib.float64

    def T(a):
        return lib.tensor(np.asarray(a, dtype=float), dtype=f64)

    return [
        Dl.Normal(T([0.3, 1.0]), T([2.0, 0.5])),
        Dl.Gamma(T([2.0, 3.0]), T([1.0, 4.0])),
        Dl.Chi2(T([2.5, 4.0])),
        Dl.Exponential(T([2.0, 3.0])),
        Dl.Bernoulli(T([0.2, 0.6])),
        Dl.ContinuousBernoulli(T([0.2, 0.6])),
        Dl.Wishart(T([4.0, 6.5]), covariance_matrix=T(_SPD)),
    ]


@needs_torch
def test_exponential_family_entropy_and_membership_match_torch():
    import torch

    names = {
        n
        for n in torch.distributions.__all__
        if isinstance(getattr(torch.distributions, n), type)
        and issubclass(getattr(torch.distributions, n), torch.distributions.ExponentialFamily)
    }
    ours = {n for n in names if issubclass(getattr(D, n), D.ExponentialFamily)}
    assert ours == names
    assert not issubclass(D.Laplace, D.ExponentialFamily)
    for a, b in zip(_exp_family_members(ctorch), _exp_family_members(torch), strict=True):
        # the Bregman-divergence entropy of the base class agrees with the closed form
        ea = D.ExponentialFamily.entropy(a).detach().numpy()
        np.testing.assert_allclose(ea, a.entropy().detach().numpy(), rtol=1e-10)
        eb = torch.distributions.ExponentialFamily.entropy(b).detach().numpy()
        np.testing.assert_allclose(ea, eb, rtol=1e-10)
    with pytest.raises(NotImplementedError):
        D.ExponentialFamily.entropy(D.Beta(2.0, 3.0))  # no carrier measure, as torch


def _wishart_pair(lib, batched):
    f64 = lib.float64
    df = lib.tensor([5.0, 7.0] if batched else 5.0, dtype=f64)
    p = lib.distributions.Wishart(df, covariance_matrix=lib.tensor(_SPD, dtype=f64))
    q = lib.distributions.Wishart(
        lib.tensor(6.0, dtype=f64), precision_matrix=lib.tensor(_SPD2, dtype=f64)
    )
    return p, q


@needs_torch
def test_wishart_kl_by_bregman_divergence():
    import torch

    p, q = _wishart_pair(ctorch, False)
    tp, tq = _wishart_pair(torch, False)
    kl = D.kl_divergence(p, q)
    np.testing.assert_allclose(
        kl.item(), torch.distributions.kl_divergence(tp, tq).item(), rtol=1e-9
    )
    assert abs(D.kl_divergence(p, p).item()) < 1e-10
    # batched: each element as alone (torch 2.13 sums the df term over the batch here)
    pb, qb = _wishart_pair(ctorch, True)
    each = [
        D.kl_divergence(D.Wishart(pb.df[i], covariance_matrix=pb.covariance_matrix[i]), qb).item()
        for i in range(2)
    ]
    np.testing.assert_allclose(D.kl_divergence(pb, qb).detach().numpy(), each, rtol=1e-12)
    # and E_p[log p - log q] by Monte Carlo
    ctorch.manual_seed(7)
    x = p.rsample((20000,))
    mc = (p.log_prob(x) - q.log_prob(x)).mean().item()
    np.testing.assert_allclose(kl.item(), mc, rtol=0.03)
    with pytest.raises(NotImplementedError, match="different exponential families"):
        D.kl_divergence(D.Wishart(5.0, covariance_matrix=ctorch.eye(2)), D.ContinuousBernoulli(0.3))


def test_wishart_redraws_singular_samples():
    w = D.Wishart(
        ctorch.tensor(5.0, dtype=ctorch.float64),
        covariance_matrix=ctorch.eye(2, dtype=ctorch.float64),
    )
    good = w._bartlett_sampling
    calls = []

    def first_singular(sample_shape):
        out = good(sample_shape)
        calls.append(1)
        if len(calls) == 1:  # the first draw of element 1 is singular
            out = out.clone()
            out[1] = ctorch.zeros(2, 2, dtype=ctorch.float64)
        return out

    w._bartlett_sampling = first_singular
    with pytest.warns(UserWarning, match="Singular sample detected"):
        x = w.rsample((3,))
    assert len(calls) == 2 and bool(w.support.check(x).all())
    calls.clear()
    w._bartlett_sampling = lambda shape: ctorch.zeros(tuple(shape) + (2, 2), dtype=ctorch.float64)
    with pytest.warns(UserWarning, match="Singular sample detected"):
        x = w.rsample((2,), max_try_correction=3)
    assert not bool(w.support.check(x).any())  # gave up after 3 redraws, as torch
