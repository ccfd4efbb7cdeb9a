from __future__ import annotations

import ctorch

from . import constraints
from ._special import lgamma
from .exp_family import ExponentialFamily
from .gamma import _xlogy
from .utils import broadcast_all

__all__ = ["Poisson"]


class Poisson(ExponentialFamily):
    """Poisson distribution with ``rate``."""

    arg_constraints = {"rate": constraints.nonnegative}
    support = constraints.nonnegative_integer

    @property
    def mean(self) -> ctorch.Tensor:
        return self.rate

    @property
    def mode(self) -> ctorch.Tensor:
        return self.rate.floor()

    @property
    def variance(self) -> ctorch.Tensor:
        return self.rate

    def __init__(self, rate, validate_args: bool | None = None) -> None:
        self._init_broadcast(validate_args, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Poisson, ("rate",), batch_shape, _instance)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        with ctorch.no_grad():
            return ctorch.poisson(self.rate.expand(shape))

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        rate, value = broadcast_all(self.rate, value)
        return _xlogy(value, rate) - rate - lgamma(value + 1)

    @property
    def _natural_params(self):
        return (ctorch.log(self.rate),)

    def _log_normalizer(self, x):
        return ctorch.exp(x)
