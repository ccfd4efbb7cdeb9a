from __future__ import annotations

import ctorch

from . import constraints
from ._gamma_sampler import standard_gamma_rsample
from ._special import digamma, lgamma
from .exp_family import ExponentialFamily

__all__ = ["Gamma"]


def _xlogy(x, y):
    """x * log(y) with 0 * log(0) = 0 (as torch.xlogy)."""
    zero = x == 0
    y_safe = ctorch.where(zero, ctorch.ones_like(y), y)
    return ctorch.where(zero, ctorch.zeros_like(x * y_safe), x * ctorch.log(y_safe))


class Gamma(ExponentialFamily):
    """Gamma distribution with ``concentration`` (shape) and ``rate`` (inverse scale).

    ``rsample`` is differentiable in both parameters: the rate by scaling, the concentration by
    the implicit-reparameterisation gradient (see ``_gamma_sampler``)."""

    arg_constraints = {"concentration": constraints.positive, "rate": constraints.positive}
    support = constraints.nonnegative
    has_rsample = True
    _mean_carrier_measure = 0

    @property
    def mean(self) -> ctorch.Tensor:
        return self.concentration / self.rate

    @property
    def mode(self) -> ctorch.Tensor:
        return ((self.concentration - 1) / self.rate).clamp(min=0)

    @property
    def variance(self) -> ctorch.Tensor:
        return self.concentration / self.rate.pow(2)

    def __init__(self, concentration, rate, validate_args: bool | None = None) -> None:
        self._init_broadcast(validate_args, concentration=concentration, rate=rate)

    def expand(self, batch_shape, _instance=None):
        return self._expand_params(Gamma, ("concentration", "rate"), batch_shape, _instance)

    def rsample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        value = standard_gamma_rsample(self.concentration.expand(shape)) / self.rate.expand(shape)
        tiny = ctorch.finfo(value.dtype).tiny
        return value.clamp(min=tiny)

    def log_prob(self, value) -> ctorch.Tensor:
        value = ctorch.as_tensor(value, dtype=self.rate.dtype)
        if self._validate_args:
            self._validate_sample(value)
        return (
            _xlogy(self.concentration, self.rate)
            + _xlogy(self.concentration - 1, value)
            - self.rate * value
            - lgamma(self.concentration)
        )

    def entropy(self) -> ctorch.Tensor:
        return (
            self.concentration
            - ctorch.log(self.rate)
            + lgamma(self.concentration)
            + (1.0 - self.concentration) * digamma(self.concentration)
        )

    @property
    def _natural_params(self):
        return (self.concentration - 1, -self.rate)

    def _log_normalizer(self, x, y):
        return lgamma(x + 1) + (x + 1) * ctorch.log(-y.reciprocal())
