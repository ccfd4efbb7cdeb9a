from __future__ import annotations

from numbers import Number

import ctorch
import ctorch.nn.functional as F

from . import constraints
from ._binary import BinaryTrialParams
from .exp_family import ExponentialFamily
from .utils import broadcast_all

__all__ = ["Bernoulli"]


class Bernoulli(BinaryTrialParams, ExponentialFamily):
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
        return self._expand_probs_or_logits(Bernoulli, new, batch_shape, track_param=True)

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

    @property
    def _natural_params(self):
        return (self.logits,)

    def _log_normalizer(self, x):
        return ctorch.log1p(ctorch.exp(x))

    def enumerate_support(self, expand: bool = True) -> ctorch.Tensor:
        values = ctorch.arange(2, dtype=self._param.dtype)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values
