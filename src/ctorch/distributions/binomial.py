from __future__ import annotations

import ctorch

from . import constraints
from ._binary import BinaryTrialParams
from ._special import lgamma
from .distribution import Distribution

__all__ = ["Binomial"]


def _clamp_by_zero(x):
    return (x.clamp(min=0) + x - x.clamp(max=0)) / 2


class Binomial(BinaryTrialParams, Distribution):
    """Number of successes in ``total_count`` Bernoulli(``probs``) trials."""

    arg_constraints = {
        "total_count": constraints.nonnegative_integer,
        "probs": constraints.unit_interval,
        "logits": constraints.real,
    }
    has_enumerate_support = True

    def __init__(
        self, total_count=1, probs=None, logits=None, validate_args: bool | None = None
    ) -> None:
        self._param = self._set_probs_or_logits(probs, logits, total_count)
        batch_shape = self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Binomial, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        return self._expand_probs_or_logits(Binomial, new, batch_shape, track_param=True)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self.total_count)

    @property
    def mean(self) -> ctorch.Tensor:
        return self.total_count * self.probs

    @property
    def mode(self) -> ctorch.Tensor:
        return ((self.total_count + 1) * self.probs).floor().clamp(max=self.total_count)

    @property
    def variance(self) -> ctorch.Tensor:
        return self.total_count * self.probs * (1 - self.probs)

    @property
    def param_shape(self) -> ctorch.Size:
        return self._param.size()

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = self._extended_shape(sample_shape)
        with ctorch.no_grad():  # torch's: binomial of the expanded parameters, in order
            return ctorch.binomial(self.total_count.expand(shape), self.probs.expand(shape))

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_factorial_n = lgamma(self.total_count + 1)
        log_factorial_k = lgamma(value + 1)
        log_factorial_nmk = lgamma(self.total_count - value + 1)
        normalize_term = (
            self.total_count * _clamp_by_zero(self.logits)
            + self.total_count * ctorch.log1p(ctorch.exp(-ctorch.abs(self.logits)))
            - log_factorial_n
        )
        return value * self.logits - log_factorial_k - log_factorial_nmk - normalize_term

    def entropy(self) -> ctorch.Tensor:
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError("Inhomogeneous total count not supported by `entropy`.")
        log_prob = self.log_prob(self.enumerate_support(False))
        return -(ctorch.exp(log_prob) * log_prob).sum(0)

    def enumerate_support(self, expand: bool = True) -> ctorch.Tensor:
        total_count = int(self.total_count.max())
        if not bool((self.total_count == total_count).all()):
            raise NotImplementedError(
                "Inhomogeneous total count not supported by `enumerate_support`."
            )
        values = ctorch.arange(1 + total_count, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
