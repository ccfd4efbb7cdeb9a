"""LKJ over Cholesky factors of correlation matrices (torch.distributions.LKJCholesky, after
NumPyro's): the onion-method sampler of Lewandowski, Kurowicka & Joe (2009)."""

from __future__ import annotations

import math

import ctorch

from . import constraints
from ._special import lgamma
from .beta import Beta
from .distribution import Distribution
from .utils import broadcast_all
from .wishart import _mvlgamma

__all__ = ["LKJCholesky"]


class LKJCholesky(Distribution):
    """Cholesky factors L of ``dim`` x ``dim`` correlation matrices M = L L^T, with density
    proportional to det(M) ** (concentration - 1) (uniform over correlation matrices when
    concentration = 1)."""

    arg_constraints = {"concentration": constraints.positive}
    support = constraints.corr_cholesky

    def __init__(self, dim: int, concentration=1.0, validate_args: bool | None = None) -> None:
        if dim < 2:
            raise ValueError(
                f"Expected dim to be an integer greater than or equal to 2. Found dim={dim}."
            )
        self.dim = dim
        (self.concentration,) = broadcast_all(concentration)
        batch_shape = self.concentration.size()
        event_shape = ctorch.Size((dim, dim))
        # For the onion method (Lewandowski et al. 2009, sec. 3.2): the squared norm of row
        # k's off-diagonal part (k = 1..dim-1) is Beta(k / 2, eta + (dim - 2) / 2 - (k - 1) / 2)
        # (row 0 takes a dummy draw).  torch 2.13 uses Beta(k - 1/2, ...), which for dim >= 3
        # does not give LKJ marginals (uniform correlation matrices at concentration 1 have
        # Var(r_ij) = 1 / dim for every pair; torch's draws give 0.30 for r_20 at dim 3).
        marginal_conc = self.concentration + 0.5 * (self.dim - 2)
        offset = ctorch.arange(
            self.dim - 1, dtype=self.concentration.dtype, device=self.concentration.device
        )
        offset = ctorch.cat([ctorch.zeros((1,), dtype=offset.dtype, device=offset.device), offset])
        beta_conc1 = 0.5 * offset + 0.5
        beta_conc0 = marginal_conc.unsqueeze(-1) - 0.5 * offset
        self._beta = Beta(beta_conc1, beta_conc0)
        super().__init__(batch_shape, event_shape, validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(LKJCholesky, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.dim = self.dim
        new.concentration = self.concentration.expand(tuple(batch_shape))
        new._beta = self._beta.expand(tuple(batch_shape) + (self.dim,))
        super(LKJCholesky, new).__init__(batch_shape, self.event_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        # The onion method: row i's off-diagonal part is sqrt(y_i) times a uniform direction
        # on the (i-1)-sphere, the diagonal completes it to unit norm (row 0 is e_0).
        with ctorch.no_grad():
            y = self._beta.sample(sample_shape).unsqueeze(-1)
            u_normal = ctorch.randn(
                tuple(self._extended_shape(sample_shape)), dtype=y.dtype, device=y.device
            ).tril(-1)
            u_hypersphere = u_normal / u_normal.norm(dim=-1, keepdim=True)
            first_row = (ctorch.arange(self.dim, device=y.device) == 0).unsqueeze(-1)
            u_hypersphere = ctorch.where(first_row, ctorch.zeros_like(u_hypersphere), u_hypersphere)
            w = ctorch.sqrt(y) * u_hypersphere
            tiny = ctorch.finfo(w.dtype).tiny
            diag_elems = ctorch.clamp(1 - ctorch.sum(w**2, dim=-1), min=tiny).sqrt()
            return w + ctorch.diag_embed(diag_elems)

    def log_prob(self, value) -> ctorch.Tensor:
        # See: https://mc-stan.org/docs/2_25/functions-reference/cholesky-lkj-correlation-distribution.html
        # The normalising constant is from Lewandowski et al. (2009), eq. 16; the unnormalised
        # density in terms of L's diagonal is the Jacobian of L -> L L^T times det(M)^(eta - 1).
        if self._validate_args:
            self._validate_sample(value)
        diag_elems = value.diagonal(dim1=-1, dim2=-2)[..., 1:]
        order = ctorch.arange(2, self.dim + 1, device=self.concentration.device)
        order = 2 * (self.concentration - 1).unsqueeze(-1) + self.dim - order
        unnormalized_log_pdf = ctorch.sum(order * diag_elems.log(), dim=-1)
        dm1 = self.dim - 1
        alpha = self.concentration + 0.5 * dm1
        denominator = lgamma(alpha) * dm1
        numerator = _mvlgamma(alpha - 0.5, dm1)
        pi_constant = 0.5 * dm1 * math.log(math.pi)
        normalize_term = pi_constant + numerator - denominator
        return unnormalized_log_pdf - normalize_term
