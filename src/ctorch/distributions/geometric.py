from __future__ import annotations

from numbers import Number

import ctorch
import ctorch.nn.functional as F

from . import constraints
from ._binary import BinaryTrialParams
from .distribution import Distribution
from .utils import broadcast_all

__all__ = ["Geometric"]


class Geometric(BinaryTrialParams, Distribution):
    """Number of failures before the first success in Bernoulli(``probs``) trials."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.nonnegative_integer

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        self._set_probs_or_logits(probs, logits)
        probs_or_logits = probs if probs is not None else logits
        if isinstance(probs_or_logits, Number):
            batch_shape = ctorch.Size()
        else:
            batch_shape = probs_or_logits.size()
        super().__init__(batch_shape, validate_args=validate_args)
        if self._validate_args and probs is not None:
            value = self.probs
            valid = value > 0
            if not bool(valid.all()):
                invalid_value = value.data[~valid]
                raise ValueError(
                    "Expected parameter probs "
                    f"({type(value).__name__} of shape {tuple(value.shape)}) "
                    f"of distribution {repr(self)} "
                    f"to be positive but found invalid values:\n{invalid_value}"
                )

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Geometric, _instance)
        batch_shape = ctorch.Size(batch_shape)
        return self._expand_probs_or_logits(Geometric, new, batch_shape, track_param=False)

    @property
    def mean(self) -> ctorch.Tensor:
        return 1.0 / self.probs - 1.0

    @property
    def mode(self) -> ctorch.Tensor:
        return ctorch.zeros_like(self.probs)

    @property
    def variance(self) -> ctorch.Tensor:
        return (1.0 / self.probs - 1.0) / self.probs

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = tuple(self._extended_shape(sample_shape))
        tiny = ctorch.finfo(self.probs.dtype).tiny
        with ctorch.no_grad():
            u = ctorch.rand(shape, dtype=self.probs.dtype, device=self.probs.device)
            u = u.clamp(min=tiny)
            return (u.log() / (-self.probs).log1p()).floor()

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value, probs = broadcast_all(value, self.probs)
        probs = ctorch.where((probs == 1) & (value == 0), ctorch.zeros_like(probs), probs)
        return value * (-probs).log1p() + self.probs.log()

    def entropy(self) -> ctorch.Tensor:
        return (F.softplus(self.logits) - self.logits * self.probs) / self.probs
