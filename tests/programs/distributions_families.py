"""The distribution families real code uses, with the calls it makes: log_prob, entropy,
mean/variance, kl_divergence between families, constraints and transforms
(TransformedDistribution, LogNormal), Independent/OneHotCategorical/Dirichlet/Beta/Gamma, and
reparameterised (rsample) gradients flowing back to the parameters."""

import numpy as np
import torch
import torch.distributions as D
from torch.distributions import constraints, transforms

rng = np.random.default_rng(0)
loc = torch.from_numpy(rng.standard_normal(3)).requires_grad_()
raw_scale = torch.from_numpy(rng.standard_normal(3)).requires_grad_()
scale = torch.nn.functional.softplus(raw_scale) + 0.1
value = torch.from_numpy(rng.standard_normal(3))
pos = torch.from_numpy(rng.random(3) + 0.2)
probs = torch.softmax(torch.from_numpy(rng.standard_normal(4)), 0)
tril = torch.tensor([[1.0, 0.0, 0.0], [0.3, 0.8, 0.0], [-0.2, 0.1, 0.5]], dtype=torch.float64)

dists = {
    "Normal": D.Normal(loc, scale),
    "Laplace": D.Laplace(loc, scale),
    "LogNormal": D.LogNormal(loc, scale),
    "Gamma": D.Gamma(pos * 3, pos),
    "Beta": D.Beta(pos * 2, pos + 1),
    "Uniform": D.Uniform(loc - 2, loc + 2 + scale),
    "Bernoulli": D.Bernoulli(probs=probs[:3]),
    "Categorical": D.Categorical(probs=probs),
    "OneHotCategorical": D.OneHotCategorical(probs=probs),
    "Dirichlet": D.Dirichlet(pos * 4),
    "MultivariateNormal": D.MultivariateNormal(loc, scale_tril=tril),
    "Independent": D.Independent(D.Normal(loc, scale), 1),
    "Transformed": D.TransformedDistribution(
        D.Normal(loc, scale), [transforms.ExpTransform(), transforms.AffineTransform(1.0, 2.0)]
    ),
}
samples = {
    "Normal": value,
    "Laplace": value,
    "LogNormal": value.exp(),
    "Gamma": pos + 1,
    "Beta": pos / 2,
    "Uniform": loc.detach(),
    "Bernoulli": torch.tensor([1.0, 0.0, 1.0], dtype=torch.float64),
    "Categorical": torch.tensor(2),
    "OneHotCategorical": torch.tensor([0.0, 0.0, 1.0, 0.0], dtype=torch.float64),
    "Dirichlet": torch.softmax(value, 0),
    "MultivariateNormal": value,
    "Independent": value,
    "Transformed": 1 + 2 * value.exp(),
}
for name, d in dists.items():
    lp = d.log_prob(samples[name]).sum()
    line = f"{name} log_prob {lp.item():.10f} batch {tuple(d.batch_shape)} event {tuple(d.event_shape)}"
    if name != "Transformed":
        line += f" mean {d.mean.sum().item():.10f}"
    if name not in ("Transformed", "Uniform"):
        line += f" entropy {d.entropy().sum().item():.10f}"
    print(line)
    print(
        f"{name} sample shape {tuple(d.sample((2,)).shape)} support ok {bool(d.support.check(d.sample()).all())}"
    )

for p, q in [
    (D.Normal(loc, scale), D.Normal(0.0, 1.0)),
    (D.Beta(pos * 2, pos + 1), D.Beta(pos + 1, pos * 2)),
    (D.Gamma(pos * 3, pos), D.Gamma(pos, pos * 3)),
    (D.Categorical(probs=probs), D.Categorical(logits=torch.zeros(4, dtype=torch.float64))),
    (D.Dirichlet(pos * 4), D.Dirichlet(torch.ones(3, dtype=torch.float64))),
    (
        D.MultivariateNormal(loc, scale_tril=tril),
        D.MultivariateNormal(
            torch.zeros(3, dtype=torch.float64), torch.eye(3, dtype=torch.float64)
        ),
    ),
    (
        D.Independent(D.Normal(loc, scale), 1),
        D.Independent(D.Normal(torch.zeros(3, dtype=torch.float64), 1.0), 1),
    ),
]:
    print(f"kl {type(p).__name__} {D.kl_divergence(p, q).sum().item():.10f}")

# rsample gradients: a Monte-Carlo objective whose expectation is known (E[x^2] = mu^2 + s^2)
torch.manual_seed(0)
n = D.Normal(loc, scale)
est = (n.rsample((20000,)) ** 2).mean(0).sum()
est.backward()
exact_grad = (2 * loc).detach()
print(
    "rsample grad close", torch.allclose(loc.grad, exact_grad, atol=0.1), raw_scale.grad is not None
)
print(
    "has_rsample",
    [
        D.Normal(0.0, 1.0).has_rsample,
        D.Categorical(probs=probs).has_rsample,
        D.Dirichlet(pos).has_rsample,
    ],
)
print(
    "constraints",
    constraints.positive.check(torch.tensor([1.0, -1.0])).tolist(),
    isinstance(D.Beta(pos, pos).support, type(constraints.unit_interval)),
)

# the rarer families: circular, low-rank, matrix-valued and bounded ones
f64 = torch.float64
more = {
    "VonMises": (D.VonMises(loc, pos * 3), value),
    "LowRankMultivariateNormal": (D.LowRankMultivariateNormal(loc, tril[:, :2], pos), value),
    "Kumaraswamy": (D.Kumaraswamy(pos + 0.5, pos * 2), pos / 2),
    "FisherSnedecor": (D.FisherSnedecor(pos * 4, pos * 3 + 5), pos),
    "LogisticNormal": (D.LogisticNormal(loc, scale), probs),
    "ContinuousBernoulli": (D.ContinuousBernoulli(probs=probs[:3]), pos / 2),
    "Wishart": (
        D.Wishart(torch.tensor(5.0, dtype=f64), scale_tril=tril),
        tril @ tril.T + torch.eye(3, dtype=f64),
    ),
    "LKJCholesky": (
        D.LKJCholesky(3, torch.tensor(2.0, dtype=f64)),
        transforms.CorrCholeskyTransform()(value.detach()),
    ),
}
for name, (d, v) in more.items():
    parts = [f"{name} log_prob {d.log_prob(v).sum().item():.10f}"]
    for stat in ("mean", "variance"):
        try:
            parts.append(f"{stat} {getattr(d, stat).sum().item():.10f}")
        except NotImplementedError:
            parts.append(f"{stat} n/a")
    try:
        parts.append(f"entropy {d.entropy().sum().item():.10f}")
    except NotImplementedError:
        parts.append("entropy n/a")
    sample = d.rsample((2,)) if d.has_rsample else d.sample((2,))
    parts.append(f"sample {tuple(sample.shape)} in support {bool(d.support.check(sample).all())}")
    print(" ".join(parts))

low_rank = more["LowRankMultivariateNormal"][0]
cb = more["ContinuousBernoulli"][0]
for p, q in [
    (low_rank, D.MultivariateNormal(torch.zeros(3, dtype=f64), scale_tril=tril)),
    (cb, D.ContinuousBernoulli(logits=torch.zeros(3, dtype=f64))),
    (cb, D.Normal(loc, scale)),
]:
    print(f"kl {type(p).__name__} {type(q).__name__} {D.kl_divergence(p, q).sum().item():.10f}")
corr = D.biject_to(constraints.corr_cholesky)
y = corr(value.detach())
print(
    "corr_cholesky",
    tuple(y.shape),
    f"{corr.log_abs_det_jacobian(value.detach(), y).item():.10f}",
    f"{(corr.inv(y) - value).abs().max().item() < 1e-10}",
)
