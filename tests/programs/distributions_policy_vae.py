"""A policy-gradient step and a VAE loss, written the way real code uses torch.distributions."""

import numpy as np
import torch
import torch.distributions as dist
import torch.nn as nn
from torch.distributions import Categorical, Normal, kl_divergence
from torch.distributions.independent import Independent

rng = np.random.default_rng(0)
obs = torch.from_numpy(rng.normal(size=(6, 4)))
actions = torch.from_numpy(rng.integers(0, 3, size=6))
returns = torch.from_numpy(rng.normal(size=6))

policy = nn.Linear(4, 3).double()
with torch.no_grad():
    policy.weight.copy_(torch.from_numpy(rng.normal(size=(3, 4)) * 0.3))
    policy.bias.zero_()
pi = Categorical(logits=policy(obs))
loss = -(pi.log_prob(actions) * returns).mean() - 0.01 * pi.entropy().mean()
loss.backward()
print(f"policy loss {loss.item():.8f} grad {policy.weight.grad.abs().sum().item():.8f}")
print("sample shape", tuple(pi.sample().shape), pi.sample().dtype)

mu = torch.from_numpy(rng.normal(size=(6, 2))).requires_grad_()
log_std = torch.from_numpy(rng.normal(size=(6, 2)) * 0.1).requires_grad_()
q = Independent(Normal(mu, log_std.exp()), 1)
prior = Independent(
    Normal(torch.zeros(6, 2, dtype=torch.float64), torch.ones(6, 2, dtype=torch.float64)), 1
)
kl = kl_divergence(q, prior).mean()
x = torch.from_numpy(rng.normal(size=(6, 2)))
nll = -q.log_prob(x).mean()
(kl + nll).backward()
print(
    f"kl {kl.item():.8f} nll {nll.item():.8f} grad {mu.grad.abs().sum().item():.8f} {log_std.grad.abs().sum().item():.8f}"
)
z = q.rsample()
print("rsample", tuple(z.shape), z.requires_grad)

gauss = dist.MultivariateNormal(
    torch.zeros(2, dtype=torch.float64),
    scale_tril=torch.tensor([[1.0, 0.0], [0.5, 2.0]], dtype=torch.float64),
)
print(f"mvn {gauss.log_prob(x).sum().item():.8f} {gauss.entropy().item():.8f}")
beta = dist.Beta(
    torch.tensor([2.0, 0.5], dtype=torch.float64), torch.tensor([3.0, 0.7], dtype=torch.float64)
)
print(
    f"beta {beta.log_prob(torch.tensor([0.3, 0.9], dtype=torch.float64)).sum().item():.8f} {beta.entropy().sum().item():.8f}"
)
try:
    Normal(torch.tensor([0.0]), torch.tensor([-1.0]), validate_args=True)
except ValueError as e:
    print("ValueError", str(e).splitlines()[0][:40])
