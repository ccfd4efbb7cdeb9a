from __future__ import annotations

import math

import ctorch

from . import constraints
from ._special import digamma, lgamma
from .transformed_distribution import TransformedDistribution
from .transforms import AffineTransform, PowerTransform
from .uniform import Uniform
from .utils import broadcast_all, euler_constant

__all__ = ["Kumaraswamy"]


def _moments(a, b, n):
    """The n-th moment of Kumaraswamy(a, b): b * B(1 + n / a, b)."""
    arg1 = 1 + n / a
    log_value = lgamma(arg1) + lgamma(b) - lgamma(arg1 + b)
    return b * ctorch.exp(log_value)


class Kumaraswamy(TransformedDistribution):
    """Kumaraswamy(concentration1 = a, concentration0 = b) on (0, 1):
    (1 - U ** (1 / b)) ** (1 / a) for U ~ Uniform(0, 1)."""

    arg_constraints = {
        "concentration1": constraints.positive,
        "concentration0": constraints.positive,
    }
    support = constraints.unit_interval
    has_rsample = True

    def __init__(self, concentration1, concentration0, validate_args: bool | None = None) -> None:
        self.concentration1, self.concentration0 = broadcast_all(concentration1, concentration0)
        base_dist = Uniform(
            ctorch.full_like(self.concentration0, 0),
            ctorch.full_like(self.concentration0, 1),
            validate_args=validate_args,
        )
        transforms = [
            PowerTransform(exponent=self.concentration0.reciprocal()),
            AffineTransform(loc=1.0, scale=-1.0),
            PowerTransform(exponent=self.concentration1.reciprocal()),
        ]
        super().__init__(base_dist, transforms, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Kumaraswamy, _instance)
        new.concentration1 = self.concentration1.expand(tuple(batch_shape))
        new.concentration0 = self.concentration0.expand(tuple(batch_shape))
        return super().expand(batch_shape, _instance=new)

    @property
    def mean(self) -> ctorch.Tensor:
        return _moments(self.concentration1, self.concentration0, 1)

    @property
    def mode(self) -> ctorch.Tensor:
        # in log space for stability; nan where a < 1 or b < 1 (no interior mode)
        log_mode = (
            self.concentration0.reciprocal() * (-self.concentration0).log1p()
            - (-self.concentration0 * self.concentration1).log1p()
        )
        bad = (self.concentration0 < 1) | (self.concentration1 < 1)
        return ctorch.where(bad, ctorch.full_like(log_mode, math.nan), log_mode).exp()

    @property
    def variance(self) -> ctorch.Tensor:
        return _moments(self.concentration1, self.concentration0, 2) - ctorch.pow(self.mean, 2)

    def entropy(self) -> ctorch.Tensor:
        t1 = 1 - self.concentration1.reciprocal()
        t0 = 1 - self.concentration0.reciprocal()
        H0 = digamma(self.concentration0 + 1) + euler_constant
        return t0 + t1 * H0 - ctorch.log(self.concentration1) - ctorch.log(self.concentration0)
