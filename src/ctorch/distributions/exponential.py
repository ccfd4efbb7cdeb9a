from __future__ import annotations

import ctorch

from . import constraints
from .exp_family import ExponentialFamily

__all__ = ["Exponential"]


class Exponential(ExponentialFamily):
    """Exponential distribution with ``rate`` (inverse scale)."""

    arg_constraints = {"rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self) -> ctorch.Tensor:
        return self.rate.reciprocal()

    @property
    def mode(self) -> ctorch.Tensor:
        return ctorch.zeros_like(self.rate)

    @property
    def stddev(self) -> ctorch.Tensor:
        return self.rate.reciprocal()

    @property
    def variance(self) -> ctorch.Tensor:
        return self.rate.pow(-2)

    def __init__(self, rate, validate_args: bool | None = None) -> None:
        self._init_broadcast(validate_args, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Exponential, ("rate",), batch_shape, _instance)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        # torch's draw (exponential_), so a seeded run samples the values torch does
        e = ctorch.empty(shape, dtype=self.rate.dtype, device=self.rate.device).exponential_()
        return e / self.rate

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return self.rate.log() - self.rate * value

    def cdf(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        return 1 - ctorch.exp(-self.rate * value)

    def icdf(self, value) -> ctorch.Tensor:
        return -ctorch.log1p(-value) / self.rate

    def entropy(self) -> ctorch.Tensor:
        return 1.0 - ctorch.log(self.rate)

    @property
    def _natural_params(self):
        return (-self.rate,)

    def _log_normalizer(self, x):
        return -ctorch.log(-x)
