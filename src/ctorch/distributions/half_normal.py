from __future__ import annotations

import math

import ctorch

from . import constraints
from .normal import Normal
from .transformed_distribution import TransformedDistribution
from .transforms import AbsTransform

__all__ = ["HalfNormal"]


class _HalfOf(TransformedDistribution):
    """|X| for X of a distribution symmetric about 0 (HalfNormal, HalfCauchy): twice the
    base density on the nonnegative reals."""

    arg_constraints = {"scale": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(type(self), _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def scale(self) -> ctorch.Tensor:
        return self.base_dist.scale

    @property
    def mode(self) -> ctorch.Tensor:
        return ctorch.zeros_like(self.scale)

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_prob = self.base_dist.log_prob(value) + math.log(2)
        return ctorch.where(value >= 0, log_prob, -math.inf)

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 2 * self.base_dist.cdf(value) - 1

    def icdf(self, prob) -> ctorch.Tensor:
        return self.base_dist.icdf((prob + 1) / 2)

    def entropy(self) -> ctorch.Tensor:
        return self.base_dist.entropy() - math.log(2)


class HalfNormal(_HalfOf):
    """|X| for X ~ Normal(0, scale)."""

    def __init__(self, scale, validate_args: bool | None = None) -> None:
        super().__init__(Normal(0, scale, validate_args=False), AbsTransform(), validate_args)

    @property
    def mean(self) -> ctorch.Tensor:
        return self.scale * math.sqrt(2 / math.pi)

    @property
    def variance(self) -> ctorch.Tensor:
        return self.scale.pow(2) * (1 - 2 / math.pi)
