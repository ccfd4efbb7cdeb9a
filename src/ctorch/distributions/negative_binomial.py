from __future__ import annotations

import ctorch
import ctorch.nn.functional as F

from . import constraints
from ._binary import BinaryTrialParams
from ._special import lgamma
from .distribution import Distribution
from .gamma import Gamma
from .utils import lazy_property

__all__ = ["NegativeBinomial"]


class NegativeBinomial(BinaryTrialParams, Distribution):
    """Number of successes before ``total_count`` failures, each trial a success with
    probability ``probs`` (torch's convention)."""

    arg_constraints = {
        "total_count": constraints.greater_than_eq(0),
        "probs": constraints.half_open_interval(0.0, 1.0),
        "logits": constraints.real,
    }
    support = constraints.nonnegative_integer

    def __init__(
        self, total_count, probs=None, logits=None, validate_args: bool | None = None
    ) -> None:
        self._param = self._set_probs_or_logits(probs, logits, total_count)
        super().__init__(self._param.size(), validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(NegativeBinomial, _instance)
        batch_shape = ctorch.Size(batch_shape)
        new.total_count = self.total_count.expand(batch_shape)
        return self._expand_probs_or_logits(NegativeBinomial, new, batch_shape, track_param=True)

    @property
    def mean(self) -> ctorch.Tensor:
        return self.total_count * self.logits.exp()

    @property
    def mode(self) -> ctorch.Tensor:
        return ((self.total_count - 1) * self.logits.exp()).floor().clamp(min=0.0)

    @property
    def variance(self) -> ctorch.Tensor:
        return self.mean / ctorch.sigmoid(-self.logits)

    @property
    def param_shape(self) -> ctorch.Size:
        return self._param.size()

    @lazy_property
    def _gamma(self) -> Gamma:
        return Gamma(self.total_count, ctorch.exp(-self.logits), validate_args=False)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        with ctorch.no_grad():
            rate = self._gamma.sample(sample_shape)
            return ctorch.poisson(rate)

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        log_unnormalized = self.total_count * F.logsigmoid(-self.logits) + value * F.logsigmoid(
            self.logits
        )
        log_normalization = (
            -lgamma(self.total_count + value) + lgamma(1.0 + value) + lgamma(self.total_count)
        )
        # a count of 0 with total_count 0 has probability 1
        log_normalization = log_normalization.masked_fill(self.total_count + value == 0.0, 0.0)
        return log_unnormalized - log_normalization
