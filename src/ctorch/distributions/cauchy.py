from __future__ import annotations

import math
from numbers import Number

import ctorch

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Cauchy"]


class Cauchy(Distribution):
    """Cauchy (Lorentz) distribution with ``loc`` and ``scale``; mean NaN, variance inf."""

    arg_constraints = {"loc": constraints.real, "scale": constraints.positive}
    support = constraints.real
    has_rsample = True

    def __init__(self, loc, scale, validate_args: bool | None = None) -> None:
        self.loc, self.scale = broadcast_all(loc, scale)
        if isinstance(loc, Number) and isinstance(scale, Number):
            batch_shape = ctorch.Size()
        else:
            batch_shape = self.loc.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Cauchy, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.loc = self.loc.expand(batch_shape)
        new.scale = self.scale.expand(batch_shape)
        super(Cauchy, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    @property
    def mean(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def mode(self) -> ctorch.Tensor:
        return self.loc

    @property
    def variance(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        u = ctorch.rand(shape, dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + self.scale * ctorch.tan(math.pi * (u - 0.5))

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return (
            -math.log(math.pi) - self.scale.log() - (((value - self.loc) / self.scale) ** 2).log1p()
        )

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return ctorch.atan((value - self.loc) / self.scale) / math.pi + 0.5

    def icdf(self, value) -> ctorch.Tensor:
        return ctorch.tan(math.pi * (value - 0.5)) * self.scale + self.loc

    def entropy(self) -> ctorch.Tensor:
        return math.log(4 * math.pi) + self.scale.log()
