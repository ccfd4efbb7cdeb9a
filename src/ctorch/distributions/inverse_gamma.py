from __future__ import annotations

import math

import ctorch

from . import constraints
from ._special import digamma, lgamma
from .gamma import Gamma
from .transformed_distribution import TransformedDistribution
from .transforms import PowerTransform

__all__ = ["InverseGamma"]


class InverseGamma(TransformedDistribution):
    """1 / X for X ~ Gamma(concentration, rate)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.positive
    has_rsample = True

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        base = Gamma(concentration, rate, validate_args=validate_args)
        neg_one = -ctorch.ones((), dtype=base.rate.dtype, device=base.rate.device)
        super().__init__(base, PowerTransform(neg_one), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(InverseGamma, _instance)
        return super().expand(batch_shape, _instance=new)

    @property
    def concentration(self) -> ctorch.Tensor:
        return self.base_dist.concentration

    @property
    def rate(self) -> ctorch.Tensor:
        return self.base_dist.rate

    @property
    def mean(self) -> ctorch.Tensor:
        result = self.rate / (self.concentration - 1)
        return ctorch.where(self.concentration > 1, result, math.inf)

    @property
    def mode(self) -> ctorch.Tensor:
        return self.rate / (self.concentration + 1)

    @property
    def variance(self) -> ctorch.Tensor:
        c = self.concentration
        result = self.rate.square() / ((c - 1).square() * (c - 2))
        return ctorch.where(c > 2, result, math.inf)

    def entropy(self) -> ctorch.Tensor:
        c = self.concentration
        return c + self.rate.log() + lgamma(c) - (1 + c) * digamma(c)
