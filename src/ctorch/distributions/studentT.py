from __future__ import annotations

import math

import ctorch

from . import constraints
from ._gamma_sampler import standard_gamma_rsample
from ._special import digamma, lgamma
from .distribution import Distribution

__all__ = ["StudentT"]


class StudentT(Distribution):
    """Student's t with degrees of freedom ``df``, ``loc`` and ``scale``; ``rsample`` is
    differentiable in all three (the chi-square draw via the implicit Gamma gradient)."""

    arg_constraints = {
        "df": constraints.positive,
        "loc": constraints.real,
        "scale": constraints.positive,
    }
    support = constraints.real
    has_rsample = True

    @property
    def mean(self) -> ctorch.Tensor:
        m = self.loc.clone()
        return ctorch.where(self.df <= 1, ctorch.full_like(m, math.nan), m)

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc

    @property
    def variance(self) -> ctorch.Tensor:
        m = self.scale.pow(2) * self.df / (self.df - 2)
        m = ctorch.where((self.df <= 2) & (self.df > 1), ctorch.full_like(m, math.inf), m)
        return ctorch.where(self.df <= 1, ctorch.full_like(m, math.nan), m)

    def __init__(self, df, loc=0.0, scale=1.0, validate_args: bool | None = None) -> None:
        self._init_broadcast(validate_args, df=df, loc=loc, scale=scale)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(StudentT, ("df", "loc", "scale"), batch_shape, _instance)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        X = ctorch.randn(shape, dtype=self.df.dtype, device=self.df.device)
        Z = 2.0 * standard_gamma_rsample(0.5 * self.df.expand(shape))  # chi-square(df)
        Y = X * ctorch.rsqrt(Z / self.df)
        return self.loc + self.scale * Y

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        y = (value - self.loc) / self.scale
        Z = (
            self.scale.log()
            + 0.5 * self.df.log()
            + 0.5 * math.log(math.pi)
            + lgamma(0.5 * self.df)
            - lgamma(0.5 * (self.df + 1.0))
        )
        return -0.5 * (self.df + 1.0) * ctorch.log1p(y**2.0 / self.df) - Z

    def entropy(self) -> ctorch.Tensor:
        lbeta = lgamma(0.5 * self.df) + math.lgamma(0.5) - lgamma(0.5 * (self.df + 1))
        return (
            self.scale.log()
            + 0.5 * (self.df + 1) * (digamma(0.5 * (self.df + 1)) - digamma(0.5 * self.df))
            + 0.5 * self.df.log()
            + lbeta
        )
