from __future__ import annotations

import math
from numbers import Real

import ctorch

from ._loc_scale import _LocScale
from .exp_family import ExponentialFamily

__all__ = ["Normal"]


class Normal(_LocScale, ExponentialFamily):
    """Normal (Gaussian) distribution with mean ``loc`` and standard deviation ``scale``."""

    _mean_carrier_measure = 0

    @property
    def stddev(self) -> ctorch.Tensor:
        return self.scale

    @property
    def variance(self) -> ctorch.Tensor:
        return self.stddev.pow(2)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Normal, ("loc", "scale"), batch_shape, _instance)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        with ctorch.no_grad():
            return self.rsample(sample_shape)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = self._extended_shape(sample_shape)
        eps = ctorch.randn(tuple(shape), dtype=self.loc.dtype, device=self.loc.device)
        return self.loc + eps * self.scale

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        var = self.scale**2
        log_scale = math.log(self.scale) if isinstance(self.scale, Real) else self.scale.log()
        return -((value - self.loc) ** 2) / (2 * var) - log_scale - math.log(math.sqrt(2 * math.pi))

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 0.5 * (1 + ctorch.erf((value - self.loc) * self.scale.reciprocal() / math.sqrt(2)))

    def icdf(self, value) -> ctorch.Tensor:
        return self.loc + self.scale * ctorch.erfinv(2 * value - 1) * math.sqrt(2)

    def entropy(self) -> ctorch.Tensor:
        return 0.5 + 0.5 * math.log(2 * math.pi) + ctorch.log(self.scale)

    @property
    def _natural_params(self):
        return (self.loc / self.scale.pow(2), -0.5 * self.scale.pow(2).reciprocal())

    def _log_normalizer(self, x, y):
        return -0.25 * x.pow(2) / y + 0.5 * ctorch.log(-math.pi / y)
