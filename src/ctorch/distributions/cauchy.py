from __future__ import annotations

import math

import ctorch

from ._loc_scale import _LocScale

__all__ = ["Cauchy"]


class Cauchy(_LocScale):
    """Cauchy (Lorentz) distribution with ``loc`` and ``scale``; mean NaN, variance inf."""

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Cauchy, ("loc", "scale"), batch_shape, _instance)

    @property
    def mean(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), math.nan, dtype=self.loc.dtype)

    @property
    def variance(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), math.inf, dtype=self.loc.dtype)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        # torch's draw (cauchy_), so a seeded run samples the values torch does
        eps = ctorch.empty(shape, dtype=self.loc.dtype, device=self.loc.device).cauchy_()
        return self.loc + eps * self.scale

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
