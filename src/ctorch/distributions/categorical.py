from __future__ import annotations

import ctorch

from . import constraints
from .distribution import Distribution
from .utils import lazy_property, logits_to_probs, probs_to_logits

__all__ = ["Categorical", "CategoricalParams"]


class Categorical(Distribution):
    """Categorical distribution over ``{0, ..., K-1}``, parameterised by ``probs`` (any
    non-negative weights, normalised along the last dim) or ``logits`` (unnormalised)."""

    arg_constraints = {
        "probs": constraints.simplex,
        "logits": constraints.independent(constraints.real, 1),
    }
    has_enumerate_support = True

    def __init__(self, probs=None, logits=None, validate_args: bool | None = None) -> None:
        if (probs is None) == (logits is None):
            raise ValueError("Either `probs` or `logits` must be specified, but not both.")
        if probs is not None:
            if probs.dim() < 1:
                raise ValueError("`probs` parameter must be at least one-dimensional.")
            self.probs = probs / probs.sum(-1, keepdim=True)
        else:
            if logits.dim() < 1:
                raise ValueError("`logits` parameter must be at least one-dimensional.")
            self.logits = logits - logits.logsumexp(dim=-1, keepdim=True)
        self._param = self.probs if probs is not None else self.logits
        self._num_events = self._param.size()[-1]
        batch_shape = self._param.size()[:-1] if self._param.ndimension() > 1 else ctorch.Size()
        super().__init__(batch_shape, validate_args=validate_args)

    def expand(self, batch_shape, _instance=None):
        new = self._get_checked_instance(Categorical, _instance)
        batch_shape = ctorch.Size(batch_shape)
        param_shape = tuple(batch_shape) + (self._num_events,)
        if "probs" in self.__dict__:
            new.probs = self.probs.expand(param_shape)
            new._param = new.probs
        if "logits" in self.__dict__:
            new.logits = self.logits.expand(param_shape)
            new._param = new.logits
        new._num_events = self._num_events
        super(Categorical, new).__init__(batch_shape, validate_args=False)
        new._validate_args = self._validate_args
        return new

    def _new(self, *args, **kwargs):
        return self._param.new(*args, **kwargs)

    @constraints.dependent_property(is_discrete=True, event_dim=0)
    def support(self):
        return constraints.integer_interval(0, self._num_events - 1)

    @lazy_property
    def logits(self) -> ctorch.Tensor:  # type: ignore[override]
        return probs_to_logits(self.probs)

    @lazy_property
    def probs(self) -> ctorch.Tensor:  # type: ignore[override]
        return logits_to_probs(self.logits)

    @property
    def param_shape(self) -> ctorch.Size:
        return self._param.size()

    @property
    def mean(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype)

    @property
    def mode(self) -> ctorch.Tensor:
        return self.probs.argmax(dim=-1)

    @property
    def variance(self) -> ctorch.Tensor:
        return ctorch.full(tuple(self._extended_shape()), float("nan"), dtype=self.probs.dtype)

    def sample(self, sample_shape=ctorch.Size()) -> ctorch.Tensor:
        if not isinstance(sample_shape, ctorch.Size):
            sample_shape = ctorch.Size(sample_shape)
        with ctorch.no_grad():
            probs_2d = self.probs.reshape(-1, self._num_events)
            n = max(int(sample_shape.numel()), 1)
            samples_2d = ctorch.multinomial(probs_2d, n, True).T
            if sample_shape.numel() == 0:
                samples_2d = samples_2d[:0]
            return samples_2d.reshape(tuple(self._extended_shape(sample_shape)))

    def log_prob(self, value) -> ctorch.Tensor:
        if self._validate_args:
            self._validate_sample(value)
        value = value.long().unsqueeze(-1)
        value, log_pmf = ctorch.broadcast_tensors(value, self.logits)
        value = value[..., :1]
        return log_pmf.gather(-1, value).squeeze(-1)

    def entropy(self) -> ctorch.Tensor:
        min_real = ctorch.finfo(self.logits.dtype).min
        logits = ctorch.clamp(self.logits, min=min_real)
        p_log_p = logits * self.probs
        return -p_log_p.sum(-1)

    def enumerate_support(self, expand: bool = True) -> ctorch.Tensor:
        num_events = self._num_events
        values = ctorch.arange(num_events, dtype=ctorch.long)
        values = values.view((-1,) + (1,) * len(self._batch_shape))
        if expand:
            values = values.expand((-1,) + tuple(self._batch_shape))
        return values


class CategoricalParams:
    """Mixin for a distribution built on a Categorical ``self._categorical`` (Multinomial,
    ExpRelaxedCategorical): its logits, probs, parameter shape and ``_new``."""

    _categorical: Categorical

    def _new(self, *args, **kwargs):
        return self._categorical._new(*args, **kwargs)

    @property
    def param_shape(self) -> ctorch.Size:
        return self._categorical.param_shape

    @property
    def logits(self) -> ctorch.Tensor:
        return self._categorical.logits

    @property
    def probs(self) -> ctorch.Tensor:
        return self._categorical.probs
