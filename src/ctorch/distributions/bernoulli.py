from __future__ import annotations

from numbers import Number

import ctorch
import ctorch.nn.functional as F

from . import constraints
from .distribution import Distribution
from .utils import broadcast_all, lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Bernoulli"]


class Bernoulli(Distribution):
    """Bernoulli distribution parameterised by ``probs`` or ``logits`` (not both)."""

    arg_constraints = {"probs": constraints.unit_interval, "logits": constraints.real}
    support = constraints.boolean
    has_enumerate_support = True
    _mean_carrier_measure = 0

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            is_scalar = isinstance(probs, Number)
            (self.probs,) = broadcast_all(probs)
        else:
            is_scalar = isinstance(logits, Number)
            (self.logits,) = broadcast_all(logits)
        self._param = self.probs if probs is not None else self.logits
        batch_shape = ctorch.Size() if is_scalar else self._param.size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Bernoulli, _instance)
        batch_shape = ctorch.Size(batch_shape)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(batch_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(batch_shape)
            new._param = new.logits
        super(Bernoulli, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @property
    def mean(self) -> ctorch.Tensor:
        return self.probs

    @property
    def mode(self) -> ctorch.Tensor:
        mode = (self.probs >= 0.5).to(self.probs.dtype)
        return ctorch.where(self.probs == 0.5, ctorch.full_like(mode, float("nan")), mode)

    @property
    def variance(self) -> ctorch.Tensor:
        return self.probs * (1 - self.probs)

    @lazy_property
    def logits(self) -> ctorch.Tensor:  # type: ignore[override]
        return probs_to_logits(self.probs, is_binary=True)

    @lazy_property
    def probs(self) -> ctorch.Tensor:  # type: ignore[override]
        return logits_to_probs(self.logits, is_binary=True)

    @property
    def param_shape(self) -> ctorch.Size:
        return self._param.size()

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        shape = self._extended_shape(sample_shape)
        with ctorch.no_grad():
            return ctorch.bernoulli(self.probs.expand(tuple(shape)))

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        logits, value = broadcast_all(self.logits, value)
        # -BCE-with-logits(logits, value) = value * logits - softplus(logits)
        return value * logits - F.softplus(logits)

    def entropy(self) -> ctorch.Tensor:
        return F.softplus(self.logits) - self.logits * self.probs

    def enumerate_support(self, expand: bool = True) -> ctorch.Tensor:
        values = ctorch.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
